# leaf.sh: sourced by tests that need a leaf with a given CRL distribution
# point (tests/cli/test_crl_http.sh, tests/integration/test_hostile.sh).
#
#   cd_leaf_with_cdp CSR CA_PEM CA_KEY URL OUT
#
# signs CSR with the CA as a TLS server leaf of mkfixtures.sh's profile
# (SAN sensor.contoso.com and 127.0.0.1), CRL distribution point URL, with
# one openssl process (mkfixtures.sh --leaf-with-cdp takes four).  Exits
# the test with a message when openssl fails.  Uses $OPENSSL if set.
cd_leaf_with_cdp() {
    cat >"$5.ext" <<EXT
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:sensor.contoso.com,IP:127.0.0.1
crlDistributionPoints=URI:$4
EXT
    "${OPENSSL:-openssl}" x509 -req -in "$1" -CA "$2" -CAkey "$3" \
        -days 365 -sha256 -extfile "$5.ext" -out "$5" 2>"$5.err" ||
        { echo "FAIL: openssl x509 -req"; cat "$5.err"; exit 1; }
}
