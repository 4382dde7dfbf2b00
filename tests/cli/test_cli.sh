#!/usr/bin/env bash
# certdialog-check end to end on the fixtures: exit codes and JSON.
# Every format of SPEC §1 accepted once, every code of SPEC §2 produced
# from a real file at least once.  Nothing reaches the network: CRLs come
# from --crl-file, or from 127.0.0.1:1 where nothing listens.
set -u
top=${CD_TOP_BUILDDIR:-$PWD}
F=${CD_FIXTURES:-$top/tests/fixtures}
CHECK=$top/certdialog-check
[ -x "$CHECK" ] || { echo "no $CHECK"; exit 1; }
[ -f "$F/made_at" ] || { echo "no fixtures in $F"; exit 1; }
at=$(($(cat "$F/made_at") + 60))
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

# The codes of one top-level list ("errors" or "warnings") of an answer.
codes() {
    awk -v want="\"$1\"" '
        /^  "[a-z_]+":/ { sec = $1; sub(":", "", sec) }
        sec == want && /"code":/ { gsub(/[",]/, "", $2); print $2 }' "$2" |
        sort | tr '\n' ' '
}

# run NAME EXPECTED_EXIT "codes that must be errors" "codes that must be
# warnings" ARGS...: codes "-" means none at all.
run() {
    local name=$1 want=$2 errs=$3 warns=$4 rc c out=$tmp/out.json
    shift 4
    "$CHECK" --ca-file "$F/root.pem" --at "$at" --hostname sensor.contoso.com \
        "$@" >"$out" 2>"$tmp/err"
    rc=$?
    local ok=1 why=""
    [ "$rc" = "$want" ] || { ok=0; why="exit $rc, wanted $want"; }
    errors=$(codes errors "$out")
    warnings=$(codes warnings "$out")
    if [ "$errs" = - ]; then
        [ -z "$errors" ] || { ok=0; why="$why; unexpected errors: $errors"; }
    else
        for c in $errs; do
            case " $errors" in *" $c "*) ;; *) ok=0; why="$why; no error $c (errors: $errors)" ;; esac
        done
    fi
    if [ "$warns" = - ]; then
        [ -z "$warnings" ] || { ok=0; why="$why; unexpected warnings: $warnings"; }
    else
        for c in $warns; do
            case " $warnings" in *" $c "*) ;; *) ok=0; why="$why; no warning $c (warnings: $warnings)" ;; esac
        done
    fi
    if [ $ok = 1 ]; then
        pass=$((pass + 1))
        echo "ok   $name"
    else
        fail=$((fail + 1))
        echo "FAIL $name: $why"
        echo "     certdialog-check $*"
        sed 's/^/     | /' "$out" "$tmp/err" | head -40
    fi
}

OFF="--crl-file $F/int.crl --crl-file $F/root.crl"
G="--key $F/good.key --chain $F/chain-int-only.pem"

# ---- accepted formats ----
run "PEM crt, PKCS#8 key, int-only chain" 0 - - --crt "$F/good.pem" $G $OFF
run "DER crt" 0 - - --crt "$F/good.der" $G $OFF
run "CRLF crt" 0 - - --crt "$F/good-crlf.pem" $G $OFF
run "BOM + trailing garbage crt" 0 - - --crt "$F/good-bom.pem" $G $OFF
run "PKCS#1 key" 0 - - --crt "$F/good.pem" --key "$F/good-pkcs1.key" --chain "$F/chain.pem" $OFF
run "DER PKCS#8 key" 0 - - --crt "$F/good.pem" --key "$F/good-key.der" --chain "$F/chain.pem" $OFF
run "legacy encrypted key" 0 - - --crt "$F/good.pem" --key "$F/good-legacy.key" --passphrase-file "$F/pass.txt" --chain "$F/chain.pem" $OFF
run "PBES2 encrypted key" 0 - - --crt "$F/good.pem" --key "$F/good-pbes2.key" --passphrase-file "$F/pass.txt" --chain "$F/chain.pem" $OFF
run "full chain" 0 - - --crt "$F/good.pem" --key "$F/good.key" --chain "$F/chain.pem" $OFF
run "reversed chain" 0 - - --crt "$F/good.pem" --key "$F/good.key" --chain "$F/chain-reversed.pem" $OFF
run "Bag Attributes chain" 0 - - --crt "$F/good.pem" --key "$F/good.key" --chain "$F/chain-bag.pem" $OFF
run "CRLF + BOM chain" 0 - - --crt "$F/good.pem" --key "$F/good.key" --chain "$F/chain-crlf.pem" $OFF
run "PKCS#12 crt, no key file" 0 - - --crt "$F/good.p12" --passphrase-file "$F/pass.txt" $OFF
run "RSA-4096" 0 - - --crt "$F/good4096.pem" --key "$F/good4096.key" --chain "$F/chain.pem" $OFF
run "RSA-4096 PBES2" 0 - - --crt "$F/good4096.pem" --key "$F/good4096-pbes2.key" --passphrase-file "$F/pass.txt" --chain "$F/chain.pem" $OFF
run "root only from the uploaded chain" 0 - - --crt "$F/good.pem" --key "$F/good.key" --chain "$F/chain.pem" $OFF --ca-file "$F/other-root.pem"
run "no CRL check" 0 - - --crt "$F/good.pem" $G --no-crl

# ---- every code ----
run passphrase_mismatch/wrong 1 passphrase_mismatch - --crt "$F/good.pem" --key "$F/good-pbes2.key" --passphrase-file "$F/wrongpass.txt" --chain "$F/chain.pem" $OFF
run passphrase_mismatch/none 1 passphrase_mismatch - --crt "$F/good.pem" --key "$F/good-legacy.key" --chain "$F/chain.pem" $OFF
run passphrase_mismatch/p12 1 passphrase_mismatch - --crt "$F/good.p12" --passphrase-file "$F/wrongpass.txt" $OFF
run passphrase_charset 1 passphrase_charset - --crt "$F/good.pem" --key "$F/good-pbes2.key" --passphrase-file "$F/badchars.txt" --chain "$F/chain.pem" $OFF
run chain_untrusted/other-ca 1 chain_untrusted - --crt "$F/untrusted.pem" --key "$F/good.key" --no-crl
run chain_untrusted/no-chain 1 chain_untrusted - --crt "$F/good.pem" --key "$F/good.key" --no-crl
run chain_untrusted/wrong-root 1 chain_untrusted - --crt "$F/good.pem" $G --no-crl --ca-file "$F/other-root.pem"
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
run unreadable_chain 1 unreadable_chain - --crt "$F/good.pem" --key "$F/good.key" --chain "$F/garbage.bin" $OFF
run missing_field/key 1 missing_field - --crt "$F/good.pem" --chain "$F/chain.pem" $OFF
run bad_name 1 bad_name - --crt "$F/good.pem" $G $OFF --name "bad/name"
run validation_failed/strict-akid-critical 1 validation_failed - --crt "$F/akid-critical.pem" $G $OFF
run three-at-once 1 "expired weak_key subject_incomplete" - --crt "$F/three.pem" --key "$F/weak1024.key" --chain "$F/chain.pem" $OFF

# ---- warnings ----
run name_mismatch 0 - name_mismatch --crt "$F/other-name.pem" $G $OFF
run name_mismatch/ip-ok 0 - - --crt "$F/good.pem" $G $OFF --hostname 127.0.0.1
run no_crl_dp 0 - no_crl_dp --crt "$F/no-cdp.pem" $G --crl-file "$F/root.crl"
run expires_soon 0 - expires_soon --crt "$F/soon.pem" $G $OFF
run chain_extra 0 - chain_extra --crt "$F/good.pem" --key "$F/good.key" --chain "$F/chain-extra.pem" $OFF

# ---- validation=none ----
run "none: expired is a warning" 0 - expired --crt "$F/expired.pem" $G $OFF --validation none
run "none: untrusted is a warning" 0 - chain_untrusted --crt "$F/untrusted.pem" --key "$F/good.key" --no-crl --validation none
run "none: key_mismatch still blocks" 1 key_mismatch - --crt "$F/good.pem" --key "$F/other.key" --chain "$F/chain.pem" $OFF --validation none
run "none: wrong passphrase still blocks" 1 passphrase_mismatch - --crt "$F/good.pem" --key "$F/good-pbes2.key" --chain "$F/chain.pem" $OFF --validation none

# ---- the six documented messages, byte for byte ----
msg() {
    local code=$1 text=$2
    shift 2
    "$CHECK" --ca-file "$F/root.pem" --at "$at" "$@" >"$tmp/m.json" 2>/dev/null
    if grep -qF "\"message\": \"$text\"" "$tmp/m.json" && grep -qF "\"code\": \"$code\"" "$tmp/m.json"; then
        pass=$((pass + 1)); echo "ok   message of $code"
    else
        fail=$((fail + 1)); echo "FAIL message of $code"
    fi
}
msg passphrase_mismatch "Passphrase does not match to the key" --crt "$F/good.pem" --key "$F/good-pbes2.key" $OFF
msg chain_untrusted "Cannot validate chain of trust. The provided Certificate and Root CA don't match." --crt "$F/untrusted.pem" --key "$F/good.key" --no-crl
msg expired "This SSL certificate has expired and isn't considered valid." --crt "$F/expired.pem" $G $OFF
msg revoked "This certificate has been revoked by the CRL and can't be trusted for a secure connection" --crt "$F/revoked.pem" $G $OFF
msg crl_unreachable "The CRL (Certificate Revocation List) location is not reachable. Verify the URL can be accessed from this appliance" --crt "$F/good.pem" $G --crl-file "$F/root.crl"

# ---- usage errors: exit 2, a message, nothing on stdout ----
usage_err() {
    local name=$1
    shift
    "$CHECK" "$@" >"$tmp/u.out" 2>"$tmp/u.err"
    local rc=$?
    if [ $rc = 2 ] && [ ! -s "$tmp/u.out" ] && [ -s "$tmp/u.err" ]; then
        pass=$((pass + 1)); echo "ok   usage: $name"
    else
        fail=$((fail + 1)); echo "FAIL usage: $name (exit $rc)"
    fi
}
usage_err "no arguments"
usage_err "unknown option" --bogus
usage_err "missing crt file" --crt "$tmp/nope.pem" --key "$F/good.key"
usage_err "--at abc" --crt "$F/good.pem" --at abc
usage_err "--validation maybe" --crt "$F/good.pem" --validation maybe
usage_err "unreadable CRL file" --crt "$F/good.pem" --crl-file "$F/garbage.bin"
usage_err "bad CA file" --crt "$F/good.pem" --ca-file "$F/garbage.bin"

echo "$pass passed, $fail failed"
[ $fail = 0 ]
