#!/usr/bin/env bash
# The dialog (www/) in headless Chromium: tests/browser/run.mjs with
# playwright-core against the stack tests/lib/with-stack.sh started.  The
# browser signs in with CD_USER/CD_PASS: on the dialog's sign-in page in
# the cases about signing in, through POST /api/session in the others; the
# runner's own API calls carry CD_TOKEN; some cases run certdialog-fcgi's
# local commands (--set-password, --end-sessions) on $CD_RUN/settings.json
# and age the session files under $CD_STATE/auth/sessions/.
# Fails (99) when node, chromium or playwright-core is missing: scripts/check
# installs them (apt chromium nodejs npm; npm ci), so a skip would hide a
# broken set-up.  CERTDIALOG_ALLOW_SKIP=1 turns that into a skip (77).
# CD_BROWSER_SHOTS=1 keeps every case's screenshots (otherwise only a
# failed case's), CD_BROWSER_ONLY=a,b runs only those cases.
set -u
: "${CD_URL:?run me through tests/lib/with-stack.sh}"
: "${CD_PASS:?with-stack.sh sets the admin password}"
src=${CD_TOP_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
nm=${CD_NODE_MODULES:-$src/node_modules}
chromium=${CD_CHROMIUM:-/usr/bin/chromium}

missing() {
    echo "FAIL browser: $*"
    if [ "${CERTDIALOG_ALLOW_SKIP:-0}" = 1 ]; then
        echo "skipped (CERTDIALOG_ALLOW_SKIP=1)"
        exit 77
    fi
    echo "(scripts/check installs it; CERTDIALOG_ALLOW_SKIP=1 skips)"
    exit 99
}
command -v node >/dev/null 2>&1 || missing "node is not installed"
[ -x "$chromium" ] || missing "$chromium is not installed"
[ -f "$nm/playwright-core/package.json" ] ||
    missing "playwright-core is not in $nm (npm ci in $src, or set CD_NODE_MODULES)"

export CD_NODE_MODULES=$nm CD_CHROMIUM=$chromium PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
# bounded: the runner has its own limits; this is the last resort
exec timeout -k 10 1200 node "$src/tests/browser/run.mjs"
