#!/usr/bin/env bash
# certdialog-check end to end on the fixtures of tests/data/FIXTURES.md:
# exit status, "ok", the exact set of error and warning codes, the summary,
# the documented messages, and usage errors (docs/API.md "Codes",
# certdialog-check(1)).
#
# Every format of docs/API.md "Upload fields" is accepted once and every code
# of docs/API.md "Codes" is
# produced from a real file at least once.  Nothing reaches the network:
# CRLs come from --crl-file, or from 127.0.0.1:1 where nothing listens.
#
# Environment (set by make check): CD_TOP_BUILDDIR, CD_FIXTURES.
# CD_CHECK_WRAPPER runs each certdialog-check under a tool, e.g.
#   CD_CHECK_WRAPPER="valgrind -q --leak-check=full --error-exitcode=99"
# shellcheck disable=SC2016 # '$name' in a jq filter is jq's (--arg)
set -u
top=${CD_TOP_BUILDDIR:-$PWD}
F=${CD_FIXTURES:-$top/tests/fixtures}
CHECK=$top/certdialog-check
read -r -a WRAP <<<"${CD_CHECK_WRAPPER:-}"
[ -x "$CHECK" ] || { echo "FAIL: no $CHECK"; exit 1; }
[ -f "$F/made_at" ] || { echo "FAIL: no fixtures in $F"; exit 1; }
at=$(($(cat "$F/made_at") + 60))
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

check() {
    "${WRAP[@]}" "$CHECK" "$@"
}

# shellcheck source=tests/lib/tally.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tally.sh"

# The codes of one top-level list ("errors" or "warnings") of an
# answer, space separated: codes LIST FILE.  "(no LIST list)" when FILE is
# not JSON or has no such list.
codes() {
    local c
    c=$(jget "$2" '.[$s] | if type == "array" then .[].code
        else error("no list") end' --arg s "$1") || c="(no $1 list)"
    printf '%s' "$c" | tr '\n' ' '
}

# matches GOT WANT: GOT (codes) holds every code of WANT and nothing else,
# except the codes WANT marks optional with a trailing "?".  WANT "-": none.
matches() {
    local rest=" $1 " c
    [ "$2" = - ] && { [ -z "$1" ]; return; }
    for c in $2; do
        case $c in
        *\?) rest=${rest/ ${c%\?} / } ;;
        *) case $rest in *" $c "*) rest=${rest/ $c / } ;; *) return 1 ;; esac ;;
        esac
    done
    [ -z "${rest// /}" ]
}

# run NAME EXIT ERRORS WARNINGS ARGS...: runs certdialog-check with the
# test CA, time and host name plus ARGS.  ERRORS and WARNINGS are the sets
# of codes expected (see matches).
run() {
    local name=$1 want=$2 errs=$3 warns=$4 rc why="" out=$tmp/out.json
    local err=$tmp/err got
    shift 4
    check --ca-file "$F/root.pem" --at "$at" --hostname sensor.contoso.com \
        "$@" >"$out" 2>"$err"
    rc=$?
    [ "$rc" = "$want" ] || why="$why; exit $rc, wanted $want"
    case $want in
    0) jtrue "$out" '.ok == true' || why="$why; no \"ok\": true" ;;
    1) jtrue "$out" '.ok == false' || why="$why; no \"ok\": false" ;;
    esac
    [ ! -s "$err" ] || why="$why; stderr not empty"
    got=$(codes errors "$out")
    matches "$got" "$errs" || why="$why; errors [$got], wanted [$errs]"
    got=$(codes warnings "$out")
    matches "$got" "$warns" || why="$why; warnings [$got], wanted [$warns]"
    if [ -z "$why" ]; then
        pass "$name"
    else
        fail "$name" "${why#; }" "$out" "$err"
        echo "     certdialog-check --ca-file $F/root.pem --at $at" \
            "--hostname sensor.contoso.com $*"
    fi
}

OFF="--crl-file $F/int.crl --crl-file $F/root.crl"
G="--key $F/good.key --chain $F/chain-int-only.pem"
printf 'Secr3t!pass\n' >"$tmp/pass-lf.txt"
printf 'Secr3t!pass\r\n' >"$tmp/pass-crlf.txt"
printf 'Secr3t!pass\n\n' >"$tmp/pass-2lf.txt"

# ---- accepted formats ----
run "PEM crt, PKCS#8 key, int-only chain" 0 - - --crt "$F/good.pem" $G $OFF
run "DER crt" 0 - - --crt "$F/good.der" $G $OFF
run "CRLF crt" 0 - - --crt "$F/good-crlf.pem" $G $OFF
run "BOM + trailing garbage crt" 0 - - --crt "$F/good-bom.pem" $G $OFF
run "PKCS#1 key" 0 - - --crt "$F/good.pem" --key "$F/good-pkcs1.key" --chain "$F/chain.pem" $OFF
run "DER PKCS#8 key" 0 - - --crt "$F/good.pem" --key "$F/good-key.der" --chain "$F/chain.pem" $OFF
run "legacy encrypted key" 0 - - --crt "$F/good.pem" --key "$F/good-legacy.key" --passphrase-file "$F/pass.txt" --chain "$F/chain.pem" $OFF
run "PBES2 encrypted key" 0 - - --crt "$F/good.pem" --key "$F/good-pbes2.key" --passphrase-file "$F/pass.txt" --chain "$F/chain.pem" $OFF
run "passphrase file ending in LF" 0 - - --crt "$F/good.pem" --key "$F/good-pbes2.key" --passphrase-file "$tmp/pass-lf.txt" --chain "$F/chain.pem" $OFF
run "passphrase file ending in CRLF" 0 - - --crt "$F/good.pem" --key "$F/good-legacy.key" --passphrase-file "$tmp/pass-crlf.txt" --chain "$F/chain.pem" $OFF
run "full chain" 0 - - --crt "$F/good.pem" --key "$F/good.key" --chain "$F/chain.pem" $OFF
run "reversed chain" 0 - - --crt "$F/good.pem" --key "$F/good.key" --chain "$F/chain-reversed.pem" $OFF
run "Bag Attributes chain" 0 - - --crt "$F/good.pem" --key "$F/good.key" --chain "$F/chain-bag.pem" $OFF
run "CRLF + BOM chain" 0 - - --crt "$F/good.pem" --key "$F/good.key" --chain "$F/chain-crlf.pem" $OFF
run "PKCS#12 crt, no key file" 0 - - --crt "$F/good.p12" --passphrase-file "$F/pass.txt" $OFF
run "RSA-4096" 0 - - --crt "$F/good4096.pem" --key "$F/good4096.key" --chain "$F/chain.pem" $OFF
run "RSA-4096 PBES2" 0 - - --crt "$F/good4096.pem" --key "$F/good4096-pbes2.key" --passphrase-file "$F/pass.txt" --chain "$F/chain.pem" $OFF
run "root only from the uploaded chain" 0 - - --crt "$F/good.pem" --key "$F/good.key" --chain "$F/chain.pem" $OFF --ca-file "$F/other-root.pem"
run "PEM CRL file" 0 - - --crt "$F/good.pem" $G --crl-file "$F/int.crl.pem" --crl-file "$F/root.crl"
run "no CRL check" 0 - - --crt "$F/good.pem" $G --no-crl

# ---- every code ----
# an encrypted key asking for more key derivation rounds than accepted
# (a worker would spend seconds on it); one at 5,000 rounds is fine
"${OPENSSL:-openssl}" pkcs8 -topk8 -in "$F/good.key" -passout file:"$F/pass.txt" \
    -iter 2000000 -out "$tmp/iter-2m.key" 2>/dev/null
"${OPENSSL:-openssl}" pkcs8 -topk8 -in "$F/good.key" -passout file:"$F/pass.txt" \
    -iter 5000 -out "$tmp/iter-5k.key" 2>/dev/null
run "PBKDF2 with 2,000,000 rounds" 1 unreadable_key - --crt "$F/good.pem" --key "$tmp/iter-2m.key" --passphrase-file "$F/pass.txt" --chain "$F/chain.pem" $OFF
run "PBKDF2 with 5,000 rounds" 0 - - --crt "$F/good.pem" --key "$tmp/iter-5k.key" --passphrase-file "$F/pass.txt" --chain "$F/chain.pem" $OFF
run passphrase_mismatch/wrong 1 passphrase_mismatch - --crt "$F/good.pem" --key "$F/good-pbes2.key" --passphrase-file "$F/wrongpass.txt" --chain "$F/chain.pem" $OFF
run passphrase_mismatch/none 1 passphrase_mismatch - --crt "$F/good.pem" --key "$F/good-legacy.key" --chain "$F/chain.pem" $OFF
run passphrase_mismatch/none-pbes2 1 passphrase_mismatch - --crt "$F/good.pem" --key "$F/good-pbes2.key" --chain "$F/chain.pem" $OFF
run passphrase_mismatch/p12 1 passphrase_mismatch - --crt "$F/good.p12" --passphrase-file "$F/wrongpass.txt" $OFF
run passphrase_charset 1 passphrase_charset - --crt "$F/good.pem" --key "$F/good-pbes2.key" --passphrase-file "$F/badchars.txt" --chain "$F/chain.pem" $OFF
run "passphrase_charset/only one newline stripped" 1 passphrase_charset - --crt "$F/good.pem" --key "$F/good-pbes2.key" --passphrase-file "$tmp/pass-2lf.txt" --chain "$F/chain.pem" $OFF
run chain_untrusted/other-ca 1 chain_untrusted - --crt "$F/untrusted.pem" --key "$F/good.key" --no-crl
run chain_untrusted/no-chain 1 chain_untrusted - --crt "$F/good.pem" --key "$F/good.key" --no-crl
run chain_untrusted/no-chain-other-root 1 chain_untrusted - --crt "$F/good.pem" --key "$F/good.key" --no-crl --ca-file "$F/other-root.pem"
run chain_untrusted/int-only-other-root 1 chain_untrusted - --crt "$F/good.pem" $G --no-crl --ca-file "$F/other-root.pem"
run expired 1 expired - --crt "$F/expired.pem" $G $OFF
run expired/intermediate 1 expired - --crt "$F/good.pem" --key "$F/good.key" --chain "$F/chain-int-expired.pem" --no-crl
run not_yet_valid 1 not_yet_valid - --crt "$F/notyet.pem" $G $OFF
run revoked 1 revoked - --crt "$F/revoked.pem" $G $OFF
run crl_unreachable 1 crl_unreachable - --crt "$F/good.pem" $G --crl-file "$F/root.crl"
run crl_invalid/stale 1 crl_invalid - --crt "$F/good.pem" $G --crl-file "$F/int-stale.crl" --crl-file "$F/root.crl"
run crl_invalid/forged 1 crl_invalid - --crt "$F/good.pem" $G --crl-file "$F/int-forged.crl" --crl-file "$F/root.crl"
run crl_not_http 1 crl_not_http - --crt "$F/ldap-cdp.pem" $G --crl-file "$F/root.crl"
run key_mismatch 1 key_mismatch - --crt "$F/good.pem" --key "$F/other.key" --chain "$F/chain.pem" $OFF
run weak_key/1024 1 weak_key - --crt "$F/weak1024.pem" --key "$F/weak1024.key" --chain "$F/chain.pem" $OFF
run weak_key/3072 1 weak_key - --crt "$F/rsa3072.pem" --key "$F/rsa3072.key" --chain "$F/chain.pem" $OFF
run weak_key/ec 1 weak_key - --crt "$F/ec.pem" --key "$F/ec.key" --chain "$F/chain.pem" $OFF
run signature_algorithm 1 signature_algorithm - --crt "$F/sha1.pem" $G $OFF
run subject_incomplete/ou 1 subject_incomplete - --crt "$F/no-ou.pem" $G $OFF
run subject_incomplete/c-o 1 subject_incomplete - --crt "$F/no-c-o.pem" $G $OFF
run wildcard_cn 1 wildcard_cn name_mismatch --crt "$F/wildcard.pem" $G $OFF --hostname host.example.org
run not_server_cert/ca 1 not_server_cert - --crt "$F/ca-leaf.pem" $G $OFF
run not_server_cert/client 1 not_server_cert - --crt "$F/client-only.pem" $G $OFF
run unreadable_key/garbage 1 unreadable_key - --crt "$F/good.pem" --key "$F/garbage.bin" --chain "$F/chain.pem" $OFF
run unreadable_key/empty 1 unreadable_key - --crt "$F/good.pem" --key "$F/empty.bin" --chain "$F/chain.pem" $OFF
run unreadable_key/crt-as-key 1 unreadable_key - --crt "$F/good.pem" --key "$F/good.pem" --chain "$F/chain.pem" $OFF
run unreadable_crt/garbage 1 unreadable_crt - --crt "$F/garbage.bin" $G $OFF
run unreadable_crt/key-as-crt 1 unreadable_crt - --crt "$F/good.key" $G $OFF
run unreadable_chain 1 "unreadable_chain chain_untrusted?" - --crt "$F/good.pem" --key "$F/good.key" --chain "$F/garbage.bin" $OFF
run missing_field/key 1 missing_field - --crt "$F/good.pem" --chain "$F/chain.pem" $OFF
run bad_name 1 bad_name - --crt "$F/good.pem" $G $OFF --name "bad/name"
run "good name" 0 - - --crt "$F/good.pem" $G $OFF --name "Sensor cert_2026-11.a"
run unhandled_critical_extension/akid-critical 1 unhandled_critical_extension - --crt "$F/akid-critical.pem" $G $OFF
run "unhandled_critical_extension/akid-critical, validation=none" 0 - unhandled_critical_extension --crt "$F/akid-critical.pem" $G $OFF --validation none
run three-at-once 1 "expired weak_key subject_incomplete" - --crt "$F/three.pem" --key "$F/weak1024.key" --chain "$F/chain.pem" $OFF

# ---- warnings ----
run name_mismatch 0 - name_mismatch --crt "$F/other-name.pem" $G $OFF
run name_mismatch/ip 0 - - --crt "$F/good.pem" $G $OFF --hostname 127.0.0.1
run no_crl_dp 0 - no_crl_dp --crt "$F/no-cdp.pem" $G --crl-file "$F/root.crl"
run "no_crl_dp/not with --no-crl" 0 - - --crt "$F/no-cdp.pem" $G --no-crl
run expires_soon 0 - expires_soon --crt "$F/soon.pem" $G $OFF
run chain_extra 0 - chain_extra --crt "$F/good.pem" --key "$F/good.key" --chain "$F/chain-extra.pem" $OFF

# ---- validation=none ----
run "none: expired is a warning" 0 - expired --crt "$F/expired.pem" $G $OFF --validation none
run "none: untrusted is a warning" 0 - chain_untrusted --crt "$F/untrusted.pem" --key "$F/good.key" --no-crl --validation none
run "none: key_mismatch still blocks" 1 key_mismatch - --crt "$F/good.pem" --key "$F/other.key" --chain "$F/chain.pem" $OFF --validation none
run "none: expired warns, key_mismatch blocks" 1 key_mismatch expired --crt "$F/expired.pem" --key "$F/other.key" --chain "$F/chain-int-only.pem" $OFF --validation none
run "none: wrong passphrase still blocks" 1 passphrase_mismatch - --crt "$F/good.pem" --key "$F/good-pbes2.key" --chain "$F/chain.pem" $OFF --validation none
run "mandatory given explicitly" 1 expired - --crt "$F/expired.pem" $G $OFF --validation mandatory

# ---- the summary: fingerprint and times as openssl sees them ----
summary() {
    local name="summary of good.pem" out=$tmp/sum.json why="" fp na nb
    check --ca-file "$F/root.pem" --at "$at" --crt "$F/good.pem" $G $OFF \
        >"$out" 2>/dev/null
    fp=$(openssl x509 -in "$F/good.pem" -noout -fingerprint -sha256 | sed 's/.*=//')
    nb=$(date -u -d "$(openssl x509 -in "$F/good.pem" -noout -startdate | sed 's/.*=//')" +%Y-%m-%dT%H:%M:%SZ)
    na=$(date -u -d "$(openssl x509 -in "$F/good.pem" -noout -enddate | sed 's/.*=//')" +%Y-%m-%dT%H:%M:%SZ)
    # cert_has WHAT FILTER [JQ ARGS...]: the certificate passes FILTER
    cert_has() {
        local what=$1 q=$2
        shift 2
        jtrue "$out" ".certificate | $q" "$@" || why="$why; $what"
    }
    cert_has "fingerprint $fp" '.sha256_fingerprint == $v' --arg v "$fp"
    cert_has "not_before $nb" '.not_before == $v' --arg v "$nb"
    cert_has "not_after $na" '.not_after == $v' --arg v "$na"
    cert_has subject_cn '.subject_cn == "sensor.contoso.com"'
    cert_has key_bits '.key_bits == 2048'
    cert_has signature_algorithm \
        '.signature_algorithm == "sha256WithRSAEncryption"'
    cert_has self_signed '.self_signed == false'
    cert_has san 'any(.san[]; . == "DNS:sensor.contoso.com")'
    cert_has crl_distribution_points \
        'any(.crl_distribution_points[]; . == "http://127.0.0.1:1/int.crl")'
    cert_has days_left '.days_left == 364 or .days_left == 365'
    if [ -z "$why" ]; then pass "$name"; else fail "$name" "${why#; }" "$out"; fi

    name="no certificate: \"certificate\": null"
    check --ca-file "$F/root.pem" --at "$at" --crt "$F/garbage.bin" $G $OFF \
        >"$out" 2>/dev/null
    if jtrue "$out" 'has("certificate") and .certificate == null'
    then pass "$name"
    else fail "$name" "certificate is not null" "$out"; fi
}
summary

# ---- the six documented messages, byte for byte ----
msg() {
    local code=$1 text=$2
    shift 2
    check --ca-file "$F/root.pem" --at "$at" "$@" >"$tmp/m.json" 2>/dev/null
    if jtrue "$tmp/m.json" 'any(.errors[], .warnings[];
        .code == $c and .message == $m)' --arg c "$code" --arg m "$text"
    then
        pass "message of $code"
    else
        fail "message of $code" "not found" "$tmp/m.json"
    fi
}
msg passphrase_mismatch "Passphrase does not match to the key" --crt "$F/good.pem" --key "$F/good-pbes2.key" $OFF
msg chain_untrusted "Cannot validate chain of trust. The provided Certificate and Root CA don't match." --crt "$F/untrusted.pem" --key "$F/good.key" --no-crl
msg expired "This SSL certificate has expired and isn't considered valid." --crt "$F/expired.pem" $G $OFF
msg revoked "This certificate has been revoked by the CRL and can't be trusted for a secure connection" --crt "$F/revoked.pem" $G $OFF
msg crl_unreachable "The CRL (Certificate Revocation List) location is not reachable. Verify the URL can be accessed from this appliance" --crt "$F/good.pem" $G --crl-file "$F/root.crl"
msg unhandled_critical_extension "A certificate of the chain has an extension marked critical that this appliance cannot process, so it cannot be trusted" --crt "$F/akid-critical.pem" $G $OFF

# ---- usage and I/O errors: exit 2, a message on stderr, nothing on stdout
# usage_err NAME STDERR-PATTERN ARGS...
usage_err() {
    local name=$1 pat=$2 rc
    shift 2
    check "$@" >"$tmp/u.out" 2>"$tmp/u.err"
    rc=$?
    if [ $rc = 2 ] && [ ! -s "$tmp/u.out" ] && grep -qE -- "$pat" "$tmp/u.err"; then
        pass "exit 2: $name"
    else
        fail "exit 2: $name" "exit $rc, wanted 2 and /$pat/ on stderr only" \
            "$tmp/u.out" "$tmp/u.err"
    fi
}
truncate -s 17M "$tmp/big.pem"
usage_err "no arguments" "--crt"
usage_err "unknown option" "bogus" --bogus
usage_err "option without its value" "key" --crt "$F/good.pem" --key
usage_err "stray argument" "stray" --crt "$F/good.pem" stray
usage_err "missing crt file" "nope.pem" --crt "$tmp/nope.pem" --key "$F/good.key"
usage_err "missing key file" "nope.key" --crt "$F/good.pem" --key "$tmp/nope.key"
usage_err "missing chain file" "nope-chain" --crt "$F/good.pem" --chain "$tmp/nope-chain.pem"
usage_err "missing passphrase file" "nope.txt" --crt "$F/good.pem" --passphrase-file "$tmp/nope.txt"
usage_err "directory as crt" "$tmp" --crt "$tmp"
usage_err "crt over 16 MiB" "big.pem" --crt "$tmp/big.pem"
usage_err "key over 16 MiB" "big.pem" --crt "$F/good.pem" --key "$tmp/big.pem"
usage_err "--at abc" "abc" --crt "$F/good.pem" --at abc
usage_err "--at -1" "-1" --crt "$F/good.pem" --at -1
usage_err "--at +1" "\\+1" --crt "$F/good.pem" --at +1
usage_err "--at empty" "--at" --crt "$F/good.pem" --at ""
usage_err "--at overflow" "99999999999999999999" --crt "$F/good.pem" --at 99999999999999999999
usage_err "--crl-timeout 0" "crl-timeout" --crt "$F/good.pem" --crl-timeout 0
usage_err "--validation maybe" "maybe" --crt "$F/good.pem" --validation maybe
usage_err "unreadable CRL file" "garbage.bin" --crt "$F/good.pem" --crl-file "$F/garbage.bin"
usage_err "missing CRL file" "nope.crl" --crt "$F/good.pem" --crl-file "$tmp/nope.crl"
usage_err "bad CA file" "." --crt "$F/good.pem" --ca-file "$F/garbage.bin"

# --help and --version: exit 0 on stdout
check --help >"$tmp/h.out" 2>"$tmp/h.err"
if [ $? = 0 ] && grep -q -- "--crt FILE" "$tmp/h.out" && [ ! -s "$tmp/h.err" ]
then pass "--help"; else fail "--help" "wrong output" "$tmp/h.out" "$tmp/h.err"; fi
check --version >"$tmp/v.out" 2>"$tmp/v.err"
if [ $? = 0 ] && grep -q '^certdialog-check [0-9]' "$tmp/v.out"
then pass "--version"; else fail "--version" "wrong output" "$tmp/v.out"; fi

# ---- --print-hosts-line IP: "IP name" for scripts ----
# hosts_ok NAME WANT-STDOUT ARGS...: exit 0, exactly WANT on stdout
# (printf %b: "\n" separates lines), nothing on stderr
hosts_ok() {
    local name=$1 want rc
    want=$(printf '%b' "$2")
    shift 2
    check "$@" >"$tmp/hl.out" 2>"$tmp/hl.err"
    rc=$?
    if [ $rc = 0 ] && [ "$(cat "$tmp/hl.out")" = "$want" ] &&
        [ "$(tail -c 1 "$tmp/hl.out" | od -An -c | tr -d ' ')" = '\n' ] &&
        [ ! -s "$tmp/hl.err" ]; then
        pass "hosts line: $name"
    else
        fail "hosts line: $name" "exit $rc, wanted 0 and '$want' + newline" \
            "$tmp/hl.out" "$tmp/hl.err"
    fi
}
# a CN-only certificate, and one that names only an IP address
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=cn-only.example \
    -keyout "$tmp/cn.key" -out "$tmp/cn-only.pem" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=10.0.0.9 \
    -addext subjectAltName=IP:10.0.0.9 \
    -keyout "$tmp/ip.key" -out "$tmp/ip-only.pem" 2>/dev/null
hosts_ok "PEM via --crt" "10.1.2.3 sensor.contoso.com" \
    --print-hosts-line 10.1.2.3 --crt "$F/good.pem"
hosts_ok "DER operand" "10.1.2.3 sensor.contoso.com" \
    --print-hosts-line 10.1.2.3 "$F/good.der"
hosts_ok "IPv6" "fd00::5 sensor.contoso.com" \
    --print-hosts-line fd00::5 "$F/good.pem"
hosts_ok "SAN DNS, not the CN" "192.0.2.7 other.example.com" \
    --print-hosts-line 192.0.2.7 "$F/other-name.pem"
hosts_ok "CN when there is no SAN DNS" "192.0.2.7 cn-only.example" \
    --print-hosts-line 192.0.2.7 "$tmp/cn-only.pem"
hosts_ok "one line per certificate" \
    "192.0.2.7 sensor.contoso.com\n192.0.2.7 other.example.com" \
    --print-hosts-line 192.0.2.7 --crt "$F/good.pem" "$F/other-name.pem"
hosts_ok "self-signed, as the appliance makes" "127.0.0.1 sensor.contoso.com" \
    --print-hosts-line 127.0.0.1 "$F/selfsigned.pem"
usage_err "--print-hosts-line bad IP" "10\\.1\\.2'" --print-hosts-line 10.1.2 "$F/good.pem"
usage_err "--print-hosts-line host name" "sensor.contoso.com" --print-hosts-line sensor.contoso.com "$F/good.pem"
usage_err "--print-hosts-line IPv4:port" "10.1.2.3:443" --print-hosts-line 10.1.2.3:443 "$F/good.pem"
usage_err "--print-hosts-line empty IP" "address" --print-hosts-line "" "$F/good.pem"
usage_err "--print-hosts-line no certificate" "needs a certificate" --print-hosts-line 10.1.2.3
usage_err "--print-hosts-line wildcard only" "no DNS host" --print-hosts-line 10.1.2.3 "$F/wildcard.pem"
usage_err "--print-hosts-line IP-only certificate" "no DNS host" --print-hosts-line 10.1.2.3 "$tmp/ip-only.pem"
usage_err "--print-hosts-line not a certificate" "garbage.bin" --print-hosts-line 10.1.2.3 "$F/garbage.bin"
usage_err "--print-hosts-line missing file" "nope.pem" --print-hosts-line 10.1.2.3 "$tmp/nope.pem"
usage_err "--print-hosts-line one bad of two" "wildcard.pem" --print-hosts-line 10.1.2.3 "$F/good.pem" "$F/wildcard.pem"
check --help >"$tmp/h.out" 2>&1
if grep -q -- "--print-hosts-line IP" "$tmp/h.out"
then pass "--help names --print-hosts-line"
else fail "--help names --print-hosts-line" "not in --help" "$tmp/h.out"; fi

echo "$npass passed, $nfail failed"
[ $nfail = 0 ]
