#!/usr/bin/env bash
# What make install puts on an appliance (README "Installing on an
# appliance", docs/DESIGN.md "Security"): a `make install DESTDIR=...`
# into a temporary root, then
#   - systemd-analyze security --offline=true rates certdialog-fcgi.service
#     at most 2.0 ("OK"), and the parser of that figure sees an unsandboxed
#     unit as EXPOSED;
#   - systemd-analyze verify accepts the four units (copies whose paths
#     point into the temporary root, so that their commands exist);
#   - the service runs as the sysusers user, owns a 0700 state directory;
#     the sysusers file makes that user (systemd-sysusers --root);
#   - the reload path: certdialog-reload.path watches the file that the
#     installed reload_command writes, certdialog-reload.service (root)
#     runs the installed reload-nginx;
#   - the settings, the site, the units and the scripts name the same
#     state directory and socket.
# Environment (set by make check): CD_TOP_BUILDDIR.
set -u
top=${CD_TOP_BUILDDIR:-$PWD}
# shellcheck source=tests/lib/tally.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tally.sh"
MAX_EXPOSURE=2.0

for tool in systemd-analyze systemd-sysusers jq make; do
    command -v "$tool" >/dev/null 2>&1 ||
        { echo "FAIL: $tool is not installed (scripts/deps.sh)"; exit 1; }
done
[ -f "$top/Makefile" ] || { echo "FAIL: no $top/Makefile"; exit 1; }

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
# a make of its own: not the jobserver of the make check that runs us
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$top" install \
    DESTDIR="$root" >"$tmp/install.log" 2>&1; then
    fail "make install DESTDIR" "failed" "$tmp/install.log"
    echo "$npass passed, $nfail failed"
    exit 1
fi
pass "make install DESTDIR=..."

# The installed files by name (the prefix is configure's).
find_one() {
    find "$root" -path "*/$1" \( -type f -o -type l \) | head -1
}
svc=$(find_one systemd/system/certdialog-fcgi.service)
sock=$(find_one systemd/system/certdialog-fcgi.socket)
rpath=$(find_one systemd/system/certdialog-reload.path)
rsvc=$(find_one systemd/system/certdialog-reload.service)
susers=$(find_one sysusers.d/certdialog.conf)
settings=$(find_one certdialog/settings.json)
site=$(find_one sites-available/certdialog.conf)
for f in svc sock rpath rsvc susers settings site; do
    if [ -n "${!f}" ]; then pass "installed: ${!f#"$root"}"
    else fail "installed: $f" "not found under the DESTDIR"; fi
done
[ $nfail = 0 ] || { echo "$npass passed, $nfail failed"; exit 1; }

# key FILE KEY: the values of KEY= in a unit (one a line, last wins for
# the caller that takes tail -1)
key() {
    sed -n "s/^$2=//p" "$1"
}
# in_root PATH: PATH inside the DESTDIR
in_root() {
    printf '%s%s' "$root" "$1"
}

# ---- systemd-analyze security ----
# exposure UNITFILE: the overall figure ("→ Overall exposure level for
# X: 1.1 OK")
exposure() {
    systemd-analyze security --offline=true --no-pager "$1" 2>&1 |
        sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p' |
        tail -1
}
e=$(exposure "$svc")
if [ -z "$e" ]; then
    systemd-analyze security --offline=true --no-pager "$svc" >"$tmp/sec.log" 2>&1
    fail "systemd-analyze security" "no overall exposure figure" "$tmp/sec.log"
elif awk -v e="$e" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(e <= m) }'; then
    pass "systemd-analyze security: certdialog-fcgi.service exposure $e (at most $MAX_EXPOSURE)"
else
    systemd-analyze security --offline=true --no-pager "$svc" 2>&1 |
        grep '✗' >"$tmp/sec.log"
    fail "systemd-analyze security" "exposure $e is above $MAX_EXPOSURE" \
        "$tmp/sec.log"
fi
# the same reading of a unit without any sandboxing
mkdir -p "$tmp/bare"
printf '[Service]\nExecStart=/bin/true\n' >"$tmp/bare/bare.service"
e=$(exposure "$tmp/bare/bare.service")
if [ -n "$e" ] && awk -v e="$e" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(e > m) }'; then
    pass "systemd-analyze security: an unsandboxed unit reads as $e"
else
    fail "systemd-analyze security: an unsandboxed unit" "read as '$e'"
fi

# ---- systemd-analyze verify ----
# Copies whose absolute paths of the DESTDIR's prefix point into it, so
# that verify finds the commands (it checks that they are executable).
prefix=$(sed -n 's|^ExecStart=\(.*\)/bin/certdialog-fcgi .*|\1|p' "$svc")
mkdir -p "$tmp/verify"
for u in "$svc" "$sock" "$rpath" "$rsvc"; do
    sed "s#$prefix/#$root$prefix/#g" "$u" >"$tmp/verify/${u##*/}"
done
(cd "$tmp/verify" && systemd-analyze verify --man=no --no-pager \
    ./certdialog-fcgi.service ./certdialog-fcgi.socket \
    ./certdialog-reload.path ./certdialog-reload.service) >"$tmp/verify.log" 2>&1
rc=$?
if [ $rc = 0 ] && [ ! -s "$tmp/verify.log" ]; then
    pass "systemd-analyze verify: the four units, no warning"
else
    fail "systemd-analyze verify" "status $rc" "$tmp/verify.log"
fi

# ---- the service's user and state directory ----
user=$(key "$svc" User | tail -1)
group=$(key "$svc" Group | tail -1)
if [ "$user" = certdialog ] && [ "$group" = certdialog ]; then
    pass "the service runs as certdialog:certdialog"
else
    fail "User=/Group=" "'$user:$group'" "$svc"
fi
sd=$(key "$svc" StateDirectory | tail -1)
if [ "$sd" = certdialog ] && [ "$(key "$svc" StateDirectoryMode | tail -1)" = 0700 ] &&
    [ "$(key "$svc" UMask | tail -1)" = 0077 ]; then
    pass "StateDirectory=certdialog, 0700, UMask=0077"
else
    fail "state directory" "StateDirectory='$sd'" "$svc"
fi
state=/var/lib/$sd
if [ "$(key "$svc" CapabilityBoundingSet | tail -1)" = "" ] &&
    grep -qx 'CapabilityBoundingSet=' "$svc" &&
    grep -qx 'NoNewPrivileges=yes' "$svc" &&
    grep -qx 'ProtectSystem=strict' "$svc" &&
    grep -qx 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK' "$svc" &&
    grep -qx 'SystemCallFilter=@system-service' "$svc"; then
    pass "no capabilities, NoNewPrivileges, ProtectSystem=strict, address families, system calls"
else
    fail "sandbox lines" "missing" "$svc"
fi
# the sysusers file, and what systemd-sysusers makes of it
if grep -Eq "^u certdialog - \"[^\"]+\" $state -\$" "$susers"; then
    pass "sysusers: u certdialog ... $state"
else
    fail "sysusers line" "not 'u certdialog - \"...\" $state -'" "$susers"
fi
mkdir -p "$root/etc"
if systemd-sysusers --root="$root" "$susers" >"$tmp/sysusers.log" 2>&1 &&
    pw=$(grep '^certdialog:' "$root/etc/passwd") &&
    grep -q '^certdialog:' "$root/etc/group"; then
    IFS=: read -r _ _ uid gid _ home shell <<<"$pw"
    if [ "$uid" -gt 0 ] && [ "$uid" -lt 1000 ] && [ "$home" = "$state" ] &&
        [ "${shell##*/}" = nologin ]; then
        pass "systemd-sysusers --root: system user certdialog ($uid:$gid, $home, $shell)"
    else
        fail "systemd-sysusers --root" "passwd line '$pw'"
    fi
else
    fail "systemd-sysusers --root" "no user certdialog" "$tmp/sysusers.log"
fi

# ---- the socket: nginx's workers connect, the service owns it ----
listen=$(key "$sock" ListenStream | tail -1)
if [ "$(key "$sock" SocketUser | tail -1)" = certdialog ] &&
    [ "$(key "$sock" SocketGroup | tail -1)" = www-data ] &&
    [ "$(key "$sock" SocketMode | tail -1)" = 0660 ]; then
    pass "socket $listen: certdialog:www-data 0660"
else
    fail "socket unit" "owner/group/mode" "$sock"
fi

# ---- the reload path ----
reload_cmd=$(jq -r '.reload_command // empty' "$settings")
if [ -n "$reload_cmd" ] && [ -x "$(in_root "$reload_cmd")" ]; then
    pass "settings: reload_command $reload_cmd is installed"
else
    fail "settings: reload_command" "'$reload_cmd' is not an installed program" "$settings"
fi
if [ "$(key "$rpath" PathExists | tail -1)" = "$state/reload-request" ] &&
    [ "$(key "$rpath" Unit | tail -1)" = certdialog-reload.service ]; then
    pass "certdialog-reload.path watches $state/reload-request"
else
    fail "certdialog-reload.path" "PathExists/Unit" "$rpath"
fi
rexec=$(key "$rsvc" ExecStart | tail -1)
if [ -x "$(in_root "$rexec")" ] && [ -z "$(key "$rsvc" User)" ] &&
    [ "$(key "$rsvc" Type | tail -1)" = oneshot ]; then
    pass "certdialog-reload.service: root oneshot running $rexec"
else
    fail "certdialog-reload.service" "ExecStart '$rexec' or User/Type" "$rsvc"
fi
if grep -qx 'Wants=certdialog-reload.path' "$svc" &&
    grep -q '^After=.*certdialog-reload.path' "$svc"; then
    pass "certdialog-fcgi.service brings certdialog-reload.path up first"
else
    fail "Wants=/After= certdialog-reload.path" "missing" "$svc"
fi
# the scripts name the same directory and group
if grep -qx "state=$state" "$(in_root "$reload_cmd")" &&
    grep -qx "state=$state" "$(in_root "$rexec")" &&
    grep -qx "group=certdialog" "$(in_root "$rexec")"; then
    pass "request-reload and reload-nginx: state=$state, group certdialog"
else
    fail "reload scripts" "state or group differ"
fi

# ---- one state directory, one socket ----
sstate=$(jq -r '.state_dir // empty' "$settings")
if [ "$sstate" = "$state" ]; then
    pass "settings: state_dir $sstate is the unit's"
else
    fail "settings: state_dir" "'$sstate', the unit's is $state"
fi
if jq -e 'has("socket") | not' "$settings" >/dev/null; then
    pass "settings: no \"socket\" (the socket unit's)"
else
    fail "settings: socket" "set: the service would not use the socket unit's"
fi
cert=$(sed -n 's/^ *ssl_certificate \(.*\);/\1/p' "$site")
key_=$(sed -n 's/^ *ssl_certificate_key \(.*\);/\1/p' "$site")
if [ "$cert" = "$state/current/fullchain.pem" ] &&
    [ "$key_" = "$state/current/privkey.pem" ]; then
    pass "site: serves $state/current/"
else
    fail "site: ssl_certificate" "'$cert' '$key_'" "$site"
fi
if grep -q "fastcgi_pass unix:$listen;" "$site"; then
    pass "site: fastcgi_pass unix:$listen"
else
    fail "site: fastcgi_pass" "not the socket unit's $listen" "$site"
fi
port=$(jq -r '.served_address // empty' "$settings")
port=${port##*:}
if grep -Eq "^ *listen ${port} ssl;" "$site"; then
    pass "settings: served_address port $port is the site's"
else
    fail "settings: served_address" "port '$port' is not the site's" "$site"
fi
sconf=$(sed -n 's|^ExecStart=.* -c \([^ ]*\)$|\1|p' "$svc")
if [ -f "$(in_root "$sconf")" ] && [ "$(in_root "$sconf")" = "$settings" ]; then
    pass "the unit reads the installed $sconf"
else
    fail "settings path" "the unit reads '$sconf'" "$svc"
fi

# ---- ACME renewal: its units and the challenge hook ----
asvc=$(find_one systemd/system/certdialog-acme.service)
atim=$(find_one systemd/system/certdialog-acme.timer)
hook=$(find_one certdialog/acme-hook)
if [ -n "$asvc" ] && [ -n "$atim" ] && [ -n "$hook" ] && [ -x "$hook" ]; then
    pass "installed: certdialog-acme.service, .timer, an executable acme-hook"
else
    fail "ACME units" "service '$asvc' timer '$atim' hook '$hook'"
fi
if [ -n "$asvc" ]; then
    e=$(exposure "$asvc")
    if [ -n "$e" ] && awk -v e="$e" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(e <= m) }'; then
        pass "systemd-analyze security: certdialog-acme.service exposure $e (at most $MAX_EXPOSURE)"
    else
        fail "systemd-analyze security: certdialog-acme.service" "exposure '$e' above $MAX_EXPOSURE"
    fi
    for u in "$asvc" "$atim"; do
        sed "s#$prefix/#$root$prefix/#g" "$u" >"$tmp/verify/${u##*/}"
    done
    (cd "$tmp/verify" && systemd-analyze verify --man=no --no-pager \
        ./certdialog-acme.service ./certdialog-acme.timer) >"$tmp/averify.log" 2>&1
    rc=$?
    if [ $rc = 0 ] && [ ! -s "$tmp/averify.log" ]; then
        pass "systemd-analyze verify: certdialog-acme.service and .timer"
    else
        fail "systemd-analyze verify (ACME)" "status $rc" "$tmp/averify.log"
    fi
    if [ "$(key "$asvc" User | tail -1)" = "$user" ] &&
        [ "$(key "$asvc" StateDirectory | tail -1)" = "$sd" ] &&
        grep -qx 'ProtectProc=invisible' "$asvc" &&
        grep -qx 'NoNewPrivileges=yes' "$asvc" &&
        grep -qx 'CapabilityBoundingSet=' "$asvc" &&
        [ "$(sed -n 's|^ExecStart=.* -c \([^ ]*\) --acme-renew$|\1|p' "$asvc")" = "$sconf" ]; then
        pass "certdialog-acme.service: $user, $state, ProtectProc=invisible (uacme's -e), --acme-renew with $sconf"
    else
        fail "certdialog-acme.service" "user, state, sandbox or ExecStart" "$asvc"
    fi
    if [ "$(key "$atim" OnCalendar | tail -1)" = hourly ]; then
        pass "certdialog-acme.timer: hourly (the backoff starts at an hour)"
    else
        fail "certdialog-acme.timer" "OnCalendar=hourly" "$atim"
    fi
fi
if grep -q "location ^~ /.well-known/acme-challenge/" "$site" &&
    grep -q "fastcgi_param DOCUMENT_URI /api/acme/challenge/\$1;" "$site"; then
    pass "site: port 80 answers http-01 through /api/acme/challenge/"
else
    fail "site: ACME challenge location" "missing" "$site"
fi

echo "$npass passed, $nfail failed"
[ $nfail = 0 ]
