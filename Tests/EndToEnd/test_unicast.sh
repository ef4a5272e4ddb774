# shellcheck shell=bash
# Unicast peers (--peer) on a segment that drops all multicast, as many clouds do.

# no_multicast: the bridge drops every IPv4 multicast frame (ARP broadcasts still pass) and
# IPv6 CARP's group ff02::12 (neighbour discovery, IPv6's ARP, still passes).
no_multicast() {
    ip netns exec "$(ns sw)" nft add table bridge nomcast
    ip netns exec "$(ns sw)" nft add chain bridge nomcast forward '{ type filter hook forward priority 0; }'
    ip netns exec "$(ns sw)" nft add rule bridge nomcast forward ip daddr 224.0.0.0/4 drop
    ip netns exec "$(ns sw)" nft add rule bridge nomcast forward ip6 daddr ff02::12 drop
}

# start_unicast HOST SKEW [options]: a daemon on HOST listing the two other hosts as peers (by
# their IPv6 addresses when VIP is an IPv6 address).
start_unicast() {
    local host=$1 skew=$2 n=${1#h} i peers=()
    shift 2
    for i in 1 2 3; do [ "$i" != "$n" ] && peers+=(--peer="$(carp_address "$i")"); done
    start_carp "$host" "$SWIFTCARP" --advskew="$skew" "${peers[@]}" "$@"
}

test_multicast_alone_fails_on_this_segment() {
    needs nft
    # The premise of the unicast test: with multicast dropped, plain CARP elects two masters.
    topology_up 2
    no_multicast
    start_carp h1 "$SWIFTCARP" --advskew=0
    wait_for 5 listening h1 || fail "h1 did not start"
    start_carp h2 "$SWIFTCARP" --advskew=50
    { wait_for 8 owns h1 && wait_for 8 owns h2; } || fail "expected two masters without multicast (owners: $(owners))"
}

test_unicast_peers_elect_one_master_fail_over_and_preempt_back() { unicast_peers_elect_fail_over_and_preempt_back; }

# unicast_peers_elect_fail_over_and_preempt_back: three hosts listing each other as peers on a
# segment without multicast, over IPv4 or, with an IPv6 VIP, over IPv6.
unicast_peers_elect_fail_over_and_preempt_back() {
    needs nft
    topology_up 3
    no_multicast
    start_unicast h1 0 --preempt
    start_unicast h2 50
    start_unicast h3 200
    wait_for 8 only_owner h1 || fail "h1 should be the only master (owners: $(owners))"
    holds_for 2 only_owner h1 || fail "more than one master (owners: $(owners))"
    ! log_has h2 "Bad digest" || fail "h2 rejected h1's unicast adverts"
    kill -9 "$(pid_of h1)"
    remove_address h1 "$VIP"
    wait_for 8 owns h2 || fail "h2 (advskew 50) did not take over"
    holds_for 2 only_owner h2 || fail "exactly one should take over (owners: $(owners))"
    start_unicast h1 0 --preempt
    wait_for 8 only_owner h1 || fail "h1 with --preempt did not take the address back (owners: $(owners))"
}

test_unicast_from_an_unlisted_host_is_counted_and_dropped() {
    topology_up 3
    start_carp h1 "$SWIFTCARP" --advskew=100 --peer="$(host_address 2)"
    # h3 is not a listed peer of h1 but sends to it.
    start_carp h3 "$SWIFTCARP" --advskew=0 --peer="$(host_address 1)"
    wait_for 8 owns h3 || fail "h3 did not become master"
    wait_for 6 owns h1 || fail "h1 obeyed an unlisted host"
    kill -USR1 "$(pid_of h1)"
    wait_for 3 log_has h1 "unknown-peer [1-9]" || fail "drops not counted: $(log_of h1 | grep Counters)"
    log_has h1 "not a --peer" || fail "no warning about the unlisted sender"
}

# The master's interface deleted and created again under --peer (issue 27): the unicast socket
# is opened again (bound to --srcip; over IPv6 scoped to the new index), and the peer hears the
# preferred master again and gives the address back.
test_unicast_recreated_interface_rejoins() { unicast_recreated_interface_rejoins; }
test_unicast_ipv6_recreated_interface_rejoins() {
    local VIP=$VIP6
    unicast_recreated_interface_rejoins
}

unicast_recreated_interface_rejoins() {
    needs nft
    topology_up 3
    no_multicast
    start_unicast h1 0 --preempt
    wait_for 5 listening h1 || fail "h1 did not start"
    start_unicast h2 100
    wait_for 10 only_owner h1 || fail "h1 did not become master (owners: $(owners))"
    ip -n "$(ns h1)" link del eth0
    wait_for 6 only_owner h2 || fail "h2 did not take over while h1's interface was gone (owners: $(owners))"
    create_interface h1
    wait_for 8 only_owner h1 || fail "h1 did not take the address back over unicast (owners: $(owners))"
    holds_for 3 only_owner h1 || fail "h2 does not hear h1's unicast adverts (owners: $(owners))"
}
