#!/usr/bin/env bash
# Automatic renewal over ACME (docs/API.md "Automatic renewal (ACME)") end
# to end, against Debian's pebble on loopback (nonce rejections on) and the
# real uacme: the settings checked field by field (the HMAC key never
# answered); "renew now" orders a certificate whose http-01 answer OUR
# nginx serves on the HTTP port, and the handshake shows it; a run when
# nothing is due changes nothing, a forced or due one replaces it; a
# certificate the policy refuses (no anchor for the CA, names not the
# appliance's) and a CA that does not answer leave the served certificate
# alone and say so in the status, the journal and the metrics; external
# account binding when the CA requires it.  As root: uacme sees pebble's
# listener through a bind mount in its own mount namespace only.  Run by
# tests/lib/with-stack.sh.
# shellcheck disable=SC2016 # '$name' in a jq filter is jq's (--arg)
# shellcheck source=tests/lib/itest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/itest.sh"
# shellcheck source=tests/lib/pebble.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/pebble.sh"

H=sensor.contoso.com
JSON=(-H 'Content-Type: application/json')
FCGI=$CD_TOP_BUILDDIR/certdialog-fcgi
SETTINGS=$CD_RUN/settings.json
journal=$work/journal
: >"$journal"

if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
    echo "FAIL: test_acme needs root and mount namespaces (unshare -m)"
    exit 99
fi
for t in pebble pebble-challtestsrv /usr/bin/uacme; do
    command -v "$t" >/dev/null ||
        { echo "FAIL: $t is not installed (scripts/deps.sh)"; exit 99; }
done
trap 'pebble_stop; rm -rf "$work"' EXIT
pebble_setup || { echo "FAIL: pebble's certificate"; exit 99; }

# The admin's settings file: the client (uacme through the test's trust
# bundle), the hook from the source tree, pebble's roots as extra anchors,
# metrics next to the expiry's.  Each run reads it anew.
mkdir -p "$work/anchors" "$work/metrics"
settings() {    # [ANCHORS_DIR]
    jq --arg c "$PEBBLE_UACME" --arg h "$CD_TOP_SRCDIR/libexec/acme-hook" \
        --arg a "${1-$work/anchors}" --arg m "$work/metrics/certdialog.prom" \
        '. + {acme_client: $c, acme_hook: $h, acme_timeout: 60,
              expiry_metrics_file: $m} |
         if $a == "" then del(.extra_ca_dir) else . + {extra_ca_dir: $a} end' \
        "$SETTINGS" >"$work/s.json" && cat "$work/s.json" >"$SETTINGS"
}
settings

# renew [--force]: one run as the timer starts it; its journal lines kept
renew() {
    echo "# $(date +%T) renew $*"
    "$FCGI" -c "$SETTINGS" --acme-renew "$@" 2>"$work/run.log"
    rc=$?
    cat "$work/run.log" >>"$journal"
    # a failed run says why in the test's log (seen once, not reproduced)
    [ "$rc" = 0 ] || sed 's/^/#   /' "$work/run.log"
}
served_is_current() {   # NAME: nginx serves STATE/current's certificate
    check_eq "$1" "the handshake shows the installed certificate" \
        "$(fp_file "$CD_STATE/current/cert.pem")" \
        "$(wait_served "$(fp_file "$CD_STATE/current/cert.pem")")" \
        "openssl s_client"
}
put_config() {  # NAME JSON
    req "$1" PUT /api/acme "${JSON[@]}" -d "$2"
}

# ---- the challenge location: files by exact name on the HTTP port ----
http() {
    curl -s --path-as-is --max-time 5 -o "$work/http.body" -w '%{http_code}' \
        -H "Host: $H" "http://127.0.0.1:$CD_HTTP_PORT$1"
}
# (certdialog-fcgi reads STATE/acme/challenge/, 0700, for nginx)
mkdir -p -m 0700 "$CD_STATE/acme" "$CD_STATE/acme/challenge"
( umask 077; printf 'tok.thumb' >"$CD_STATE/acme/challenge/Tok_en-1" )
check_eq "challenge" "a token file is served" "200 tok.thumb" \
    "$(http /.well-known/acme-challenge/Tok_en-1) $(cat "$work/http.body")"
check_eq "challenge" "no listing" 404 "$(http /.well-known/acme-challenge/)"
check_eq "challenge" "no other name" 404 \
    "$(http /.well-known/acme-challenge/a.b)"
code=$(http /.well-known/acme-challenge/../../auth/users)
[ "$code" != 200 ] && ! grep -q admin "$work/http.body" &&
    pass "nothing beside it ($code)" ||
    fail "challenge" "no file outside challenge/" "$code"
check_eq "challenge" "a missing token" 404 \
    "$(http /.well-known/acme-challenge/nothere)"
check_eq "challenge" "other paths still redirect" 301 "$(http /index.html)"
check_eq "challenge" "no method but GET, HEAD" 405 \
    "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -X POST \
        "http://127.0.0.1:$CD_HTTP_PORT/.well-known/acme-challenge/Tok_en-1")"
rm -f "$CD_STATE/acme/challenge/Tok_en-1"

# ---- settings: nothing yet, then each member checked ----
req "none" GET /api/acme
expect_status 200
expect_jq '.config == null and .status.running == false and
    .status.last_attempt == null'
req "renew unset" POST /api/acme/renew
expect_status 409
expect_jq '.errors[0].code == "acme_not_configured"'

bad() {         # FIELD JSON
    put_config "bad $1" "$2"
    expect_status 400
    expect_jq '.errors[0].code == "bad_request" and .errors[0].field == $f' \
        --arg f "$1"
}
bad directory '{"directory": "http://localhost/dir"}'
bad directory '{"email": "a@b.example"}'
bad email '{"directory": "https://ca.example/dir", "email": "a b@c"}'
bad key_type '{"directory": "https://ca.example/dir", "key_type": "ec-p256"}'
bad challenge '{"directory": "https://ca.example/dir", "challenge": "dns-01"}'
bad names '{"directory": "https://ca.example/dir", "names": ["*.contoso.com"]}'
bad eab_hmac_key '{"directory": "https://ca.example/dir", "eab_key_id": "k"}'
bad nonsense '{"directory": "https://ca.example/dir", "nonsense": 1}'
req "cross-site" PUT /api/acme "${JSON[@]}" -H 'Sec-Fetch-Site: cross-site' \
    -d '{"directory": "https://ca.example/dir"}'
expect_status 403
req_raw "no token" GET /api/acme
expect_status 401

# ---- a fresh appliance gets a CA-signed certificate, no upload ----
pebble_start "$CD_HTTP_PORT" || { echo "FAIL: pebble"; exit 99; }
cp "$PEBBLE_ROOT" "$work/anchors/pebble.pem"
first=$(fp_served)
put_config "configure" '{"directory": "'"$PEBBLE_DIR"'",
    "email": "pki@contoso.com"}'
expect_status 200
expect_jq '.config.directory == $d and .config.names == null and
    .config.key_type == "rsa2048" and .config.challenge == "http-01" and
    .config.eab_hmac_set == false' --arg d "$PEBBLE_DIR"
check_eq "configure" "config.json is 0600" 600 \
    "$(stat -c %a "$CD_STATE/acme/config.json")"

req "renew now" POST /api/acme/renew
expect_status 202
expect_jq '.started == true'
# bounded: the run ends within acme_timeout (60 s); polled 45 s here
for _ in $(seq 1 150); do
    req "progress" GET /api/acme
    jtrue "$body" '.status.running == false and .status.last_result != null' &&
        break
    sleep 0.3
done
expect_jq '.status.last_result == "ok" and .status.failures == 0 and
    .status.release != null and .status.next_attempt != null'
rel1=$(jget "$body" .status.release)
check_eq "renew now" "the release ACME installed is current" "$rel1" \
    "$(basename "$(readlink "$CD_STATE/current")")"
served_is_current "renew now"
acme1=$(fp_served)
[ "$acme1" != "$first" ] && pass "the self-signed one is replaced" ||
    fail "served" "a new certificate" "still $first"
check_eq "renew now" "issued for the appliance's name" "DNS:$H" \
    "$(openssl x509 -in "$CD_STATE/current/cert.pem" -noout -ext subjectAltName |
        tail -n 1 | tr -d ' ')"
check_eq "renew now" "pebble's chain verifies up to its root" OK \
    "$(openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$CD_STATE/current/chain.pem" \
        "$CD_STATE/current/cert.pem" 2>&1 | sed -n 's/.*: //p')"
check_eq "renew now" "the key is 0600" 600 \
    "$(stat -c %a "$CD_STATE/current/privkey.pem")"
check_eq "renew now" "the account key is the owner's alone" 00 \
    "$(stat -c %a "$CD_STATE/acme/uacme/private/key.pem" | cut -c2-)"
check_eq "renew now" "no challenge answer left behind" "" \
    "$(ls -A "$CD_STATE/acme/challenge")"
grep -q 'acme: installed as release' "$CD_RUN/logs/fcgi.log" &&
    pass "the detached run logs to the service's journal" ||
    fail "journal" "an 'installed as release' line in fcgi.log" "none"

# ---- not due: nothing changes; forced: replaced ----
renew
check_eq "not due" "exit 0" 0 "$rc"
grep -q 'nothing to do' "$work/run.log" && pass "says nothing is due" ||
    fail "not due" "'nothing to do'" "$(cat "$work/run.log")"
check_eq "not due" "the same certificate" "$acme1" "$(fp_served)"
renew --force
check_eq "forced" "exit 0" 0 "$rc"
served_is_current "forced"
acme2=$(fp_served)
[ "$acme2" != "$acme1" ] && pass "a forced run replaces it" ||
    fail "forced" "another certificate" "still $acme1"

# ---- refused by the policy: the served certificate stays ----
failed_run() {  # NAME: the run failed, nothing changed, and it says so
    check_eq "$1" "exit 1" 1 "$rc"
    check_eq "$1" "the served certificate is unchanged" "$acme2" "$(fp_served)"
    check_eq "$1" "current is unchanged" "$cur" \
        "$(readlink "$CD_STATE/current")"
    grep -q 'renewal failed.*served certificate is unchanged' "$work/run.log" &&
        pass "the journal says so" ||
        fail "$1" "a 'renewal failed' line" "$(cat "$work/run.log")"
    req "$1" GET /api/acme
    expect_jq '.status.last_result == "failed" and .status.failures == $n and
        .status.next_attempt != null' --argjson n "$2"
}
cur=$(readlink "$CD_STATE/current")
settings ""                     # pebble's root is no anchor now
renew --force
failed_run "no anchor" 1
expect_jq '.status.last_message | test("refused")'
grep -q '^certdialog_acme_failures 1$' "$work/metrics/certdialog-acme.prom" &&
    pass "the metrics count the failure" ||
    fail "metrics" "certdialog_acme_failures 1" \
        "$(cat "$work/metrics/certdialog-acme.prom" 2>&1)"
renew
check_eq "backoff" "no new attempt before the backoff ends" 0 "$rc"
grep -q 'nothing to do: the last attempt failed' "$work/run.log" &&
    pass "the backoff holds" || fail "backoff" "nothing to do" \
        "$(cat "$work/run.log")"

settings
put_config "other names" '{"directory": "'"$PEBBLE_DIR"'",
    "names": ["other.contoso.com"]}'
expect_status 200
renew --force
failed_run "other names" 2
expect_jq '.status.last_message | test("name_mismatch")'

# ---- a CA that does not answer ----
closed=$(free_port)
put_config "closed" '{"directory": "https://localhost:'"$closed"'/dir"}'
expect_status 200
renew --force
failed_run "no answer" 3
expect_jq '.status.last_message | test("ACME")'
pebble_stop

# ---- external account binding required; short-lived certificates ----
pebble_start "$CD_HTTP_PORT" 1 30 || { echo "FAIL: pebble (EAB)"; exit 99; }
cp "$PEBBLE_ROOT" "$work/anchors/pebble.pem"
put_config "no eab" '{"directory": "'"$PEBBLE_DIR"'"}'
renew --force
failed_run "no eab" 4
put_config "eab" '{"directory": "'"$PEBBLE_DIR"'", "eab_key_id": "kid-1",
    "eab_hmac_key": "'"$PEBBLE_EAB_KEY"'"}'
expect_status 200
expect_jq '.config.eab_key_id == "kid-1" and .config.eab_hmac_set == true'
expect_no_text "$PEBBLE_EAB_KEY"
req "eab" GET /api/acme
expect_no_text "$PEBBLE_EAB_KEY"
renew --force
check_eq "eab" "exit 0" 0 "$rc"
served_is_current "eab"
eab1=$(fp_served)
[ "$eab1" != "$acme2" ] && pass "issued with the account binding" ||
    fail "eab" "a new certificate" "still $acme2"
req "eab" GET /api/acme
expect_jq '.status.last_result == "ok" and .status.failures == 0'
# due: a third of its 30 s left (bounded: at most 25 s from now)
na=$(date -d "$(openssl x509 -in "$CD_STATE/current/cert.pem" -noout -enddate |
    cut -d= -f2)" +%s)
nb=$(date -d "$(openssl x509 -in "$CD_STATE/current/cert.pem" -noout -startdate |
    cut -d= -f2)" +%s)
due=$((na - (na - nb) / 3))
wait_s=$((due - $(date +%s) + 1))
[ "$wait_s" -gt 25 ] && wait_s=25
[ "$wait_s" -gt 0 ] && sleep "$wait_s"
renew
check_eq "due" "exit 0" 0 "$rc"
grep -q 'renewing: a third or less' "$work/run.log" &&
    pass "renewed because a third is left" ||
    fail "due" "renewing: a third or less" "$(cat "$work/run.log")"
served_is_current "due"
[ "$(fp_served)" != "$eab1" ] && pass "the due renewal replaced it" ||
    fail "due" "a new certificate" "still $eab1"

# ---- secrets: the HMAC key in no log, no answer ----
for f in "$journal" "$CD_RUN/logs/fcgi.log" "$CD_STATE/acme/status.json"; do
    if grep -qF "$PEBBLE_EAB_KEY" "$f"; then
        fail "secrets" "no HMAC key in $f" "found"
    else
        pass "no HMAC key in $(basename "$f")"
    fi
done
pebble_stop
finish
