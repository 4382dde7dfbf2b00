# itest.sh: helpers for tests/integration/*.sh, sourced after
# tests/lib/with-stack.sh has started the stack (CD_URL, CD_PASS, ... set).
#
#   req NAME METHOD PATH [CURL ARGS...]   one request as the admin, with
#        the API token CD_TOKEN; sets $status, $body (file), $hdrs (file),
#        $last (what was sent)
#   req_raw ...                            the same without credentials
#   upload NAME PATH FIELD=VALUE...        POST multipart (curl -F) as admin
#   sign_in NAME USER PASS [JAR]           POST /api/session; the cookie
#        goes to the cookie jar JAR (default $jar)
#   req_jar NAME METHOD PATH [CURL ARGS...] a request with the cookies of
#        $jar (set JAR=file for another), keeping what the answer sets
#   expect_status WANT                     WANT may be "413|400"
#   expect_code SECTION CODE               SECTION errors|warnings
#   expect_codes SECTION "C1 C2"           exactly this set (order free)
#   expect_jq FILTER [JQ ARGS...]          the body is JSON and FILTER
#        holds (jtrue: every value it gives is true), e.g.
#        expect_jq '.certificate.mode == "ca-signed"'
#        expect_jq '.certificate.release == $r' --arg r "$id"
#   expect_error CODE KEY VALUE            an error CODE whose KEY is VALUE
#   expect_no_text STRING                  the body's bytes do not hold
#        STRING (grep -F: key material, passphrases; not for JSON checks)
#   expect_header REGEX                    grep -Ei on the headers
#   jget FILE FILTER [JQ ARGS...]          a value of a JSON file (jq -r;
#        tests/lib/tally.sh), e.g. fp=$(jget "$body" .certificate.serial)
#   mkbody FILE BOUNDARY CLOSE PART...     a multipart body by hand
#   finish                                 prints the tally, exits
# shellcheck disable=SC2016 # '$name' in a jq filter is jq's (--arg)
set -u

: "${CD_URL:?run me through tests/lib/with-stack.sh}"
# jget and jtrue; its pass and fail are replaced by this file's below
# shellcheck source=tests/lib/tally.sh
. "$(dirname "${BASH_SOURCE[0]}")/tally.sh"
# shellcheck disable=SC2034 # used by the tests that source this
F=${CD_FIXTURES:?}
work=$(mktemp -d) || exit 99
n_ok=0
n_fail=0
t_name=

# Only the test's temporaries go: the stack's directory is with-stack's.
trap 'rm -rf "$work"' EXIT

CURL_BASE=(curl -s -k --max-time 30 -o "$work/body" -D "$work/hdrs"
    -w '%{http_code}')
# the token goes to curl in a file (-H @file), not on its command line
( umask 077; printf 'Authorization: Bearer %s\n' "${CD_TOKEN:?}" \
    >"$work/auth.hdr" )
jar=$work/jar

_run_curl() {
    local what=$1
    shift
    last="$what"
    : >"$work/body"
    : >"$work/hdrs"
    status=$("${CURL_BASE[@]}" "$@" 2>"$work/curl.err")
    [ -n "$status" ] || status=000
    body=$work/body
    hdrs=$work/hdrs
}

# req NAME METHOD PATH [CURL ARGS...]
req() {
    local m=$2 p=$3
    t_name=$1
    shift 3
    _run_curl "curl -X $m $CD_URL$p $*" -H "@$work/auth.hdr" \
        -X "$m" "$CD_URL$p" "$@"
}

# sign_in NAME USER PASS [JAR]: the password goes on stdin (-d @-)
sign_in() {
    local j=${4:-$jar} data
    t_name=$1
    data=$(jq -cn --arg u "$2" --arg p "$3" '{user: $u, password: $p}')
    _run_curl "curl -X POST $CD_URL/api/session (user $2)" -c "$j" \
        -H 'Content-Type: application/json' --data-binary @- \
        -X POST "$CD_URL/api/session" <<<"$data"
}

# req_jar NAME METHOD PATH [CURL ARGS...]: signed in by the cookie jar
req_jar() {
    local m=$2 p=$3 j=${JAR:-$jar}
    t_name=$1
    shift 3
    _run_curl "curl -b jar -X $m $CD_URL$p $*" -b "$j" -c "$j" \
        -X "$m" "$CD_URL$p" "$@"
}

# req_raw NAME METHOD PATH [CURL ARGS...]: no credentials unless given
req_raw() {
    local m=$2 p=$3
    t_name=$1
    shift 3
    _run_curl "curl -X $m $CD_URL$p $*" -X "$m" "$CD_URL$p" "$@"
}

# upload NAME PATH FIELD=VALUE... (curl -F syntax: key=@file, name=text)
upload() {
    local name=$1 p=$2 a args=()
    shift 2
    for a in "$@"; do
        args+=(-F "$a")
    done
    req "$name" POST "$p" "${args[@]}"
}

pass() {
    n_ok=$((n_ok + 1))
    echo "ok   $t_name: $1"
}

# fail WHAT EXPECTED GOT: shows the request, the answer and its headers
fail() {
    n_fail=$((n_fail + 1))
    echo "FAIL $t_name: $1"
    echo "     request:  $last"
    echo "     expected: $2"
    echo "     got:      $3"
    if [ -s "$work/hdrs" ]; then
        sed -n '1p' "$work/hdrs" | tr -d '\r' | sed 's/^/     | /'
    fi
    if [ -s "$work/body" ]; then
        head -c 3000 "$work/body" | sed 's/^/     | /'
        echo
    fi
}

expect_status() {
    case "|$1|" in
    *"|$status|"*) pass "status $status" ;;
    *) fail "HTTP status" "$1" "$status" ;;
    esac
}

# The codes of a top-level list of the answer ("errors" or "warnings"),
# sorted, space separated; a non-zero status when the body is not JSON or
# has no such list.
codes_of() {
    local c
    c=$(jget "$body" '.[$s] | if type == "array" then .[].code
        else error("no list") end' --arg s "$1") || return 1
    printf '%s\n' "$c" | sort | tr '\n' ' ' | sed 's/^ *//; s/ $//'
}

expect_code() {
    local got
    got=$(codes_of "$1") || got="(no $1 list)"
    case " $got " in
    *" $2 "*) pass "$1 has $2" ;;
    *) fail "$1 codes" "to contain $2" "${got:-(none)}" ;;
    esac
}

expect_codes() {
    local got want
    want=$(printf '%s\n' $2 | sort | tr '\n' ' ' | sed 's/^ *//; s/ $//')
    if ! got=$(codes_of "$1"); then
        fail "$1 codes" "exactly [$want]" "no JSON with a $1 list"
    elif [ "$got" = "$want" ]; then
        pass "$1 = [$want]"
    else
        fail "$1 codes" "exactly [$want]" "[$got]"
    fi
}

expect_jq() {
    local q=$1 l got
    shift
    l="jq '$(printf '%s' "$q" | tr -s '\n ' '  ')'${*:+ $*}"
    if jtrue "$body" "$q" "$@"; then
        pass "$l"
    else
        got=$(jq -c -s "$@" ".[0] | [$q]" "$body" 2>&1 | head -c 300)
        fail "body" "$l: true" "${got:-(nothing)}"
    fi
}

# expect_error CODE KEY VALUE: an entry of "errors" with this code has
# KEY (message, field, ...) equal to VALUE
expect_error() {
    expect_jq 'any(.errors[]; .code == $c and .[$k] == $v)' \
        --arg c "$1" --arg k "$2" --arg v "$3"
}

expect_no_text() {
    if grep -qaF -- "$1" "$body"; then
        fail "body" "no '$1'" "$(grep -aFm1 -- "$1" "$body" | head -c 300)"
    else
        pass "body has no '$1'"
    fi
}

expect_header() {
    if tr -d '\r' <"$hdrs" | grep -Eiq -- "$1"; then
        pass "header /$1/"
    else
        fail "headers" "a header matching /$1/" \
            "$(tr -d '\r' <"$hdrs" | tr '\n' ' ')"
    fi
}

# check NAME DESCRIPTION EXPECTED GOT: a plain comparison
check_eq() {
    t_name=$1
    last=${5:-"(no request)"}
    if [ "$3" = "$4" ]; then
        pass "$2"
    else
        : >"$work/body"
        : >"$work/hdrs"
        fail "$2" "$3" "$4"
    fi
}

# SHA-256 fingerprint of a PEM/DER certificate file, as the API prints it
fp_file() {
    openssl x509 -in "$1" -noout -fingerprint -sha256 2>/dev/null |
        sed 's/^.*=//'
}

# The fingerprint nginx serves now (SNI sensor.contoso.com)
fp_served() {
    timeout 10 openssl s_client -connect "127.0.0.1:$CD_PORT" \
        -servername sensor.contoso.com </dev/null 2>/dev/null |
        openssl x509 -noout -fingerprint -sha256 2>/dev/null | sed 's/^.*=//'
}

# wait_served FP: polls (about 5 s) until nginx serves FP; prints the last
wait_served() {
    local got=
    for _ in $(seq 1 25); do
        got=$(fp_served)
        [ "$got" = "$1" ] && break
        sleep 0.2
    done
    printf '%s\n' "$got"
}

finish() {
    echo "# $n_ok passed, $n_fail failed"
    [ "$n_fail" = 0 ]
    exit $?
}

# mkbody FILE BOUNDARY CLOSE PART...: a multipart body by hand; PART is
# name=value or name=@file; CLOSE=0 leaves out the closing delimiter.
mkbody() {
    local out=$1 b=$2 close=$3 p n v
    shift 3
    : >"$out"
    for p in "$@"; do
        n=${p%%=*}
        v=${p#*=}
        if [ "${v#@}" != "$v" ]; then
            printf -- '--%s\r\nContent-Disposition: form-data; name="%s"; filename="%s"\r\nContent-Type: application/octet-stream\r\n\r\n' \
                "$b" "$n" "$(basename "${v#@}")" >>"$out"
            cat "${v#@}" >>"$out"
        else
            printf -- '--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s' \
                "$b" "$n" "$v" >>"$out"
        fi
        printf '\r\n' >>"$out"
    done
    [ "$close" = 1 ] && printf -- '--%s--\r\n' "$b" >>"$out"
    return 0
}
