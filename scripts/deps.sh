# Sourced by scripts/check and scripts/run: installs the Debian packages the
# project needs when any is missing (apt-get update first).
CD_DEBS="autoconf automake autoconf-archive libtool pkg-config make gcc
 libssl-dev openssl libjansson-dev libcmocka-dev libfcgi-dev libcrypt-dev nginx curl
 valgrind ca-certificates jq uacme"
# what only the tests need: the real browser and node for its driver,
# clang with libFuzzer, wrk for make bench, cgi-fcgi (test_auth.sh)
CD_TEST_DEBS="chromium nodejs clang libclang-rt-14-dev wrk libfcgi-bin"

# pebble and pebble-challtestsrv: the ACME server of test_acme.sh (uacme,
# the client, is a runtime dependency above)
CD_TEST_DEBS="$CD_TEST_DEBS pebble"

# systemd-analyze and systemd-sysusers for the installed units
# (tests/install/)
CD_TEST_DEBS="$CD_TEST_DEBS systemd"

cd_install_deps() {
    local missing="" p
    for p in $CD_DEBS "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
            missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    echo "scripts: installing:$missing"
    if [ "$(id -u)" != 0 ]; then
        echo "scripts: not root; install these packages first:$missing" >&2
        return 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq &&
        apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# npm for the browser-test driver: bundled with some nodejs builds, a
# package of its own in Debian's.
cd_install_npm() {
    command -v npm >/dev/null 2>&1 && return 0
    cd_install_deps npm
}

# playwright-core (package-lock.json) into the checkout's node_modules; the
# browser is Debian's /usr/bin/chromium, never a downloaded one.
cd_install_node_modules() {
    local stamp="$CD_TOP/node_modules/.certdialog-lock"
    cd_install_npm || return 1
    if ! cmp -s "$CD_TOP/package-lock.json" "$stamp" 2>/dev/null; then
        (cd "$CD_TOP" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
            npm ci --no-audit --no-fund --loglevel=error >/dev/null) &&
            cp "$CD_TOP/package-lock.json" "$stamp" || return 1
    fi
    export CD_NODE_MODULES="$CD_TOP/node_modules"
}

# Configures and builds in $1 (relative to the top), extra configure args after.
cd_build() {
    local dir=$1
    shift
    [ -x "$CD_TOP/configure" ] || (cd "$CD_TOP" && autoreconf -fi) || return 1
    # configure again when the directory was configured otherwise
    mkdir -p "$CD_TOP/$dir" &&
        (cd "$CD_TOP/$dir" &&
            { { [ -f Makefile ] && [ "$(./config.status --config 2>/dev/null |
                tr -d "'")" = "$*" ]; } || ../configure -q "$@"; } &&
            make -j"$(nproc)" >/dev/null)
}
