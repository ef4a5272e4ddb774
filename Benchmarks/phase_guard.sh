# shellcheck shell=bash
# Phase guard (only when named): the etcd guard against the same events with and without it.

# The etcd guard (issue 15), only when named: Benchmarks/run guard. One etcd 3.4 member on each
# of h1, h2, h3 (the client host), SwiftCARP with --etcd on all three members and --etcd-ttl=2;
# advbase 1, skew 0/50. The partition isolates h1 (the bridge forwards nothing to or from p1):
# it loses its peer and the etcd majority at once.
declare -A ETCD_PID=()

# etcd_members_up: the three members on fresh data directories, once each takes writes.
etcd_members_up() {
    local n cluster="" url
    for n in 1 2 3; do cluster="$cluster${cluster:+,}h$n=http://$(host_address "$n"):2380"; done
    for n in 1 2 3; do
        url="http://$(host_address "$n"):2379"
        rm -rf "$WORK/etcd.h$n"
        ip netns exec "$(ns h$n)" etcd --name "h$n" --data-dir "$WORK/etcd.h$n" \
            --listen-client-urls "$url" --advertise-client-urls "$url" \
            --listen-peer-urls "http://$(host_address "$n"):2380" \
            --initial-advertise-peer-urls "http://$(host_address "$n"):2380" \
            --initial-cluster "$cluster" --initial-cluster-state new \
            --initial-cluster-token "$NS_PREFIX" --pre-vote >> "$WORK/etcd.h$n.log" 2>&1 &
        ETCD_PID[h$n]=$!
        disown "$!"
    done
    for n in 1 2 3; do
        wait_until 20 etcd_ctl "h$n" put /swiftcarp-bench/probe "h$n" \
            || { echo "Benchmarks/run: the etcd member on h$n takes no writes: $(tail -n 3 "$WORK/etcd.h$n.log")" >&2; exit 1; }
    done
}
etcd_ctl() {
    local host=$1
    shift
    ip netns exec "$(ns "$host")" env ETCDCTL_API=3 etcdctl --endpoints="http://$(host_address "$host"):2379" \
        --dial-timeout=1s --command-timeout=2s "$@" > /dev/null 2>&1
}
guard_options() {
    echo "--etcd=http://$(host_address 1):2379,http://$(host_address 2):2379,http://$(host_address 3):2379 --etcd-ttl=2"
}
isolate_h1() {
    ip netns exec "$(ns sw)" nft add table bridge isolate
    ip netns exec "$(ns sw)" nft add chain bridge isolate forward '{ type filter hook forward priority 0; }'
    ip netns exec "$(ns sw)" nft add rule bridge isolate forward iifname p1 drop
    ip netns exec "$(ns sw)" nft add rule bridge isolate forward oifname p1 drop
}
rejoin_h1() { ip netns exec "$(ns sw)" nft delete table bridge isolate 2>/dev/null; }

# overlap_seconds: how long both hosts' scripts said they held the address at once (an UP
# until the host's next DOWN, or until now).
overlap_seconds() { calc overlap "$EPOCHREALTIME" h1="$WORK/events.h1" h2="$WORK/events.h2"; }

# guard_cycle IMPL GUARD EVENT: h1 master, h2 backup joining at a random point of h1's
# interval, then EVENT (KILL, TERM or partition) on h1; GUARD "guard" adds the guard's
# options. Prints "OUTCOME EVENT-TIME UP-TIME DOWN-TIME OVERLAP": h2's first up script after
# the event, h1's first down script after it ("-" if none), and for a partition (8 s, then
# healed for 3 s) the seconds during which both held the address.
guard_cycle() {
    local impl=$1 guard=$2 event=$3 options=() t_event t_up=- t_down=- overlap=-
    [ "$guard" = guard ] && read -ra options <<< "$(guard_options)"
    daemon h1 h1 "$impl" 7 "$VIP" --advbase=1 --advskew=0 --shutdown "${options[@]}"
    if ! wait_until 10 has_event h1 UP 0; then
        note "$impl $guard $event: h1 never became master: nothing measured"
        stop_all
        echo "no-master - - - -"
        return
    fi
    sleep "0.$(printf '%03d' $((RANDOM % 1000)))"
    daemon h2 h2 "$impl" 7 "$VIP" --advbase=1 --advskew=50 --shutdown "${options[@]}"
    sleep "2.$(printf '%03d' $((RANDOM % 1000)))"
    if [ "$(last_event_before h2 "$EPOCHREALTIME")" = UP ]; then
        note "$impl $guard $event: h2 was master before the event: not counted"
        stop_all
        echo "flapped - - - -"
        return
    fi
    t_event=$EPOCHREALTIME
    case $event in
        KILL|TERM) kill "-$event" "${PID[h1]}" ;;
        partition) isolate_h1 ;;
    esac
    wait_until 10 has_event h2 UP "$t_event" && t_up=$(first_event h2 UP "$t_event")
    if [ "$event" = partition ]; then
        # 8 s from the cut, however long h2 took.
        sleep "$(calc remaining "$t_event" 8 "$EPOCHREALTIME")"
        rejoin_h1
        sleep 3
        overlap=$(overlap_seconds)
    fi
    has_event h1 DOWN "$t_event" && t_down=$(first_event h1 DOWN "$t_event")
    stop_all
    # A killed holder's lease would block the next cycle's master until it expires.
    [ "$guard" = guard ] && sleep 2.2
    echo "$([ "$t_up" = - ] && echo failed || echo measured) $t_event $t_up $t_down $overlap"
}

run_guard() {
    phase "etcd guard: TTL 2 s, advbase 1, skew 0/50; kill -9, TERM with --shutdown, an 8 s partition of the master, with and without the guard ($GUARD_RUNS runs each)"
    local i outcome t_event t_up t_down overlap case impl guard event
    etcd_members_up
    for i in $(seq 1 "$GUARD_RUNS"); do
        for case in "ours guard KILL" "ours guard TERM" "ours guard partition" "ours none partition" "ucarp none partition"; do
            read -r impl guard event <<< "$case"
            read -r outcome t_event t_up t_down overlap <<< "$(guard_cycle "$impl" "$guard" "$event")"
            rejoin_h1
            [ "$outcome" = measured ] || { note "$impl $guard $event run $i: $outcome"; continue; }
            case $event in
                KILL)
                    sample guardcrash "$impl" "$(sub "$t_up" "$t_event")"
                    note "$impl guard kill -9 run $i: kill -> backup's up script $(sub "$t_up" "$t_event") s" ;;
                TERM)
                    sample guardTERM "$impl" "$(sub "$t_up" "$t_event")"
                    note "$impl guard TERM run $i: signal -> backup's up script $(sub "$t_up" "$t_event") s, master's down script -> backup's up script $(if [ "$t_down" = - ]; then echo -; else sub "$t_up" "$t_down"; fi) s" ;;
                partition)
                    sample "partition-$guard" "$impl" "$overlap" "$(sub "$t_up" "$t_event")"
                    note "$impl $guard partition run $i: h2 up $(sub "$t_up" "$t_event") s after the cut, h1 down $(if [ "$t_down" = - ]; then echo "never"; else echo "$(sub "$t_down" "$t_event") s after it"; fi), both held the address $overlap s" ;;
            esac
        done
    done
    local n
    for n in 1 2 3; do kill -9 "${ETCD_PID[h$n]}" 2>/dev/null; done
    ETCD_PID=()
}
