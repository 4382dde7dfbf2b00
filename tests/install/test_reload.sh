#!/usr/bin/env bash
# nginx's reload on an appliance (docs/DESIGN.md "Security"): the
# installed reload_command (request-reload, run as the service's user)
# asks, and reload-nginx (root, certdialog-reload.service, started by
# certdialog-reload.path) answers.  Both scripts come from a
# `make install DESTDIR=...`, their paths pointed into a temporary
# directory; a loop stands for the path unit, and `nginx` and `systemctl`
# are stand-ins that log their arguments.
#
#   - a reload: nginx -t, then systemctl reload nginx.service, exit 0;
#   - nginx -t refusing, systemctl failing: exit 1 with the reason, and
#     no reload after a refused nginx -t; an earlier answer is never
#     taken for this one;
#   - nobody answering: exit 1 within the wait;
#   - what the service's user can plant for root (a link to a root-only
#     file as the request, a link as root's working name, a FIFO, a
#     directory, a long or non-hex request): nothing followed, read or
#     run, and no loop of the path unit (the request is gone).
# As root, the service's user is nobody; otherwise both sides are us.
# Environment (set by make check): CD_TOP_BUILDDIR.
set -u
top=${CD_TOP_BUILDDIR:-$PWD}
# shellcheck source=tests/lib/tally.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tally.sh"

command -v make >/dev/null 2>&1 || { echo "FAIL: make is not installed"; exit 1; }
tmp=$(mktemp -d) || exit 1
watch_pid=
cleanup() {
    if [ -n "$watch_pid" ]; then
        kill "$watch_pid" 2>/dev/null
        wait "$watch_pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
chmod 0711 "$tmp"
root=$tmp/root
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$top" install \
    DESTDIR="$root" >"$tmp/install.log" 2>&1; then
    fail "make install DESTDIR" "failed" "$tmp/install.log"
    echo "$npass passed, $nfail failed"
    exit 1
fi
req_src=$(find "$root" -path '*/certdialog/request-reload' -type f | head -1)
rel_src=$(find "$root" -path '*/certdialog/reload-nginx' -type f | head -1)
if [ -z "$req_src" ] || [ -z "$rel_src" ]; then
    echo "FAIL: request-reload or reload-nginx is not installed"
    exit 1
fi

if [ "$(id -u)" = 0 ]; then
    svc_user=nobody
    as_svc() { runuser -u nobody -- "$@"; }
else
    svc_user=$(id -un)
    as_svc() { "$@"; }
fi
svc_group=$(id -gn "$svc_user")
state=$tmp/state
run=$tmp/run
mkdir -p "$state" "$run" "$tmp/bin"
chmod 0700 "$state"
chmod 0755 "$run"
[ "$svc_user" = "$(id -un)" ] || chown "$svc_user:$svc_group" "$state"

# point SCRIPT's line VAR=... at VALUE; fails when the line is not there
point() {
    local f=$1 var=$2 val=$3
    grep -q "^$var=" "$f" || { echo "FAIL: no $var= in ${f##*/}"; exit 1; }
    sed -i "s#^$var=[^ ]*#$var=$val#" "$f"
}
cp "$req_src" "$tmp/request-reload"
cp "$rel_src" "$tmp/reload-nginx"
point "$tmp/request-reload" state "$state"
point "$tmp/request-reload" result "$run/result"
point "$tmp/request-reload" wait_s 10
point "$tmp/reload-nginx" state "$state"
point "$tmp/reload-nginx" run "$run"
point "$tmp/reload-nginx" group "$svc_group"
sed 's#^wait_s=[^ ]*#wait_s=1#' "$tmp/request-reload" >"$tmp/request-reload-1s"
chmod 0755 "$tmp"/request-reload* "$tmp/reload-nginx"

# the stand-ins: nginx -t fails while $tmp/nginx-bad exists, systemctl
# while $tmp/systemctl-bad does
cat >"$tmp/bin/nginx" <<EOF
#!/bin/sh
echo "nginx \$*" >>"$tmp/calls"
if [ -e "$tmp/nginx-bad" ]; then
    echo 'nginx: [emerg] cannot load certificate "/var/lib/certdialog/current/fullchain.pem"' >&2
    echo 'nginx: configuration file /etc/nginx/nginx.conf test failed' >&2
    exit 1
fi
exit 0
EOF
cat >"$tmp/bin/systemctl" <<EOF
#!/bin/sh
echo "systemctl \$*" >>"$tmp/calls"
if [ -e "$tmp/systemctl-bad" ]; then
    echo "Job for nginx.service failed." >&2
    exit 1
fi
exit 0
EOF
chmod 0755 "$tmp/bin/nginx" "$tmp/bin/systemctl"
rootside() {
    PATH=$tmp/bin:$PATH sh "$tmp/reload-nginx" 2>>"$tmp/root.log"
}

# certdialog-reload.path: PathExists= on the request (at most 60 s)
watch() {
    for _ in $(seq 1 1200); do
        if [ -e "$state/reload-request" ]; then
            rootside
        fi
        sleep 0.05
    done
}
watch &
watch_pid=$!

# ask NAME SCRIPT: runs request-reload as the service's user
ask() {
    : >"$tmp/calls"
    as_svc sh "$2" >"$tmp/out" 2>&1
    rc=$?
    out=$(cat "$tmp/out")
}
calls() {
    tr '\n' ';' <"$tmp/calls"
}

ask "reload" "$tmp/request-reload"
if [ $rc = 0 ] && [ "$out" = "nginx -t passed; nginx.service reloaded" ] &&
    [ "$(calls)" = "nginx -t -q;systemctl reload nginx.service;" ]; then
    pass "reload: nginx -t, then systemctl reload nginx.service; exit 0 ($out)"
else
    fail "reload" "status $rc, '$out', calls '$(calls)'" "$tmp/root.log"
fi
read -r perm owner grp <<<"$(stat -c '%a %U %G' "$run/result")"
if [ "$perm" = 640 ] && [ "$owner" = "$(id -un)" ] && [ "$grp" = "$svc_group" ]; then
    pass "the answer is $owner:$grp 0640"
else
    fail "the answer's file" "$owner:$grp $perm"
fi
left=$(cd "$state" && ls -A)
if [ -z "$left" ]; then
    pass "the request is taken: nothing left in the state directory"
else
    fail "the request is taken" "left: $left"
fi

touch "$tmp/nginx-bad"
ask "nginx -t refuses" "$tmp/request-reload"
rm -f "$tmp/nginx-bad"
case $out in
*"nginx -t refused the configuration: nginx: [emerg] cannot load certificate"*)
    if [ $rc = 1 ] && [ "$(calls)" = "nginx -t -q;" ]; then
        pass "nginx -t refuses: exit 1, no reload, its reason passed on"
    else
        fail "nginx -t refuses" "status $rc, calls '$(calls)'"
    fi ;;
*) fail "nginx -t refuses" "status $rc, '$out'" ;;
esac

touch "$tmp/systemctl-bad"
ask "systemctl fails" "$tmp/request-reload"
rm -f "$tmp/systemctl-bad"
if [ $rc = 1 ] && [ "$out" = "systemctl reload nginx.service failed: Job for nginx.service failed." ]; then
    pass "systemctl reload fails: exit 1 ($out)"
else
    fail "systemctl reload fails" "status $rc, '$out'"
fi

ask "reload again" "$tmp/request-reload"
if [ $rc = 0 ]; then pass "a reload after failures"
else fail "a reload after failures" "status $rc, '$out'"; fi

kill "$watch_pid" 2>/dev/null
wait "$watch_pid" 2>/dev/null
watch_pid=
t0=$SECONDS
ask "nobody answers" "$tmp/request-reload-1s"
case $out in
"no answer from certdialog-reload.service in 1 s;"*)
    if [ $rc = 1 ] && [ $((SECONDS - t0)) -le 5 ]; then
        pass "nobody answers: exit 1 after the wait ($out)"
    else
        fail "nobody answers" "status $rc after $((SECONDS - t0)) s"
    fi ;;
*) fail "nobody answers" "status $rc, '$out'" ;;
esac
rm -f "$state/reload-request"

# ---- what the service's user can plant for root ----
# plant NAME: runs root's side once on what is there, without a loop
answer_before=$(cat "$run/result")
secret=0123456789abcdef0123456789abcdef
printf '%s\n' "$secret" >"$tmp/secret"
chmod 0600 "$tmp/secret"
: >"$tmp/calls"
as_svc ln -s "$tmp/secret" "$state/reload-request"
rootside
if ! grep -q "$secret" "$run/result" && [ "$(cat "$run/result")" = "$answer_before" ] &&
    [ ! -s "$tmp/calls" ] && [ ! -e "$state/reload-request" ] &&
    [ ! -L "$state/reload-request" ]; then
    pass "a request linked to a root-only file: not followed, nothing run, removed"
else
    fail "a request linked to a root-only file" "calls '$(calls)'" "$run/result"
fi

echo precious >"$tmp/precious"
as_svc ln -s "$tmp/precious" "$state/.reload-taken"
as_svc sh -c "echo 00112233445566778899aabbccddeeff >'$state/reload-request'"
: >"$tmp/calls"
rootside
if [ "$(cat "$tmp/precious")" = precious ] &&
    [ "$(cut -d' ' -f1-2 "$run/result")" = "00112233445566778899aabbccddeeff 0" ] &&
    [ -z "$(cd "$state" && ls -A)" ]; then
    pass "root's working name planted as a link: replaced, not followed"
else
    fail "root's working name planted as a link" "precious: $(cat "$tmp/precious")" "$run/result"
fi

as_svc mkfifo "$state/reload-request"
: >"$tmp/calls"
t0=$SECONDS
timeout 20 sh -c "PATH='$tmp/bin':\$PATH sh '$tmp/reload-nginx'" 2>>"$tmp/root.log"
rc=$?
if [ $rc = 1 ] && [ $((SECONDS - t0)) -le 5 ] && [ ! -s "$tmp/calls" ] &&
    [ -z "$(cd "$state" && ls -A)" ]; then
    pass "a FIFO as the request: not waited on, nothing run, removed"
else
    fail "a FIFO as the request" "status $rc after $((SECONDS - t0)) s, calls '$(calls)'"
fi

for bad in dir long nonhex dots; do
    case $bad in
    dir) as_svc mkdir -p "$state/reload-request/x" ;;
    long) as_svc sh -c "printf '%0100d\n' 0 >'$state/reload-request'" ;;
    nonhex) as_svc sh -c "echo 0123456789ABCDEF0123456789ABCDEF >'$state/reload-request'" ;;
    dots) as_svc sh -c "echo '../../../../etc/passwd' >'$state/reload-request'" ;;
    esac
    : >"$tmp/calls"
    before=$(cat "$run/result")
    rootside
    rc=$?
    if [ $rc = 1 ] && [ ! -s "$tmp/calls" ] && [ "$(cat "$run/result")" = "$before" ] &&
        [ -z "$(cd "$state" && ls -A)" ]; then
        pass "a malformed request ($bad): refused, nothing run, removed"
    else
        fail "a malformed request ($bad)" "status $rc, calls '$(calls)', left '$(cd "$state" && ls -A)'"
    fi
done

echo "$npass passed, $nfail failed"
[ $nfail = 0 ]
