#!/usr/bin/env bash
# with-stack.sh: SH_LOG_COMPILER of the shell tests (STYLE.md §6).
#
#   with-stack.sh [--] path/to/test.sh
#
# A test under tests/integration/ runs against a live stack: a mktemp
# directory, a free random 127.0.0.1 port pair, a generated admin
# password, and scripts/serve (certdialog-fcgi + a self-contained nginx)
# in the background, polled until certdialog-fcgi answers 401 through
# nginx (no session, no token), then an API token for admin.  Any other test
# (tests/cli/*.sh) is simply run with bash, so both can share .sh.
#
# The test sees:
#   CD_URL   https://127.0.0.1:PORT       CD_PORT, CD_HTTP_PORT
#   CD_USER  admin                        CD_PASS  the admin's password
#   CD_USER2 operator (signs in, not an admin)  CD_PASS2 its password
#   CD_TOKEN an API token of admin (--create-token admin tests), which
#            tests/lib/itest.sh's req and upload send
#   CD_STATE the service's state dir      CD_RUN   $CD_STATE/run (logs/, tmp/,
#                                                  nginx.pid, settings.json)
#   CD_TMP   the mktemp dir (state, the service's TMPDIR, the test's scratch)
#   CD_SERVICE_TMPDIR  TMPDIR given to the stack
#   CD_CA    the first (self-signed) certificate the stack served, for
#            curl --cacert / pinning (tests mostly use -k)
#   CD_STACK_STARTED  a file whose mtime is the start of the stack
# and CD_TOP_SRCDIR, CD_TOP_BUILDDIR, CD_FIXTURES from make check.
#
# Afterwards serve is stopped by its PID (SIGTERM, a bounded wait, then
# SIGKILL of its process group) and the directory is removed, unless
# CD_KEEP_TMP=1.  The exit status is the test's.
#
# Environment: CD_FCGI_WRAPPER (e.g. "valgrind --error-exitcode=99") runs
# certdialog-fcgi under a tool; CD_STACK_TIMEOUT (seconds, default 60, 90
# with a wrapper) bounds the start; CERTDIALOG_ALLOW_SKIP=1 turns a
# missing nginx/curl/openssl into a skip (77) instead of a failure.
set -u

[ "${1:-}" = -- ] && shift
test_script=${1:?usage: with-stack.sh path/to/test.sh}
shift

case $test_script in
*/integration/*|integration/*) ;;
*) exec "${BASH:-bash}" "$test_script" "$@" ;;
esac

me="with-stack"
say() { printf '%s: %s\n' "$me" "$*" >&2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${CD_TOP_SRCDIR:-$(cd "$here/../.." && pwd)}
build=${CD_TOP_BUILDDIR:-$PWD}
fixtures=${CD_FIXTURES:-$build/tests/fixtures}
export CD_TOP_SRCDIR=$src CD_TOP_BUILDDIR=$build CD_FIXTURES=$fixtures

# A set-up problem fails the test (77 only when a developer asked for it).
setup_fail() {
    say "$*"
    if [ "${CERTDIALOG_ALLOW_SKIP:-0}" = 1 ]; then
        say "skipped (CERTDIALOG_ALLOW_SKIP=1)"
        exit 77
    fi
    say "FAIL: set-up incomplete (scripts/check installs what is missing; CERTDIALOG_ALLOW_SKIP=1 skips)"
    exit 99
}

for tool in nginx curl openssl; do
    command -v "$tool" >/dev/null 2>&1 || setup_fail "$tool is not installed"
done
[ -x "$build/certdialog-fcgi" ] ||
    { say "FAIL: $build/certdialog-fcgi is not built"; exit 99; }
[ -x "$src/scripts/serve" ] || [ -f "$src/scripts/serve" ] ||
    { say "FAIL: no $src/scripts/serve"; exit 99; }
[ -f "$fixtures/root.pem" ] ||
    { say "FAIL: no fixtures in $fixtures (make check makes them)"; exit 99; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/certdialog-int.XXXXXXXX") ||
    { say "FAIL: mktemp"; exit 99; }
chmod 0711 "$tmp"       # nginx's workers (www-data) pass through to run/

serve_pid=
setsid=
command -v setsid >/dev/null 2>&1 && setsid=setsid
stop_stack() {
    [ -n "$serve_pid" ] || return 0
    if kill -0 "$serve_pid" 2>/dev/null; then
        kill -TERM "$serve_pid" 2>/dev/null
        for _ in $(seq 1 100); do
            kill -0 "$serve_pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$serve_pid" 2>/dev/null; then
            say "serve ($serve_pid) ignored SIGTERM for 10 s: SIGKILL"
            # serve leads its own process group (setsid): its children too
            kill -KILL -- "-$serve_pid" 2>/dev/null ||
                kill -KILL "$serve_pid" 2>/dev/null
        fi
    fi
    wait "$serve_pid" 2>/dev/null
    # nginx or certdialog-fcgi left behind by a serve that died hard: the
    # group id stays ours while any member of the group lives
    if [ -n "$setsid" ] && pgrep -g "$serve_pid" >/dev/null 2>&1; then
        kill -KILL -- "-$serve_pid" 2>/dev/null
    fi
    serve_pid=
}
test_pid=
cleanup() {
    if [ -n "$test_pid" ]; then
        kill -TERM "$test_pid" 2>/dev/null
        wait "$test_pid" 2>/dev/null
    fi
    stop_stack
    if [ "${CD_KEEP_TMP:-0}" = 1 ]; then
        say "kept $tmp"
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# "Nothing answers there" for both ports of a pair.
port_free() {
    local p
    for p in "$@"; do
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && return 1
        if command -v ss >/dev/null 2>&1 &&
            ss -Htan "sport = :$p" 2>/dev/null | grep -q .; then
            return 1
        fi
    done
    return 0
}

timeout_s=${CD_STACK_TIMEOUT:-}
[ -n "$timeout_s" ] || { [ -n "${CD_FCGI_WRAPPER:-}" ] && timeout_s=90 || timeout_s=60; }
pass=$(openssl rand -hex 12) || { say "FAIL: openssl rand"; exit 99; }
pass2=$(openssl rand -hex 12) || { say "FAIL: openssl rand"; exit 99; }
# the service's TMPDIR: anything it writes there is checked by test_secrets
mkdir -p "$tmp/tmpdir" "$tmp/scratch"
touch "$tmp/started"

# start_stack: 0 ready, 1 a port was taken (try another), 2 failure.
start_stack() {
    local state=$tmp/state deadline code
    rm -rf "$state"
    mkdir -p "$state"
    : >"$tmp/serve.log"
    # setsid: serve leads a process group, so a SIGKILL reaches its children
    CERTDIALOG_STATE=$state CERTDIALOG_PORT=$port \
    CERTDIALOG_HTTP_PORT=$http_port CERTDIALOG_ADMIN_PASSWORD=$pass \
    CERTDIALOG_EXTRA_USER="operator:$pass2" \
    CERTDIALOG_HOSTNAME=sensor.contoso.com CERTDIALOG_BUILDDIR=$build \
    CERTDIALOG_FCGI_WRAPPER=${CD_FCGI_WRAPPER:-} \
    CERTDIALOG_SETTINGS_EXTRA="\"ca_file\": \"$fixtures/root.pem\", \"crl_allow_loopback\": 1" \
    TMPDIR=$tmp/tmpdir \
        $setsid "${BASH:-bash}" "$src/scripts/serve" >"$tmp/serve.log" 2>&1 \
        </dev/null &
    serve_pid=$!
    deadline=$((SECONDS + timeout_s))
    while [ $SECONDS -lt $deadline ]; do
        if ! kill -0 "$serve_pid" 2>/dev/null; then
            wait "$serve_pid" 2>/dev/null
            serve_pid=
            if grep -qs 'Address already in use' "$tmp/serve.log" \
                "$state/run/logs/error.log"; then
                return 1
            fi
            return 2
        fi
        code=$(curl -s -k --max-time 2 -o /dev/null -w '%{http_code}' \
            "https://127.0.0.1:$port/api/certificate" 2>/dev/null)
        if [ "$code" = 401 ]; then
            return 0
        fi
        sleep 0.1
    done
    return 2
}

started=0
for _ in 1 2 3 4 5 6 7 8; do
    for _ in $(seq 1 50); do
        port=$((20000 + RANDOM % 40000))
        http_port=$((port + 1))
        port_free "$port" "$http_port" && break
    done
    start_stack
    case $? in
    0) started=1; break ;;
    1) say "port $port or $http_port was taken; trying another"
       stop_stack ;;
    *) break ;;
    esac
done
if [ $started != 1 ]; then
    say "FAIL: the stack did not become ready within ${timeout_s}s (port $port)"
    for f in "$tmp/serve.log" "$tmp/state/run/logs/fcgi.log" \
        "$tmp/state/run/logs/error.log"; do
        [ -s "$f" ] || continue
        say "--- $f"
        tail -n 30 "$f" >&2
    done
    exit 99
fi

cp "$tmp/state/current/cert.pem" "$tmp/first-cert.pem" 2>/dev/null ||
    openssl s_client -connect "127.0.0.1:$port" -servername sensor.contoso.com \
        </dev/null 2>/dev/null | openssl x509 >"$tmp/first-cert.pem" 2>/dev/null

# scripts and tests authenticate with a token (docs/API.md "API tokens")
token=$("$build/certdialog-fcgi" -c "$tmp/state/run/settings.json" \
    --create-token admin tests 2>>"$tmp/serve.log") && [ -n "$token" ] ||
    { say "FAIL: --create-token admin tests"; tail -n 5 "$tmp/serve.log" >&2;
      exit 99; }
export CD_TOKEN=$token
export CD_URL="https://127.0.0.1:$port" CD_PORT=$port CD_HTTP_PORT=$http_port
export CD_USER2=operator CD_PASS2=$pass2
export CD_USER=admin CD_PASS=$pass CD_STATE=$tmp/state CD_RUN=$tmp/state/run
export CD_TMP=$tmp CD_SERVICE_TMPDIR=$tmp/tmpdir CD_CA=$tmp/first-cert.pem
export CD_STACK_STARTED=$tmp/started
export CD_SERVE_PID=$serve_pid

say "stack up: $CD_URL (state $CD_STATE)"
# the test's own temporary files stay in the mktemp dir too
# (in the background, so that a signal to us is handled at once)
TMPDIR=$tmp/scratch "${BASH:-bash}" "$test_script" "$@" &
test_pid=$!
wait "$test_pid"
rc=$?
test_pid=

# a wrapper (valgrind --error-exitcode) reports at exit: stop first, then
# look at what certdialog-fcgi said while stopping
stop_stack
# (valgrind -q prints only its findings, without an ERROR SUMMARY line)
vg_re='ERROR SUMMARY: [1-9]|^==[0-9]+== (Invalid |Conditional jump|Use of uninitialised|Syscall param|Mismatched free|Source and destination overlap|Argument .* of function|.*definitely lost in|.*indirectly lost in)'
if [ -n "${CD_FCGI_WRAPPER:-}" ] && [ -s "$CD_RUN/logs/fcgi.log" ] &&
    grep -Eq "$vg_re" "$CD_RUN/logs/fcgi.log"; then
    say "FAIL: $CD_FCGI_WRAPPER reported errors in certdialog-fcgi:"
    grep -v '^certdialog: user=' "$CD_RUN/logs/fcgi.log" | head -n 80 >&2
    [ $rc = 0 ] && rc=1
fi
if [ $rc != 0 ] && [ $rc != 77 ]; then
    for f in "$CD_RUN/logs/fcgi.log" "$CD_RUN/logs/error.log"; do
        [ -s "$f" ] || continue
        say "--- last lines of $f"
        tail -n 25 "$f" >&2
    done
fi
exit $rc
