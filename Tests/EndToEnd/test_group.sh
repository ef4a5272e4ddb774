# shellcheck shell=bash
# Groups and maintenance (issue 24): the router pair. Two simulated hosts, each with a LAN
# interface (eth0, on br0) and a WAN one (eth1, on a second bridge br1), each with its own
# --host-state directory; on each host one daemon per vhid, both in group "router": vhid 7
# holds the LAN address on eth0, vhid 8 the WAN address on eth1. h1 is preferred (advskew 0,
# h2 100), everyone has --preempt.

GROUP_LAN_VIP=192.0.2.100
GROUP_WAN_VIP=198.51.100.100

# group_wan_address N: host N's own address on the WAN bridge.
group_wan_address() { echo "198.51.100.$((10 + ${1#h}))"; }

# group_state_dir HOST: HOST's --host-state directory.
group_state_dir() { echo "$WORK/state-$1"; }

# group_topology [N]: two hosts with LAN and WAN interfaces (see above), no daemon yet; with
# N = 3 a client h3 on the LAN too.
group_topology() {
    topology_up "${1:-2}"
    ip -n "$(ns sw)" link add br1 type bridge
    ip -n "$(ns sw)" link set br1 up
    ip netns exec "$(ns sw)" sh -c 'echo 0 > /sys/class/net/br1/bridge/multicast_snooping' 2>/dev/null || true
    local i
    for i in 1 2; do
        ip link add name eth1 netns "$(ns "h$i")" type veth peer name "q$i" netns "$(ns sw)"
        ip -n "$(ns sw)" link set "q$i" master br1 up
        ip -n "$(ns "h$i")" link set eth1 up
        ip -n "$(ns "h$i")" addr add "$(group_wan_address "$i")/24" dev eth1
    done
}

# group_start HOST LAN|WAN [options...]: starts HOST's daemon for the LAN (vhid 7, eth0) or
# the WAN (vhid 8, eth1) in group "router", named HOST-lan or HOST-wan.
group_start() {
    local host=$1 side=$2 n=${1#h} skew=100
    shift 2
    [ "$host" = h1 ] && skew=0
    if [ "$side" = LAN ]; then
        run_named "$host-lan" "$host" "$SWIFTCARP" --interface=eth0 --srcip="$(host_address "$n")" --vhid=7 \
            --pass=hunter2 --addr="$GROUP_LAN_VIP" --upscript="$WORK/up" --downscript="$WORK/down" \
            --facility=none --advskew="$skew" --preempt --group=router \
            --host-state="$(group_state_dir "$host")" "$@"
    else
        run_named "$host-wan" "$host" "$SWIFTCARP" --interface=eth1 --srcip="$(group_wan_address "$n")" \
            --vhid=8 --pass=hunter2 --addr="$GROUP_WAN_VIP" --upscript="$WORK/up" --downscript="$WORK/down" \
            --facility=none --advskew="$skew" --preempt --group=router \
            --host-state="$(group_state_dir "$host")" "$@"
    fi
}

# group_owns HOST LAN|WAN: HOST has the LAN address on eth0, or the WAN one on eth1.
group_owns() {
    if [ "$2" = LAN ]; then
        ip -n "$(ns "$1")" -4 addr show dev eth0 2>/dev/null | grep -qF "inet $GROUP_LAN_VIP/"
    else
        ip -n "$(ns "$1")" -4 addr show dev eth1 2>/dev/null | grep -qF "inet $GROUP_WAN_VIP/"
    fi
}

# group_all_on HOST: HOST has both addresses and the other host neither.
group_all_on() {
    local other=h2
    [ "$1" = h2 ] && other=h1
    group_owns "$1" LAN && group_owns "$1" WAN && ! group_owns "$other" LAN && ! group_owns "$other" WAN
}

# group_log_has NAME PATTERN: the log of daemon NAME (h1-lan, ...) matches PATTERN.
group_log_has() { log_of "$1" | grep -Eq -- "$2"; }

# group_fail MESSAGE: fail, with the four daemons' logs.
group_fail() {
    local name
    for name in h1-lan h1-wan h2-lan h2-wan; do
        { echo "    --- $name"; log_of "$name" | tail -n 12 | sed 's/^/    | /'; } >&"$E2E_OUTPUT"
    done
    fail "$*"
}

# group_pair_up [N]: the topology (with a LAN client h3 when N = 3), the four daemons, h1
# master of both.
group_pair_up() {
    group_topology "${1:-2}"
    group_start h1 LAN
    group_start h1 WAN
    wait_for 5 group_log_has h1-wan "Switching to state: BACKUP" || group_fail "h1 did not start"
    group_start h2 LAN
    group_start h2 WAN
    wait_for 10 group_all_on h1 || group_fail "h1 did not take both addresses"
}

# group_status HOST [--json]: `ucarp --status` for HOST's directory.
group_status() {
    local host=$1
    shift
    "$SWIFTCARP" --status --host-state="$(group_state_dir "$host")" "$@"
}

test_group_wan_carrier_lost_moves_both_and_back() {
    local probe probes lost last
    needs python3
    probe="$E2E_DIR/../../Benchmarks/probe.py"
    group_pair_up 3
    run_named responder-h1 h1 python3 "$probe" respond h1
    run_named responder-h2 h2 python3 "$probe" respond h2
    probes="$WORK/probes"
    run_named client h3 python3 "$probe" send "$GROUP_LAN_VIP" --rate 500 --duration 6 --out "$probes"
    sleep 2
    # The WAN link of the master goes: its WAN instance loses carrier, which demotes the group,
    # so its LAN instance hands over too, make before break: no request to the LAN address is
    # lost (the WAN address's clients lost their way to h1 with the link).
    ip -n "$(ns sw)" link set q1 down
    wait_for 10 group_all_on h2 || group_fail "both addresses did not move to h2"
    wait_for 10 has_exited client || group_fail "the client did not finish"
    [ "$(exit_status_of client)" = 0 ] || group_fail "the client failed: $(log_of client)"
    lost=$(awk '!/^#/ && $4 == "-"' "$probes" | wc -l)
    last=$(awk '!/^#/ && $4 != "-" { who = $5 } END { print who }' "$probes")
    [ "$last" = h2 ] || group_fail "the last LAN probes were answered by '$last', expected h2"
    [ "$lost" = 0 ] || group_fail "$lost of $(grep -vc '^#' "$probes") LAN probes lost during the hand-over"
    echo "    group hand-over of the LAN address: 0 of $(grep -vc '^#' "$probes") probes lost"
    holds_for 2 group_all_on h2 || group_fail "the addresses did not stay on h2 while the WAN link was down"
    group_log_has h1-lan "Demoted \(member eth1.vhid8\)" || group_fail "h1's LAN instance did not say why"
    group_status h1 | grep -Eq '^7 +eth0 +BACKUP .* router +- \(240\)' \
        || group_fail "--status on h1 does not show the LAN instance demoted: $(group_status h1)"
    group_status h1 | grep -Eq '^8 +eth1 +BACKUP .* router +carrier-lost' \
        || group_fail "--status on h1 does not show the WAN instance's lost carrier: $(group_status h1)"
    # The link is back: with --preempt both come back together.
    ip -n "$(ns sw)" link set q1 up
    wait_for 10 group_all_on h1 || group_fail "both addresses did not come back to h1"
}

test_group_member_killed_does_not_keep_the_group_demoted() {
    group_pair_up
    ip -n "$(ns sw)" link set q1 down
    wait_for 10 group_all_on h2 || group_fail "both addresses did not move to h2"
    # The demoting member dies: it stops counting, and h1's LAN instance preempts again.
    kill -9 "$(pid_of h1-wan)"
    wait_for 10 group_owns h1 LAN || group_fail "the group stayed demoted after its demoting member died"
    group_owns h2 LAN && group_fail "both hosts hold the LAN address"
    group_status h1 | grep -Eq '^8 +eth1 +DEAD' || group_fail "--status does not show the dead member: $(group_status h1)"
}

test_group_maintenance_stays_across_restarts() {
    group_pair_up
    "$SWIFTCARP" --maintenance=on --host-state="$(group_state_dir h1)" | grep -qx 'maintenance (host): on' \
        || group_fail "--maintenance=on did not say so"
    wait_for 10 group_all_on h2 || group_fail "maintenance did not move both addresses to h2"
    group_log_has h1-lan "Demoted \(maintenance" || group_fail "h1's LAN instance did not say maintenance"
    # Every daemon of h1 restarts (the state directory kept): they stay out.
    kill -TERM "$(pid_of h1-lan)" "$(pid_of h1-wan)"
    wait_for 5 has_exited h1-lan || group_fail "h1's LAN daemon did not end"
    wait_for 5 has_exited h1-wan || group_fail "h1's WAN daemon did not end"
    group_start h1 LAN --statefile="$WORK/h1-lan.state"
    group_start h1 WAN
    holds_for 5 group_all_on h2 || group_fail "a restarted h1 took an address back while in maintenance"
    # The state file and USR1 say so.
    grep -qx 'DEMOTION="maintenance"' "$WORK/h1-lan.state" || group_fail "state file: $(cat "$WORK/h1-lan.state")"
    kill -USR1 "$(pid_of h1-lan)"
    wait_for 5 group_log_has h1-lan "Demoted in group router: maintenance" \
        || group_fail "USR1 does not say maintenance"
    "$SWIFTCARP" --maintenance --host-state="$(group_state_dir h1)" | grep -qx 'maintenance (host): on' \
        || group_fail "--maintenance does not print on"
    group_status h1 --json | /usr/bin/python3 -c '
import json, sys
status = json.load(sys.stdin)
assert status["maintenance"]["host"] is True, status
states = sorted((i["vhid"], i["state"], i["maintenance"]) for i in status["instances"])
assert states == [(7, "BACKUP", True), (8, "BACKUP", True)], states
' || group_fail "--status --json on h1: $(group_status h1 --json)"
    "$SWIFTCARP" --maintenance=off --host-state="$(group_state_dir h1)" | grep -qx 'maintenance (host): off' \
        || group_fail "--maintenance=off did not say so"
    wait_for 10 group_all_on h1 || group_fail "both addresses did not come back to h1 after maintenance"
    group_status h2 | grep -Eq '^7 +eth0 +BACKUP' || group_fail "--status on h2: $(group_status h2)"
}

test_group_ucarp_peer_takes_over_as_the_demotion_tells_it() {
    group_topology
    group_start h1 LAN
    group_start h1 WAN
    wait_for 5 group_log_has h1-wan "Switching to state: BACKUP" || group_fail "h1 did not start"
    # On h2, Debian's ucarp holds the LAN side: it knows nothing of groups, only skews.
    run_named h2-lan h2 "$REFERENCE_UCARP" --interface=eth0 --srcip="$(host_address 2)" --vhid=7 \
        --pass=hunter2 --addr="$GROUP_LAN_VIP" --upscript="$WORK/up" --downscript="$WORK/down" \
        --facility=none --advskew=100 --preempt
    group_start h2 WAN
    wait_for 10 group_all_on h1 || group_fail "h1 did not take both addresses"
    ip -n "$(ns sw)" link set q1 down
    wait_for 10 group_all_on h2 || group_fail "ucarp did not take the LAN address from the demoted h1"
    holds_for 2 group_all_on h2 || group_fail "the LAN address did not stay with ucarp"
    ip -n "$(ns sw)" link set q1 up
    wait_for 10 group_all_on h1 || group_fail "h1 did not take both addresses back from ucarp"
}

test_group_failed_check_moves_both_and_back() {
    group_topology
    touch "$WORK/wan-ok"
    group_start h1 LAN
    group_start h1 WAN --check="test -e $WORK/wan-ok" --check-interval=0.3
    wait_for 5 group_log_has h1-wan "Switching to state: BACKUP" || group_fail "h1 did not start"
    group_start h2 LAN
    group_start h2 WAN
    wait_for 10 group_all_on h1 || group_fail "h1 did not take both addresses"
    # The WAN service fails its check on h1: FAULT, which demotes the group.
    rm "$WORK/wan-ok"
    wait_for 10 group_all_on h2 || group_fail "a failed check did not move both addresses to h2"
    group_status h1 | grep -Eq '^8 +eth1 +FAULT .* check-failed' || group_fail "--status on h1: $(group_status h1)"
    touch "$WORK/wan-ok"
    wait_for 10 group_all_on h1 || group_fail "both addresses did not come back once the check passed"
}
