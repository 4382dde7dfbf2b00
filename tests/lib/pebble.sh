# pebble.sh: an ACME server on loopback for tests/integration/test_acme.sh,
# sourced after itest.sh ($work set).  Debian's pebble and
# pebble-challtestsrv, on random free 127.0.0.1 ports, stopped by PID.
#
#   pebble_setup                 the listener's certificate (localhost,
#        127.0.0.1), a CA bundle with it ($PEBBLE_BUNDLE) and a wrapper
#        for uacme ($PEBBLE_UACME) that sees that bundle as the system's
#        (uacme trusts nothing else): a private mount namespace, root only
#   pebble_start HTTP_PORT [EAB] [VALIDITY]  starts challtestsrv (DNS: every
#        name is 127.0.0.1) and pebble validating http-01 on HTTP_PORT;
#        EAB=1 requires external account binding (kid-1, $PEBBLE_EAB_KEY);
#        VALIDITY: seconds a certificate is valid.  Sets PEBBLE_DIR (the
#        directory URL) and PEBBLE_ROOT (its root, from the management API)
#   pebble_stop                  stops both (SIGTERM, bounded wait, SIGKILL)
#   free_port                    prints a port nothing listens on
# The nonce rejections stay on (5 %): the client's retries are exercised.
PEBBLE_EAB_KEY=zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W
pebble_pids=()

free_port() {
    local p
    for _ in $(seq 1 100); do
        p=$((20000 + RANDOM % 40000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
        ss -Htan "sport = :$p" 2>/dev/null | grep -q . && continue
        echo "$p"
        return 0
    done
    return 1
}

pebble_setup() {
    local d=$work/pebble
    mkdir -p "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$d/key.pem" -out "$d/cert.pem" 2>/dev/null || return 1
    cat /etc/ssl/certs/ca-certificates.crt "$d/cert.pem" >"$d/bundle.pem"
    PEBBLE_BUNDLE=$d/bundle.pem
    PEBBLE_UACME=$d/uacme
    # only this process tree sees the bundle in place of the system's
    cat >"$PEBBLE_UACME" <<EOF
#!/bin/sh
exec unshare -m sh -c 'mount --bind "\$0" /etc/ssl/certs/ca-certificates.crt && exec /usr/bin/uacme "\$@"' "$PEBBLE_BUNDLE" "\$@"
EOF
    chmod 0755 "$PEBBLE_UACME"
}

pebble_start() {
    local http=$1 eab=${2:-0} validity=${3:-0} d=$work/pebble
    local dns mgmt listen tls keys=
    dns=$(free_port) && listen=$(free_port) && mgmt=$(free_port) &&
        tls=$(free_port) || return 1
    [ "$eab" = 1 ] && keys=', "externalAccountMACKeys": {"kid-1": "'$PEBBLE_EAB_KEY'"}'
    cat >"$d/config.json" <<EOF
{"pebble": {"listenAddress": "127.0.0.1:$listen",
  "managementListenAddress": "127.0.0.1:$mgmt",
  "certificate": "$d/cert.pem", "privateKey": "$d/key.pem",
  "httpPort": $http, "tlsPort": $tls, "ocspResponderURL": "",
  "externalAccountBindingRequired": $([ "$eab" = 1 ] && echo true || echo false)
  $( [ "$validity" != 0 ] && echo ", \"certificateValidityPeriod\": $validity")$keys}}
EOF
    pebble-challtestsrv -dns01 "127.0.0.1:$dns" -http01 "" -https01 "" \
        -tlsalpn01 "" -management "127.0.0.1:$(free_port)" \
        -defaultIPv4 127.0.0.1 -defaultIPv6 "" >"$d/challtestsrv.log" 2>&1 &
    pebble_pids+=($!)
    PEBBLE_VA_NOSLEEP=1 pebble -config "$d/config.json" \
        -dnsserver "127.0.0.1:$dns" >"$d/pebble.log" 2>&1 &
    pebble_pids+=($!)
    PEBBLE_DIR=https://localhost:$listen/dir
    PEBBLE_ROOT=$d/root-$listen.pem
    for _ in $(seq 1 100); do
        curl -s --max-time 2 --cacert "$d/cert.pem" -o "$PEBBLE_ROOT" \
            "https://127.0.0.1:$mgmt/roots/0" 2>/dev/null &&
            grep -q 'BEGIN CERTIFICATE' "$PEBBLE_ROOT" && return 0
        sleep 0.1
    done
    echo "pebble did not start:" >&2
    tail -n 5 "$d/pebble.log" "$d/challtestsrv.log" >&2
    return 1
}

pebble_stop() {
    local p
    for p in "${pebble_pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${pebble_pids[@]}"; do
        for _ in $(seq 1 50); do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    pebble_pids=()
}
