#!/usr/bin/env bash
# Crash consistency (docs/DESIGN.md "Installing"): whatever instant an
# installer dies, "current"
# names a whole release whose key matches its certificate, and nginx loads
# it.  Run by tests/lib/with-stack.sh; the installs are made by
# tests/lib/install_driver (the release store, fcgi/release.c, without
# FastCGI) on the stack's state directory, reloading the stack's nginx.
#
# 1. Each step: with CERTDIALOG_FAULT_STEP=NAME (a build configured with
#    --enable-fault-hooks) the driver dies by SIGKILL at step NAME of an
#    install, a rollback and a first start (cd_install_ensure on an empty
#    state); tests/lib/check_state.sh proves the invariant, the release
#    that is current is the old one before the swap and the new one after
#    it, and a normal install then succeeds, leaves no crash debris, and is
#    what nginx serves.
# 2. CD_KILLS (default 200) rounds of 2-4 concurrent installs of different
#    keys, one or all of them killed with SIGKILL after 0-CD_KILL_MAX_MS
#    (default 50) ms, each followed by the checker.  The rounds stop after
#    CD_CRASH_TIMEOUT seconds (default 600) whatever.
# 3. A worker of certdialog-fcgi killed between its swap and its reload:
#    its master reloads nginx, and GET /api/certificate's "served" says
#    what nginx serves (below).
# CD_CRASH_PARTS (default "1 2 3") runs only some of them; CD_CRASH_JOBS
# (default 2) is how many first starts of part 1 run at a time, each on its
# own state, next to its installs and rollbacks.
#
# Prints "crash: steps=K kills=N torn=T ..."; passes when T is 0.
#
# Run time: most of a step's cost is starting processes (openssl and jq
# take about 0.1 s each to start).  So the checker is sourced, not run
# (check_state, with its in-memory cache of what openssl and jq found by
# file digest: see tests/lib/check_state.sh), fingerprints are kept by the
# certificate's digest, and what nginx serves is compared with the
# expected certificate's PEM without another openssl.  Every check is
# still made on every state.
# shellcheck source=tests/lib/itest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/itest.sh"

driver=$CD_TOP_BUILDDIR/tests/lib/install_driver
checker=$CD_TOP_SRCDIR/tests/lib/check_state.sh
# shellcheck source=tests/lib/check_state.sh
. "$checker"
settings=$CD_RUN/settings.json
conf=$CD_RUN/nginx.conf
kills_want=${CD_KILLS:-200}
kill_max_ms=${CD_KILL_MAX_MS:-50}
time_limit=${CD_CRASH_TIMEOUT:-600}
t_start=$SECONDS

[ -x "$driver" ] ||
    { echo "FAIL: $driver is not built (make check builds it)"; exit 99; }

# Different keys, so that a release mixing two installs would show.
pairs=(good good4096 ec rsa3072)
pair_key() { echo "$F/$1.key"; }
pair_crt() { echo "$F/$1.pem"; }

# fp_cache: SHA-256 of a certificate file -> its fingerprint (fp_file)
declare -A fp_cache=()
# fp_of FILE: sets fp to FILE's certificate's fingerprint ("": none)
fp_of() {
    local h
    fp=
    h=$(sha256sum <"$1" 2>/dev/null) || return 0
    h=${h%% *}
    if [ -z "${fp_cache[$h]+y}" ]; then
        fp=$(fp_file "$1")
        [ -z "$fp" ] || fp_cache[$h]=$fp
    else
        fp=${fp_cache[$h]}
    fi
}
# pem_b64 TEXT: sets b64 to the base64 of TEXT's first certificate without
# line breaks ("": none); equal strings are equal DER
pem_b64() {
    b64=
    case $1 in
    *"-----BEGIN CERTIFICATE-----"*"-----END CERTIFICATE-----"*) ;;
    *) return 0 ;;
    esac
    b64=${1#*-----BEGIN CERTIFICATE-----}
    b64=${b64%%-----END CERTIFICATE-----*}
    b64=${b64//[$' \t\r\n']/}
}
declare -A pair_fp=() pair_b64=()
for p in "${pairs[@]}"; do
    fp_of "$(pair_crt "$p")"
    pair_fp[$p]=$fp
    pem_b64 "$(<"$(pair_crt "$p")")"
    pair_b64[$p]=$b64
    if [ -z "$fp" ] || [ -z "$b64" ]; then
        echo "FAIL: no certificate in $(pair_crt "$p")"
        exit 99
    fi
done

# wait_served_pair P: polls (about 5 s) until nginx serves pair P's
# certificate (one openssl s_client a try); prints its fingerprint, or
# that of what nginx served last
wait_served_pair() {
    local out
    for _ in $(seq 1 25); do
        out=$(timeout 10 openssl s_client -connect "127.0.0.1:$CD_PORT" \
            -servername sensor.contoso.com </dev/null 2>/dev/null)
        pem_b64 "$out"
        if [ "$b64" = "${pair_b64[$1]}" ]; then
            printf '%s\n' "${pair_fp[$1]}"
            return
        fi
        sleep 0.2
    done
    fp_served
}

n_torn=0
n_debris=0      # .tmp-* / .current-tmp-* left after a kill (expected)
n_partial=0     # non-current releases that are not whole
check_out=$work/check.out
partials=$work/partials
: >"$partials"

# check NAME [STATE [CONF]]: runs the checker; a failure is a torn state
check() {
    local name=$1 st=${2:-$CD_STATE} cf=${3-$conf}
    check_state "$st" ${cf:+"$cf"} >"$check_out" 2>&1
    judge "$name" "$?" "$check_out" "$st" "check_state.sh $st $cf"
}

# judge NAME RC OUT STATE WHAT: tallies a run of the checker (WHAT) that
# exited RC and printed the file OUT; a failure is a torn state, and STATE
# (the state checked, or a copy of it) is kept with the others
judge() {
    local name=$1 rc=$2 o=$3 st=$4 out='' l
    t_name=$name
    last=$5
    read -r -d '' out <"$o"
    case $out in *": note: leftover"*) n_debris=$((n_debris + 1)) ;; esac
    case $out in
    *": note: partial"*)
        n_partial=$((n_partial + 1))
        while IFS= read -r l; do
            case $l in *": note: partial"*) echo "$name: $l" ;; esac
        done <<<"$out" >>"$partials"
        ;;
    esac
    if [ "$rc" = 0 ]; then
        pass "invariant holds"
        return 0
    fi
    n_torn=$((n_torn + 1))
    : >"$work/body"
    : >"$work/hdrs"
    fail "invariant" "check_state.sh exit 0" "exit $rc: $(tr '\n' ' ' <"$o")"
    cp -a "$st" "$CD_TMP/torn-$n_torn" 2>/dev/null &&
        echo "     (state copied to $CD_TMP/torn-$n_torn; CD_KEEP_TMP=1 keeps it)"
    return 1
}

# no_debris NAME [OUT]: the last check (its output OUT) noted no
# leftovers or partial releases
no_debris() {
    local o=${2:-$check_out} out=''
    t_name=$1
    read -r -d '' out <"$o"
    if [[ $out == *": note:"* ]]; then
        fail "no crash debris after a normal install" "no notes" \
            "$(grep ': note:' "$o" | tr '\n' ' ')"
    else
        pass "no crash debris after a normal install"
    fi
}

# cur_fp: sets fp to the fingerprint of current's certificate
cur_fp() {
    fp_of "$CD_STATE/current/cert.pem"
}

# drive CMD ARGS...: the driver on the stack, its output in $work/drv
# (the braces keep bash's "Killed" notice out of the log)
drive() {
    { "$driver" -c "$settings" "$@" >"$work/drv" 2>&1; } 2>/dev/null
}

install_pair() {
    drive install "$(pair_key "$1")" "$(pair_crt "$1")" \
        "$F/chain-int-only.pem" "crash-$1"
}

# ---- the checker itself: it catches what it is meant to catch ----
selftest() {
    local st=$work/self want=$1 what=$2
    rm -rf "$st"
    cp -a "$CD_STATE" "$st"
    local d
    d=$st/$(readlink "$st/current")
    case $what in
    key)      cp "$(pair_key ec)" "$d/privkey.pem"; chmod 600 "$d/privkey.pem" ;;
    mode)     chmod 644 "$d/privkey.pem" ;;
    missing)  rm -f "$d/fullchain.pem" ;;
    meta)     echo '{"id": ' >"$d/meta.json" ;;
    metaid)   jq '.id = "20000101T000000Z-00000000"' "$d/meta.json" \
                  >"$d/meta.new" && mv "$d/meta.new" "$d/meta.json" ;;
    full)     cp "$(pair_crt ec)" "$d/fullchain.pem" ;;
    dangling) ln -sfn releases/20000101T000000Z-00000000 "$st/current" ;;
    none)     rm -f "$st/current" ;;
    ok)       ;;
    esac
    t_name="check_state.sh self-test: $what"
    last="check_state.sh on a copy of the state with $what broken"
    check_state "$st" >"$check_out" 2>&1
    check_eq "$t_name" "exit $want" "$want" "$?" "$last"
    # and as a script (its cache starts empty)
    if [ "$what" = ok ] || [ "$what" = key ]; then
        bash "$checker" "$st" >"$check_out" 2>&1
        check_eq "$t_name (run as a script)" "exit $want" "$want" "$?" \
            "bash $last"
    fi
}
selftest 0 ok    # first: the cache holds the whole release's answers
for w in key mode missing meta metaid full dangling none; do
    selftest 1 "$w"
done
selftest 0 ok

# ---- 1. every step ----
hooks=$("$driver" hooks)
install_steps="after_lock after_mkdir_tmp after_write_cert after_write_chain
 after_write_fullchain after_write_key after_write_meta after_fsync_release
 after_check after_rename_release after_fsync_releases after_symlink_tmp
 after_rename_current after_fsync_state after_prune_rename after_prune
 before_reload after_reload"
rollback_steps="after_symlink_tmp after_rename_current after_fsync_state
 after_prune_rename after_prune before_reload after_reload"
# the steps from which on "current" names the new release
is_after_swap() {
    case $1 in
    after_rename_current|after_fsync_state|after_prune*|*_reload) return 0 ;;
    esac
    return 1
}
n_steps=0
pi=0
# next_pair: sets p to the next of pairs, so that each install's key and
# certificate differ from the previous one's ("current is the old/new
# release" can tell them apart)
next_pair() { pi=$(((pi + 1) % ${#pairs[@]})); p=${pairs[$pi]}; }

# died NAME: the driver was killed at its step (status 137)
died() {
    check_eq "$1" "killed by SIGKILL at its step (exit 137)" 137 "$2" \
        "CERTDIALOG_FAULT_STEP=${1##* } install_driver"
}

# recover NAME: a normal install works, leaves no debris, nginx serves it
recover() {
    local p
    next_pair
    install_pair "$p"
    check_eq "$1" "a normal install afterwards succeeds" 0 "$?" \
        "install_driver install $p: $(<"$work/drv")"
    check "$1: after a normal install" && no_debris "$1"
    check_eq "$1" "nginx serves the new certificate" "${pair_fp[$p]}" \
        "$(wait_served_pair "$p")"
}

# First start (cd_install_ensure on an empty state, which makes a key
# first): nothing installed yet, no nginx to reload.  Each step has its own
# state directory, so the steps run in the background (CD_CRASH_JOBS
# lanes, default 2) while the installs and rollbacks wait for nginx; each
# result is kept in DIR (first_start) and told afterwards, in order
# (first_tell).
first_start() {
    local step=$1 r=$2 fresh=$2/state
    mkdir -p "$r"
    printf '{ "state_dir": "%s", "hostname": "sensor.contoso.com",
  "reload_command": "true" }\n' "$fresh" >"$r/settings.json"
    { CERTDIALOG_FAULT_STEP=$step "$driver" -c "$r/settings.json" \
        ensure >"$r/drv1" 2>&1; } 2>/dev/null
    echo $? >"$r/rc1"
    if is_after_swap "$step"; then
        check_state "$fresh" >"$r/check1" 2>&1
        echo $? >"$r/crc1"
        [ "$(<"$r/crc1")" = 0 ] || cp -a "$fresh" "$r/torn1"
    elif [ -e "$fresh/current" ] || [ -L "$fresh/current" ]; then
        echo yes >"$r/current"
    else
        echo no >"$r/current"
    fi
    "$driver" -c "$r/settings.json" ensure >"$r/drv2" 2>&1
    echo $? >"$r/rc2"
    check_state "$fresh" >"$r/check2" 2>&1
    echo $? >"$r/crc2"
    [ "$(<"$r/crc2")" = 0 ] || cp -a "$fresh" "$r/torn2"
    echo all >"$r/done"
}
# got FILE: what a first_start wrote there ("(none)": nothing)
got() {
    if [ -s "$1" ]; then echo "$(<"$1")"; else echo "(none)"; fi
}
first_tell() {
    local step=$1 r=$2 what="check_state.sh $2/state"
    n_steps=$((n_steps + 1))
    check_eq "first start killed at $step" "its steps ran" all \
        "$(got "$r/done")"
    died "first start killed at $step" "$(got "$r/rc1")"
    if is_after_swap "$step"; then
        judge "first start killed at $step" "$(got "$r/crc1")" \
            "$r/check1" "$r/torn1" "$what"
    else
        check_eq "first start killed at $step" "nothing is current" no \
            "$(got "$r/current")"
    fi
    check_eq "first start killed at $step" "the next start installs" 0 \
        "$(got "$r/rc2")" "install_driver ensure: $(got "$r/drv2")"
    judge "first start killed at $step: the next start" \
        "$(got "$r/crc2")" "$r/check2" "$r/torn2" "$what" &&
        no_debris "first start killed at $step: the next start" \
            "$r/check2"
}
lanes=${CD_CRASH_JOBS:-2}
[[ $lanes =~ ^[1-9][0-9]?$ ]] || lanes=2
lane_pids=()
# first_lane K: the steps K, K + lanes, ... one after the other
first_lane() {
    local i=0 step
    for step in $install_steps; do
        [ $((i % lanes)) = "$1" ] && first_start "$step" "$work/first-$i"
        i=$((i + 1))
    done
}
# the lanes are ours to stop if the test ends early
trap 'for lp in "${lane_pids[@]}"; do kill "$lp" 2>/dev/null; done
    rm -rf "$work"' EXIT

parts=${CD_CRASH_PARTS:-1 2 3}
part() { case " $parts " in *" $1 "*) return 0 ;; esac; return 1; }
t_part1=$SECONDS
if [ "$hooks" = 1 ] && part 1; then
    for ((k = 0; k < lanes; k++)); do
        first_lane "$k" >/dev/null 2>&1 &
        lane_pids+=($!)
    done
    for step in $install_steps; do
        n_steps=$((n_steps + 1))
        cur_fp
        old=$fp
        next_pair
        new=${pair_fp[$p]}
        CERTDIALOG_FAULT_STEP=$step install_pair "$p"
        died "install killed at $step" "$?"
        check "install killed at $step"
        if is_after_swap "$step"; then
            want=$new w=new
        else
            want=$old w=old
        fi
        cur_fp
        check_eq "install killed at $step" "current is the $w release" \
            "$want" "$fp"
        recover "install killed at $step"
    done

    for step in $rollback_steps; do
        n_steps=$((n_steps + 1))
        cur_fp
        old=$fp
        prev=$(readlink "$CD_STATE/current")
        CERTDIALOG_FAULT_STEP=$step drive rollback
        died "rollback killed at $step" "$?"
        check "rollback killed at $step"
        if is_after_swap "$step"; then
            check_eq "rollback killed at $step" "current moved back" 1 \
                "$([ "$(readlink "$CD_STATE/current")" != "$prev" ] &&
                    echo 1 || echo 0)"
        else
            cur_fp
            check_eq "rollback killed at $step" "current unchanged" "$old" \
                "$fp"
        fi
        recover "rollback killed at $step"
    done

    # first start: the lanes' results, in order
    for lp in "${lane_pids[@]}"; do
        wait "$lp"
    done
    lane_pids=()
    i=0
    for step in $install_steps; do
        first_tell "$step" "$work/first-$i"
        i=$((i + 1))
    done
elif part 1; then
    echo "# fault hooks not compiled in (configure --enable-fault-hooks):" \
        "the step-by-step kills are not run"
fi
t_part1=$((SECONDS - t_part1))

# ---- 2. random kills during concurrent installs ----
n_kills=0       # rounds
n_landed=0      # installers that died by the kill (not finished first)
n_done=0        # installers that finished
stopped=
t_loop=$SECONDS
part 2 || kills_want=0
while [ $n_kills -lt "$kills_want" ]; do
    if [ $((SECONDS - t_start)) -ge "$time_limit" ]; then
        stopped=" (stopped at the ${time_limit}s limit)"
        break
    fi
    n_kills=$((n_kills + 1))
    pids=()
    k=$((2 + RANDOM % 3))
    for _ in $(seq 1 $k); do
        p=${pairs[$((RANDOM % ${#pairs[@]}))]}
        "$driver" -c "$settings" install "$(pair_key "$p")" \
            "$(pair_crt "$p")" "$F/chain-int-only.pem" "kill-$p" \
            >/dev/null 2>&1 &
        pids+=($!)
    done
    sleep "$(printf '0.%03d' $((RANDOM % (kill_max_ms + 1))))"
    if [ $((RANDOM % 2)) = 0 ]; then
        kill -KILL "${pids[@]}" 2>/dev/null
    else
        kill -KILL "${pids[$((RANDOM % k))]}" 2>/dev/null
    fi
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null
        rc=$?
        case $rc in
        137) n_landed=$((n_landed + 1)) ;;
        0) n_done=$((n_done + 1)) ;;
        *) t_name="round $n_kills"
           fail "an unkilled installer" "exit 0 or 137" "exit $rc" ;;
        esac
    done
    if ! check "round $n_kills" >/dev/null; then
        sed 's/^/     | /' "$check_out"
        install_pair good >/dev/null 2>&1   # a whole state for what follows
    fi
done
t_kill=$((SECONDS - t_loop))

# one last normal install: the debris of the kills goes, nginx serves it
recover "after the kills"

# ---- 3. a worker of the service killed between its swap and its reload ----
# (issue 12, finding 5) The kills above are of install_driver; here a
# worker of certdialog-fcgi dies at before_reload of an upload through
# nginx.  Its master reloads nginx on the current release and checks it
# is served, so that without any other install nginx serves what
# GET /api/certificate reports, and the answer's "served" says so.  A
# second certdialog-fcgi, whose workers carry CERTDIALOG_FAULT_STEP, takes
# over the socket path nginx connects to (it unlinks and binds it): so
# this part runs last, the stack's own service no longer reachable.
fault_master() {
    local fm=$CD_TOP_BUILDDIR/certdialog-fcgi fsock=$CD_RUN/fcgi.sock
    local flog=$work/fault-fcgi.log fpid old_fp p p2 new_fp
    local tn="worker killed at before_reload"
    t_name=$tn
    CERTDIALOG_FAULT_STEP=before_reload "$fm" -c "$settings" -s "$fsock" \
        -w 1 2>"$flog" &
    fpid=$!
    for _ in $(seq 1 100); do
        grep -q 'workers serving' "$flog" && break
        kill -0 "$fpid" 2>/dev/null || break
        sleep 0.1
    done
    if ! grep -q 'workers serving' "$flog"; then
        fail "a second certdialog-fcgi starts" "workers serving" \
            "$(tr '\n' ' ' <"$flog")"
        kill -TERM "$fpid" 2>/dev/null
        wait "$fpid" 2>/dev/null
        return
    fi
    cur_fp
    old_fp=$fp
    for p in "${pairs[@]}"; do
        new_fp=$(fp_file "$(pair_crt "$p")")
        [ "$new_fp" != "$old_fp" ] && break
    done
    upload "worker killed at before_reload" /api/certificate \
        key=@"$(pair_key "$p")" crt=@"$(pair_crt "$p")" \
        chain=@"$F/chain-int-only.pem" use_crl=off name=fault-master
    expect_status 502
    cur_fp
    check_eq "$tn" "current is the new release (the swap happened)" \
        "$new_fp" "$fp"
    check_eq "$tn" "the master reloaded: nginx serves the new release" \
        "$new_fp" "$(wait_served "$new_fp")" \
        "openssl s_client -connect 127.0.0.1:$CD_PORT -servername sensor.contoso.com"
    # its reloader logs after its own handshake, which may end after ours
    for _ in $(seq 1 100); do
        grep -q 'after a worker died' "$flog" && break
        sleep 0.1
    done
    check_eq "$tn" "the master logged its reload and check" 1 \
        "$(grep -c 'after a worker died, release .*presents the new' "$flog")" \
        "grep 'after a worker died' $flog: $(grep 'worker' "$flog" | tr '\n' ' ')"
    req "$tn: GET" GET /api/certificate
    expect_status 200
    expect_jq '.certificate.sha256_fingerprint == $fp' --arg fp "$new_fp"
    expect_jq '.served.fingerprint == $fp' --arg fp "$new_fp"
    expect_jq '.served.matches == true'
    # the field can tell them apart: install_driver (no master of ours to
    # reload after it) killed between its swap and its reload
    for p2 in "${pairs[@]}"; do
        [ "$(fp_file "$(pair_crt "$p2")")" != "$new_fp" ] && break
    done
    CERTDIALOG_FAULT_STEP=before_reload install_pair "$p2"
    died "$tn: install_driver killed at before_reload" "$?"
    req "$tn: GET after a driver's kill" GET /api/certificate
    expect_status 200
    expect_jq '.served.fingerprint == $fp' --arg fp "$new_fp"
    expect_jq '.served.matches == false'
    kill -TERM "$fpid" 2>/dev/null
    wait "$fpid" 2>/dev/null
}
if [ "$hooks" = 1 ] && part 3; then
    fault_master
elif part 3; then
    echo "# fault hooks not compiled in: the worker kill is not run"
fi

if [ -s "$partials" ]; then
    echo "# releases left partial (not current) by a kill:"
    sed 's/^/#   /' "$partials"
fi
echo "crash: steps=$n_steps kills=$n_kills torn=$n_torn" \
    "(installers killed $n_landed, finished $n_done; states with debris" \
    "$n_debris, with partial releases $n_partial; steps took ${t_part1}s," \
    "kills ${t_kill}s)$stopped"
t_name="crash"
check_eq crash "no torn state" 0 "$n_torn"
finish
