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
set -u

me=check_state
state=${1:-}
conf=${2:-}
if [ -z "$state" ] || [ $# -gt 2 ]; then
    echo "usage: $me.sh STATE_DIR [NGINX_CONF]" >&2
    exit 2
fi
[ -d "$state" ] || { echo "$me: TORN: no state directory $state"; exit 1; }
OPENSSL=${OPENSSL:-openssl}
NGINX=${NGINX:-nginx}

bad=0
torn() { echo "$me: TORN: $*"; bad=1; }
note() { echo "$me: note: $*"; }

id_re='^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$'
files="cert.pem chain.pem fullchain.pem privkey.pem meta.json"

# meta_names FILE ID: 0 when FILE is one JSON object whose "id" is ID, 1
# when it is one that does not, 3 when FILE is not one JSON value, 2 when
# there is no jq to read it with
meta_names() {
    if ! command -v jq >/dev/null 2>&1; then
        echo "$me: no jq to read JSON with" >&2
        return 2
    fi
    jq -e -s 'length == 1' "$1" >/dev/null 2>&1 || return 3
    jq -e --arg id "$2" 'type == "object" and .id == $id' "$1" \
        >/dev/null 2>&1
}

# whole DIR: sets lacks to what DIR lacks to be a release ("": whole)
# (no subshell: this runs after every kill of test_crash.sh)
whole() {
    local f
    lacks=
    for f in $files; do
        if [ ! -f "$1/$f" ] || [ -L "$1/$f" ]; then
            lacks="$lacks, no $f"
        elif [ ! -s "$1/$f" ] && [ "$f" != chain.pem ]; then
            lacks="$lacks, $f is empty"
        fi
    done
    lacks=${lacks#, }
}

# ---- current ----
cur=$state/current
if [ ! -L "$cur" ]; then
    if [ -e "$cur" ]; then torn "current is not a symbolic link"
    else torn "no current"; fi
    target=
else
    target=$(readlink "$cur")
fi
id=${target#releases/}
if [ -n "$target" ]; then
    if [ "$target" = "$id" ] || ! [[ $id =~ $id_re ]]; then
        torn "current -> $target, not releases/<id>"
    elif [ -L "$state/$target" ] || [ ! -d "$state/$target" ]; then
        torn "current -> $target, which is not a directory"
    fi
fi
if [ $bad = 0 ]; then
    d=$state/$target
    whole "$d"
    [ -z "$lacks" ] || torn "release $id: $lacks"
fi
if [ $bad = 0 ]; then
    mode=$(stat -c %a "$d/privkey.pem" 2>/dev/null)
    [ "$mode" = 600 ] || torn "release $id: privkey.pem has mode $mode, not 600"
    meta_names "$d/meta.json" "$id"
    case $? in
    0) ;;
    1) torn "release $id: meta.json does not name it" ;;
    2) bad=1 ;;
    *) torn "release $id: meta.json is not valid JSON" ;;
    esac
    kpub=$("$OPENSSL" pkey -in "$d/privkey.pem" -pubout 2>/dev/null)
    cpub=$("$OPENSSL" x509 -in "$d/cert.pem" -pubkey -noout 2>/dev/null)
    if [ -z "$kpub" ]; then torn "release $id: privkey.pem does not load"
    elif [ -z "$cpub" ]; then torn "release $id: cert.pem does not load"
    elif [ "$kpub" != "$cpub" ]; then
        torn "release $id: the key does not match the certificate"
    fi
    n=$(wc -c <"$d/cert.pem")
    head -c "$n" "$d/fullchain.pem" | cmp -s - "$d/cert.pem" ||
        torn "release $id: fullchain.pem does not start with cert.pem"
fi

# ---- nginx loads it ----
if [ -n "$conf" ] && [ $bad = 0 ]; then
    if ! out=$("$NGINX" -t -q -p "$(dirname "$conf")" -c "$conf" 2>&1); then
        torn "nginx -t refuses $conf: $(printf '%s' "$out" | tr '\n' ' ')"
    fi
fi

# ---- what a crash may leave (not fatal) ----
for t in "$state"/.current-tmp-*; do
    [ -L "$t" ] || [ -e "$t" ] || continue
    note "leftover ${t#"$state"/} -> $(readlink "$t" 2>/dev/null || echo '?')"
done
for t in "$state"/releases/.tmp-*; do
    [ -e "$t" ] || continue
    note "leftover releases/${t##*/}"
done
for r in "$state"/releases/*; do
    [ -d "$r" ] || continue
    rid=${r##*/}
    if ! [[ $rid =~ $id_re ]] || [ "$rid" = "$id" ]; then continue; fi
    whole "$r"
    [ -z "$lacks" ] || note "partial releases/$rid: $lacks"
done

if [ $bad = 0 ]; then
    echo "$me: ok: current -> $target${conf:+ (nginx -t accepts it)}"
    exit 0
fi
exit 1
