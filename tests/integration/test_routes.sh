#!/usr/bin/env bash
# The HTTP interface of docs/API.md end to end through nginx: every route,
# status and JSON error code, the documented findings of docs/API.md "Codes"
# as 422,
# the request-level refusals (400/401/403/404/405/413/415), and the
# same-origin rule of docs/DESIGN.md "Security".  Run by
# tests/lib/with-stack.sh.
# shellcheck disable=SC2016 # '$name' in a jq filter is jq's (--arg)
# shellcheck source=tests/lib/itest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/itest.sh"

V=/api/certificate/validate
GOOD=(key=@"$F/good.key" crt=@"$F/good.pem" chain=@"$F/chain-int-only.pem"
    use_crl=off name=sensor)

hist_count() {
    jget "$body" '.history | length'
}

# the answer names no release anywhere (a dry run installs nothing)
expect_no_release() {
    expect_jq '[.. | objects | has("release")] | any | not'
}

# requests the handler logged so far (one fcgi.log line per request)
handled() {
    grep -c "^certdialog: user=" "$CD_RUN/logs/fcgi.log" 2>/dev/null || echo 0
}

# ---- GET: the first, self-signed certificate ----
req "GET current" GET /api/certificate
expect_status 200
expect_jq '.ok == true'
expect_jq '.certificate.mode == "self-signed"'
expect_jq '.certificate.subject_cn == "sensor.contoso.com"'
expect_jq '.certificate.sha256_fingerprint |
    test("^([0-9A-F]{2}:){31}[0-9A-F]{2}$")'
expect_jq '.hostname == "sensor.contoso.com"'
expect_header '^content-type: application/json'
expect_header '^cache-control: no-store'
check_eq "GET current" "history holds 1 release" 1 "$(hist_count)" \
    "curl $CD_URL/api/certificate"
fp0=$(jget "$body" .certificate.sha256_fingerprint)
check_eq "GET current" "GET shows the certificate nginx serves" \
    "$(fp_served)" "$fp0" "openssl s_client -connect 127.0.0.1:$CD_PORT"
check_eq "GET current" "the first certificate is CD_CA" \
    "$(fp_file "$CD_CA")" "$fp0"

# HEAD: same status, no body
req "HEAD current" HEAD /api/certificate -I
expect_status 200

# ---- POST /validate: a good upload, nothing installed ----
upload "validate good" $V "${GOOD[@]}"
expect_status 200
expect_jq '.ok == true'
expect_codes errors ""
expect_jq '.certificate.sha256_fingerprint == $fp' \
    --arg fp "$(fp_file "$F/good.pem")"
expect_no_release
# its log line (certdialog-fcgi(8)): the worker's CPU time for the
# request, and of that the engine's part (validating, freeing the report)
line=$(grep "POST $V 200 " "$CD_RUN/logs/fcgi.log" | tail -n 1)
if awk '{ for (i = 1; i <= NF; i++) { v = $i
        if (sub(/^cpu=/, "", v)) c = v + 0
        else if (sub(/^engine=/, "", v)) e = v + 0 }
    exit !(e > 0 && c >= e) }' <<<"${line:-x}"; then
    pass "the validation's log line: 0 < engine= <= cpu="
else
    fail "log line CPU" "cpu=X.XXms engine=Y.YYms with 0 < Y <= X" "$line"
fi
req "validate installs nothing" GET /api/certificate
expect_status 200
check_eq "validate installs nothing" "fingerprint unchanged" "$fp0" \
    "$(jget "$body" .certificate.sha256_fingerprint)" \
    "curl $CD_URL/api/certificate"
check_eq "validate installs nothing" "history still 1" 1 "$(hist_count)"
check_eq "validate installs nothing" "nginx serves the same" "$fp0" \
    "$(fp_served)"

# ---- docs/API.md "Codes" findings as 422 with the exact codes ----
# fail422 NAME "CODES" FIELD=...: /validate answers 422, ok false, exactly
# CODES in errors
fail422() {
    local name=$1 want=$2
    shift 2
    upload "$name" $V "$@"
    expect_status 422
    expect_jq '.ok == false'
    expect_codes errors "$want"
}

B=(chain=@"$F/chain-int-only.pem" use_crl=off name=sensor)
fail422 "no passphrase" passphrase_mismatch \
    key=@"$F/good-pbes2.key" crt=@"$F/good.pem" "${B[@]}"
expect_error passphrase_mismatch message \
    "Passphrase does not match to the key"
fail422 "wrong passphrase" passphrase_mismatch \
    key=@"$F/good-pbes2.key" crt=@"$F/good.pem" "${B[@]}" \
    passphrase="<$F/wrongpass.txt"
fail422 "passphrase charset" passphrase_charset \
    key=@"$F/good-pbes2.key" crt=@"$F/good.pem" "${B[@]}" \
    passphrase="<$F/badchars.txt"
fail422 "untrusted chain" chain_untrusted \
    key=@"$F/good.key" crt=@"$F/untrusted.pem" use_crl=off name=sensor
expect_error chain_untrusted message "Cannot validate chain of trust. \
The provided Certificate and Root CA don't match."
fail422 "expired" expired \
    key=@"$F/good.key" crt=@"$F/expired.pem" "${B[@]}"
expect_error expired message \
    "This SSL certificate has expired and isn't considered valid."
fail422 "key mismatch" key_mismatch \
    key=@"$F/other.key" crt=@"$F/good.pem" "${B[@]}"
fail422 "weak key" weak_key \
    key=@"$F/weak1024.key" crt=@"$F/weak1024.pem" "${B[@]}"
expect_jq 'any(.errors[]; .code == "weak_key" and
    (.detail | strings | contains("1024")))'
fail422 "unreadable key" unreadable_key \
    key=@"$F/garbage.bin" crt=@"$F/good.pem" "${B[@]}"
fail422 "unreadable crt" unreadable_crt \
    key=@"$F/good.key" crt=@"$F/garbage.bin" "${B[@]}"
fail422 "no key" missing_field crt=@"$F/good.pem" "${B[@]}"
expect_error missing_field field key
fail422 "no name" missing_field \
    key=@"$F/good.key" crt=@"$F/good.pem" chain=@"$F/chain-int-only.pem" \
    use_crl=off
expect_error missing_field field name
fail422 "bad name" bad_name \
    key=@"$F/good.key" crt=@"$F/good.pem" chain=@"$F/chain-int-only.pem" \
    use_crl=off "name=bad/name"
fail422 "name too long" bad_name \
    key=@"$F/good.key" crt=@"$F/good.pem" chain=@"$F/chain-int-only.pem" \
    use_crl=off "name=$(printf 'n%.0s' $(seq 1 65))"
# a name made only of blanks names nothing (--form-string: curl's -F
# would drop the blanks)
req "blank name" POST $V -F key=@"$F/good.key" -F crt=@"$F/good.pem" \
    -F chain=@"$F/chain-int-only.pem" -F use_crl=off --form-string "name=   "
expect_status 422
expect_codes errors bad_name
expect_error bad_name field name
# regression: 80 bytes and more were answered as a missing name
fail422 "name of 100 bytes" bad_name \
    key=@"$F/good.key" crt=@"$F/good.pem" chain=@"$F/chain-int-only.pem" \
    use_crl=off "name=$(printf 'n%.0s' $(seq 1 100))"
expect_error bad_name field name
# regression: findings were merged by code alone, so one field was marked
fail422 "nothing sent" "missing_field missing_field missing_field" \
    use_crl=off
expect_jq '[.errors[] | select(.code == "missing_field") | .field] | sort
    == ["crt", "key", "name"]'
# use_crl on: the fixtures' distribution point is 127.0.0.1:1 (refused)
# the leaf's CRL and the intermediate's: one finding on each field
fail422 "crl unreachable" "crl_unreachable crl_unreachable" \
    key=@"$F/good.key" crt=@"$F/good.pem" chain=@"$F/chain-int-only.pem" \
    use_crl=on name=sensor
expect_jq '[.errors[] | select(.code == "crl_unreachable") | .field] | sort
    == ["chain", "crt"]'
expect_error crl_unreachable message "The CRL (Certificate Revocation \
List) location is not reachable. Verify the URL can be accessed from this \
appliance"
# use_crl absent: the safe default is on
fail422 "use_crl defaults to on" "crl_unreachable crl_unreachable" \
    key=@"$F/good.key" crt=@"$F/good.pem" chain=@"$F/chain-int-only.pem" \
    name=sensor
fail422 "three findings" "expired weak_key subject_incomplete" \
    key=@"$F/weak1024.key" crt=@"$F/three.pem" "${B[@]}"
# the same findings on the installing route: still 422, nothing installed
upload "install refused" /api/certificate \
    key=@"$F/good.key" crt=@"$F/expired.pem" "${B[@]}"
expect_status 422
expect_codes errors expired
expect_no_release

# validation=none: expired becomes a warning
upload "validation none" $V key=@"$F/good.key" crt=@"$F/expired.pem" \
    "${B[@]}" validation=none
expect_status 200
expect_jq '.ok == true'
expect_codes errors ""
expect_code warnings expired
# ... but a key that does not match still blocks
fail422 "validation none, key mismatch" key_mismatch \
    key=@"$F/other.key" crt=@"$F/good.pem" "${B[@]}" validation=none

# a good encrypted key with its passphrase is accepted
upload "passphrase ok" $V key=@"$F/good-pbes2.key" crt=@"$F/good.pem" \
    "${B[@]}" passphrase="<$F/pass.txt"
expect_status 200
expect_codes errors ""

# bad option values
upload "bad use_crl" $V "${GOOD[@]/use_crl=off/use_crl=maybe}"
expect_status 400
expect_code errors bad_request

# ---- 404 / 405 ----
for p in /api/nope /api/certificate/nope /api/certificates /api/; do
    req "unknown route $p" GET "$p"
    expect_status 404
    expect_code errors not_found
done
req "PUT certificate" PUT /api/certificate --data-binary x \
    -H 'Content-Type: text/plain'
expect_status 405
expect_code errors method_not_allowed
expect_header '^allow: GET, HEAD, POST'
req "DELETE certificate" DELETE /api/certificate
expect_status 405
expect_header '^allow: GET, HEAD, POST'
req "GET validate" GET $V
expect_status 405
expect_code errors method_not_allowed
expect_header '^allow: POST'
req "GET rollback" GET /api/certificate/rollback
expect_status 405
expect_header '^allow: POST'

# ---- 415 ----
req "text/plain" POST $V -H 'Content-Type: text/plain' --data-binary 'hello'
expect_status 415
expect_code errors unsupported_media_type
req "urlencoded" POST $V -d 'name=sensor&use_crl=off'
expect_status 415
expect_code errors unsupported_media_type
req "no content type" POST $V -H 'Content-Type:' --data-binary 'x'
expect_status "415|400"
expect_jq 'any(.errors[]; .code == "unsupported_media_type" or
    .code == "bad_request")'

# ---- 400: malformed multipart ----
bnd=certdialogTestBoundary42
CT="Content-Type: multipart/form-data; boundary=$bnd"
mkbody "$work/unclosed" $bnd 0 key=@"$F/good.key" crt=@"$F/good.pem" \
    use_crl=off name=sensor
req "no closing boundary" POST $V -H "$CT" --data-binary @"$work/unclosed"
expect_status 400
expect_code errors bad_request
mkbody "$work/dup" $bnd 1 key=@"$F/good.key" crt=@"$F/good.pem" \
    use_crl=off name=sensor name=other
req "duplicate field" POST $V -H "$CT" --data-binary @"$work/dup"
expect_status 400
expect_code errors bad_request
mkbody "$work/unknown" $bnd 1 key=@"$F/good.key" crt=@"$F/good.pem" \
    use_crl=off name=sensor colour=blue
req "unknown field" POST $V -H "$CT" --data-binary @"$work/unknown"
expect_status 400
expect_code errors bad_request
mkbody "$work/ok" $bnd 1 key=@"$F/good.key" crt=@"$F/good.pem" \
    chain=@"$F/chain-int-only.pem" use_crl=off name=sensor
req "hand-made body" POST $V -H "$CT" --data-binary @"$work/ok"
expect_status 200
req "empty boundary" POST $V -H 'Content-Type: multipart/form-data; boundary=' \
    --data-binary @"$work/ok"
expect_status 400
expect_code errors bad_request
req "no boundary" POST $V -H 'Content-Type: multipart/form-data' \
    --data-binary @"$work/ok"
expect_status 400
expect_code errors bad_request
long=$(printf 'b%.0s' $(seq 1 71))
req "boundary too long" POST $V \
    -H "Content-Type: multipart/form-data; boundary=$long" \
    --data-binary @"$work/ok"
expect_status 400
expect_code errors bad_request
req "boundary not in body" POST $V \
    -H 'Content-Type: multipart/form-data; boundary=otherBoundary' \
    --data-binary @"$work/ok"
expect_status 400
expect_code errors bad_request
req "garbage body" POST $V -H "$CT" --data-binary @"$F/garbage.bin"
expect_status 400
expect_code errors bad_request
req "empty body" POST $V -H "$CT" --data-binary ''
expect_status 400
expect_code errors bad_request
# a chunked upload (no Content-Length from the client) still works
req "chunked upload" POST $V -H "$CT" -H 'Transfer-Encoding: chunked' \
    --data-binary @"$work/ok"
expect_status 200
expect_jq '.ok == true'

# ---- 413 ----
# over the 1 MiB body limit: nginx refuses it before the handler
head -c $((1024 * 1024 + 4096)) /dev/zero | tr '\0' 'A' >"$work/big.bin"
before=$(handled)
upload "body over 1 MiB" $V key=@"$F/good.key" crt=@"$F/good.pem" \
    chain=@"$work/big.bin" use_crl=off name=sensor
expect_status 413
expect_code errors too_large
sleep 0.3
check_eq "body over 1 MiB" "the handler never saw it (fcgi.log lines)" \
    "$before" "$(handled)"
before=$(handled)
req "chunked body over 1 MiB" POST $V -H "$CT" \
    -H 'Transfer-Encoding: chunked' --data-binary @"$work/big.bin"
expect_status 413
sleep 0.3
check_eq "chunked body over 1 MiB" "the handler never saw it" \
    "$before" "$(handled)"
# a file part over 256 KiB inside a body under 1 MiB: the handler's 413
head -c $((300 * 1024)) /dev/zero | tr '\0' 'A' >"$work/300k.bin"
upload "file part over 256 KiB" $V key=@"$F/good.key" crt=@"$F/good.pem" \
    chain=@"$work/300k.bin" use_crl=off name=sensor
expect_status 413
expect_code errors too_large
if tail -n 3 "$CD_RUN/logs/fcgi.log" | grep -q "POST $V 413 codes=too_large"; then
    pass "the handler answered the 413"
else
    fail "handler 413" "a 'POST $V 413 codes=too_large' line in fcgi.log" \
        "$(tail -n 3 "$CD_RUN/logs/fcgi.log")"
fi

# ---- 401 ----
req_raw "no credentials" GET /api/certificate
expect_status 401
expect_code errors not_signed_in
if tr -d '\r' <"$hdrs" | grep -qi '^www-authenticate'; then
    fail "no WWW-Authenticate" "no browser password pop-up" \
        "$(grep -i '^www-authenticate' "$hdrs")"
else
    pass "no WWW-Authenticate (no browser password pop-up)"
fi
# HTTP Basic is gone: the right password in it confers nothing
req_raw "HTTP Basic, right password" GET /api/certificate \
    --user "admin:$CD_PASS"
expect_status 401
expect_code errors not_signed_in
req_raw "wrong token" GET /api/certificate \
    -H "Authorization: Bearer ${CD_TOKEN%?}x"
expect_status 401
req_raw "upload without credentials" POST $V -F key=@"$F/good.key" \
    -F crt=@"$F/good.pem" -F use_crl=off -F name=sensor
expect_status 401
expect_jq '.ok != true'
req_raw "rollback without credentials" POST /api/certificate/rollback
expect_status 401

# ---- 403: signed in, but not an admin ----
sign_in "sign in as $CD_USER2" "$CD_USER2" "$CD_PASS2" "$work/jar2"
expect_status 200
n0=$(handled)
for r in "GET /api/certificate" "POST $V" "POST /api/certificate" \
    "POST /api/certificate/rollback" "GET /api/certificate/download"; do
    t_name="non-admin $r"
    _run_curl "curl -X ${r% *} $CD_URL${r#* } as $CD_USER2" \
        -b "$work/jar2" -X "${r% *}" "$CD_URL${r#* }" \
        $([ "${r% *}" = POST ] && [ "${r#* }" != /api/certificate/rollback ] &&
            echo "-F key=@$F/good.key -F crt=@$F/good.pem -F use_crl=off -F name=sensor")
    expect_status 403
    expect_code errors forbidden
    expect_jq '.ok != true'
done
check_eq "non-admin" "the handler saw each non-admin request" 5 \
    "$(($(handled) - n0))"
sign_in "non-admin, wrong password" "$CD_USER2" "wrong-$CD_PASS2" \
    "$work/jar3"
expect_status 401
expect_code errors sign_in_failed

# ---- 403: cross-site browser requests ----
req "Origin evil" POST $V -H 'Origin: https://evil.example' \
    -F key=@"$F/good.key" -F crt=@"$F/good.pem" \
    -F chain=@"$F/chain-int-only.pem" -F use_crl=off -F name=sensor
expect_status 403
expect_code errors forbidden
req "Origin evil on install" POST /api/certificate \
    -H 'Origin: https://evil.example' -F key=@"$F/good.key" \
    -F crt=@"$F/good.pem" -F chain=@"$F/chain-int-only.pem" -F use_crl=off \
    -F name=sensor
expect_status 403
expect_code errors forbidden
req "Origin evil on rollback" POST /api/certificate/rollback \
    -H 'Origin: https://evil.example'
expect_status 403
expect_code errors forbidden
req "Sec-Fetch-Site cross-site" POST $V -H 'Sec-Fetch-Site: cross-site' \
    -F key=@"$F/good.key" -F crt=@"$F/good.pem" \
    -F chain=@"$F/chain-int-only.pem" -F use_crl=off -F name=sensor
expect_status 403
expect_code errors forbidden
req "Sec-Fetch-Site same-site" POST $V -H 'Sec-Fetch-Site: same-site' \
    -F key=@"$F/good.key" -F crt=@"$F/good.pem" \
    -F chain=@"$F/chain-int-only.pem" -F use_crl=off -F name=sensor
expect_status 403
req "Origin null" POST $V -H 'Origin: null' \
    -F key=@"$F/good.key" -F crt=@"$F/good.pem" \
    -F chain=@"$F/chain-int-only.pem" -F use_crl=off -F name=sensor
expect_status 403
req "Origin other port" POST $V -H "Origin: https://127.0.0.1:$CD_HTTP_PORT" \
    -F key=@"$F/good.key" -F crt=@"$F/good.pem" \
    -F chain=@"$F/chain-int-only.pem" -F use_crl=off -F name=sensor
expect_status 403
# a same-origin browser post is accepted
req "same-origin browser post" POST $V -H "Origin: $CD_URL" \
    -H 'Sec-Fetch-Site: same-origin' -H 'Sec-Fetch-Mode: cors' \
    -F key=@"$F/good.key" -F crt=@"$F/good.pem" \
    -F chain=@"$F/chain-int-only.pem" -F use_crl=off -F name=sensor
expect_status 200
expect_jq '.ok == true'
# a cross-site GET reads nothing secret but is still signed in: allowed
req "GET with foreign Origin" GET /api/certificate \
    -H 'Origin: https://evil.example' -H 'Sec-Fetch-Site: cross-site'
expect_status "200|403"

# nothing above installed anything
req "still the first certificate" GET /api/certificate
check_eq "still the first certificate" "fingerprint" "$fp0" \
    "$(jget "$body" .certificate.sha256_fingerprint)" \
    "curl $CD_URL/api/certificate"
check_eq "still the first certificate" "history" 1 "$(hist_count)"

# nginx's own 502 under /api/ is JSON too: the socket taken away for a
# moment is a service that is not running
mv "$CD_RUN/fcgi.sock" "$CD_RUN/fcgi.sock.away"
req "service not running" GET /api/certificate
mv "$CD_RUN/fcgi.sock.away" "$CD_RUN/fcgi.sock"
expect_status 502
expect_code errors service_not_running
expect_header '^content-type: application/json'
expect_header '^cache-control: no-store'

# the service is still up after all of that
req "still serving" GET /api/certificate
expect_status 200


# ---- history: Make active (POST .../history/ID/activate), then rollback
# undoes it; nginx serves what each answer says ----
req "before activate" GET /api/certificate
rel0=$(jget "$body" .certificate.release)
upload "install good for activate" /api/certificate "${GOOD[@]}"
expect_status 200
rel_good=$(jget "$body" .release)
fp_good=$(fp_file "$F/good.pem")
check_eq "install good for activate" "nginx serves good.pem" "$fp_good" \
    "$(wait_served "$fp_good")"
req "GET activate" GET "/api/certificate/history/$rel0/activate"
expect_status 405
expect_header '^allow: POST'
req "activate the first release" POST "/api/certificate/history/$rel0/activate"
expect_status 200
expect_jq '.ok == true and .release == $r and .reload.ok == true' --arg r "$rel0"
expect_jq '.certificate.sha256_fingerprint == $fp' --arg fp "$fp0"
check_eq "activate the first release" "nginx serves it again" "$fp0" \
    "$(wait_served "$fp0")" "openssl s_client -connect 127.0.0.1:$CD_PORT"
check_eq "activate the first release" "current -> it" "releases/$rel0" \
    "$(readlink "$CD_STATE/current")"
expect_jq '[.history[] | select(.release == $r) | .active | length][0] == 2' \
    --arg r "$rel0"
expect_jq '[.history[] | select(.release == $r)][0] |
    .previous == true and .crl == "off" and .subject_cn == "sensor.contoso.com"
    and (.not_after | type) == "string"' --arg r "$rel_good"
req "activate the active one" POST "/api/certificate/history/$rel0/activate"
expect_status 409
expect_code errors already_active
req "activate an unknown id" POST \
    /api/certificate/history/20200101T000000Z-00000000/activate
expect_status 404
expect_code errors no_such_release
req "activate from another site" POST \
    "/api/certificate/history/$rel_good/activate" \
    -H 'Origin: https://evil.example' -H 'Sec-Fetch-Site: cross-site'
expect_status 403
expect_code errors forbidden
req "rollback undoes the activation" POST /api/certificate/rollback
expect_status 200
expect_jq '.release == $r' --arg r "$rel_good"
check_eq "rollback undoes the activation" "nginx serves good.pem" \
    "$fp_good" "$(wait_served "$fp_good")"

# ---- plain HTTP: a redirect to the appliance, never to the Host sent ----
redirect_of() {   # HOST: where http://127.0.0.1:HTTP_PORT/x?y=1 leads
    curl -s -o /dev/null --max-time 10 -w '%{redirect_url}' -H "Host: $1" \
        "http://127.0.0.1:$CD_HTTP_PORT/x?y=1"
}
check_eq "http redirect" "another Host leads to the connection's address" \
    "https://127.0.0.1:$CD_PORT/x?y=1" "$(redirect_of evil.example)" \
    "curl -H 'Host: evil.example' http://..."
check_eq "http redirect" "the appliance's name leads to that name" \
    "https://sensor.contoso.com:$CD_PORT/x?y=1" \
    "$(redirect_of sensor.contoso.com)" \
    "curl -H 'Host: sensor.contoso.com' http://..."

finish
