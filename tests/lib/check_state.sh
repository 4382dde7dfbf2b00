#!/usr/bin/env bash
# check_state.sh: the crash-consistency invariant of docs/DESIGN.md
# "Installing" on a state dir.
#
#   check_state.sh STATE_DIR [NGINX_CONF]
#
# Holds when STATE_DIR/current is a symbolic link to releases/<id>, that
# release is a directory holding cert.pem, chain.pem, fullchain.pem,
# privkey.pem (mode 0600) and meta.json (valid JSON naming <id>), the key's
# public key is the certificate's, and fullchain.pem starts with cert.pem;
# and, when NGINX_CONF is given, `nginx -t -p DIR(NGINX_CONF) -c NGINX_CONF`
# accepts it (nginx loads STATE_DIR/current/{fullchain,privkey}.pem).
#
# Not fatal, reported as "check_state: note: ..." lines:
#   leftover  releases/.tmp-* or .current-tmp-* (a crash's; the next
#             install removes them), with where a .current-tmp-* points
#   partial   a releases/<id> other than the current one that is not whole
#             (history would list it; a rollback to it would be refused)
#
# Exit 0 when the invariant holds, 1 when it does not (one line per
# problem, "check_state: TORN: ..."), 2 on a usage error.
# Environment: OPENSSL (default openssl), NGINX (default nginx).  Needs jq.
#
# Sourced (". check_state.sh"), it only defines the function check_state
# STATE_DIR [NGINX_CONF], which prints the same and returns what the script
# exits with.  test_crash.sh checks a state after every kill that way: no
# shell per check, and what openssl and jq found in a file (the public key
# of privkey.pem and of cert.pem, whether meta.json names the release) is
# kept in memory by the file's SHA-256, so that they run once per distinct
# file content, not once per check.  Only what they found is kept (never
# key material, never on disk); a file changed in any byte has another
# digest, so the cache never answers for content it did not read.

# cs_pub: "key:SHA-256" or "cert:SHA-256" -> the public key (PEM) openssl
# read from a privkey.pem or cert.pem with that digest.  cs_meta:
# "SHA-256:ID" -> 0 (a meta.json naming ID) or 1 (one naming another).
declare -gA cs_pub=() cs_meta=()

# cs_meta_names FILE ID SHA: 0 when FILE is one JSON object whose "id" is
# ID, 1 when it is one that does not, 3 when FILE is not one JSON value, 2
# when there is no jq to read it with
cs_meta_names() {
    local v
    if [ -n "$3" ] && [ -n "${cs_meta[$3:$2]+y}" ]; then
        return "${cs_meta[$3:$2]}"
    fi
    if ! command -v jq >/dev/null 2>&1; then
        echo "check_state: no jq to read JSON with" >&2
        return 2
    fi
    # one jq for both questions; no answer at all: not JSON
    v=$(jq -r -s --arg id "$2" 'if length != 1 then "many"
        elif (.[0] | type == "object" and .id == $id) then "ok"
        else "other" end' "$1" 2>/dev/null)
    case $v in
    ok)    v=0 ;;
    other) v=1 ;;
    *)     return 3 ;;      # not cached: jq may have failed to start
    esac
    [ -z "$3" ] || cs_meta[$3:$2]=$v
    return "$v"
}

# cs_pubkey KIND FILE SHA: sets cs_out to the public key of FILE, a key
# (KIND key) or a certificate (KIND cert); "" when it does not load
cs_pubkey() {
    if [ -n "$3" ] && [ -n "${cs_pub[$1:$3]+y}" ]; then
        cs_out=${cs_pub[$1:$3]}
        return
    fi
    if [ "$1" = key ]; then
        cs_out=$("$cs_openssl" pkey -in "$2" -pubout 2>/dev/null)
    else
        cs_out=$("$cs_openssl" x509 -in "$2" -pubkey -noout 2>/dev/null)
    fi
    # a load that failed is not kept: openssl may not have started at all
    if [ -n "$3" ] && [ -n "$cs_out" ]; then
        cs_pub[$1:$3]=$cs_out
    fi
}

# cs_whole DIR: sets cs_lacks to what DIR lacks to be a release ("": whole)
cs_whole() {
    local f
    cs_lacks=
    for f in cert.pem chain.pem fullchain.pem privkey.pem meta.json; do
        if [ ! -f "$1/$f" ] || [ -L "$1/$f" ]; then
            cs_lacks="$cs_lacks, no $f"
        elif [ ! -s "$1/$f" ] && [ "$f" != chain.pem ]; then
            cs_lacks="$cs_lacks, $f is empty"
        fi
    done
    cs_lacks=${cs_lacks#, }
}

# cs_digests DIR: sets cs_kh, cs_ch, cs_mh to the SHA-256 of DIR's
# privkey.pem, cert.pem and meta.json (all "" when one cannot be read:
# then nothing is cached or looked up)
cs_digests() {
    local sums l i=0 h=()
    cs_kh='' cs_ch='' cs_mh=''
    sums=$(sha256sum -- "$1/privkey.pem" "$1/cert.pem" "$1/meta.json" \
        2>/dev/null) || return 0
    while IFS= read -r l; do
        l=${l#\\}               # a name sha256sum had to escape
        l=${l%% *}
        [[ $l =~ ^[0-9a-f]{64}$ ]] || return 0
        h[i++]=$l
    done <<<"$sums"
    [ "${#h[@]}" = 3 ] || return 0
    cs_kh=${h[0]} cs_ch=${h[1]} cs_mh=${h[2]}
}

# cs_torn WHY, cs_note WHAT: a line of check_state's output (cs_torn sets
# its bad)
cs_torn() { echo "check_state: TORN: $*"; bad=1; }
cs_note() { echo "check_state: note: $*"; }

# check_state STATE_DIR [NGINX_CONF]: see above; returns 0, 1 or 2
check_state() {
    local me=check_state state=${1:-} conf=${2:-}
    local cs_openssl=${OPENSSL:-openssl} cs_nginx=${NGINX:-nginx}
    local id_re='^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$'
    local bad=0 cur target='' id d cs_lacks cs_out cs_kh cs_ch cs_mh
    local kpub cpub st mode n out prefix t r rid

    if [ -z "$state" ] || [ $# -gt 2 ]; then
        echo "usage: $me.sh STATE_DIR [NGINX_CONF]" >&2
        return 2
    fi
    if [ ! -d "$state" ]; then
        cs_torn "no state directory $state"
        return 1
    fi

    # ---- current ----
    cur=$state/current
    if [ ! -L "$cur" ]; then
        if [ -e "$cur" ]; then cs_torn "current is not a symbolic link"
        else cs_torn "no current"; fi
    else
        target=$(readlink "$cur")
    fi
    id=${target#releases/}
    if [ -n "$target" ]; then
        if [ "$target" = "$id" ] || ! [[ $id =~ $id_re ]]; then
            cs_torn "current -> $target, not releases/<id>"
        elif [ -L "$state/$target" ] || [ ! -d "$state/$target" ]; then
            cs_torn "current -> $target, which is not a directory"
        fi
    fi
    if [ $bad = 0 ]; then
        d=$state/$target
        cs_whole "$d"
        [ -z "$cs_lacks" ] || cs_torn "release $id: $cs_lacks"
    fi
    if [ $bad = 0 ]; then
        # the key's mode and the certificate's size, one stat
        st=$(stat -c '%a %s' -- "$d/privkey.pem" "$d/cert.pem" 2>/dev/null)
        mode=${st%% *}
        n=${st##* }
        [ "$mode" = 600 ] ||
            cs_torn "release $id: privkey.pem has mode $mode, not 600"
        cs_digests "$d"
        cs_meta_names "$d/meta.json" "$id" "$cs_mh"
        case $? in
        0) ;;
        1) cs_torn "release $id: meta.json does not name it" ;;
        2) bad=1 ;;
        *) cs_torn "release $id: meta.json is not valid JSON" ;;
        esac
        cs_pubkey key "$d/privkey.pem" "$cs_kh"
        kpub=$cs_out
        cs_pubkey cert "$d/cert.pem" "$cs_ch"
        cpub=$cs_out
        if [ -z "$kpub" ]; then
            cs_torn "release $id: privkey.pem does not load"
        elif [ -z "$cpub" ]; then
            cs_torn "release $id: cert.pem does not load"
        elif [ "$kpub" != "$cpub" ]; then
            cs_torn "release $id: the key does not match the certificate"
        fi
        # its first n bytes are cert.pem's (cmp: a shorter file differs)
        if [ -z "$n" ] ||
            ! cmp -s -n "$n" -- "$d/cert.pem" "$d/fullchain.pem"; then
            cs_torn "release $id: fullchain.pem does not start with cert.pem"
        fi
    fi

    # ---- nginx loads it ----
    if [ -n "$conf" ] && [ $bad = 0 ]; then
        case $conf in
        */*) prefix=${conf%/*} ;;
        *)   prefix=. ;;
        esac
        if ! out=$("$cs_nginx" -t -q -p "${prefix:-/}" -c "$conf" 2>&1); then
            cs_torn "nginx -t refuses $conf: ${out//$'\n'/ }"
        fi
    fi

    # ---- what a crash may leave (not fatal) ----
    for t in "$state"/.current-tmp-*; do
        [ -L "$t" ] || [ -e "$t" ] || continue
        cs_note "leftover ${t#"$state"/} ->" \
            "$(readlink "$t" 2>/dev/null || echo '?')"
    done
    for t in "$state"/releases/.tmp-*; do
        [ -e "$t" ] || continue
        cs_note "leftover releases/${t##*/}"
    done
    for r in "$state"/releases/*; do
        [ -d "$r" ] || continue
        rid=${r##*/}
        if ! [[ $rid =~ $id_re ]] || [ "$rid" = "$id" ]; then continue; fi
        cs_whole "$r"
        [ -z "$cs_lacks" ] || cs_note "partial releases/$rid: $cs_lacks"
    done

    if [ $bad = 0 ]; then
        echo "$me: ok: current -> $target${conf:+ (nginx -t accepts it)}"
        return 0
    fi
    return 1
}

# run as a script: one check
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -u
    check_state "$@"
    exit $?
fi
