# tally.sh: pass/fail counting for the tests of certdialog-check
# (tests/cli/*.sh), sourced.  The test prints its totals from npass/nfail.
# jget and jtrue (below) read JSON with jq.
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

# ---- JSON, read with jq (also sourced by tests/lib/itest.sh) ----
# jget FILE FILTER [JQ ARGS...]: prints what FILTER gives (jq -r), nothing
# for null or a missing member; nothing and a non-zero status when FILE is
# not JSON or the filter fails.  E.g. jget "$out" '.certificate.subject_cn'
jget() {
    local f=$1 q=$2
    shift 2
    jq -r -s "$@" "if length == 1 then .[0] | ($q) | values
        else error(\"not one JSON value\") end" "$f" 2>/dev/null
}

# jtrue FILE FILTER [JQ ARGS...]: status 0 only when FILE is one JSON value
# and FILTER gives at least one value and every value it gives is true
# (jq -e alone takes the last value and any non-false, non-null one as
# true, and an empty file as no failure).
# E.g. jtrue "$out" '.errors[0].code == $c' --arg c expired
jtrue() {
    local f=$1 q=$2
    shift 2
    jq -e -s "$@" "length == 1 and (.[0] | [$q] | length > 0 and
        all(. == true))" "$f" >/dev/null 2>&1
}
