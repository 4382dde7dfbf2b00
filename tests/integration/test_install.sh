#!/usr/bin/env bash
# Installing (docs/DESIGN.md "Installing") end to end: an accepted upload
# becomes the
# certificate nginx serves, a refused one changes nothing, rollback
# brings the previous one back, self-signed mode needs confirm=yes, and
# concurrent installs leave one whole release current.  Run by
# tests/lib/with-stack.sh.
# shellcheck disable=SC2016 # '$name' in a jq filter is jq's (--arg)
# shellcheck source=tests/lib/itest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/itest.sh"

S=(chain=@"$F/chain-int-only.pem" use_crl=off)
fp_good=$(fp_file "$F/good.pem")
fp_4096=$(fp_file "$F/good4096.pem")

hist_count() {
    jget "$body" '.history | length'
}

# the top-level "release" of an install answer
release_of() {
    jget "$1" '.release | strings'
}

# reload_ok: the answer's "reload": {"ok": true, ...}
expect_reload_ok() {
    expect_jq '.reload.ok == true'
}

# expect_fp FP: the answer's certificate has this fingerprint
expect_fp() {
    expect_jq '.certificate.sha256_fingerprint == $fp' --arg fp "$1"
}

# served_is NAME WHAT FP: nginx serves FP within a few seconds
served_is() {
    check_eq "$1" "$2" "$3" "$(wait_served "$3")" \
        "openssl s_client -connect 127.0.0.1:$CD_PORT -servername sensor.contoso.com"
}

# ---- the start: one self-signed release, nothing to roll back to ----
req "start" GET /api/certificate
expect_status 200
fp0=$(jget "$body" .certificate.sha256_fingerprint)
served_is "start" "nginx serves the first certificate" "$fp0"
req "rollback with one release" POST /api/certificate/rollback
expect_status 409
expect_code errors no_previous_release
served_is "rollback with one release" "served unchanged" "$fp0"

# ---- install good.pem ----
upload "install good" /api/certificate key=@"$F/good.key" \
    crt=@"$F/good.pem" "${S[@]}" name=sensor
expect_status 200
expect_jq '.ok == true'
expect_reload_ok
expect_fp "$fp_good"
rel_good=$(release_of "$body")
check_eq "install good" "the answer names a release" 1 \
    "$([ -n "$rel_good" ] && echo 1 || echo 0)"
served_is "install good" "nginx serves good.pem" "$fp_good"
check_eq "install good" "current -> the answer's release" \
    "releases/$rel_good" "$(readlink "$CD_STATE/current")"
req "after install" GET /api/certificate
expect_status 200
expect_fp "$fp_good"
expect_jq '.certificate.mode == "ca-signed"'
expect_jq '.certificate.name == "sensor"'
check_eq "after install" "history holds 2" 2 "$(hist_count)"
expect_jq '.history | length == 2'

# ---- lock-out: a key nginx loads but cannot serve ----
# A DSA key passes nginx -t and nginx reloads on it, but then no TLS
# handshake succeeds and the admin is locked out: refused in every mode.
openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:2048 \
    -out "$work/dsa.param" 2>/dev/null
openssl genpkey -paramfile "$work/dsa.param" -out "$work/dsa.key" 2>/dev/null
openssl req -x509 -new -key "$work/dsa.key" -sha256 -days 30 \
    -subj "/C=US/O=Contoso/OU=OT/CN=sensor.contoso.com" \
    -addext "subjectAltName=DNS:sensor.contoso.com" \
    -out "$work/dsa.pem" 2>/dev/null
upload "lock-out: DSA with validation=none" /api/certificate \
    key=@"$work/dsa.key" crt=@"$work/dsa.pem" use_crl=off \
    validation=none name=dsa
expect_status 422
expect_code errors unusable_key
served_is "lock-out" "nginx serves good.pem still" "$fp_good"

# ---- a reload that does not happen: the installer goes back by itself --
# nginx's master stopped for a moment: the SIGHUP waits, no new workers
# come within reload_timeout, the handshake would see the old certificate.
master=$(cat "$CD_RUN/nginx.pid")
kill -STOP "$master"
upload "reload that does not happen" /api/certificate \
    key=@"$F/good4096.key" crt=@"$F/good4096.pem" "${S[@]}" name=big
kill -CONT "$master"
expect_status 500
expect_jq '.ok == false'
expect_code errors install_failed
expect_jq '.rolled_back == true and .reload.ok == false'
expect_jq '.release == $r' --arg r "$rel_good"
expect_jq '.errors[0].detail | contains("is active again")'
served_is "reload that does not happen" "nginx serves good.pem again" \
    "$fp_good"
check_eq "reload that does not happen" "current -> the release before" \
    "releases/$rel_good" "$(readlink "$CD_STATE/current")"
req "after the failed reload" GET /api/certificate
expect_fp "$fp_good"
expect_jq '.history | length == 2'
# the installer checked what nginx serves: the answer says so
upload "install good again" /api/certificate key=@"$F/good.key" \
    crt=@"$F/good.pem" "${S[@]}" name=sensor
expect_status 200
expect_jq '.served.ok == true and .rolled_back == false'
expect_jq '.served.detail | contains("presents the new certificate")'
rel_good=$(release_of "$body")

# the release directory (docs/DESIGN.md "Installing")
d=$CD_STATE/releases/$rel_good
for f in cert.pem privkey.pem chain.pem fullchain.pem meta.json; do
    check_eq "release files" "$f exists" yes \
        "$([ -s "$d/$f" ] && echo yes || echo no)"
done
check_eq "release files" "privkey.pem is 0600" 600 \
    "$(stat -c %a "$d/privkey.pem" 2>/dev/null)"
check_eq "release files" "cert.pem is good.pem" "$fp_good" \
    "$(fp_file "$d/cert.pem")"
# fullchain.pem: the leaf, then the intermediate (what nginx sends)
openssl crl2pkcs7 -nocrl -certfile "$d/fullchain.pem" 2>/dev/null |
    openssl pkcs7 -print_certs 2>/dev/null |
    awk '/^-----BEGIN/ { n++ } n == 2' >"$work/second.pem"
check_eq "release files" "fullchain.pem's 2nd certificate is int.pem" \
    "$(fp_file "$F/int.pem")" "$(fp_file "$work/second.pem")"
check_eq "release files" "chain.pem holds int.pem" yes \
    "$(fp_file "$d/chain.pem" | grep -qx "$(fp_file "$F/int.pem")" &&
        echo yes || echo "no: $(fp_file "$d/chain.pem")")"
check_eq "release files" "fullchain.pem starts with cert.pem" "$fp_good" \
    "$(fp_file "$d/fullchain.pem")"

# ---- a refused upload changes nothing ----
upload "install expired" /api/certificate key=@"$F/good.key" \
    crt=@"$F/expired.pem" "${S[@]}" name=sensor
expect_status 422
expect_codes errors expired
expect_jq 'has("release") | not'
sleep 1
check_eq "install expired" "nginx still serves good.pem" "$fp_good" \
    "$(fp_served)"
check_eq "install expired" "current unchanged" "releases/$rel_good" \
    "$(readlink "$CD_STATE/current")"
upload "install key mismatch" /api/certificate key=@"$F/other.key" \
    crt=@"$F/good.pem" "${S[@]}" name=sensor validation=none
expect_status 422
expect_codes errors key_mismatch
check_eq "install key mismatch" "current unchanged" "releases/$rel_good" \
    "$(readlink "$CD_STATE/current")"

# ---- a second install, then rollback ----
upload "install good4096" /api/certificate key=@"$F/good4096.key" \
    crt=@"$F/good4096.pem" "${S[@]}" name=sensor-4096
expect_status 200
expect_reload_ok
rel_4096=$(release_of "$body")
served_is "install good4096" "nginx serves good4096.pem" "$fp_4096"
check_eq "install good4096" "current -> the answer's release" \
    "releases/$rel_4096" "$(readlink "$CD_STATE/current")"
req "rollback" POST /api/certificate/rollback
expect_status 200
expect_jq '.ok == true'
expect_reload_ok
expect_fp "$fp_good"
check_eq "rollback" "the answer names the first release" "$rel_good" \
    "$(release_of "$body")"
served_is "rollback" "nginx serves good.pem again" "$fp_good"
check_eq "rollback" "current -> the first release" "releases/$rel_good" \
    "$(readlink "$CD_STATE/current")"
req "after rollback" GET /api/certificate
expect_jq '.certificate.name == "sensor"'

# ---- self-signed mode ----
upload "self-signed unconfirmed" /api/certificate mode=self-signed
expect_status 422
expect_codes errors missing_field
expect_error missing_field field confirm
sleep 0.5
check_eq "self-signed unconfirmed" "served unchanged" "$fp_good" \
    "$(fp_served)"
upload "self-signed confirm=no" /api/certificate mode=self-signed confirm=no
expect_status 422
expect_codes errors missing_field
upload "self-signed" /api/certificate mode=self-signed confirm=yes
expect_status 200
expect_jq '.ok == true'
expect_reload_ok
expect_jq '.certificate.mode == "self-signed"'
fp_ss=$(jget "$body" .certificate.sha256_fingerprint)
rel_ss=$(release_of "$body")
check_eq "self-signed" "a new certificate" new \
    "$([ -n "$fp_ss" ] && [ "$fp_ss" != "$fp0" ] &&
        [ "$fp_ss" != "$fp_good" ] && echo new || echo "old:$fp_ss")"
served_is "self-signed" "nginx serves the new self-signed one" "$fp_ss"
c=$CD_STATE/releases/$rel_ss/cert.pem
subj=$(openssl x509 -in "$c" -noout -subject -nameopt RFC2253 2>/dev/null |
    sed 's/^subject=//')
iss=$(openssl x509 -in "$c" -noout -issuer -nameopt RFC2253 2>/dev/null |
    sed 's/^issuer=//')
check_eq "self-signed" "subject = issuer" "$subj" "$iss"
check_eq "self-signed" "CN = the host name" yes \
    "$(case ",$subj," in *,CN=sensor.contoso.com,*) echo yes ;;
        *) echo "no: $subj" ;; esac)"
check_eq "self-signed" "RSA 2048, sha256WithRSAEncryption" \
    "2048 sha256WithRSAEncryption" \
    "$(openssl x509 -in "$c" -noout -text 2>/dev/null |
        sed -n 's/.*Public-Key: (\([0-9]*\) bit).*/\1/p' | head -n 1) $(
        openssl x509 -in "$c" -noout -text 2>/dev/null |
        sed -n 's/^ *Signature Algorithm: //p' | head -n 1)"
check_eq "self-signed" "SAN has the host name" yes \
    "$(openssl x509 -in "$c" -noout -ext subjectAltName 2>/dev/null |
        grep -q 'DNS:sensor.contoso.com' && echo yes || echo no)"
# a self-signed dry run installs nothing
upload "self-signed validate" /api/certificate/validate mode=self-signed \
    confirm=yes
expect_status 200
sleep 0.5
check_eq "self-signed validate" "served unchanged" "$fp_ss" "$(fp_served)"

# ---- 8 concurrent installs ----
: >"$work/handshakes"
(
    # handshakes during the burst: every one must succeed with a whole set
    for _ in $(seq 1 60); do
        fp_served >>"$work/handshakes"
        [ -e "$work/burst-done" ] && break
    done
) &
hs_pid=$!
pids=()
for i in 1 2 3 4 5 6 7 8; do
    if [ $((i % 2)) = 1 ]; then k=good; else k=good4096; fi
    curl -s -k --max-time 60 -H "@$work/auth.hdr" \
        -o "$work/c$i.json" -w '%{http_code}' \
        -F key=@"$F/$k.key" -F crt=@"$F/$k.pem" \
        -F chain=@"$F/chain-int-only.pem" -F use_crl=off -F "name=burst-$i" \
        "$CD_URL/api/certificate" >"$work/c$i.status" 2>/dev/null &
    pids+=($!)
done
for p in "${pids[@]}"; do
    wait "$p"
done
touch "$work/burst-done"
# the handshake loop ends by itself (bounded); give it 15 s at most
for _ in $(seq 1 150); do
    kill -0 "$hs_pid" 2>/dev/null || break
    sleep 0.1
done
kill "$hs_pid" 2>/dev/null
wait "$hs_pid" 2>/dev/null

ids=
for i in 1 2 3 4 5 6 7 8; do
    t_name="concurrent install $i"
    last="curl -F key=@... -F crt=@... (burst $i)"
    st=$(cat "$work/c$i.status" 2>/dev/null)
    if [ "$st" = 200 ] &&
        jtrue "$work/c$i.json" '.ok == true'; then
        pass "200 ok"
    else
        cp "$work/c$i.json" "$work/body" 2>/dev/null
        : >"$work/hdrs"
        fail "status and ok" "200, \"ok\": true" "${st:-none}"
    fi
    ids="$ids $(release_of "$work/c$i.json")"
done
t_name="after the burst"
last="readlink $CD_STATE/current"
cur=$(readlink "$CD_STATE/current")
cur_id=${cur#releases/}
case " $ids " in
*" $cur_id "*) pass "current ($cur_id) is one of the 8 answers' releases" ;;
*) fail "current" "one of:$ids" "$cur" ;;
esac
d=$CD_STATE/releases/$cur_id
check_eq "after the burst" "current/privkey.pem is 0600" 600 \
    "$(stat -c %a "$d/privkey.pem" 2>/dev/null)"
pub_key=$(openssl pkey -in "$d/privkey.pem" -pubout 2>/dev/null)
pub_crt=$(openssl x509 -in "$d/cert.pem" -noout -pubkey 2>/dev/null)
check_eq "after the burst" "privkey.pem matches cert.pem" "$pub_crt" \
    "$pub_key"
check_eq "after the burst" "fullchain.pem starts with cert.pem" \
    "$(fp_file "$d/cert.pem")" "$(fp_file "$d/fullchain.pem")"
fp_cur=$(fp_file "$d/cert.pem")
check_eq "after the burst" "current cert is good or good4096" yes \
    "$([ "$fp_cur" = "$fp_good" ] || [ "$fp_cur" = "$fp_4096" ] &&
        echo yes || echo "no: $fp_cur")"
served_is "after the burst" "nginx serves current's certificate" "$fp_cur"
req "after the burst" GET /api/certificate
expect_fp "$fp_cur"
expect_jq '.certificate.release == $r' --arg r "$cur_id"

# every handshake during the burst succeeded with a known certificate
t_name="handshakes during the burst"
bad=$(grep -v -x -e "$fp_good" -e "$fp_4096" -e "$fp_ss" \
    "$work/handshakes" | sort | uniq -c | tr '\n' ';')
nhs=$(grep -c . "$work/handshakes")
last="openssl s_client during the burst ($nhs handshakes)"
if [ -z "$bad" ] && [ "$nhs" -gt 0 ]; then
    pass "$nhs handshakes, all with a whole known certificate"
else
    : >"$work/body"
    fail "handshakes" "every handshake succeeds with good, good4096 or the self-signed" \
        "${bad:-no handshakes}"
fi
t_name="nginx error.log"
last="grep emerg|key values mismatch $CD_RUN/logs/error.log"
if grep -Eq '\[emerg\]|key values mismatch|SSL_CTX_use' \
    "$CD_RUN/logs/error.log" 2>/dev/null; then
    : >"$work/body"
    fail "nginx reloads" "no [emerg]/key mismatch" \
        "$(grep -E '\[emerg\]|key values mismatch|SSL_CTX_use' \
            "$CD_RUN/logs/error.log" | head -n 3)"
else
    pass "no failed reload"
fi

# ---- history and pruning: at most releases_kept (5) + current ----
req "history" GET /api/certificate
expect_status 200
n=$(hist_count)
check_eq "history" "1 <= kept releases <= 6" yes \
    "$([ "$n" -ge 1 ] && [ "$n" -le 6 ] && echo yes || echo "no: $n")"
ndirs=$(find "$CD_STATE/releases" -mindepth 1 -maxdepth 1 -type d \
    ! -name '.*' | wc -l)
check_eq "history" "release dirs on disk = history" "$n" "$ndirs"
check_eq "history" "no leftover temporary releases" 0 \
    "$(find "$CD_STATE" -maxdepth 2 -name '.*tmp*' | wc -l)"
ncur=$(jget "$body" '[.history[] | select(.current == true)] | length')
check_eq "history" "exactly one release is current" 1 "$ncur"
# every kept release is whole
t_name="kept releases"
for d in "$CD_STATE"/releases/*/; do
    d=${d%/}
    a=$(openssl pkey -in "$d/privkey.pem" -pubout 2>/dev/null)
    b=$(openssl x509 -in "$d/cert.pem" -noout -pubkey 2>/dev/null)
    check_eq "kept release ${d##*/}" "key matches cert, 0600" "$b 600" \
        "$a $(stat -c %a "$d/privkey.pem")"
done

finish
