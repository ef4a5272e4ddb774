# shellcheck shell=bash
# Phase fencing (only when named): how long the etcd guard leaves the address unheld when its
# holder dies, with etcd's leader and without it (issue 27).
#
# One etcd 3.4 member on each of h1, h2, h3 (h3 is also the client); SwiftCARP with --etcd on
# all three on h1 (the holder, skew 0) and h2 (the backup, skew 50), advbase 1. Four cases, FENCING_RUNS (5) times each, etcd's leader moved where the case
# wants it first (etcdctl move-leader):
#   crash-follower  h1's host crashes (daemon and etcd member killed, its port down); leader on h3
#   crash-leader    the same with etcd's leader on h1
#   partition       h1 cut off from everyone (the bridge drops its port), leader on h1; healed
#                   once h1 has let go
#   freeze          h1's daemon and its probe responder stopped (SIGSTOP), as a paused VM is,
#                   until 2 s after h2 took over; leader on h3
# The client (probe.py, 200 probes a second) gives the takeover: the last probe the old holder
# answered to the first the new one answered. The scripts' events give two holders at once
# (vip-up/vip-down add and remove the address), and etcd's logs when a new leader was elected.
# FENCING_SETTINGS ("3/1000/100 3/500/50 2/500/50") lists the settings to measure, each
# --etcd-ttl/etcd's --election-timeout/its --heartbeat-interval (etcd's defaults are 1000 and
# 100 ms); crash-follower, crash-leader and partition are run under each, freeze only under the
# first. FENCING_CASES names the cases to run instead (e.g. "crash-follower crash-leader": the
# takeover after a crash, as the guard's wait for the holder's lease changes it).
# Benchmarks/fencing.py does the arithmetic and prints the table.
FENCING_RUNS=${FENCING_RUNS:-5}
FENCING_SETTINGS=${FENCING_SETTINGS:-3/1000/100 3/500/50 2/500/50}
FENCING_TTL=3
declare -A FENCING_ETCD=()   # host -> pid of its etcd member
FENCING_ELECTION=1000
FENCING_HEARTBEAT=100
FENCING_PROBE=""

# fencing_since EARLIER LATER: LATER - EARLIER, or "-" if LATER is "-".
fencing_since() { if [ "$2" = - ]; then echo -; else sub "$2" "$1"; fi; }
fencing_calc() { python3 "$ROOT/Benchmarks/fencing.py" "$@"; }
fencing_endpoints() { echo "http://$(host_address 1):2379,http://$(host_address 2):2379,http://$(host_address 3):2379"; }

# fencing_member HOST: starts HOST's etcd member on its data directory (a new cluster the first
# time; after a crash the same member rejoins from what it had written).
fencing_member() {
    local host=$1 n cluster="" url
    for n in 1 2 3; do cluster="$cluster${cluster:+,}h$n=http://$(host_address "$n"):2380"; done
    url="http://$(host_address "$host"):2379"
    ip netns exec "$(ns "$host")" etcd --name "$host" --data-dir "$WORK/fencing-etcd.$host" \
        --listen-client-urls "$url" --advertise-client-urls "$url" \
        --listen-peer-urls "http://$(host_address "$host"):2380" \
        --initial-advertise-peer-urls "http://$(host_address "$host"):2380" \
        --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token "$NS_PREFIX-f" \
        --election-timeout "$FENCING_ELECTION" --heartbeat-interval "$FENCING_HEARTBEAT" \
        --pre-vote --logger zap --log-outputs stderr >> "$WORK/fencing-etcd.$host.log" 2>&1 &
    FENCING_ETCD[$host]=$!
    disown "$!"
}

# fencing_ctl COMMAND...: etcdctl from the client's host, against all three members.
fencing_ctl() {
    ip netns exec "$(ns h3)" env ETCDCTL_API=3 etcdctl --endpoints="$(fencing_endpoints)" \
        --dial-timeout=1s --command-timeout=2s "$@" 2>/dev/null
}

# fencing_healthy: every member answers and one of them leads.
fencing_healthy() {
    local status
    status=$(fencing_ctl endpoint status) || return 1
    [ "$(grep -c . <<< "$status")" = 3 ] && grep -q ', true, ' <<< "$status"
}

# fencing_leader: the host whose member leads (h1, h2, h3), or nothing.
fencing_leader() { fencing_ctl endpoint status | awk -F', ' '$5 == "true" { sub(/.*192\.0\.2\.1/, "h", $1); sub(/:.*/, "", $1); print $1 }'; }

# fencing_lead HOST: moves etcd's leadership to HOST's member (if it does not lead already).
fencing_lead() {
    local host=$1 id
    [ "$(fencing_leader)" = "$host" ] && return 0
    id=$(fencing_ctl endpoint status | awk -F', ' -v a="$(host_address "$host"):" 'index($1, a) { print $2 }')
    fencing_ctl move-leader "$id" > /dev/null
    wait_until 10 fencing_is_leader "$host"
}
fencing_is_leader() { [ "$(fencing_leader)" = "$1" ]; }

# fencing_isolate: the bridge drops everything to and from h1's port, in one nft transaction
# (the guard phase's isolate_h1 adds the rules one command at a time), so that the cut is the
# event's time; rejoin_h1 heals it.
fencing_isolate() {
    ip netns exec "$(ns sw)" nft -f - <<'RULES'
table bridge isolate {
    chain forward {
        type filter hook forward priority 0;
        iifname "p1" drop
        oifname "p1" drop
    }
}
RULES
}

# fencing_key_free: no host holds the guard's key (the last cycle's leases have expired).
fencing_key_free() { [ -z "$(fencing_ctl get --prefix /swiftcarp/ --keys-only)" ]; }

fencing_etcd_up() {
    local host
    rm -rf "$WORK"/fencing-etcd.h?
    for host in h1 h2 h3; do fencing_member "$host"; done
    wait_until 30 fencing_healthy || { note "the etcd members never became healthy: $(tail -n 2 "$WORK/fencing-etcd.h1.log")"; return 1; }
}
fencing_etcd_down() {
    local host
    for host in "${!FENCING_ETCD[@]}"; do kill -9 "${FENCING_ETCD[$host]}" 2>/dev/null; done
    for host in "${!FENCING_ETCD[@]}"; do gone "${FENCING_ETCD[$host]}"; done
    FENCING_ETCD=()
}

# fencing_restore: after a cycle, both hosts on the bridge with their etcd members, no daemon,
# no virtual address, the key free.
fencing_restore() {
    local host address
    stop_all
    kill -CONT "${RESPONDER[h1]}" 2>/dev/null
    [ -n "$FENCING_PROBE" ] && kill -9 "$FENCING_PROBE" 2>/dev/null
    FENCING_PROBE=""
    rejoin_h1
    ip -n "$(ns sw)" link set p1 up
    kill -0 "${FENCING_ETCD[h1]}" 2>/dev/null || fencing_member h1
    for host in h1 h2; do
        for address in $(ip -n "$(ns "$host")" -4 -o addr show dev eth0 | awk '$4 ~ /\/32$/ { print $4 }'); do
            ip -n "$(ns "$host")" addr del "$address" dev eth0
        done
    done
    ip -n "$(ns h3)" neigh flush dev eth0
    wait_until 30 fencing_healthy || note "etcd not healthy again after the cycle"
    wait_until 20 fencing_key_free || note "the key was still held 20 s after the cycle"
}

# fencing_cycle SETTING CASE RUN: one takeover; writes the sample line.
fencing_cycle() {
    local setting=$1 case=$2 run=$3 options leader=h3 t_event t_up=- t_down=- t_leader=- probes result
    options=(--etcd="$(fencing_endpoints)" --etcd-ttl="$FENCING_TTL" --advbase=1 --shutdown)
    case $case in crash-leader|partition) leader=h1 ;; esac
    if ! fencing_lead "$leader"; then
        note "$setting $case run $run: etcd's leadership did not move to $leader: not counted"
        return
    fi
    daemon h1 h1 ours 7 "$VIP" --advskew=0 "${options[@]}"
    if ! wait_until 10 has_event h1 UP 0; then
        note "$setting $case run $run: h1 never became master: not counted"
        fencing_restore
        return
    fi
    sleep "0.$(printf '%03d' $((RANDOM % 1000)))"
    daemon h2 h2 ours 7 "$VIP" --advskew=50 "${options[@]}"
    sleep "2.$(printf '%03d' $((RANDOM % 1000)))"
    probes="$WORK/fencing-probes.$setting.$case.$run"
    ip netns exec "$(ns h3)" python3 "$ROOT/Benchmarks/probe.py" send "$VIP" --rate 200 --duration 40 \
        --out "$probes" >> "$WORK/probe.log" 2>&1 &
    FENCING_PROBE=$!
    disown "$!"
    sleep 1.5
    if [ "$(last_event_before h2 "$EPOCHREALTIME")" = UP ] || [ "$(fencing_leader)" != "$leader" ]; then
        note "$setting $case run $run: h2 master, or etcd's leader moved, before the event: not counted"
        fencing_restore
        return
    fi
    t_event=$EPOCHREALTIME
    case $case in
        crash-*)
            kill -9 "${PID[h1]}" "${FENCING_ETCD[h1]}"
            ip -n "$(ns sw)" link set p1 down ;;
        partition) fencing_isolate ;;
        freeze) kill -STOP "${PID[h1]}" "${RESPONDER[h1]}" ;;
    esac
    wait_until 30 has_event h2 UP "$t_event" && t_up=$(first_event h2 UP "$t_event")
    case $case in
        partition)
            wait_until 15 has_event h1 DOWN "$t_event"
            sleep 1
            rejoin_h1 ;;
        freeze)
            sleep 2
            kill -CONT "${PID[h1]}" "${RESPONDER[h1]}"
            wait_until 10 has_event h1 DOWN "$t_event" ;;
    esac
    has_event h1 DOWN "$t_event" && t_down=$(first_event h1 DOWN "$t_event")
    sleep 1
    kill -TERM "$FENCING_PROBE" 2>/dev/null
    gone "$FENCING_PROBE" 5
    FENCING_PROBE=""
    read -r result _ <<< "$(fencing_calc takeover "$probes" h1 h2 "$t_event")"
    t_leader=$(fencing_calc elected "$t_event" "$WORK"/fencing-etcd.h?.log)
    local overlap up down elected
    overlap=$(calc overlap "$EPOCHREALTIME" h1="$WORK/events.h1" h2="$WORK/events.h2")
    up=$(fencing_since "$t_event" "$t_up")
    down=$(fencing_since "$t_event" "$t_down")
    elected=$(fencing_since "$t_event" "$t_leader")
    # A crashed host holds nothing: its address went with it.
    case $case in crash-*) overlap=- ;; esac
    echo "fencing $setting $case $run $FENCING_TTL $result $overlap $up $down $elected" >> "$WORK/fencing-samples"
    note "$setting $case run $run: client takeover ${result} s; event -> h2 up $up s, -> etcd leader $elected s, -> h1 down $down s; two holders $overlap s"
    fencing_restore
}

run_fencing() {
    phase "etcd guard fencing: advbase 1, skew 0/50; a holder's crash with etcd's leader and without, a partition of both, a frozen holder ($FENCING_RUNS runs each; TTL/election/heartbeat: $FENCING_SETTINGS)"
    local setting run case cases
    SCRIPTS="vip-"
    : > "$WORK/fencing-samples"
    responders_up
    for setting in $FENCING_SETTINGS; do
        IFS=/ read -r FENCING_TTL FENCING_ELECTION FENCING_HEARTBEAT <<< "$setting"
        fencing_etcd_up || continue
        cases="crash-follower crash-leader partition"
        [ "$setting" = "${FENCING_SETTINGS%% *}" ] && cases="$cases freeze"
        cases=${FENCING_CASES:-$cases}
        for run in $(seq 1 "$FENCING_RUNS"); do
            for case in $cases; do fencing_cycle "ttl$FENCING_TTL-election$FENCING_ELECTION" "$case" "$run"; done
        done
        fencing_etcd_down
    done
    # shellcheck disable=SC2034 # lib.sh's daemon reads it
    SCRIPTS=""
    echo
    fencing_calc table "$WORK/fencing-samples" | tee -a "$WORK/details"
}
