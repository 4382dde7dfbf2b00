#!/usr/bin/env bash
# certdialog-check fetching CRLs over HTTP from tests/lib/crl_server on the
# loopback: a good CRL, a revoking one, a stale and a forged one, and every
# way a CRL server can fail (hang, trickle, too big, HTML, 404, redirect
# loop, reset, garbage, nothing listening).  Asserts the exit status, the
# exact set of error/warning codes, and a bound on the time taken
# (docs/API.md "Codes", docs/DESIGN.md "Trust, CRLs and time",
# certdialog-check(1)).
#
# Each case has its own server and its own leaf (good.key, by int) with
# that server's URL as its CRL DP; the intermediate's own DP (127.0.0.1:1)
# is answered by --crl-file root.crl.  The revoking CRL is made by
# mkfixtures.sh --crl.  Validation time: now (the revoking
# CRL is made now; the fixture CRLs are valid for 30 days).
#
# Environment (set by make check): CD_TOP_SRCDIR, CD_TOP_BUILDDIR,
# CD_FIXTURES; CD_CRL_SERVER overrides the server binary.
# CD_CHECK_WRAPPER runs each certdialog-check under a tool (time bounds are
# then not asserted).
# shellcheck disable=SC2016 # '$name' in a jq filter is jq's (--arg)
set -u
top=${CD_TOP_BUILDDIR:-$PWD}
src=${CD_TOP_SRCDIR:-$top/..}
F=${CD_FIXTURES:-$top/tests/fixtures}
CHECK=$top/certdialog-check
SRV=${CD_CRL_SERVER:-$top/tests/lib/crl_server}
MKF=$src/tests/data/mkfixtures.sh
O=${OPENSSL:-openssl}
# shellcheck source=tests/lib/leaf.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/leaf.sh"
read -r -a WRAP <<<"${CD_CHECK_WRAPPER:-}"
[ -x "$CHECK" ] || { echo "FAIL: no $CHECK"; exit 1; }
[ -x "$SRV" ] || { echo "FAIL: no $SRV (build tests/lib/crl_server)"; exit 1; }
[ -f "$MKF" ] || { echo "FAIL: no $MKF (set CD_TOP_SRCDIR)"; exit 1; }
[ -f "$F/made_at" ] || { echo "FAIL: no fixtures in $F"; exit 1; }
# the loopback server is reached directly, never through a proxy
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY no_proxy NO_PROXY

MSG_UNREACHABLE="The CRL (Certificate Revocation List) location is not"
MSG_UNREACHABLE="$MSG_UNREACHABLE reachable. Verify the URL can be accessed"
MSG_UNREACHABLE="$MSG_UNREACHABLE from this appliance"
TIMEOUT=2           # --crl-timeout of every run
HANG_MAX=3500       # ms: a hang may take the timeout + 1.5 s, no more
FAST_MAX=2000       # ms: "at once" (process start included)

tmp=$(mktemp -d) || exit 1
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
n=0

# shellcheck source=tests/lib/tally.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tally.sh"

# milliseconds of the wall clock, without a process (bash 5)
ms() {
    local t=${EPOCHREALTIME/[.,]/}
    echo $((t / 1000))
}

# file_text FILE: its first line, without a process ("" when missing)
file_text() {
    local line=
    [ -f "$1" ] && IFS= read -r line <"$1"
    echo "$line"
}

# start_server MODE [SERVER ARGS...]: starts crl_server in the background;
# sets $spid, $snum (its number: port file $tmp/port.N) and $scount (its
# count file).  await_port then gives its port.
start_server() {
    local mode=$1
    shift
    n=$((n + 1))
    snum=$n
    scount=$tmp/count.$n
    "$SRV" --mode "$mode" --port-file "$tmp/port.$n" --count-file "$scount" \
        --max-seconds 60 "$@" 2>>"$tmp/server.log" &
    spid=$!
    pids+=("$spid")
}

# await_port N PID: waits (at most 5 s) for server N's port file and sets
# $sport; fails the script when the server does not come up.
await_port() {
    local i
    for ((i = 0; i < 100; i++)); do
        [ -s "$tmp/port.$1" ] && break
        kill -0 "$2" 2>/dev/null || break
        sleep 0.05
    done
    sport=$(file_text "$tmp/port.$1")
    if [ -z "$sport" ]; then
        echo "FAIL: crl_server number $1 did not start"
        sed 's/^/     | /' "$tmp/server.log"
        exit 1
    fi
}

# stop_server PID: stops one of our servers by its PID and forgets it (so
# the cleanup never signals a PID the system may have reused).
stop_server() {
    local p keep=()
    kill "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    for p in "${pids[@]}"; do
        [ "$p" = "$1" ] || keep+=("$p")
    done
    pids=("${keep[@]}")
}

# leaf URL OUT: a leaf of mkfixtures.sh's server profile (good.key, by
# int) whose CRL DP is URL, with a random serial.  One openssl process per
# leaf (mkfixtures.sh --leaf-with-cdp makes the same with four, too slow
# for eighteen leaves on a busy machine).
leaf() {
    cd_leaf_with_cdp "$tmp/leaf.csr" "$F/int.pem" "$F/int.key" "$1" "$2"
}

# The verdict and the codes of an answer as "OK|ERRORS|WARNINGS", e.g.
# "false|crl_unreachable|" (jq, one process); nothing when the answer is
# not JSON with a boolean "ok" and both lists.
verdict() {
    jget "$1" 'select(.ok | type == "boolean") |
        "\(.ok)|\(.errors | map(.code) | join(" "))|\(.warnings |
        map(.code) | join(" "))"'
}

# The servers are on 127.0.0.1: loopback is allowed but in one case.
LOOPBACK=(--crl-allow-loopback)

# run NAME EXIT ERRORS WARNINGS MAX_MS CRT [ARGS...]: runs certdialog-check
# on CRT with good.key, chain.pem, the test CA, root.crl for the
# intermediate, the time now and the short timeout, plus ARGS.  ERRORS and
# WARNINGS: the exact codes ("-": none).  MAX_MS: a bound on the time taken
# ("-": none).  Sets $elapsed (ms).
run() {
    local name=$1 want=$2 errs=$3 warns=$4 max=$5 crt=$6 rc why="" t0 got
    local out=$tmp/out.json err=$tmp/err
    shift 6
    t0=$(ms)
    "${WRAP[@]}" "$CHECK" --ca-file "$F/root.pem" --at "$EPOCHSECONDS" \
        --hostname sensor.contoso.com --key "$F/good.key" \
        --chain "$F/chain.pem" --crl-file "$F/root.crl" \
        --crl-timeout "$TIMEOUT" "${LOOPBACK[@]}" --crt "$crt" "$@" \
        >"$out" 2>"$err"
    rc=$?
    elapsed=$(($(ms) - t0))
    [ "$rc" = "$want" ] || why="$why; exit $rc, wanted $want"
    got=$(verdict "$out")
    case $want in
    0) [ "${got%%|*}" = true ] || why="$why; no \"ok\": true" ;;
    1) [ "${got%%|*}" = false ] || why="$why; no \"ok\": false" ;;
    esac
    [ ! -s "$err" ] || why="$why; stderr not empty"
    got=${got#*|}
    [ "${got%%|*}" = "${errs/#-/}" ] ||
        why="$why; errors [${got%%|*}], wanted [$errs]"
    [ "${got#*|}" = "${warns/#-/}" ] ||
        why="$why; warnings [${got#*|}], wanted [$warns]"
    if [ "$max" != - ] && [ ${#WRAP[@]} -eq 0 ] && [ "$elapsed" -gt "$max" ]
    then
        why="$why; took $elapsed ms, more than $max ms"
    fi
    if [ -z "$why" ]; then
        pass "$name ($elapsed ms)"
    else
        fail "$name" "${why#; }" "$out" "$err"
    fi
}

# Every case gets its own server and its own leaf (the URL holds the
# port): all servers are started at once, then all leaves are made at
# once, then the cases run one by one.
#
# add_case NAME MODE EXIT ERRORS MAX_MS [SERVER ARGS...]
c_name=() c_exit=() c_errs=() c_max=() c_pid=() c_num=() c_port=()
c_count=()
add_case() {
    local i=${#c_name[@]}
    c_name+=("$1")
    c_exit+=("$3")
    c_errs+=("$4")
    c_max+=("$5")
    start_server "$2" "${@:6}"
    c_pid+=("$spid")
    c_num+=("$snum")
    c_count+=("$scount")
}

# makes the leaf of every case, all at once: $tmp/leaf.I.pem
make_leaves() {
    local i p lp=()
    for i in "${!c_name[@]}"; do
        [ "${c_name[$i]}" != --crl-proxy ] || continue
        leaf "http://127.0.0.1:${c_port[$i]}/int.crl" "$tmp/leaf.$i.pem" &
        lp+=($!)
    done
    for p in "${lp[@]}"; do
        wait "$p" || exit 1
    done
}

# the index of case NAME
idx() {
    local i
    for i in "${!c_name[@]}"; do
        [ "${c_name[$i]}" = "$1" ] && { echo "$i"; return; }
    done
    echo "no case $1" >&2
    exit 1
}

# ---- a CRL is served ----
add_case "good CRL" file 0 - "$FAST_MAX" --file "$F/int.crl"
add_case "stale CRL" file 1 crl_invalid "$FAST_MAX" --file "$F/int-stale.crl"
add_case "forged CRL" file 1 crl_invalid "$FAST_MAX" --file "$F/int-forged.crl"
add_case "another issuer's CRL" file 1 crl_invalid "$FAST_MAX" \
    --file "$F/root.crl"
# the CRL listing this leaf is made once the leaf is (see below)
add_case "revoking CRL" file 1 revoked "$FAST_MAX" --file "$tmp/revoking.crl"
# ---- the server fails: crl_unreachable, bounded in time ----
add_case "hang" hang 1 crl_unreachable "$HANG_MAX"
add_case "trickle" trickle 1 crl_unreachable "$HANG_MAX" --file "$F/int.crl"
add_case "100 MB with Content-Length" big 1 crl_unreachable "$FAST_MAX"
add_case "100 MB without Content-Length" big-nolen 1 crl_unreachable "$FAST_MAX"
add_case "100 MB DER header, no Content-Length" big-der 1 crl_unreachable \
    "$FAST_MAX"
add_case "HTML page" html 1 crl_unreachable "$FAST_MAX"
add_case "404" 404 1 crl_unreachable "$FAST_MAX"
add_case "redirect loop" redirect 1 crl_unreachable "$HANG_MAX"
add_case "connection reset" reset 1 crl_unreachable "$FAST_MAX"
add_case "random bytes as a CRL" garbage-der 1 crl_unreachable "$FAST_MAX"
# nothing listens: a port that was just free (its server stopped at once)
add_case "closed port" 404 1 crl_unreachable "$FAST_MAX"
# ---- options: checked below ----
add_case "--no-crl does not fetch" hang 0 - "$FAST_MAX"
add_case "--crl-timeout 1" hang 1 crl_unreachable 2500
add_case "--crl-proxy" file 0 - "$FAST_MAX" --file "$F/int.crl"
# without --crl-allow-loopback, 127.0.0.1 is never connected to
add_case "loopback refused" file 1 crl_unreachable "$FAST_MAX" \
    --file "$F/int.crl"

for i in "${!c_name[@]}"; do
    await_port "${c_num[$i]}" "${c_pid[$i]}"
    c_port+=("$sport")
    [ "${c_name[$i]}" != "closed port" ] || stop_server "${c_pid[$i]}"
done
SUBJ="/C=US/ST=Illinois/L=Springfield/O=Contoso Ltd/OU=Contoso Labs"
SUBJ="$SUBJ/CN=sensor.contoso.com"
"$O" req -new -key "$F/good.key" -out "$tmp/leaf.csr" -subj "$SUBJ" \
    2>"$tmp/openssl.err" ||
    { echo "FAIL: openssl req"; cat "$tmp/openssl.err"; exit 1; }
make_leaves
i=$(idx "revoking CRL")
OPENSSL=$O bash "$MKF" --crl "$F" "$tmp/revoking.crl" \
    "$tmp/leaf.$i.pem" || { echo "FAIL: mkfixtures.sh --crl"; exit 1; }

for i in "${!c_name[@]}"; do
    name=${c_name[$i]}
    args=()
    case $name in
    --no-crl*) args=(--no-crl) ;;
    --crl-timeout*) args=(--crl-timeout 1) ;;
    --crl-proxy) continue ;;
    "loopback refused") LOOPBACK=() ;;
    esac
    run "$name" "${c_exit[$i]}" "${c_errs[$i]}" - "${c_max[$i]}" \
        "$tmp/leaf.$i.pem" "${args[@]}"
    LOOPBACK=(--crl-allow-loopback)
    case $name in
    "closed port")
        # the documented message, and the URL in the detail
        if jtrue "$tmp/out.json" 'any(.errors[]; .code == "crl_unreachable"
            and .message == $m and (.detail | strings | startswith($u)))' \
            --arg m "$MSG_UNREACHABLE" \
            --arg u "http://127.0.0.1:${c_port[$i]}/int.crl"
        then pass "message and detail of crl_unreachable"
        else fail "message and detail of crl_unreachable" "not found" \
            "$tmp/out.json"; fi
        ;;
    "revoking CRL")
        # a new process has an empty cache: the server is asked again
        run "revoking CRL, second process" 1 revoked - "$FAST_MAX" \
            "$tmp/leaf.$i.pem"
        c=$(file_text "${c_count[$i]}")
        if [ "$c" = 2 ]; then pass "one request per process"
        else fail "one request per process" "server asked $c times"; fi
        ;;
    "loopback refused")
        c=$(file_text "${c_count[$i]}")
        if [ "$c" = 0 ] && jtrue "$tmp/out.json" 'any(.errors[];
            .code == "crl_unreachable" and (.detail | strings |
            contains("loopback")))'
        then pass "loopback refused: not asked, the detail says why"
        else fail "loopback refused: not asked, the detail says why" \
            "asked $c times" "$tmp/out.json"; fi
        ;;
    --no-crl*)
        c=$(file_text "${c_count[$i]}")
        if [ "$c" = 0 ]; then pass "--no-crl: server not asked"
        else fail "--no-crl: server not asked" "asked $c times"; fi
        ;;
    esac
    stop_server "${c_pid[$i]}"
done

# --crl-proxy: good.pem's DP is dead (port 1), the "proxy" serves the CRL
i=$(idx "--crl-proxy")
run "--crl-proxy" 0 - - "$FAST_MAX" "$F/good.pem" \
    --crl-proxy "127.0.0.1:${c_port[$i]}"
c=$(file_text "${c_count[$i]}")
if [ "$c" = 1 ]; then pass "--crl-proxy: proxy asked once"
else fail "--crl-proxy: proxy asked once" "asked $c times"; fi
stop_server "${c_pid[$i]}"

# crl_denied_ranges (docs/API.md "Settings"): certdialog-fcgi
# --check-config refuses a range it cannot read, naming it, and takes
# good ones ("defaults" included); the fetch itself is in test_crl_fetch
FCGI=$top/certdialog-fcgi
ranges_check() {        # NAME WANT_EXIT WANT_TEXT RANGES_JSON
    local out rc
    printf '{ "state_dir": "%s/state", "ca_file": "%s",
  "crl_allow_loopback": 1, "crl_denied_ranges": %s }\n' "$tmp" \
        "$F/root.pem" "$4" >"$tmp/ranges.json"
    out=$("$FCGI" -c "$tmp/ranges.json" --check-config 2>&1)
    rc=$?
    if [ "$rc" = "$2" ] && grep -qF -- "$3" <<<"$out"; then
        pass "crl_denied_ranges: $1"
    else
        fail "crl_denied_ranges: $1" "exit $2, \"$3\"" "exit $rc: $out"
    fi
}
if [ -x "$FCGI" ]; then
    mkdir -p "$tmp/state"
    ranges_check "host bits set" 2 '"10.1.2.3/8" is not an address range' \
        '["10.1.2.3/8"]'
    ranges_check "not an address" 2 '"intranet" is not an address range' \
        '["defaults", "intranet"]'
    ranges_check "not a string" 2 'holds a value that is not a string' \
        '[8]'
    ranges_check "not a list" 2 'must be a list of address ranges' \
        '"127.0.0.2/32"'
    ranges_check "good ones" 0 'settings ok' \
        '["defaults", "127.0.0.2/32", "fd12:3456::/32"]'
else
    fail "crl_denied_ranges: --check-config" "$FCGI built" "missing"
fi

echo "$npass passed, $nfail failed"
[ $nfail = 0 ]
