#!/usr/bin/env bash
# test_expiry.sh: certdialog-expiry against a real release store and a
# loopback HTTPS webhook receiver (tests/notify/hook_server), with --now
# stepping through the thresholds of the served certificate:
#
#   - journal lines with their "<N>" priorities, once per threshold;
#   - the webhook: a 500 retried then delivered, the JSON it carries, a
#     receiver whose certificate does not verify (not delivered, exit 1,
#     tried again on the next run), an unreachable one (bounded retries);
#   - the metrics file's exact content and the state file;
#   - a new certificate (whose issuing CA ends first) starts over;
#   - --test-notification and --dry-run.
#
# The first release is made the way an appliance makes it
# (certdialog-fcgi --init); the second through the release store
# (tests/lib/install_driver).  Certificates are made here with openssl.
set -u

me=test_expiry
build=${CD_TOP_BUILDDIR:-$PWD}
OPENSSL=${OPENSSL:-openssl}
expiry=$build/certdialog-expiry
fcgi=$build/certdialog-fcgi
hook=$build/tests/notify/hook_server
driver=$build/tests/lib/install_driver

fails=0
say() { printf '%s: %s\n' "$me" "$*"; }
ok() { say "ok: $*"; }
bad() { say "FAIL: $*"; fails=$((fails + 1)); }
die() { say "FAIL: $*"; exit 1; }

for p in "$expiry" "$fcgi" "$hook" "$driver"; do
    [ -x "$p" ] || die "$p is not built"
done
command -v "$OPENSSL" >/dev/null 2>&1 || die "no openssl"
command -v jq >/dev/null 2>&1 || die "no jq"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/certdialog-expiry.XXXXXXXX") || die mktemp
hook_pid=
stop_hook() {
    if [ -n "$hook_pid" ]; then
        kill "$hook_pid" 2>/dev/null
        wait "$hook_pid" 2>/dev/null
        hook_pid=
    fi
}
cleanup() {
    stop_hook
    if [ "${CD_KEEP_TMP:-0}" = 1 ]; then say "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
# the receiver is on loopback: no proxy from the environment
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

# ---- the receiver's CA and certificate (for 127.0.0.1), and a stranger CA
mkca() {    # NAME
    "$OPENSSL" req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$tmp/$1.key" -out "$tmp/$1.pem" -subj "/CN=$1" -days 2 \
        -addext basicConstraints=critical,CA:TRUE \
        -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null ||
        die "cannot make $1"
}
mkca hookca
mkca strangerca
"$OPENSSL" req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$tmp/hook.key" -out "$tmp/hook.csr" -subj /CN=127.0.0.1 \
    2>/dev/null || die "cannot make the receiver's key"
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' \
    >"$tmp/hook.ext"
"$OPENSSL" x509 -req -in "$tmp/hook.csr" -CA "$tmp/hookca.pem" \
    -CAkey "$tmp/hookca.key" -CAcreateserial -days 2 -extfile "$tmp/hook.ext" \
    -out "$tmp/hook.pem" 2>/dev/null || die "cannot sign the receiver's cert"

# start_hook STATUSES: a fresh receiver (DIR $tmp/hook), its port in $port
start_hook() {
    local i
    stop_hook
    rm -rf "$tmp/hook" "$tmp/port"
    mkdir "$tmp/hook"
    "$hook" --cert "$tmp/hook.pem" --key "$tmp/hook.key" \
        --port-file "$tmp/port" --dir "$tmp/hook" --status "$1" \
        --max-seconds 120 &
    hook_pid=$!
    for i in $(seq 1 100); do
        [ -s "$tmp/port" ] && break
        sleep 0.05
    done
    [ -s "$tmp/port" ] || die "the receiver did not start"
    port=$(cat "$tmp/port")
}

# settings CAFILE [URL]: the settings file, the webhook verified with CAFILE
settings() {
    local url=${2:-https://127.0.0.1:$port/hook?token=s3cret}
    cat >"$tmp/settings.json" <<EOF
{
  "state_dir": "$tmp/state",
  "hostname": "sensor.test",
  "reload_command": "true",
  "expiry_webhook": "$url",
  "expiry_webhook_ca": "$1",
  "expiry_metrics_file": "$tmp/metrics/certdialog.prom",
  "expiry_webhook_timeout": ${timeout:-60}
}
EOF
}

mkdir "$tmp/metrics"
start_hook 500,200
settings "$tmp/hookca.pem"
"$fcgi" -c "$tmp/settings.json" --init 2>"$tmp/init.log" ||
    die "certdialog-fcgi --init: $(cat "$tmp/init.log")"
cert=$tmp/state/current/cert.pem
[ -f "$cert" ] || die "no first release"
end=$(date -u -d "$("$OPENSSL" x509 -in "$cert" -noout -enddate | cut -d= -f2)" +%s) ||
    die "cannot read the certificate's notAfter"
fp=$("$OPENSSL" x509 -in "$cert" -noout -fingerprint -sha256 | cut -d= -f2)
subject=$("$OPENSSL" x509 -in "$cert" -noout -subject -nameopt oneline |
    sed 's/^subject=//')

# run DAYS [ARGS...]: certdialog-expiry at DAYS days before the end (as
# seconds: the check's days_left is DAYS); its stderr in $out, status $rc
n=0
run() {
    local days=$1
    shift
    n=$((n + 1))
    out=$tmp/run-$n.err
    "$expiry" -c "$tmp/settings.json" --now $((end - days * 86400)) "$@" \
        >"$tmp/run-$n.out" 2>"$out"
    rc=$?
    cat "$out" >>"$tmp/journal.log"
}
# lines PATTERN: how many lines of this run's journal match
lines() { grep -c -- "$1" "$out"; }
hooks() { [ -f "$tmp/hook/log" ] && wc -l <"$tmp/hook/log" || echo 0; }

# ---- before the first threshold: nothing told, metrics written
run 40
[ $rc = 0 ] && [ ! -s "$out" ] && [ "$(hooks)" = 0 ] &&
    ok "40 days: nothing to tell" || bad "40 days: rc=$rc, $(cat "$out")"
run 31
[ $rc = 0 ] && [ ! -s "$out" ] && ok "31 days: nothing" || bad "31 days"

# ---- 30 days: a notice, the webhook answered 500 then 200
run 30
if [ $rc = 0 ] && [ "$(lines "^<5>certdialog-expiry: the certificate for sensor.test (SHA-256 $fp) expires on .*, 30 days left (threshold 30 days)$")" = 1 ] &&
    [ "$(wc -l <"$out")" = 1 ]; then
    ok "30 days: one notice (<5>) in the journal"
else
    bad "30 days: rc=$rc: $(cat "$out")"
fi
if [ "$(sed -n 1p "$tmp/hook/log")" = "1 POST /hook?token=s3cret 500 application/json" ] &&
    [ "$(sed -n 2p "$tmp/hook/log")" = "2 POST /hook?token=s3cret 200 application/json" ] &&
    [ "$(hooks)" = 2 ]; then
    ok "30 days: the webhook's 500 retried, then delivered"
else
    bad "30 days: the receiver saw: $(cat "$tmp/hook/log" 2>/dev/null)"
fi
if jq -e --arg fp "$fp" --arg subj "$subject" '
    .appliance == "sensor.test" and .subject == $subj and
    .names[0] == "sensor.test" and (.names | index("127.0.0.1")) and
    .days_left == 30 and .threshold == 30 and
    .fingerprint == $fp and .test == false and
    (.not_after | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$"))' \
    "$tmp/hook/body-2" >/dev/null; then
    ok "the webhook's JSON: appliance, subject, names, not_after, days_left, fingerprint, threshold"
else
    bad "the webhook's JSON: $(cat "$tmp/hook/body-2")"
fi
grep -q s3cret "$tmp/journal.log" "$tmp/state/expiry.json" "$tmp/run-$n.out" &&
    bad "the webhook's token was written out" || ok "the webhook's URL is never logged"

# ---- the same day again, and later within 30: nothing twice
run 30
run 20
[ $rc = 0 ] && [ ! -s "$tmp/run-$((n - 1)).err" ] && [ ! -s "$out" ] &&
    [ "$(hooks)" = 2 ] && ok "30 and 20 days again: nothing sent twice" ||
    bad "30/20 days again: $(cat "$tmp/run-$((n - 1)).err" "$out")"

# ---- 14 days: notice, delivered at once
run 14
[ $rc = 0 ] && [ "$(lines '^<5>certdialog-expiry: .* 14 days left (threshold 14 days)$')" = 1 ] &&
    [ "$(hooks)" = 3 ] && jq -e '.threshold == 14 and .days_left == 14' "$tmp/hook/body-3" >/dev/null &&
    ok "14 days: notice and webhook" || bad "14 days: rc=$rc $(cat "$out")"

# ---- 7 days, the receiver's certificate from a stranger CA: not delivered
settings "$tmp/strangerca.pem"
run 7
if [ $rc = 1 ] && [ "$(lines '^<4>certdialog-expiry: .* 7 days left (threshold 7 days)$')" = 1 ] &&
    [ "$(lines "^<3>certdialog-expiry: the webhook was not delivered (1 attempt): the server's certificate was refused: unable to get local issuer certificate$")" = 1 ] &&
    [ "$(tail -n 1 "$tmp/hook/log")" = handshake-failed ] && [ "$(hooks)" = 4 ]; then
    ok "7 days: warning (<4>); a receiver not verified gets nothing, exit 1"
else
    bad "7 days, stranger CA: rc=$rc $(cat "$out"); receiver: $(tail -n 1 "$tmp/hook/log")"
fi
grep -q 'certdialog_expiry_check_success 0$' "$tmp/metrics/certdialog.prom" &&
    jq -e '.success == false and (.webhook | index(7) == null) and
        (.journal | index(7) != null)' "$tmp/state/expiry.json" >/dev/null &&
    ok "7 days: the failure is in the metrics and the webhook stays due" ||
    bad "7 days: metrics/state: $(cat "$tmp/state/expiry.json")"
run 6
[ $rc = 1 ] && [ "$(lines '^<4>')" = 0 ] && [ "$(lines '^<3>.*not delivered')" = 1 ] &&
    [ "$(hooks)" = 5 ] && ok "6 days: tried again (not verified again), journal not repeated" ||
    bad "6 days, stranger CA: rc=$rc $(cat "$out")"

# ---- the right CA again: the pending 7-day webhook goes out, once
settings "$tmp/hookca.pem"
run 6
[ $rc = 0 ] && [ ! -s "$out" ] && [ "$(hooks)" = 6 ] &&
    jq -e '.threshold == 7 and .days_left == 6' "$tmp/hook/body-4" >/dev/null &&
    ok "6 days: the undelivered webhook delivered on the next run" ||
    bad "6 days, right CA: rc=$rc $(cat "$out") $(cat "$tmp/hook/body-4" 2>/dev/null)"
run 5
[ $rc = 0 ] && [ ! -s "$out" ] && [ "$(hooks)" = 6 ] && ok "5 days: nothing" ||
    bad "5 days: $(cat "$out")"

# ---- the metrics file, byte for byte
run 4
{
    printf '# HELP certdialog_certificate_not_after_seconds End of validity of the served chain (its earliest notAfter), Unix time.\n'
    printf '# TYPE certdialog_certificate_not_after_seconds gauge\n'
    printf 'certdialog_certificate_not_after_seconds{fingerprint="%s",subject="%s"} %s\n' "$fp" "$subject" "$end"
    printf '# HELP certdialog_certificate_days_left Whole days until the served chain expires (negative: expired).\n'
    printf '# TYPE certdialog_certificate_days_left gauge\n'
    printf 'certdialog_certificate_days_left{fingerprint="%s",subject="%s"} 4\n' "$fp" "$subject"
    printf '# HELP certdialog_expiry_check_timestamp_seconds When certdialog-expiry last ran, Unix time.\n'
    printf '# TYPE certdialog_expiry_check_timestamp_seconds gauge\n'
    printf 'certdialog_expiry_check_timestamp_seconds %s\n' $((end - 4 * 86400))
    printf '# HELP certdialog_expiry_check_success 1 when the last check read the served chain and delivered every notification due.\n'
    printf '# TYPE certdialog_expiry_check_success gauge\n'
    printf 'certdialog_expiry_check_success 1\n'
} >"$tmp/expected.prom"
cmp -s "$tmp/expected.prom" "$tmp/metrics/certdialog.prom" &&
    ok "the metrics file's content" ||
    bad "metrics: $(diff "$tmp/expected.prom" "$tmp/metrics/certdialog.prom")"
[ "$(stat -c %a "$tmp/metrics/certdialog.prom")" = 644 ] &&
    [ -z "$(find "$tmp/metrics" "$tmp/state" -maxdepth 1 -name '*.tmp-*')" ] &&
    ok "metrics 0644, no temporary file left" || bad "metrics mode or debris"

# ---- --dry-run: what would happen, nothing sent or recorded
cp "$tmp/state/expiry.json" "$tmp/state.before"
run 3 --dry-run --json
[ $rc = 0 ] && [ ! -s "$out" ] && [ "$(hooks)" = 6 ] &&
    cmp -s "$tmp/state.before" "$tmp/state/expiry.json" &&
    jq -e '.dry_run and .threshold == 3 and .journal.priority == 4 and
        .webhook.due and .webhook.delivered == null and .next_threshold == 1' \
        "$tmp/run-$n.out" >/dev/null &&
    ok "--dry-run tells, sends and records nothing" ||
    bad "--dry-run: rc=$rc $(cat "$out" "$tmp/run-$n.out")"

# ---- 3, 1, 0 days and expired: warning, err, crit, then nothing more
run 3
[ $rc = 0 ] && [ "$(lines '^<4>certdialog-expiry: .* 3 days left (threshold 3 days)$')" = 1 ] &&
    ok "3 days: warning (<4>)" || bad "3 days: $(cat "$out")"
run 1
[ $rc = 0 ] && [ "$(lines '^<3>certdialog-expiry: .* 1 days left (threshold 1 days)$')" = 1 ] &&
    ok "1 day: err (<3>)" || bad "1 day: $(cat "$out")"
run 0 --json
[ $rc = 0 ] && [ "$(lines '^<2>certdialog-expiry: .* 0 days left (threshold 0 days)$')" = 1 ] &&
    jq -e '.certificate.days_left == 0 and .threshold == 0 and
        .next_threshold == null and .journal.priority == 2 and
        .webhook.delivered' "$tmp/run-$n.out" >/dev/null &&
    ok "0 days: crit (<2>), --json says so" || bad "0 days: $(cat "$out" "$tmp/run-$n.out")"
run -1
run -30
[ $rc = 0 ] && [ ! -s "$tmp/run-$((n - 1)).err" ] && [ ! -s "$out" ] &&
    grep -q '^certdialog_certificate_days_left{.*} -30$' "$tmp/metrics/certdialog.prom" &&
    ok "expired: nothing told twice, days_left -30 in the metrics" ||
    bad "expired: $(cat "$out")"

# ---- no threshold told twice, across every run
before=$fails
for t in 30 14 7 3 1 0; do
    c=$(grep -c "(threshold $t days)\$" "$tmp/journal.log")
    # body-K is request K: "K POST TARGET STATUS TYPE" in the log
    w=$(grep -l "\"threshold\":$t," "$tmp/hook"/body-* | while read -r f; do
        grep "^${f##*-} POST " "$tmp/hook/log"; done | grep -c ' 200 ')
    [ "$c" = 1 ] && [ "$w" = 1 ] || bad "threshold $t: $c journal lines, $w webhooks delivered"
done
[ $fails = "$before" ] && ok "each threshold: one journal line, one webhook delivered"
[ "$(hooks)" = 9 ] || bad "the receiver saw $(hooks) connections, not 9"

# ---- a new certificate starts over; its issuing CA ends first
"$OPENSSL" req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/root.key" \
    -out "$tmp/root.pem" -subj "/CN=Test Root" -days 400 \
    -addext basicConstraints=critical,CA:TRUE 2>/dev/null || die "root"
"$OPENSSL" req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/int.key" \
    -out "$tmp/int.csr" -subj "/CN=Test Issuing CA" 2>/dev/null || die "int"
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' \
    >"$tmp/int.ext"
"$OPENSSL" x509 -req -in "$tmp/int.csr" -CA "$tmp/root.pem" -CAkey "$tmp/root.key" \
    -CAcreateserial -days 20 -extfile "$tmp/int.ext" -out "$tmp/int.pem" \
    2>/dev/null || die "int sign"
"$OPENSSL" req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/leaf.key" \
    -out "$tmp/leaf.csr" -subj "/CN=sensor.test" 2>/dev/null || die "leaf"
printf 'subjectAltName=DNS:sensor.test,IP:192.0.2.10\n' >"$tmp/leaf.ext"
"$OPENSSL" x509 -req -in "$tmp/leaf.csr" -CA "$tmp/int.pem" -CAkey "$tmp/int.key" \
    -CAcreateserial -days 300 -extfile "$tmp/leaf.ext" -out "$tmp/leaf.pem" \
    2>/dev/null || die "leaf sign"
cat "$tmp/int.pem" "$tmp/root.pem" >"$tmp/chain.pem"
"$driver" -c "$tmp/settings.json" install "$tmp/leaf.key" "$tmp/leaf.pem" \
    "$tmp/chain.pem" >"$tmp/driver.log" 2>&1 || die "install: $(cat "$tmp/driver.log")"
fp2=$("$OPENSSL" x509 -in "$tmp/leaf.pem" -noout -fingerprint -sha256 | cut -d= -f2)
int_end=$(date -u -d "$("$OPENSSL" x509 -in "$tmp/int.pem" -noout -enddate | cut -d= -f2)" +%s)
n=$((n + 1))
out=$tmp/run-$n.err
"$expiry" -c "$tmp/settings.json" --now $((int_end - 19 * 86400 - 3600)) --json \
    >"$tmp/run-$n.out" 2>"$out"
rc=$?
if [ $rc = 0 ] && [ "$(lines "^<5>certdialog-expiry: the chain of the certificate for sensor.test (CN = Test Issuing CA) (SHA-256 $fp2) expires on .*, 19 days left (threshold 30 days)$")" = 1 ] &&
    jq -e --arg fp "$fp2" --argjson end "$int_end" '
        .certificate.fingerprint == $fp and .certificate.certificates == 2 and
        .certificate.days_left == 19 and .next_threshold == 14 and
        .certificate.earliest == "CN = Test Issuing CA"' "$tmp/run-$n.out" >/dev/null &&
    jq -e --arg fp "$fp2" '.fingerprint == $fp and .threshold == 30 and
        .names == ["sensor.test", "192.0.2.10"] and
        .earliest == "CN = Test Issuing CA"' "$tmp/hook/body-8" >/dev/null &&
    grep -q "^certdialog_certificate_not_after_seconds{fingerprint=\"$fp2\",subject=\"CN = sensor.test\"} $int_end\$" \
        "$tmp/metrics/certdialog.prom"; then
    ok "a new certificate starts over; the chain's earliest notAfter counts"
else
    bad "new certificate: rc=$rc $(cat "$out" "$tmp/run-$n.out") $(cat "$tmp/hook/body-8" 2>/dev/null)"
fi

# ---- --test-notification: sent whatever the thresholds, nothing recorded
cp "$tmp/state/expiry.json" "$tmp/state.before"
settings "$tmp/hookca.pem" "https://127.0.0.1:$port"      # path: "/"
run 100 --test-notification
[ $rc = 0 ] && [ "$(lines '^<5>certdialog-expiry: test notification: ')" = 1 ] &&
    jq -e '.test and .threshold == null' "$tmp/hook/body-9" >/dev/null &&
    [ "$(tail -n 1 "$tmp/hook/log")" = "9 POST / 200 application/json" ] &&
    cmp -s "$tmp/state.before" "$tmp/state/expiry.json" &&
    ok "--test-notification delivered, exit 0" || bad "--test-notification: rc=$rc $(cat "$out")"
settings "$tmp/strangerca.pem"
run 100 --test-notification
[ $rc = 1 ] && [ "$(lines '^<3>.*not delivered')" = 1 ] &&
    ok "--test-notification to a receiver not verified: exit 1" ||
    bad "--test-notification, stranger CA: rc=$rc"
# any 2xx is a delivery (OpenSSL 3.0's client takes only 200); a 404 is
# not asked again within the run
start_hook 202
settings "$tmp/hookca.pem"
run 100 --test-notification --json
[ $rc = 0 ] && [ "$(hooks)" = 1 ] &&
    jq -e '.webhook.delivered and .webhook.attempts == 1' "$tmp/run-$n.out" >/dev/null &&
    ok "a 202 answer is a delivery" || bad "202: rc=$rc $(cat "$tmp/run-$n.out")"
start_hook 404
settings "$tmp/hookca.pem"
run 100 --test-notification --json
[ $rc = 1 ] && [ "$(hooks)" = 1 ] &&
    jq -e '.webhook.delivered == false and .webhook.attempts == 1 and
        (.webhook.detail | test("code=404"))' "$tmp/run-$n.out" >/dev/null &&
    ok "a 404 answer: not delivered, not asked again" || bad "404: rc=$rc $(cat "$tmp/run-$n.out")"
# a receiver failing every time: 4 attempts, 1 + 2 + 4 s apart, then no more
start_hook 500
settings "$tmp/hookca.pem"
start=$(date +%s)
run 100 --test-notification --json
took=$(( $(date +%s) - start ))
[ $rc = 1 ] && [ "$(hooks)" = 4 ] && [ "$took" -ge 7 ] && [ "$took" -le 20 ] &&
    jq -e '.webhook.attempts == 4 and .webhook.delivered == false and
        (.webhook.detail | test("code=500"))' "$tmp/run-$n.out" >/dev/null &&
    ok "a receiver answering 500: 4 attempts with backoff (${took} s), exit 1" ||
    bad "500 forever: rc=$rc took=$took hooks=$(hooks) $(cat "$tmp/run-$n.out")"
# nobody listening: OpenSSL retries the connection itself; the whole
# webhook stays within expiry_webhook_timeout
stop_hook
timeout=5 settings "$tmp/hookca.pem"
start=$(date +%s)
run 100 --test-notification --json
took=$(( $(date +%s) - start ))
[ $rc = 1 ] && [ "$took" -ge 4 ] && [ "$took" -le 8 ] &&
    jq -e '.webhook.attempts >= 1 and .webhook.delivered == false' "$tmp/run-$n.out" >/dev/null &&
    ok "an unreachable receiver: given up within expiry_webhook_timeout (${took} s), exit 1" ||
    bad "unreachable: rc=$rc took=$took $(cat "$tmp/run-$n.out")"

# ---- no release: a failure in the journal and the metrics
cat >"$tmp/empty.json" <<EOF
{ "state_dir": "$tmp/nothing", "expiry_metrics_file": "$tmp/metrics/empty.prom" }
EOF
mkdir "$tmp/nothing"
"$expiry" -c "$tmp/empty.json" 2>"$tmp/empty.err"
rc=$?
[ $rc = 1 ] && grep -q '^<3>certdialog-expiry: no certificate is installed' "$tmp/empty.err" &&
    grep -q '^certdialog_expiry_check_success 0$' "$tmp/metrics/empty.prom" &&
    ! grep -q certdialog_certificate_ "$tmp/metrics/empty.prom" &&
    ok "no release: err line, check_success 0, exit 1" || bad "no release: rc=$rc $(cat "$tmp/empty.err")"
"$expiry" -c "$tmp/empty.json" --now yesterday 2>/dev/null
[ $? = 2 ] && ok "a bad --now: exit 2" || bad "a bad --now was taken"

[ $fails = 0 ] || { say "$fails failed"; exit 1; }
say "all passed"
