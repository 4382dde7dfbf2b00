#!/usr/bin/env bash
# The signing request made on the appliance (docs/API.md "Signing
# request") end to end, with curl and a token against a real nginx: the
# request passes "openssl req -verify" and carries the chosen fields; the
# organisation's CA (here "openssl x509 -req" with the fixtures'
# intermediate) signs it; uploaded without a key it is installed and
# served (the handshake shows it); a certificate for another key is
# key_mismatch; a renewal keeping the key keeps the public key; no answer
# ever holds the pending key.  Run by tests/lib/with-stack.sh.
# shellcheck disable=SC2016 # '$name' in a jq filter is jq's (--arg)
# shellcheck source=tests/lib/itest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/itest.sh"

H=sensor.contoso.com
JSON=(-H 'Content-Type: application/json')
answers=$work/answers
: >"$answers"
keep() { cat "$body" >>"$answers"; }

# sign CSR OUT [KEY]: the CA issues a server certificate for CSR's key (or,
# with KEY, for that key: a certificate for another request)
sign() {
    local ext=$work/leaf.ext
    printf '%s\n' "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature,keyEncipherment" \
        "extendedKeyUsage=serverAuth" "subjectKeyIdentifier=hash" \
        "authorityKeyIdentifier=keyid" >"$ext"
    if [ -n "${3:-}" ]; then
        openssl req -new -key "$3" -subj "/C=DE/O=Contoso/OU=OT/CN=$H" \
            -out "$work/other.csr" 2>/dev/null
        set -- "$work/other.csr" "$2"
    fi
    openssl x509 -req -in "$1" -CA "$F/int.pem" -CAkey "$F/int.key" \
        -CAcreateserial -CAserial "$work/serial" -days 90 -sha256 \
        -copy_extensions copy -extfile "$ext" -out "$2" 2>/dev/null
}

pubkey_of() {   # FILE (certificate or request): its public key, PEM
    if grep -q 'CERTIFICATE REQUEST' "$1"; then
        openssl req -in "$1" -noout -pubkey
    else
        openssl x509 -in "$1" -noout -pubkey
    fi
}

# ---- nothing pending: the defaults start from the host name ----
req "none pending" GET /api/csr
expect_status 200
expect_jq '.pending == false'
expect_jq '.defaults.names | index($h) != null' --arg h "$H"
expect_jq '.defaults.key_types == ["rsa2048", "rsa4096"]'

# ---- a request made here ----
req "create" POST /api/csr "${JSON[@]}" -d '{"key_type": "rsa2048",
    "subject": {"cn": "'$H'", "o": "Contoso", "ou": "OT", "c": "DE",
    "st": "NRW", "l": "Köln"}, "names": ["'$H'", "127.0.0.1"]}'
expect_status 201
keep
expect_jq '.pending == true and .csr.cn == $h and .csr.o == "Contoso"' \
    --arg h "$H"
expect_jq '.csr.san == ["DNS:" + $h, "IP:127.0.0.1"]' --arg h "$H"
expect_jq '.csr.l == "Köln" and .csr.st == "NRW"'

req "download" GET /api/csr/download
expect_status 200
expect_header '^content-disposition: attachment; filename="sensor\.contoso\.com\.csr"'
expect_header '^content-type: application/pkcs10'
cp "$body" "$work/req.csr"
keep
check_eq "download" "openssl req -verify accepts it" "verify OK" \
    "$(openssl req -in "$work/req.csr" -noout -verify 2>&1 | grep -o 'verify OK')" \
    "openssl req -verify"
check_eq "download" "the subject is the one chosen" \
    "subject=C = DE, ST = NRW, L = K\\C3\\B6ln, O = Contoso, OU = OT, CN = $H" \
    "$(openssl req -in "$work/req.csr" -noout -subject)" "openssl req -subject"
check_eq "certdialog-check --csr" "the checker agrees" 0 \
    "$("$CD_TOP_BUILDDIR/certdialog-check" --csr "$work/req.csr" \
        >/dev/null; echo $?)" "certdialog-check --csr"

req "create again" POST /api/csr "${JSON[@]}" -d '{"subject": {"cn": "'$H'",
    "o": "Contoso", "ou": "OT", "c": "DE"}}'
expect_status 409
expect_code errors csr_pending
req "bad country" POST /api/csr "${JSON[@]}" -d '{"replace": true,
    "subject": {"cn": "'$H'", "o": "C", "ou": "OT", "c": "Germany"}}'
expect_status 400
expect_error bad_request field c
req_raw "no token" GET /api/csr
expect_status 401

# ---- signed by the CA, uploaded without a key ----
sign "$work/req.csr" "$work/other.pem" "$F/other.key"
upload "another key" /api/certificate name=sensor crt=@"$work/other.pem" \
    chain=@"$F/chain-int-only.pem" use_crl=off
expect_status 422
keep
expect_jq '[.errors[] | select(.code == "key_mismatch" and
    (.detail | test("pending signing request")))] | length == 1'

sign "$work/req.csr" "$work/signed.pem"
fp=$(fp_file "$work/signed.pem")
upload "dry run" /api/certificate/validate name=sensor \
    crt=@"$work/signed.pem" chain=@"$F/chain-int-only.pem" use_crl=off
expect_status 200
keep
req "still pending after a dry run" GET /api/csr
expect_jq '.pending == true'
upload "install without a key" /api/certificate name=sensor \
    crt=@"$work/signed.pem" chain=@"$F/chain-int-only.pem" use_crl=off
expect_status 200
keep
expect_jq '.ok == true and .certificate.sha256_fingerprint == $fp' \
    --arg fp "$fp"
check_eq "install without a key" "nginx serves it" "$fp" \
    "$(wait_served "$fp")" "openssl s_client -servername $H"
req "cleared" GET /api/csr
keep
expect_jq '.pending == false and .defaults.subject.o == "Contoso"'

# ---- renewal keeping the key ----
req "renew, keep the key" POST /api/csr "${JSON[@]}" -d '{"keep_key": true,
    "subject": {"cn": "'$H'", "o": "Contoso", "ou": "OT", "c": "DE"}}'
expect_status 201
keep
req "renew download" GET /api/csr/download
cp "$body" "$work/renew.csr"
check_eq "renew" "the request carries the served public key" \
    "$(pubkey_of "$work/signed.pem")" "$(pubkey_of "$work/renew.csr")" \
    "openssl -pubkey"
req "discard" DELETE /api/csr
expect_status 200
req "discard again" DELETE /api/csr
expect_status 404
expect_code errors not_found

# ---- the key never left: no answer held it ----
check_eq "secrets" "no answer holds a private key" 0 \
    "$(grep -c 'PRIVATE KEY' "$answers")" "grep PRIVATE KEY"
key_b64=$(openssl pkey -in "$CD_STATE/current/privkey.pem" -outform DER |
    base64 -w0 | cut -c1-40)
check_eq "secrets" "nor its bytes" 0 \
    "$(grep -cF "$key_b64" "$answers" "$CD_RUN"/logs/* | awk -F: '{s += $NF} END {print s + 0}')" \
    "grep key bytes"

finish
