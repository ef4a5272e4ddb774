# shellcheck shell=bash
# Phase client: what a client sees of a failover, with SwiftCARP, ucarp and keepalived.

# The client's view: a client (h3) sends probes to the virtual address (probe.py) while h1 is
# master and h2 backup, across one event: a crash, a signal, a failing health check. Three
# implementations: ours and ucarp (advbase 1, advskew 0 and 50, --shutdown, scripts that add
# and remove the address), and keepalived as its users run it: one VRRP instance per host,
# advert_int 1, priorities 254 and 206 (the backup's skew (256 - 206)/256 is ucarp's 50/256),
# notify scripts that only log, virtual_ipaddress managed by keepalived itself.
# 40 addresses: one daemon per address and host for ours and ucarp (vhid 1-40, as operators
# run them), one VRRP instance with 40 virtual_ipaddress for keepalived (its own way).

declare -A RESPONDER=()   # host -> pid of its probe responder

# client_vips SCENARIO: the virtual addresses of SCENARIO, one a line.
client_vips() { if [ "$1" = crash40 ]; then seq -f '192.0.2.%g' 101 140; else echo "$VIP"; fi; }

# owns_all HOST ADDRESS...: HOST has every ADDRESS on eth0.
owns_all() {
    local host=$1 have address
    shift
    have=$(ip -n "$(ns "$host")" -4 -o addr show dev eth0 | awk '{ print $4 }')
    for address in "$@"; do grep -qxF "$address/32" <<< "$have" || return 1; done
}
owns_none() {
    local host=$1 address have
    shift
    have=$(ip -n "$(ns "$host")" -4 -o addr show dev eth0)
    for address in "$@"; do grep -qF " $address/32 " <<< "$have" && return 1; done
    return 0
}

# keepalived_start HOST STATE PRIORITY CHECK ADDRESS...: keepalived on HOST; CHECK "yes" adds
# a vrrp_script that fails once $WORK/fail.HOST exists (interval 1 s, fall 2, rise 2, as our
# --check defaults), tracked by the instance.
keepalived_start() {
    local host=$1 state=$2 priority=$3 check=$4 address
    shift 4
    {
        printf 'global_defs {\n    router_id %s\n    script_user root\n}\n' "$host"
        if [ "$check" = yes ]; then
            printf 'vrrp_script service {\n    script "/usr/bin/test ! -e %s/fail.%s"\n    interval 1\n    fall 2\n    rise 2\n}\n' "$WORK" "$host"
        fi
        printf 'vrrp_instance VI_7 {\n    state %s\n    interface eth0\n    virtual_router_id 7\n' "$state"
        printf '    priority %s\n    advert_int 1\n' "$priority"
        printf '    authentication {\n        auth_type PASS\n        auth_pass %s\n    }\n' "${PASS:0:8}"
        printf '    virtual_ipaddress {\n'
        for address in "$@"; do printf '        %s/32\n' "$address"; done
        printf '    }\n'
        [ "$check" = yes ] && printf '    track_script {\n        service\n    }\n'
        printf '    notify %s/notify.%s\n}\n' "$WORK" "$host"
    } > "$WORK/keepalived.$host.conf"
    ip netns exec "$(ns "$host")" "$KEEPALIVED" --dont-fork --log-console --no-syslog --vrrp \
        -f "$WORK/keepalived.$host.conf" -p "$WORK/keepalived.$host.pid" -r "$WORK/vrrp.$host.pid" \
        >> "$WORK/keepalived.$host.log" 2>&1 &
    PID["ka-$host"]=$!
    disown "$!"
}

# client_daemons IMPL HOST ROLE SCENARIO: the daemons of HOST (ROLE master: h1's advskew 0 or
# priority 254; backup: advskew 50 or priority 206).
client_daemons() {
    local impl=$1 host=$2 role=$3 scenario=$4 skew=0 priority=254 state=MASTER check=no v
    [ "$role" = backup ] && { skew=50; priority=206; state=BACKUP; }
    [ "$scenario" = check ] && check=yes
    local -a vips
    mapfile -t vips < <(client_vips "$scenario")
    if [ "$impl" = keepalived ]; then
        keepalived_start "$host" "$state" "$priority" "$check" "${vips[@]}"
        return
    fi
    local -a options=(--advbase=1 --advskew="$skew" --shutdown)
    [ "$check" = yes ] && options+=(--check="test ! -e $WORK/fail.$host")
    # shellcheck disable=SC2034 # SCRIPTS and WRAP are daemon's (lib.sh)
    SCRIPTS=vip-
    if [ "${#vips[@]}" = 1 ]; then
        daemon "$host" "$host" "$impl" 7 "${vips[0]}" "${options[@]}"
    else
        for v in $(seq 1 "${#vips[@]}"); do daemon "$host-$v" "$host" "$impl" "$v" "${vips[$((v - 1))]}" "${options[@]}"; done
    fi
    # shellcheck disable=SC2034
    SCRIPTS=""
}

# host_kill HOST: SIGKILL to every process of HOST but its responder (daemons, scripts).
host_kill() {
    local pid
    for pid in $(ip netns pids "$(ns "$1")" 2>/dev/null); do
        [ "$pid" = "${RESPONDER[$1]:-}" ] || kill -9 "$pid" 2>/dev/null
    done
}

# responders_up: a probe responder on h1 and h2 (started again if it has gone), each of which
# answers the client at its host's own address.
responders_up() {
    local host answered
    for host in h1 h2; do
        if [ -n "${RESPONDER[$host]:-}" ] && kill -0 "${RESPONDER[$host]}" 2>/dev/null; then continue; fi
        [ -n "${RESPONDER[$host]:-}" ] && note "the responder of $host had gone: started again"
        ip netns exec "$(ns "$host")" python3 "$ROOT/Benchmarks/probe.py" respond "$host" >> "$WORK/responder.$host.log" 2>&1 &
        RESPONDER[$host]=$!
        disown "$!"
    done
    ip netns exec "$(ns h3)" python3 "$ROOT/Benchmarks/probe.py" send "$(host_address h1)" "$(host_address h2)" \
        --rate 50 --duration 0.3 --out "$WORK/probes.check" >> "$WORK/probe.log" 2>&1
    answered=$(calc responders "$WORK/probes.check" 2>/dev/null)
    [ "$answered" = "h1 h2" ] || note "before the scenario, the client heard only from: ${answered:-nobody}"
}

# client_reset: no daemon, no virtual address, every port up, the client's ARP cache empty.
client_reset() {
    local host address
    for host in h1 h2; do host_kill "$host"; done
    sleep 0.3
    for host in h1 h2; do
        host_kill "$host"
        for address in $(ip -n "$(ns "$host")" -4 -o addr show dev eth0 | awk '$4 ~ /\/32$/ { print $4 }'); do
            ip -n "$(ns "$host")" addr del "$address" dev eth0
        done
    done
    PID=()
    ip -n "$(ns sw)" link set p1 up
    ip -n "$(ns sw)" link set p2 up
    ip -n "$(ns h3)" neigh flush dev eth0
    rm -f "$WORK"/events.h* "$WORK"/fail.h*
}

# client_scenario IMPL SCENARIO RUN: one event seen from the client; records the sample
# "client IMPL SCENARIO EVENT-TIME PROBE-FILE".
client_scenario() {
    local impl=$1 scenario=$2 run=$3 rate=$CLIENT_RATE t_event probes client
    local -a vips
    mapfile -t vips < <(client_vips "$scenario")
    [ "$scenario" = crash40 ] && rate=$((2 * CLIENT_RATE))
    responders_up
    probes=$WORK/probes.$impl.$scenario.$run
    client_daemons "$impl" h1 master "$scenario"
    if ! wait_until 15 owns_all h1 "${vips[@]}"; then
        note "$impl $scenario: h1 did not take the address(es) within 15 s: nothing measured"
        client_reset
        return
    fi
    client_daemons "$impl" h2 backup "$scenario"
    sleep 2.5
    ip netns exec "$(ns h3)" python3 "$ROOT/Benchmarks/probe.py" send "${vips[@]}" --rate "$rate" \
        --duration 16 --out "$probes" >> "$WORK/probe.log" 2>&1 &
    client=$!
    sleep 2
    if ! owns_none h2 "${vips[@]}"; then
        note "$impl $scenario: h2 took an address before the event (flapping): not counted"
        kill -TERM "$client"; wait "$client" 2>/dev/null
        client_reset
        return
    fi
    t_event=$EPOCHREALTIME
    case $scenario in
        crash|crash40)
            # The host dies: its switch port goes dark, then its processes are killed.
            ip -n "$(ns sw)" link set p1 down
            host_kill h1 ;;
        TERM|USR2)
            if [ "$impl" = keepalived ]; then kill "-$scenario" "${PID[ka-h1]}"; else kill "-$scenario" "${PID[h1]}"; fi ;;
        check) touch "$WORK/fail.h1" ;;
    esac
    wait_until 10 owns_all h2 "${vips[@]}" || note "$impl $scenario: h2 did not take every address within 10 s"
    # Long enough for the client to see h2 answer, and for a leaving master to let go.
    sleep 1.5
    kill -TERM "$client"
    wait "$client" 2>/dev/null
    if [ -s "$probes" ] && [[ " $(calc responders "$probes") " != *" h2 "* ]]; then
        note "$impl $scenario: h2 never answered; client's neighbours: $(ip -n "$(ns h3)" neigh show dev eth0 | tr '\n' ';')"
    fi
    if [ -s "$probes" ]; then
        sample client "$impl" "$scenario" "$t_event" "$probes"
        note "$impl $scenario run $run: $(calc probe-summary "$probes")"
    else
        note "$impl $scenario: the client wrote no probes ($(tail -n 1 "$WORK/probe.log" 2>/dev/null))"
    fi
    client_reset
}

run_client() {
    phase "client view: probes at ${CLIENT_RATE}/s from h3; crash, TERM, USR2, health check, 40-address crash ($CLIENT_RUNS run(s) each)"
    local impl scenario run
    client_reset
    for scenario in ${CLIENT_SCENARIOS:-crash TERM USR2 check crash40}; do
        for run in $(seq 1 "$CLIENT_RUNS"); do
            for impl in ours ucarp keepalived; do
                [ "$impl/$scenario" = ucarp/check ] && continue        # ucarp has no health check
                [ "$impl/$scenario" = keepalived/USR2 ] && continue    # nor keepalived a step-down signal
                client_scenario "$impl" "$scenario" "$run"
            done
        done
    done
    # The picture: Debian's matplotlib, for Debian's python3.
    if /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
        if /usr/bin/python3 "$ROOT/Benchmarks/plot.py" "$SAMPLES" "$WORK/client-view.png" >> "$WORK/plot.log" 2>&1; then
            cp "$WORK/client-view.png" "$CLIENT_PNG" && note "the client's view: $CLIENT_PNG"
        else
            note "plot.py failed: $(tail -n 1 "$WORK/plot.log")"
        fi
    else
        note "no python3-matplotlib: no picture"
    fi
}
