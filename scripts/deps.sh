# Sourced by scripts/check and scripts/run: installs the Debian packages the
# project needs when any is missing (apt-get update first).
CD_DEBS="autoconf automake autoconf-archive libtool pkg-config make gcc
 libssl-dev openssl libjansson-dev libcmocka-dev libfcgi-dev nginx curl
 valgrind ca-certificates"

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

# Configures and builds in $1 (relative to the top), extra configure args after.
cd_build() {
    local dir=$1
    shift
    [ -x "$CD_TOP/configure" ] || (cd "$CD_TOP" && autoreconf -fi) || return 1
    mkdir -p "$CD_TOP/$dir" &&
        (cd "$CD_TOP/$dir" &&
            { [ -f Makefile ] || ../configure -q "$@"; } &&
            make -j"$(nproc)" >/dev/null)
}
