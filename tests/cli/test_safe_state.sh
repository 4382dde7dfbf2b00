#!/usr/bin/env bash
# scripts/serve and scripts/run refuse a state directory that someone else
# can change (scripts/lib-safe-dir.sh, docs/DESIGN.md "Security").  The
# attack: a local user pre-creates the directory under /tmp, root runs
# serve with it, and the user replaces run/check-release.sh, which the
# service runs as root.  Here the local user is nobody (runuser), and
#   - nobody's directory (with a planted check-release.sh), one below a
#     directory of nobody's, a link of nobody's to a directory, a
#     world-writable parent without the sticky bit, a world-writable state
#     directory of root's, and a run/ of nobody's are refused with a
#     clear message, before serve writes or runs anything there;
#   - scripts/run refuses the same directory before it builds;
#   - a directory of root's own is accepted: serve goes on (to a builddir
#     without certdialog-fcgi, or to a stand-in that stops at --init), and
#     links planted in its run/ are replaced, never followed.
# Needs root (to act as nobody).  Environment: CD_TOP_SRCDIR.
set -u
src=${CD_TOP_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# shellcheck source=tests/lib/tally.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tally.sh"

if [ "$(id -u)" != 0 ]; then
    echo "SKIP: acting as another local user (nobody) needs root"
    exit 77
fi
id nobody >/dev/null 2>&1 || { echo "FAIL: no user nobody"; exit 1; }
tmp=$(mktemp -d) || exit 1
attack=()
cleanup() {
    local d
    for d in "${attack[@]}"; do rm -rf -- "$d"; done
    rm -rf -- "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
chmod 0711 "$tmp"

# The stand-in certdialog-fcgi: logs its arguments, stops serve at --init.
mkdir -p "$tmp/fake" "$tmp/nobuild"
cat >"$tmp/fake/certdialog-fcgi" <<EOF
#!/bin/sh
echo "\$*" >>"$tmp/fcgi-calls"
case " \$* " in *" --init "*) echo "stand-in: stop" >&2; exit 1 ;; esac
exit 0
EOF
chmod 0755 "$tmp/fake/certdialog-fcgi"

# serve_with STATE BUILDDIR: serve's output in $out, its status in $rc
serve_with() {
    rm -f "$tmp/fcgi-calls"
    out=$(CERTDIALOG_STATE=$1 CERTDIALOG_BUILDDIR=$2 CERTDIALOG_PORT=1 \
        CERTDIALOG_ADMIN_PASSWORD=not-a-real-password-1 \
        timeout 60 bash "$src/scripts/serve" </dev/null 2>&1)
    rc=$?
}

# An attacker's directory under /tmp, made by nobody: its path.
attacker_dir() {
    local d
    d=$(runuser -u nobody -- mktemp -d /tmp/cd-attack.XXXXXXXX) || return 1
    attack+=("$d")
    echo "$d"
}

# refused NAME STATE WHY-PATTERN: serve refused STATE, said why, and ran
# nothing (the stand-in was never called)
refused() {
    local name=$1 state=$2 why=$3
    serve_with "$state" "$tmp/fake"
    if [ $rc != 0 ] &&
        printf '%s\n' "$out" | grep -q '^serve: refusing the state directory: ' &&
        printf '%s\n' "$out" | grep -q -- "$why" &&
        [ ! -e "$tmp/fcgi-calls" ]; then
        pass "$name: refused ($(printf '%s\n' "$out" | head -1 | cut -c1-110))"
        return 0
    fi
    printf '%s\n' "$out" >"$tmp/out"
    fail "$name" "status $rc, or no clear refusal, or serve went on" "$tmp/out"
    return 1
}

# ---- 1. the attack: nobody's directory with a planted script ----
a=$(attacker_dir) || { echo "FAIL: runuser -u nobody mktemp"; exit 1; }
runuser -u nobody -- sh -c "
    chmod 0777 '$a' && mkdir -p '$a/run/logs' '$a/run/tmp' &&
    printf '#!/bin/sh\nid -u >$a/pwned\n' >'$a/run/check-release.sh' &&
    chmod 0755 '$a/run/check-release.sh'"
planted=$(cat "$a/run/check-release.sh")
refused "nobody's state directory with run/check-release.sh" "$a" \
    "$a belongs to nobody, not to root"
if [ ! -e "$a/pwned" ] && [ "$(cat "$a/run/check-release.sh")" = "$planted" ] &&
    [ ! -e "$a/run/settings.json" ] && [ ! -e "$a/run/nginx.conf" ]; then
    pass "nothing written in nobody's directory; the planted script never ran"
else
    fail "nobody's directory untouched" "$(cd "$a" && find . | tr '\n' ' ')"
fi
runuser -u nobody -- chmod 0755 "$a"
refused "nobody's state directory, not writable by others" "$a" \
    "belongs to nobody"

# scripts/run, before any build
out=$(CERTDIALOG_STATE=$a timeout 60 bash "$src/scripts/run" </dev/null 2>&1)
rc=$?
if [ $rc != 0 ] &&
    printf '%s\n' "$out" | grep -q "^scripts/run: refusing the state directory: $a belongs to nobody"; then
    pass "scripts/run refuses it too, before building"
else
    printf '%s\n' "$out" >"$tmp/out"
    fail "scripts/run" "status $rc" "$tmp/out"
fi

# ---- 2. below a directory of nobody's ----
a=$(attacker_dir)
refused "a state directory below nobody's $a" "$a/state" \
    "its parent $a belongs to nobody"
if [ ! -e "$a/state" ]; then
    pass "root created nothing in nobody's directory"
else
    fail "nothing created below nobody's directory" "$a/state exists"
fi

# ---- 3. a link of nobody's, to nobody's directory or to root's ----
a=$(attacker_dir)
l=/tmp/cd-attack-link.$$.$RANDOM
runuser -u nobody -- ln -s "$a" "$l"
attack+=("$l")
refused "a link of nobody's to nobody's directory" "$l" \
    "$l, on its path, is a link owned by nobody"
mkdir -m 0700 "$tmp/roots"
runuser -u nobody -- ln -sfn "$tmp/roots" "$l"
refused "a link of nobody's to a directory of root's" "$l/state" \
    "is a link owned by nobody"

# ---- 4. a world-writable parent without the sticky bit ----
mkdir -m 0777 "$tmp/ww"
chmod 0777 "$tmp/ww"
refused "a parent writable by all, not sticky" "$tmp/ww/state" \
    "its parent $tmp/ww is writable by its group or others and not sticky"

# ---- 5. root's state directory, writable by others ----
mkdir "$tmp/open"
chmod 0777 "$tmp/open"
refused "root's state directory with mode 777" "$tmp/open" \
    "$tmp/open is writable by its group or others (mode 777)"

# ---- 6. run/ of nobody's in root's state directory ----
mkdir -m 0711 "$tmp/s6"
mkdir "$tmp/s6/run"
chown nobody "$tmp/s6/run"
refused "run/ of nobody's" "$tmp/s6" "$tmp/s6/run belongs to nobody"

# ---- 7. root's own directories are accepted ----
serve_with "$tmp/fresh/state" "$tmp/nobuild"
if [ $rc != 0 ] && ! printf '%s\n' "$out" | grep -q refusing &&
    printf '%s\n' "$out" | grep -q "^serve: $tmp/nobuild/certdialog-fcgi is not built" &&
    [ "$(stat -c '%U %a' "$tmp/fresh/state")" = "root 711" ] &&
    [ "$(stat -c '%U %a' "$tmp/fresh/state/run")" = "root 755" ]; then
    pass "a new directory of root's: accepted and made (serve stops at the missing build)"
else
    printf '%s\n' "$out" >"$tmp/out"
    fail "a new directory of root's" "status $rc" "$tmp/out"
fi

# links planted in run/ (say, before the directory was made private)
good=$tmp/good
mkdir -m 0700 "$good"
mkdir -m 0755 "$good/run"
for f in check-release.sh settings.json nginx.conf certdialog-site.conf; do
    echo "victim $f" >"$tmp/victim-$f"
    ln -s "$tmp/victim-$f" "$good/run/$f"
done
serve_with "$good" "$tmp/fake"
ok=1
for f in check-release.sh settings.json nginx.conf certdialog-site.conf; do
    if [ "$(cat "$tmp/victim-$f")" != "victim $f" ] || [ -L "$good/run/$f" ] ||
        [ ! -f "$good/run/$f" ]; then
        ok=0
        echo "run/$f: a link still, or its target written" >>"$tmp/links"
    fi
done
if [ $ok = 1 ] && grep -q -- "--init" "$tmp/fcgi-calls" 2>/dev/null &&
    ! printf '%s\n' "$out" | grep -q refusing &&
    [ "$(stat -c %a "$good/run/check-release.sh")" = 755 ] &&
    [ "$(head -1 "$good/run/check-release.sh")" = "#!/bin/sh" ] &&
    [ "$(jq -r .state_dir "$good/run/settings.json")" = "$good" ]; then
    pass "root's directory with links planted in run/: accepted; the links replaced, their targets untouched"
else
    printf '%s\n' "$out" >>"$tmp/links"
    fail "links planted in run/" "followed, or serve did not get as far" "$tmp/links"
fi
left=$(find "$good/run" -maxdepth 1 -name '.new.*')
if [ -z "$left" ]; then
    pass "no temporary file left in run/"
else
    fail "temporary files" "left: $left"
fi

echo "$npass passed, $nfail failed"
[ $nfail = 0 ]
