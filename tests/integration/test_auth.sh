#!/usr/bin/env bash
# Signing in through the real nginx (docs/API.md "Signing in"): the
# session cookie and its flags, who am I, sign-out, a password change
# ending the old cookie, a non-admin's 403, the same-origin rule on the
# sign-in, API tokens for install, validate and rollback, no / revoked /
# expired token, the guessing limits with Retry-After and the fail2ban
# line, and a request sent straight to the FastCGI socket claiming
# REMOTE_USER=admin.  Run by tests/lib/with-stack.sh.
# shellcheck source=tests/lib/itest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/itest.sh"

C=/api/certificate
V=/api/certificate/validate
LOG=$CD_RUN/logs/fcgi.log
flags='; HttpOnly; Secure; SameSite=Strict; Path=/'

# json_req NAME METHOD PATH JSON [CURL ARGS...]: with the cookie jar,
# the body on stdin (a password never on curl's command line)
json_req() {
    local n=$1 m=$2 p=$3 data=$4
    shift 4
    req_jar "$n" "$m" "$p" -H 'Content-Type: application/json' \
        --data-binary @- "$@" <<<"$data"
}

# The Set-Cookie header of the last answer, without CR.
set_cookie() {
    tr -d '\r' <"$hdrs" | sed -n 's/^[Ss]et-[Cc]ookie: //p'
}

# ---- the dialog's files are public; the API is not ----
req_raw "the dialog, signed out" GET /
expect_status 200
req_raw "the API, signed out" GET $C
expect_status 401
expect_code errors not_signed_in

# ---- sign in ----
sign_in "sign in" "$CD_USER" "$CD_PASS"
expect_status 200
expect_jq '.ok == true and .user == "admin" and .must_change_password == false and .idle_timeout == 900'
sc=$(set_cookie)
if printf '%s\n' "$sc" |
    grep -Eqx "cd_session=[A-Za-z0-9_-]{43}$(printf '%s' "$flags" | sed 's/[.]/\\./g')"; then
    pass "Set-Cookie: cd_session=<43 chars>$flags"
else
    fail "cookie flags" "cd_session=<43 chars>$flags" "$sc"
fi
req_jar "who am I" GET /api/session
expect_status 200
expect_jq '.user == "admin" and .via == "session"'
req_jar "status with the cookie" GET $C
expect_status 200
req_jar "sessions are checked by the handler, not nginx" GET /api/tokens
expect_status 200
expect_jq '.tokens | type == "array"'

# ---- the same-origin rule on the sign-in: scheme, host and port ----
data=$(jq -cn --arg u "$CD_USER" --arg p "$CD_PASS" '{user: $u, password: $p}')
JAR=$work/jar-x json_req "sign in from http:// (another scheme)" POST \
    /api/session "$data" -H "Origin: http://127.0.0.1:$CD_PORT"
expect_status 403
expect_code errors forbidden
JAR=$work/jar-x json_req "sign in from another port" POST /api/session \
    "$data" -H "Origin: https://127.0.0.1:$CD_HTTP_PORT"
expect_status 403
JAR=$work/jar-x json_req "sign in from the appliance's own page" POST \
    /api/session "$data" -H "Origin: https://127.0.0.1:$CD_PORT" \
    -H 'Sec-Fetch-Site: same-origin'
expect_status 200

# ---- tokens: install, validate and rollback ----
upload "validate with the token" $V key=@"$F/good.key" crt=@"$F/good.pem" \
    chain=@"$F/chain-int-only.pem" use_crl=off name=sensor
expect_status 200
upload "install with the token" $C key=@"$F/good.key" crt=@"$F/good.pem" \
    chain=@"$F/chain-int-only.pem" use_crl=off name=sensor
expect_status 200
req "rollback with the token" POST $C/rollback
expect_status 200
expect_jq '.ok == true'
req "who am I, token" GET /api/session
expect_status 200
expect_jq '.via == "token" and .user == "admin"'
req "a token cannot make tokens" POST /api/tokens \
    -H 'Content-Type: application/json' -d '{"name": "x"}'
expect_status 403
expect_error forbidden detail "an API token cannot do this; sign in"
req "a token cannot list tokens" GET /api/tokens
expect_status 403

# a token made in the dialog (the session), used, listed, revoked
json_req "make a token" POST /api/tokens '{"name": "curl test"}'
expect_status 201
tok=$(jget "$body" .token)
tid=$(jget "$body" .id)
check_eq "token" "the token is cdt_ID_SECRET" yes \
    "$([[ $tok =~ ^cdt_${tid}_[A-Za-z0-9_-]{43}$ ]] && echo yes || echo no)"
req_raw "the new token works" GET $C -H "Authorization: Bearer $tok"
expect_status 200
req_jar "it is listed, used" GET /api/tokens
expect_jq 'any(.tokens[]; .id == $i and .name == "curl test" and .last_used != null)' \
    --arg i "$tid"
expect_no_text "$tok"
req_jar "revoke it" DELETE "/api/tokens/$tid"
expect_status 200
req_raw "a revoked token" GET $C -H "Authorization: Bearer $tok"
expect_status 401
expect_code errors not_signed_in
req_jar "revoke it again" DELETE "/api/tokens/$tid"
expect_status 404
req_raw "no token" POST $C/rollback
expect_status 401

# an expired token: made for a day, then its end moved to the past
tok=$("$CD_TOP_BUILDDIR/certdialog-fcgi" -c "$CD_RUN/settings.json" \
    --create-token admin expiring --expires-days 1 2>/dev/null)
tid=${tok:4:12}
req_raw "a token for a day" GET $C -H "Authorization: Bearer $tok"
expect_status 200
tf=$CD_STATE/auth/tokens/$tid
jq -c '.expires = (now | floor) - 1' "$tf" >"$work/tok.json" &&
    cat "$work/tok.json" >"$tf"
req_raw "an expired token" GET $C -H "Authorization: Bearer $tok"
expect_status 401
expect_code errors not_signed_in
req_jar "listed as expired" GET /api/tokens
expect_jq 'any(.tokens[]; .id == $i and .expired == true)' --arg i "$tid"

# ---- straight to the FastCGI socket: REMOTE_USER confers nothing ----
t_name="FastCGI socket"
if ! command -v cgi-fcgi >/dev/null; then
    fail "cgi-fcgi" "cgi-fcgi (libfcgi-bin, scripts/deps.sh) installed" \
        "not found"
else
    for r in "GET $C" "POST $C/rollback"; do
        out=$(env -i REQUEST_METHOD="${r% *}" DOCUMENT_URI="${r#* }" \
            REQUEST_URI="${r#* }" REMOTE_USER=admin REMOTE_ADDR=127.0.0.1 \
            HTTPS=on HTTP_HOST=127.0.0.1 SERVER_ADDR=127.0.0.1 \
            CONTENT_LENGTH=0 timeout 20 cgi-fcgi -bind \
            -connect "$CD_RUN/fcgi.sock" </dev/null 2>&1 | tr -d '\r')
        last="cgi-fcgi -bind -connect fcgi.sock: $r, REMOTE_USER=admin"
        check_eq "FastCGI socket" "$r as REMOTE_USER=admin: 401" \
            "Status: 401 Unauthorized" "$(printf '%s\n' "$out" | head -n 1)" \
            "$last"
    done
    check_eq "FastCGI socket" "the rollback was logged as nobody's" yes \
        "$(tail -n 20 "$LOG" | grep -q '^certdialog: user=- POST /api/certificate/rollback 401' &&
            echo yes || echo no)"
fi

# ---- a non-admin: signs in, 403 on the certificate routes ----
J2=$work/jar-op
sign_in "operator signs in" "$CD_USER2" "$CD_PASS2" "$J2"
expect_status 200
JAR=$J2 req_jar "operator: status" GET $C
expect_status 403
expect_code errors forbidden
JAR=$J2 req_jar "operator: rollback" POST $C/rollback
expect_status 403
JAR=$J2 req_jar "operator: tokens" GET /api/tokens
expect_status 403

# ---- a password change ends the old cookie ----
J3=$work/jar-op2
sign_in "operator, second browser" "$CD_USER2" "$CD_PASS2" "$J3"
expect_status 200
new2="new-$CD_PASS2"
data=$(jq -cn --arg c "$CD_PASS2" --arg n "$new2" '{current: $c, new: $n}')
JAR=$J2 json_req "operator changes the password" PUT /api/session/password \
    "$data"
expect_status 200
sc=$(set_cookie)
check_eq "password change" "a new session cookie$flags" yes \
    "$(printf '%s\n' "$sc" | grep -Eq "^cd_session=[A-Za-z0-9_-]{43}; HttpOnly" &&
        echo yes || echo no)"
JAR=$J3 req_jar "the other browser is signed out" GET /api/session
expect_status 401
JAR=$J2 req_jar "this browser has its new session" GET /api/session
expect_status 200
expect_jq '.user == "operator"'
sign_in "the old password" "$CD_USER2" "$CD_PASS2" "$work/jar-old"
expect_status 401
expect_code errors sign_in_failed
sign_in "the new password" "$CD_USER2" "$new2" "$work/jar-new"
expect_status 200

# ---- sign out ----
req_jar "sign out" DELETE /api/session
expect_status 200
check_eq "sign out" "the cookie is cleared" "cd_session=$flags; Max-Age=0" \
    "$(set_cookie)"
req_jar "signed out" GET $C
expect_status 401
expect_code errors not_signed_in

# ---- guessing limits: the 6th wrong password from one address ----
# The six go back to back (the bodies made first): the 6th must come
# within a second of the 5th failure.
for i in 1 2 3 4 5 6; do
    jq -cn --arg p "not-the-password-$i" '{user: "mallory", password: $p}' \
        >"$work/guess$i.json"
done
for i in 1 2 3 4 5 6; do
    curl -s -k --max-time 30 -o "$work/guess$i.out" -D "$work/guess$i.hdrs" \
        -w '%{http_code}' -H 'Content-Type: application/json' \
        --data-binary @"$work/guess$i.json" "$CD_URL/api/session" \
        >"$work/guess$i.code" 2>/dev/null
done
for i in 1 2 3 4 5 6; do
    t_name="wrong password $i"
    last="curl -X POST $CD_URL/api/session (mallory, wrong password $i)"
    status=$(cat "$work/guess$i.code")
    cp "$work/guess$i.out" "$work/body"
    cp "$work/guess$i.hdrs" "$work/hdrs"
    if [ $i -le 5 ]; then
        expect_status 401
        expect_code errors sign_in_failed
    else
        expect_status 429
        expect_code errors too_many_attempts
        expect_header '^retry-after: [1-9][0-9]*$'
    fi
done
retry=$(tr -d '\r' <"$hdrs" | sed -n 's/^[Rr]etry-[Aa]fter: //p')
sign_in "the right password, too soon" "$CD_USER" "$CD_PASS" "$work/jar-m"
case $status in
429) pass "429 while the address waits" ;;
200) pass "200: the wait was over already (a slow machine)" ;;
*) fail "status" "429 (or 200 after the wait)" "$status" ;;
esac
line='certdialog: sign-in failed for user "mallory" from 127.0.0.1'
check_eq "fail2ban" "each failure logged: '$line'" 5 \
    "$(grep -cxF "$line" "$LOG")"
check_eq "fail2ban" "docs/API.md's failregex matches the line" 5 \
    "$(grep -E '^.*certdialog: sign-in failed for user ".*" from 127\.0\.0\.1$' "$LOG" |
        grep -c '"mallory"')"
check_eq "fail2ban" "no password in the log" 0 \
    "$(grep -c 'not-the-password' "$LOG")"
sleep "${retry:-1}"
sign_in "after Retry-After, the right password" "$CD_USER" "$CD_PASS" \
    "$work/jar-m"
expect_status 200

finish
