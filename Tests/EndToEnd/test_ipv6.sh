# shellcheck shell=bash
# CARP over IPv6 (issue 12): an IPv6 --srcip advertises to ff02::12 with hop limit 255, a
# new master announces each IPv6 address with an unsolicited neighbour advertisement, and
# --peer takes IPv6 addresses. Each test sets VIP to VIP6 (lib.sh): its hosts have IPv6
# addresses, start_carp advertises from them, and owns, owners and only_owner look at IPv6.
# capture comes from test_wire.sh, mac_of and client_points_at from test_notify.sh, the
# unicast and hand-over tests from test_unicast.sh and test_handover.sh (all test files are
# sourced into one shell).

# neighbour_entry HOST: HOST's neighbour-cache entry for the virtual address.
neighbour_entry() { ip -n "$(ns "$1")" -6 neigh show "$VIP" dev eth0; }

# ipv6_reachable_from HOST: HOST gets an answer to one ping of the virtual address.
ipv6_reachable_from() { ip netns exec "$(ns "$1")" ping -6 -n -q -c 1 -W 0.3 "$VIP" > /dev/null 2>&1; }

test_ipv6_adverts_go_to_ff02_12_and_a_crashed_master_is_replaced() {
    needs tcpdump
    local VIP=$VIP6 adverts
    two_hosts_with_h1_master
    adverts="$WORK/adverts.txt"
    capture h2 "ip6 proto 112 and src host $(host_address6 1)" 1 4 > "$adverts"
    grep -q "> 33:33:00:00:00:12, ethertype IPv6" "$adverts" || fail "not to 33:33:00:00:00:12: $(cat "$adverts")"
    grep -q "hlim 255, next-header VRRP (112) payload length: 36" "$adverts" \
        || fail "wrong IPv6 header: $(cat "$adverts")"
    grep -q "$(host_address6 1) > ff02::12" "$adverts" || fail "wrong addresses: $(cat "$adverts")"
    ! log_has h2 "Bad digest|bad checksum|hop limit" || fail "h2 rejected h1's IPv6 adverts"
    kill -9 "$(pid_of h1)"
    remove_address h1 "$VIP"
    wait_for 5 only_owner h2 || fail "h2 did not take over from the crashed h1 (owners: $(owners))"
}

# Planned hand-over: TERM to a --shutdown master, a client probing all along (test_handover.sh).
test_ipv6_term_hand_over_loses_no_probe() {
    local VIP=$VIP6
    handover_loses_no_probe "$SWIFTCARP" TERM
}

# advbase 0: h1 advertises every 26/256 s; h2, with advbase 0, waits only its own 100/256 s
# (README, "Sub-second failover works").
test_ipv6_subsecond_adverts_run_without_spurious_transitions() {
    local VIP=$VIP6 before1 before2 since
    topology_up 2
    start_carp h1 "$SWIFTCARP" --advbase=0 --advskew=26
    wait_for 5 only_owner h1 || fail "h1 did not become master (owners: $(owners))"
    start_carp h2 "$SWIFTCARP" --advbase=0 --advskew=100
    wait_for 3 listening h2 || fail "h2 did not start as BACKUP"
    before1=$(state_changes h1)
    before2=$(state_changes h2)
    # The scenario: three seconds of sub-second adverts (a window: state_changes counts).
    sleep 3
    [ "$(state_changes h1)" = "$before1" ] || fail "h1 changed state during 3 s"
    [ "$(state_changes h2)" = "$before2" ] || fail "h2 changed state during 3 s"
    only_owner h1 || fail "owners: $(owners)"
    kill -9 "$(pid_of h1)"
    remove_address h1 "$VIP"
    since=$(now_ms)
    wait_for 3 owns h2 || fail "h2 did not take over"
    [ $(( $(now_ms) - since )) -lt 1000 ] || fail "h2 took $(( $(now_ms) - since )) ms to take over"
    echo "    h2 took over $(( $(now_ms) - since )) ms after the crash"
}

test_ipv6_unicast_peers_elect_one_master_fail_over_and_preempt_back() {
    local VIP=$VIP6
    unicast_peers_elect_fail_over_and_preempt_back
}

# A client (h3) that reached the address at h1 knows h1's MAC for it; the new master's
# neighbour advertisement (Override) points the client's entry at h2 at once. Without it
# the entry would keep h1's MAC (it is not even STALE yet, and h3 sends nothing).
test_ipv6_client_neighbour_entry_follows_the_new_master() {
    needs ping
    local VIP=$VIP6 since
    topology_up 3
    start_carp h1 "$SWIFTCARP" --advskew=0
    wait_for 5 listening h1 || fail "h1 did not start"
    start_carp h2 "$SWIFTCARP" --advskew=100
    wait_for 10 only_owner h1 || fail "h1 did not become master (owners: $(owners))"
    wait_for 3 ipv6_reachable_from h3 || fail "h3 cannot reach $VIP at h1"
    client_points_at h1 || fail "h3's entry is not h1's MAC $(mac_of h1) before the test: $(neighbour_entry h3)"
    kill -9 "$(pid_of h1)"
    remove_address h1 "$VIP"
    wait_for 6 owns h2 || fail "h2 did not take over"
    since=$(now_ms)
    wait_for 1 client_points_at h2 \
        || fail "h3's entry for $VIP is '$(neighbour_entry h3)' a second after the takeover, not h2's $(mac_of h2)"
    echo "    h3's entry pointed at h2 $(( $(now_ms) - since )) ms after h2 had the address"
    ipv6_reachable_from h3 || fail "h3 cannot reach $VIP at h2"
}

# bad_input_is_one_line MESSAGE-PATTERN OPTIONS...: ucarp on h1 with the test's interface,
# vhid, password and scripts and OPTIONS exits 1 with one line of output but for the --help
# hint and [INFO] lines (a check made once the interface is open comes after "Local
# advertised ethernet address"), and that line matches the extended regular expression
# MESSAGE-PATTERN.
bad_input_is_one_line() {
    local pattern=$1 output status lines
    shift
    output=$(ip netns exec "$(ns h1)" timeout 5 "$SWIFTCARP" --interface=eth0 --vhid=7 --pass=hunter2 \
        --upscript="$WORK/up" --downscript="$WORK/down" --facility=none "$@" 2>&1)
    status=$?
    [ "$status" = 1 ] || fail "exit status $status, expected 1, for $*: $output"
    lines=$(grep -v "^Try 'ucarp --help'" <<<"$output" | grep -vc ": \[INFO\] ")
    [ "$lines" = 1 ] || fail "$lines lines, expected one, for $*: $output"
    grep -Eiq -- "$pattern" <<<"$output" || fail "the message for $* does not match '$pattern': $output"
}

test_ipv6_bad_input_is_one_line_and_exit_1() {
    local VIP=$VIP6 src i too_many=()
    topology_up 1
    src=$(host_address6 1)
    bad_input_is_one_line "fe80::1.*link-local|link-local.*fe80::1" --srcip="$src" --addr=fe80::1
    bad_input_is_one_line "ff02::1.*multicast|multicast.*ff02::1" --srcip="$src" --addr=ff02::1
    bad_input_is_one_line "::ffff:192\.0\.2\.100.*IPv4" --srcip="$src" --addr=::ffff:192.0.2.100
    bad_input_is_one_line "239\.1\.2\.3.*multicast|multicast.*239\.1\.2\.3" --srcip="$(host_address 1)" --addr=239.1.2.3
    bad_input_is_one_line "mcast.*224\.0\.0\.18|224\.0\.0\.18.*mcast" --srcip="$src" --addr="$VIP" --mcast=224.0.0.18
    bad_input_is_one_line "mcast.*ff02::12|ff02::12.*mcast" --srcip="$(host_address 1)" --addr=192.0.2.100 --mcast=ff02::12
    bad_input_is_one_line "peer.*2001:db8::12|2001:db8::12.*peer" --srcip="$(host_address 1)" --addr=192.0.2.100 --peer="$(host_address6 2)"
    bad_input_is_one_line "2001:db8::99.*(not|interface|eth0)" --srcip=2001:db8::99 --addr="$VIP"
    for i in $(seq 0 255); do too_many+=(--addr="10.0.$((i / 250)).$((i % 250 + 1))"); done
    bad_input_is_one_line "256|255|too many" --srcip="$(host_address 1)" "${too_many[@]}"
}
