# tally.sh: pass/fail counting for the tests of certdialog-check
# (tests/cli/*.sh), sourced.  The test prints its totals from npass/nfail.
npass=0
nfail=0

pass() {
    npass=$((npass + 1))
    echo "ok   $1"
}

# fail NAME WHY [FILE...]: FILEs are shown indented.
fail() {
    local name=$1 why=$2
    shift 2
    nfail=$((nfail + 1))
    echo "FAIL $name: $why"
    [ $# -eq 0 ] || sed 's/^/     | /' "$@" | head -60
}
