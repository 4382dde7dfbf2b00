#!/usr/bin/env bash
# Helping the admin's own computer trust and reach the appliance, end to
# end through nginx:
#   GET /api/certificate/download?format=pem|der&part=leaf|chain|root
#     - each download parses with openssl x509 -inform PEM|DER and is the
#       certificate nginx serves (or its chain / the root it ends in);
#     - Content-Type and Content-Disposition file names;
#     - wrong values, unknown or repeated parameters: 400 with JSON;
#       other methods 405 with Allow; 401/403 as the other routes;
#   GET /api/certificate: certificate.names, certificate.self_signed and
#     "access" (address, server_addr, matches, hosts_line, hosts_files);
#   no route ever answers with key material.
# Run by tests/lib/with-stack.sh.
# shellcheck disable=SC2016 # '$name' in a jq filter is jq's (--arg)
# shellcheck source=tests/lib/itest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/itest.sh"

D=/api/certificate/download
mkdir -p "$work/all"
nsaved=0

# keep every answer: the key material check at the end reads them all
save() {
    nsaved=$((nsaved + 1))
    cp "$body" "$work/all/$nsaved.body"
    cp "$hdrs" "$work/all/$nsaved.hdrs"
}

# dl NAME QUERY [CURL ARGS...]: GET the download route, answer kept
dl() {
    local name=$1 q=$2
    shift 2
    req "$name" GET "$D${q:+?$q}" "$@"
    save
}

# get NAME [CURL ARGS...]: GET /api/certificate, answer kept
get() {
    local name=$1
    shift
    req "$name" GET /api/certificate "$@"
    save
}

# The value of a header of the last answer (first match, no CR)
header() {
    tr -d '\r' <"$hdrs" | sed -n "s/^$1: *//Ip" | head -n 1
}

# The strings of an array of the last answer's certificate, space
# separated: arr KEY ("names")
arr() {
    jget "$body" '.certificate[$k] | join(" ")' --arg k "$1"
}

# A member of "access": acc KEY -> its JSON value ('"x"', null, true),
# nothing when there is no such member
acc() {
    jget "$body" '.access | select(has($k)) | .[$k] | tojson' --arg k "$1"
}

# expect_detail CODE WORDS: an error CODE whose detail holds WORDS
expect_detail() {
    expect_jq 'any(.errors[]; .code == $c and
        (.detail | strings | contains($w)))' --arg c "$1" --arg w "$2"
}

# Checks a download: status 200, Content-Type, file name, and that the
# body parses as FORM (PEM|DER) with the fingerprints FP... in order.
expect_download() {
    local ctype=$1 fname=$2 form=$3 got want n
    shift 3
    expect_status 200
    check_eq "$t_name" "Content-Type" "$ctype" "$(header content-type)" "$last"
    check_eq "$t_name" "Content-Disposition" \
        "attachment; filename=\"$fname\"" "$(header content-disposition)" "$last"
    if [ "$form" = DER ]; then
        got=$(openssl x509 -inform DER -in "$body" -noout -fingerprint \
            -sha256 2>/dev/null | sed 's/^.*=//')
        check_eq "$t_name" "openssl x509 -inform DER reads it" "$1" "$got" "$last"
        check_eq "$t_name" "one certificate" "$(wc -c <"$body")" \
            "$(openssl x509 -inform DER -in "$body" -outform DER 2>/dev/null | wc -c)"
        return
    fi
    n=$(grep -c '^-----BEGIN CERTIFICATE-----$' "$body")
    check_eq "$t_name" "PEM certificates" "$#" "$n" "$last"
    got=$(awk -v d="$work/split." '
        /^-----BEGIN CERTIFICATE-----$/ { n++ }
        n { print > (d n) }' "$body"
        for i in $(seq 1 "$n"); do
            openssl x509 -inform PEM -in "$work/split.$i" -noout \
                -fingerprint -sha256 2>/dev/null | sed 's/^.*=//'
        done | tr '\n' ' ' | sed 's/ $//')
    rm -f "$work"/split.*
    want="$*"
    check_eq "$t_name" "openssl x509 -inform PEM reads each, in order" \
        "$want" "$got" "$last"
}

# expect_400 NAME QUERY [WORD]: a 400 bad_request in JSON
expect_400() {
    dl "$1" "$2"
    expect_status 400
    expect_code errors bad_request
    expect_header '^content-type: application/json'
    expect_no_text 'BEGIN'
    [ -z "${3:-}" ] || expect_detail bad_request "$3"
}

fp_root=$(fp_file "$F/root.pem")
fp_int=$(fp_file "$F/int.pem")
fp_good=$(fp_file "$F/good.pem")
WIN='C:\Windows\System32\drivers\etc\hosts'

# ==== 1. the first, self-signed certificate ====
get "GET self-signed"
expect_status 200
fp0=$(jget "$body" .certificate.sha256_fingerprint)
check_eq "GET self-signed" "it is what nginx serves" "$(fp_served)" "$fp0"
expect_jq '.certificate.self_signed == true'
# the host name, the loopback addresses, then the interfaces' (issue 16,
# point 6): the first visit on https://127.0.0.1 shows no name error
names0=$(arr names)
check_eq "GET self-signed" "certificate.names start" \
    "sensor.contoso.com 127.0.0.1 ::1" "$(printf '%s\n' "$names0" |
    cut -d' ' -f1-3)"
check_eq "GET self-signed" "no IPv6 link-local name" "" \
    "$(printf '%s\n' "$names0" | tr ' ' '\n' | grep -i '^fe[89ab]')"
check_eq "GET self-signed" "access.address (Host without port)" \
    '"127.0.0.1"' "$(acc address)"
check_eq "GET self-signed" "access.server_addr" '"127.0.0.1"' \
    "$(acc server_addr)"
check_eq "GET self-signed" "access.matches" true "$(acc matches)"
check_eq "GET self-signed" "access.hosts_line" null "$(acc hosts_line)"
expect_jq '.access.hosts_files.windows == $w' --arg w "$WIN"
expect_jq '.access.hosts_files.linux == "/etc/hosts"'
expect_jq '.access.hosts_files.macos == "/etc/hosts"'

# reached by its name: matches, no line to add
get "GET by name" -H "Host: sensor.contoso.com:$CD_PORT"
expect_status 200
check_eq "GET by name" "access.address" '"sensor.contoso.com"' \
    "$(acc address)"
check_eq "GET by name" "access.matches" true "$(acc matches)"
check_eq "GET by name" "access.hosts_line" null "$(acc hosts_line)"
get "GET by name, other case" -H "Host: SENSOR.Contoso.COM:$CD_PORT"
check_eq "GET by name, other case" "access.matches" true "$(acc matches)"
check_eq "GET by name, other case" "access.address" '"SENSOR.Contoso.COM"' \
    "$(acc address)"
get "GET, IPv6 literal Host" -H "Host: [::1]:$CD_PORT"
check_eq "GET, IPv6 literal Host" "brackets and port removed" '"::1"' \
    "$(acc address)"
check_eq "GET, IPv6 literal Host" "::1 is named too" true "$(acc matches)"
get "GET, another name" -H "Host: other.example.com:$CD_PORT"
check_eq "GET, another name" "access.matches" false "$(acc matches)"
check_eq "GET, another name" "hosts_line uses SERVER_ADDR" \
    '"127.0.0.1 sensor.contoso.com"' "$(acc hosts_line)"

# the self-signed certificate is its own root and its own chain
dl "self-signed leaf DER" "format=der&part=leaf"
expect_download application/pkix-cert sensor.contoso.com.cer DER "$fp0"
dl "self-signed root PEM" "part=root"
expect_download application/x-pem-file sensor.contoso.com-root.pem PEM "$fp0"
dl "self-signed chain" "part=chain&format=pem"
expect_download application/x-pem-file sensor.contoso.com-chain.pem PEM "$fp0"

# ==== 2. a CA-signed certificate (root from the trust anchors) ====
upload "install good.pem" /api/certificate key=@"$F/good.key" \
    crt=@"$F/good.pem" chain=@"$F/chain-int-only.pem" use_crl=off name=sensor
save
expect_status 200
check_eq "install good.pem" "nginx serves it" "$fp_good" \
    "$(wait_served "$fp_good")"

get "GET CA-signed"
expect_jq '.certificate.self_signed == false'
check_eq "GET CA-signed" "names: SAN DNS, then SAN IP" \
    "sensor.contoso.com 127.0.0.1" "$(arr names)"
check_eq "GET CA-signed" "reached by SAN IP: matches" true "$(acc matches)"
check_eq "GET CA-signed" "no hosts_line" null "$(acc hosts_line)"
get "GET CA-signed, other name" -H "Host: other.example.com"
check_eq "GET CA-signed, other name" "access.address" \
    '"other.example.com"' "$(acc address)"
check_eq "GET CA-signed, other name" "access.matches" false "$(acc matches)"
check_eq "GET CA-signed, other name" "access.hosts_line" \
    '"127.0.0.1 sensor.contoso.com"' "$(acc hosts_line)"

dl "default is PEM leaf" ""
expect_download application/x-pem-file sensor.contoso.com.pem PEM "$fp_good"
check_eq "default is PEM leaf" "the leaf nginx serves" "$(fp_served)" "$fp_good"
dl "leaf DER" "format=der&part=leaf"
expect_download application/pkix-cert sensor.contoso.com.cer DER "$fp_good"
cp "$body" "$work/leaf.der"
check_eq "leaf DER" "same bytes as openssl's DER of good.pem" \
    "$(openssl x509 -in "$F/good.pem" -outform DER | od -An -tx1 -v | tr -d ' \n')" \
    "$(od -An -tx1 -v "$work/leaf.der" | tr -d ' \n')"
dl "leaf PEM" "format=pem&part=leaf"
expect_download application/x-pem-file sensor.contoso.com.pem PEM "$fp_good"
dl "chain PEM" "format=pem&part=chain"
expect_download application/x-pem-file sensor.contoso.com-chain.pem PEM \
    "$fp_good" "$fp_int" "$fp_root"
dl "root DER" "format=der&part=root"
expect_download application/pkix-cert sensor.contoso.com-root.cer DER "$fp_root"
dl "root PEM" "part=root&format=pem"
expect_download application/x-pem-file sensor.contoso.com-root.pem PEM "$fp_root"
dl "percent-encoded value" "part=%72oot"
expect_download application/x-pem-file sensor.contoso.com-root.pem PEM "$fp_root"

# HEAD: the same headers, no body
req "HEAD root DER" HEAD "$D?format=der&part=root" -I
save
expect_status 200
expect_header '^content-type: application/pkix-cert'
expect_header '^content-disposition: attachment; filename="sensor.contoso.com-root.cer"'
check_eq "HEAD root DER" "Content-Length of the DER root" \
    "$(openssl x509 -in "$F/root.pem" -outform DER | wc -c)" \
    "$(header content-length)"

# an installed chain without its root: the root comes from the anchors
chainf=$CD_STATE/current/chain.pem
if [ -w "$chainf" ] && cp "$chainf" "$work/chain.saved"; then
    cat "$F/int.pem" >"$chainf"
    dl "root from the trust anchors" "format=der&part=root"
    expect_download application/pkix-cert sensor.contoso.com-root.cer DER \
        "$fp_root"
    dl "chain completed from the trust anchors" "part=chain"
    expect_download application/x-pem-file sensor.contoso.com-chain.pem PEM \
        "$fp_good" "$fp_int" "$fp_root"
    cat "$work/chain.saved" >"$chainf"
else
    check_eq "root from the trust anchors" "$chainf is writable" yes no
fi

# ==== 3. wrong values: 400 with JSON ====
expect_400 "DER chain" "format=der&part=chain" "pem"
expect_error bad_request field format
expect_400 "format=xml" "format=xml" "pem or der"
expect_400 "format empty" "format="
expect_400 "format upper case" "format=PEM"
expect_400 "part=key" "part=key" "leaf, chain or root"
expect_400 "part=privkey" "part=privkey"
expect_400 "part=fullchain" "part=fullchain"
expect_400 "part=../privkey.pem" "part=../privkey.pem"
expect_400 "unknown parameter" "file=privkey.pem" "unknown parameter"
expect_400 "parameter without value" "part"
expect_400 "format twice" "format=pem&format=der" "more than once"
expect_400 "part twice" "part=leaf&part=leaf"
expect_400 "bad escape" "part=%zzroot"
expect_400 "NUL escape" "part=root%00"
expect_400 "long value" "part=$(printf 'r%.0s' $(seq 1 200))"

# ==== 4. methods, sign-in, cross-site, other paths ====
for m in POST PUT DELETE PATCH; do
    req "$m download" "$m" "$D" --data-binary x -H 'Content-Type: text/plain'
    save
    expect_status 405
    expect_code errors method_not_allowed
    expect_header '^allow: GET, HEAD$'
done
req_raw "download without credentials" GET "$D?part=leaf"
save
expect_status 401
expect_code errors not_signed_in
expect_no_text 'BEGIN'
req_raw "download, wrong token" GET "$D" \
    -H "Authorization: Bearer ${CD_TOKEN%?}x"
save
expect_status 401
dl "download started by another site" "part=root" \
    -H 'Sec-Fetch-Site: cross-site'
expect_status 403
expect_code errors forbidden
dl "download with a foreign Origin" "" -H 'Origin: https://evil.example'
expect_status 403
dl "download from the dialog" "part=root&format=der" \
    -H 'Sec-Fetch-Site: same-origin'
expect_status 200
for p in /api/certificate/key /api/certificate/privkey.pem \
    /api/certificate/download/key /api/certificate/download/privkey.pem \
    /api/certificate/private /api/key /privkey.pem /current/privkey.pem \
    /state/current/privkey.pem; do
    req "GET $p" GET "$p"
    save
    expect_status 404
done

# ==== 5. a wildcard-only certificate (validation=none) ====
upload "install wildcard" /api/certificate key=@"$F/good.key" \
    crt=@"$F/wildcard.pem" chain=@"$F/chain-int-only.pem" use_crl=off \
    name=wild validation=none
save
expect_status 200
get "wildcard, one label" -H "Host: sensor.contoso.com"
check_eq "wildcard, one label" "names" "*.contoso.com" "$(arr names)"
check_eq "wildcard, one label" "matches" true "$(acc matches)"
check_eq "wildcard, one label" "hosts_line" null "$(acc hosts_line)"
get "wildcard, two labels" -H "Host: a.sensor.contoso.com"
check_eq "wildcard, two labels" "matches" false "$(acc matches)"
check_eq "wildcard, two labels" "no host name for a line" null \
    "$(acc hosts_line)"
get "wildcard, bare domain" -H "Host: contoso.com"
check_eq "wildcard, bare domain" "matches" false "$(acc matches)"
dl "wildcard file name" "format=der"
expect_download application/pkix-cert wildcard.contoso.com.cer DER \
    "$(fp_file "$F/wildcard.pem")"

# ==== 6. a chain that ends nowhere: no root to give ====
upload "install untrusted" /api/certificate key=@"$F/good.key" \
    crt=@"$F/untrusted.pem" use_crl=off name=untrusted validation=none
save
expect_status 200
dl "root of an untrusted chain" "part=root"
expect_status 404
expect_code errors not_found
expect_detail not_found root
expect_header '^content-type: application/json'
dl "chain of an untrusted chain" "part=chain"
expect_download application/x-pem-file sensor.contoso.com-chain.pem PEM \
    "$(fp_file "$F/untrusted.pem")"

# ==== 7. no answer above carried key material ====
# the keys the stack held: the first (self-signed) one was replaced, so
# look at every release's key, plus good.key
t_name="no key material"
keys=("$F/good.key")
for k in "$CD_STATE"/releases/*/privkey.pem; do
    [ -r "$k" ] && keys+=("$k")
done
: >"$work/key-lines"
: >"$work/key-hex"
for k in "${keys[@]}"; do
    # each base64 line of the PEM (PKCS#8) form, and the tail of the DER
    openssl pkey -in "$k" 2>/dev/null | grep -v '^-----' >>"$work/key-lines"
    openssl pkey -in "$k" -outform DER 2>/dev/null | tail -c 96 |
        od -An -tx1 -v | tr -d ' \n' >>"$work/key-hex"
    echo >>"$work/key-hex"
done
check_eq "$t_name" "keys found to look for" 1 \
    "$([ "$(wc -l <"$work/key-lines")" -gt 20 ] && echo 1 || echo 0)"
leaked=
for f in "$work"/all/*.body; do
    if grep -q 'PRIVATE KEY' "$f" || grep -qFf "$work/key-lines" "$f"; then
        leaked="$leaked $f"
        continue
    fi
    hex=$(od -An -tx1 -v "$f" | tr -d ' \n')
    while read -r h; do
        [ -n "$h" ] && [ "${hex#*"$h"}" != "$hex" ] && leaked="$leaked $f"
    done <"$work/key-hex"
done
check_eq "$t_name" "none of $nsaved answers holds a private key" "" \
    "${leaked# }"
if grep -rqil 'privkey\|PRIVATE' "$work"/all/*.hdrs; then
    check_eq "$t_name" "no header names key material" "" \
        "$(grep -il 'privkey\|PRIVATE' "$work"/all/*.hdrs | tr '\n' ' ')"
else
    pass "no header names key material"
fi

finish
