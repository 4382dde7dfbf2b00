#!/usr/bin/env bash
# mkfixtures.sh: makes the test fixtures of tests/data/FIXTURES.md with the
# openssl CLI; every validity window is relative to now.
#
#   mkfixtures.sh OUTDIR
#   mkfixtures.sh --leaf-with-cdp OUTDIR URL OUT.pem   (a good.key leaf by
#                 OUTDIR's int whose CRL DP is URL)
#   mkfixtures.sh --crl OUTDIR OUT.crl [PEMFILE-TO-REVOKE...]
set -eu
O=${OPENSSL:-openssl}

SUBJ_LEAF="/C=US/ST=Illinois/L=Springfield/O=Contoso Ltd/OU=Contoso Labs/CN=sensor.contoso.com"
SUBJ_INT="/C=US/O=Contoso Ltd/OU=Contoso PKI/CN=Contoso Test Intermediate"
SUBJ_ROOT="/C=US/O=Contoso Ltd/OU=Contoso PKI/CN=Contoso Test Root"

# One "now" for every validity window, so that "-1 day" and "+365 days"
# are 366 days apart to the second however long the run takes.
NOW=$(date -u '+%Y-%m-%d %H:%M:%S')
when() { date -u -d "$NOW UTC $1" +%Y%m%d%H%M%SZ; }

# The CA database and config for one issuer: ca_init NAME KEY CERT
ca_init() {
    local d=$W/ca-$1
    mkdir -p "$d/new"
    : >"$d/index.txt"
    echo 'unique_subject = no' >"$d/index.txt.attr"
    "$O" rand -hex 8 >"$d/serial"
    echo 01 >"$d/crlnumber"     # RFC 5280 5.2.3: every CRL has a number
    cat >"$d/ca.cnf" <<EOF
[ca]
default_ca = this
[this]
dir = $d
database = $d/index.txt
new_certs_dir = $d/new
serial = $d/serial
crlnumber = $d/crlnumber
certificate = $3
private_key = $2
default_md = sha256
default_crl_days = 30
policy = anything
copy_extensions = none
unique_subject = no
[anything]
countryName = optional
stateOrProvinceName = optional
localityName = optional
organizationName = optional
organizationalUnitName = optional
commonName = optional
emailAddress = optional
EOF
}

# An extension file: leaf profile, overridden by NAME=VALUE arguments
# (VALUE "-" drops the extension).
ext_leaf() {
    local bc="CA:FALSE" ku="critical,digitalSignature,keyEncipherment"
    local eku="serverAuth" san="DNS:sensor.contoso.com,IP:127.0.0.1"
    local cdp="URI:http://127.0.0.1:1/int.crl" akid="keyid" a
    for a in "$@"; do
        case $a in
        bc=*) bc=${a#bc=} ;; ku=*) ku=${a#ku=} ;; eku=*) eku=${a#eku=} ;;
        san=*) san=${a#san=} ;; cdp=*) cdp=${a#cdp=} ;; akid=*) akid=${a#akid=} ;;
        esac
    done
    echo "subjectKeyIdentifier=hash"
    [ "$akid" = - ] || echo "authorityKeyIdentifier=$akid"
    [ "$bc" = - ] || echo "basicConstraints=$bc"
    [ "$ku" = - ] || echo "keyUsage=$ku"
    [ "$eku" = - ] || echo "extendedKeyUsage=$eku"
    [ "$san" = - ] || echo "subjectAltName=$san"
    [ "$cdp" = - ] || echo "crlDistributionPoints=$cdp"
}

ext_ca() {
    echo "subjectKeyIdentifier=hash"
    echo "authorityKeyIdentifier=keyid"
    echo "basicConstraints=critical,CA:TRUE${2:+,$2}"
    echo "keyUsage=critical,keyCertSign,cRLSign"
    [ -z "$1" ] || echo "crlDistributionPoints=URI:$1"
}

# issue CA KEY SUBJ OUT START END EXTFILE [MD]
issue() {
    local ca=$1 key=$2 subj=$3 out=$4 start=$5 end=$6 ext=$7 md=${8:-sha256}
    "$O" req -new -key "$key" -subj "$subj" -out "$W/req.csr" 2>/dev/null
    "$O" ca -batch -config "$W/ca-$ca/ca.cnf" -in "$W/req.csr" -out "$out" \
        -startdate "$(when "$start")" -enddate "$(when "$end")" \
        -extfile "$ext" -md "$md" -notext 2>"$W/ca.log" ||
        { cat "$W/ca.log" >&2; exit 1; }
}

# leaf OUT KEY [SUBJ] [START END] [ext overrides...]
leaf() {
    local out=$1 key=$2 subj=${3:-$SUBJ_LEAF} start=${4:--1 day} end=${5:-+365 days}
    shift 5 2>/dev/null || shift $#
    ext_leaf "$@" >"$W/leaf.ext"
    issue int "$key" "$subj" "$D/$out" "$start" "$end" "$W/leaf.ext" "${MD:-sha256}"
}

genrsa() { "$O" genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$2" -out "$D/$1" 2>/dev/null; }

load_existing() {
    D=$1
    W=$(mktemp -d)
    trap 'rm -rf "$W"' EXIT
    ca_init int "$D/int.key" "$D/int.pem"
}

if [ "${1:-}" = --leaf-with-cdp ]; then
    load_existing "$2"
    ext_leaf "cdp=URI:$3" >"$W/leaf.ext"
    issue int "$D/good.key" "$SUBJ_LEAF" "$4" "-1 day" "+365 days" "$W/leaf.ext"
    exit 0
fi
if [ "${1:-}" = --crl ]; then
    load_existing "$2"
    out=$3
    shift 3
    for p in "$@"; do
        "$O" ca -config "$W/ca-int/ca.cnf" -valid "$p" >/dev/null 2>&1
        "$O" ca -config "$W/ca-int/ca.cnf" -revoke "$p" >/dev/null 2>&1
    done
    "$O" ca -config "$W/ca-int/ca.cnf" -gencrl -crldays 30 -out "$W/x.crl" 2>/dev/null
    "$O" crl -in "$W/x.crl" -outform DER -out "$out"
    exit 0
fi

D=${1:?usage: mkfixtures.sh OUTDIR}
mkdir -p "$D"
D=$(cd "$D" && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
printf '%s' 'Secr3t!pass' >"$D/pass.txt"
printf '%s' 'Wrong!pass1' >"$D/wrongpass.txt"
printf '%s' 'bad pass$word' >"$D/badchars.txt"

# keys (RSA-4096 is the slow one: made in the background meanwhile)
genrsa good4096.key 4096 &
k4096=$!
for k in root int other-root other-int good other; do genrsa $k.key 2048; done
genrsa weak1024.key 1024
genrsa rsa3072.key 3072
"$O" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$D/ec.key" 2>/dev/null
# keys nginx loads but must not serve (unusable_key)
"$O" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out "$D/ec521.key" 2>/dev/null
"$O" genpkey -algorithm ED25519 -out "$D/ed25519.key" 2>/dev/null
"$O" genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:2048 \
    -out "$W/dsa.param" 2>/dev/null
"$O" genpkey -paramfile "$W/dsa.param" -out "$D/dsa.key" 2>/dev/null

# roots and intermediates
ext_ca "" >"$W/root.ext"
"$O" req -x509 -new -key "$D/root.key" -subj "$SUBJ_ROOT" -days 3650 \
    -sha256 -out "$D/root.pem" -config /dev/null \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" 2>/dev/null
"$O" x509 -in "$D/root.pem" -outform DER -out "$D/root.der"
"$O" req -x509 -new -key "$D/other-root.key" -days 3650 -sha256 \
    -subj "/C=US/O=Fabrikam/OU=PKI/CN=Fabrikam Other Root" \
    -out "$D/other-root.pem" -config /dev/null \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" 2>/dev/null
ca_init root "$D/root.key" "$D/root.pem"
ca_init other "$D/other-root.key" "$D/other-root.pem"
ext_ca "http://127.0.0.1:1/root.crl" "pathlen:0" >"$W/int.ext"
issue root "$D/int.key" "$SUBJ_INT" "$D/int.pem" "-3650 days" "+3650 days" "$W/int.ext"
issue root "$D/int.key" "$SUBJ_INT" "$D/int-expired.pem" "-400 days" "-1 day" "$W/int.ext"
ext_ca "" "pathlen:0" >"$W/oint.ext"
issue other "$D/other-int.key" "/C=US/O=Fabrikam/OU=PKI/CN=Fabrikam Other Intermediate" \
    "$D/other-int.pem" "-3650 days" "+3650 days" "$W/oint.ext"
ca_init int "$D/int.key" "$D/int.pem"
ca_init oint "$D/other-int.key" "$D/other-int.pem"

cat "$D/int.pem" "$D/root.pem" >"$D/chain.pem"
cat "$D/root.pem" "$D/int.pem" >"$D/chain-reversed.pem"
cp "$D/int.pem" "$D/chain-int-only.pem"
cat "$D/int.pem" "$D/root.pem" "$D/other-root.pem" >"$D/chain-extra.pem"
cat "$D/int-expired.pem" "$D/root.pem" >"$D/chain-int-expired.pem"
{ printf '\xef\xbb\xbf'; sed 's/$/\r/' "$D/chain.pem"; } >"$D/chain-crlf.pem"
for c in int root; do
    echo "Bag Attributes: <No Attributes>"
    "$O" x509 -in "$D/$c.pem" -noout -subject -nameopt oneline | sed 's/^subject=/subject=/'
    "$O" x509 -in "$D/$c.pem" -noout -issuer -nameopt oneline
    cat "$D/$c.pem"
done >"$D/chain-bag.pem"

# leaves
leaf good.pem "$D/good.key"
"$O" x509 -in "$D/good.pem" -outform DER -out "$D/good.der"
sed 's/$/\r/' "$D/good.pem" >"$D/good-crlf.pem"
{ printf '\xef\xbb\xbf'; cat "$D/good.pem"; echo "trailing garbage line"; } >"$D/good-bom.pem"
"$O" rsa -in "$D/good.key" -traditional -out "$D/good-pkcs1.key" 2>/dev/null
"$O" pkcs8 -topk8 -nocrypt -in "$D/good.key" -outform DER -out "$D/good-key.der"
"$O" rsa -in "$D/good.key" -aes256 -traditional -passout "file:$D/pass.txt" \
    -out "$D/good-legacy.key" 2>/dev/null
"$O" pkcs8 -topk8 -v2 aes-256-cbc -in "$D/good.key" -passout "file:$D/pass.txt" \
    -out "$D/good-pbes2.key"
"$O" pkcs12 -export -inkey "$D/good.key" -in "$D/good.pem" -certfile "$D/chain.pem" \
    -passout "file:$D/pass.txt" -out "$D/good.p12"

leaf expired.pem "$D/good.key" "$SUBJ_LEAF" "-400 days" "-30 days"
leaf notyet.pem "$D/good.key" "$SUBJ_LEAF" "+30 days" "+400 days"
leaf soon.pem "$D/good.key" "$SUBJ_LEAF" "-300 days" "+10 days"
leaf weak1024.pem "$D/weak1024.key"
leaf dsa.pem "$D/dsa.key"
leaf ec521.pem "$D/ec521.key"
leaf ed25519.pem "$D/ed25519.key"
leaf rsa3072.pem "$D/rsa3072.key"
leaf ec.pem "$D/ec.key"
MD=sha1 leaf sha1.pem "$D/good.key"
leaf no-ou.pem "$D/good.key" "/C=US/ST=Illinois/L=Springfield/O=Contoso Ltd/CN=sensor.contoso.com"
leaf no-c-o.pem "$D/good.key" "/ST=Illinois/OU=Contoso Labs/CN=sensor.contoso.com"
leaf wildcard.pem "$D/good.key" "/C=US/O=Contoso Ltd/OU=Contoso Labs/CN=*.contoso.com" \
    "-1 day" "+365 days" "san=DNS:*.contoso.com"
leaf ca-leaf.pem "$D/good.key" "$SUBJ_LEAF" "-1 day" "+365 days" \
    "bc=critical,CA:TRUE" "ku=critical,keyCertSign,digitalSignature,keyEncipherment"
leaf client-only.pem "$D/good.key" "$SUBJ_LEAF" "-1 day" "+365 days" "eku=clientAuth"
leaf ldap-cdp.pem "$D/good.key" "$SUBJ_LEAF" "-1 day" "+365 days" \
    "cdp=URI:ldap://ldap.contoso.com/cn=crl"
leaf akid-critical.pem "$D/good.key" "$SUBJ_LEAF" "-1 day" "+365 days" "akid=critical,keyid"
leaf no-cdp.pem "$D/good.key" "$SUBJ_LEAF" "-1 day" "+365 days" "cdp=-"
leaf other-name.pem "$D/good.key" "/C=US/O=Contoso Ltd/OU=Contoso Labs/CN=other.example.com" \
    "-1 day" "+365 days" "san=DNS:other.example.com"
leaf three.pem "$D/weak1024.key" "/C=US/O=Contoso Ltd/CN=sensor.contoso.com" \
    "-400 days" "-30 days"
ext_leaf >"$W/leaf.ext"
issue oint "$D/good.key" "$SUBJ_LEAF" "$D/untrusted.pem" "-1 day" "+365 days" "$W/leaf.ext"
# OpenSSL's verify errors, each with its code
leaf no-akid.pem "$D/good.key" "$SUBJ_LEAF" "-1 day" "+365 days" "akid=none" "cdp=-"
# an intermediate that permits only example.com names, one that requires
# an explicit policy; each signs a plain leaf
genrsa nc-int.key 2048
genrsa pol-int.key 2048
{ ext_ca "" "pathlen:0"; echo "nameConstraints=critical,permitted;DNS:example.com"; } >"$W/nc.ext"
issue root "$D/nc-int.key" "/C=US/O=Contoso Ltd/OU=Contoso PKI/CN=Contoso NC Intermediate" \
    "$D/nc-int.pem" "-3650 days" "+3650 days" "$W/nc.ext"
{ ext_ca "" "pathlen:0"; echo "certificatePolicies=2.5.29.32.0"
  echo "policyConstraints=critical,requireExplicitPolicy:0"; } >"$W/pol.ext"
issue root "$D/pol-int.key" "/C=US/O=Contoso Ltd/OU=Contoso PKI/CN=Contoso Policy Intermediate" \
    "$D/pol-int.pem" "-3650 days" "+3650 days" "$W/pol.ext"
ca_init nc "$D/nc-int.key" "$D/nc-int.pem"
ca_init pol "$D/pol-int.key" "$D/pol-int.pem"
ext_leaf "cdp=-" >"$W/leaf.ext"
issue nc "$D/good.key" "$SUBJ_LEAF" "$D/nc-violation.pem" "-1 day" "+365 days" "$W/leaf.ext"
issue pol "$D/good.key" "$SUBJ_LEAF" "$D/no-policy.pem" "-1 day" "+365 days" "$W/leaf.ext"
# policyConstraints with no usable certificatePolicies (absent, or naming a
# policy twice): on an intermediate (it reuses pol-int's key) and on leaves
{ ext_ca "" "pathlen:0"; echo "policyConstraints=critical,inhibitPolicyMapping:0"; } >"$W/pcons.ext"
issue root "$D/pol-int.key" "/C=US/O=Contoso Ltd/OU=Contoso PKI/CN=Contoso Constraining Intermediate" \
    "$D/pcons-int.pem" "-3650 days" "+3650 days" "$W/pcons.ext"
ca_init pcons "$D/pol-int.key" "$D/pcons-int.pem"
issue pcons "$D/good.key" "$SUBJ_LEAF" "$D/pcons-orphan.pem" "-1 day" "+365 days" "$W/leaf.ext"
cat "$D/pcons-int.pem" "$D/root.pem" >"$D/chain-pcons.pem"
{ ext_leaf "cdp=-"; echo "policyConstraints=critical,requireExplicitPolicy:5"; } >"$W/pcleaf.ext"
issue int "$D/good.key" "$SUBJ_LEAF" "$D/pcons-leaf.pem" "-1 day" "+365 days" "$W/pcleaf.ext"
{ ext_leaf "cdp=-"; echo "certificatePolicies=1.3.6.1.4.1.55555.1,1.3.6.1.4.1.55555.1"
  echo "policyConstraints=critical,requireExplicitPolicy:5"; } >"$W/pcleaf.ext"
issue int "$D/good.key" "$SUBJ_LEAF" "$D/pcons-dup.pem" "-1 day" "+365 days" "$W/pcleaf.ext"
# serial number 0 (RFC 5280 4.1.2.2: positive), a dNSName with '_'
"$O" req -new -key "$D/good.key" -subj "$SUBJ_LEAF" -out "$W/req.csr" 2>/dev/null
ext_leaf "cdp=-" >"$W/leaf.ext"
"$O" x509 -req -in "$W/req.csr" -CA "$D/int.pem" -CAkey "$D/int.key" -set_serial 0 \
    -days 365 -sha256 -extfile "$W/leaf.ext" -out "$D/serial0.pem" 2>/dev/null
leaf partial-wildcard.pem "$D/good.key" "$SUBJ_LEAF" "-1 day" "+365 days" \
    "san=DNS:ba*.contoso.com" "cdp=-"
leaf ku-certsign.pem "$D/good.key" "$SUBJ_LEAF" "-1 day" "+365 days" \
    "ku=critical,digitalSignature,keyEncipherment,keyCertSign" "cdp=-"
leaf underscore.pem "$D/good.key" "$SUBJ_LEAF" "-1 day" "+365 days" \
    "san=DNS:foo_bar.contoso.com" "cdp=-"
cat "$D/nc-int.pem" "$D/root.pem" >"$D/chain-nc.pem"
cat "$D/pol-int.pem" "$D/root.pem" >"$D/chain-pol.pem"

# CRLs by int: a stale one first, then revoke revoked.pem
"$O" ca -config "$W/ca-int/ca.cnf" -gencrl -out "$W/stale.crl" \
    -crl_lastupdate "$(when '-20 days')" -crl_nextupdate "$(when '-10 days')" 2>/dev/null
"$O" crl -in "$W/stale.crl" -outform DER -out "$D/int-stale.crl"
leaf revoked.pem "$D/good.key"
"$O" ca -config "$W/ca-int/ca.cnf" -revoke "$D/revoked.pem" 2>/dev/null
"$O" ca -config "$W/ca-int/ca.cnf" -gencrl -crldays 30 -out "$D/int.crl.pem" 2>/dev/null
"$O" crl -in "$D/int.crl.pem" -outform DER -out "$D/int.crl"
"$O" ca -config "$W/ca-root/ca.cnf" -gencrl -crldays 30 -out "$W/root.crl" 2>/dev/null
"$O" crl -in "$W/root.crl" -outform DER -out "$D/root.crl"
# forged: int's name, other-root's key
"$O" req -x509 -new -key "$D/other-root.key" -subj "$SUBJ_INT" -days 30 \
    -out "$W/fake-int.pem" -config /dev/null 2>/dev/null
ca_init forged "$D/other-root.key" "$W/fake-int.pem"
"$O" ca -config "$W/ca-forged/ca.cnf" -gencrl -crldays 30 -out "$W/forged.crl" 2>"$W/ca.log" || { cat "$W/ca.log" >&2; exit 1; }
"$O" crl -in "$W/forged.crl" -outform DER -out "$D/int-forged.crl"

# the appliance's own kind of self-signed certificate
"$O" req -x509 -newkey rsa:2048 -nodes -keyout "$D/selfsigned.key" -sha256 -days 365 \
    -subj "/CN=sensor.contoso.com" -out "$D/selfsigned.pem" -config /dev/null \
    -addext "basicConstraints=CA:FALSE" -addext "subjectAltName=DNS:sensor.contoso.com" \
    -addext "extendedKeyUsage=serverAuth" 2>/dev/null

head -c 4096 /dev/urandom >"$D/garbage.bin"
: >"$D/empty.bin"

wait $k4096
leaf good4096.pem "$D/good4096.key"
"$O" pkcs8 -topk8 -v2 aes-256-cbc -in "$D/good4096.key" -passout "file:$D/pass.txt" \
    -out "$D/good4096-pbes2.key"

# self-checks: the fixtures are what their names say
chk() { "$@" >/dev/null 2>&1 || { echo "mkfixtures: check failed: $*" >&2; exit 1; }; }
chk "$O" verify -CAfile "$D/root.pem" -untrusted "$D/int.pem" "$D/good.pem"
! "$O" verify -CAfile "$D/root.pem" -untrusted "$D/int.pem" "$D/expired.pem" >/dev/null 2>&1 ||
    { echo "mkfixtures: expired.pem verifies" >&2; exit 1; }
crl_ok() { "$O" crl -in "$1" -inform DER -CAfile "$D/int.pem" -noout 2>&1 | grep -q 'verify OK'; }
crl_ok "$D/int.crl" || { echo "mkfixtures: int.crl does not verify" >&2; exit 1; }
! crl_ok "$D/int-forged.crl" || { echo "mkfixtures: forged CRL verifies" >&2; exit 1; }
serial=$("$O" x509 -in "$D/revoked.pem" -noout -serial | cut -d= -f2)
"$O" crl -in "$D/int.crl" -inform DER -noout -text | grep -qi "$serial" ||
    { echo "mkfixtures: revoked serial not in int.crl" >&2; exit 1; }
# last: every certificate above starts before this (a loaded machine may
# take minutes to make them all)
date +%s >"$D/made_at"
exit 0
