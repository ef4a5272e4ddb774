# shellcheck shell=bash
# What goes on the wire, seen by tcpdump on the other host.

# capture HOST FILTER COUNT SECONDS: up to COUNT frames matching FILTER, printed with -e -v;
# tcpdump's messages go to $WORK/capture.HOST.err (capturing HOST: it has started listening).
capture() {
    ip netns exec "$(ns "$1")" timeout "$4" tcpdump -nn -e -v -c "$3" -i eth0 "$2" 2> "$WORK/capture.$1.err"
}
capturing() { grep -qs "listening on" "$WORK/capture.$1.err"; }

test_new_master_sends_two_gratuitous_arps() {
    needs tcpdump
    topology_up 2
    local mac
    mac=$(ip -n "$(ns h1)" -br link show eth0 | awk '{print $3}')
    capture h2 "arp" 2 12 > "$WORK/arp.txt" &
    local dump=$!
    wait_for 5 capturing h2 || fail "tcpdump did not start: $(cat "$WORK/capture.h2.err")"
    start_carp h1 "$SWIFTCARP"
    wait $dump
    [ "$(grep -c "$mac > ff:ff:ff:ff:ff:ff.*Request who-has $VIP .*tell $VIP" "$WORK/arp.txt")" = 2 ] \
        || fail "expected two gratuitous ARP requests for $VIP from $mac, got: $(cat "$WORK/arp.txt")"
}

# The capture asks the kernel for no frame its host sends (PACKET_IGNORE_OUTGOING): it never
# wanted one, and every frame of the host's own traffic used to run each daemon's filter.
test_capture_ignores_the_hosts_own_frames() {
    topology_up 2
    start_carp h1 "$SWIFTCARP"
    wait_for 5 listening h1 || fail "h1 did not start"
    local values
    values=$(python3 "$E2E_DIR/packet_socket.py" "$(pid_of h1)" ignore-outgoing) \
        || fail "no packet socket found in the daemon (pid $(pid_of h1))"
    [ "$values" = 1 ] || fail "PACKET_IGNORE_OUTGOING of the daemon's packet sockets: $values, expected one socket with 1"
}

test_adverts_have_ucarps_headers() {
    needs tcpdump
    topology_up 2
    start_carp h1 "$SWIFTCARP" --advbase=1 --advskew=20
    capture h2 "ip proto 112" 2 8 > "$WORK/adverts.txt"
    grep -q "00:00:5e:00:00:07 > 01:00:5e:00:00:12" "$WORK/adverts.txt" || fail "wrong MACs: $(cat "$WORK/adverts.txt")"
    grep -q "tos 0x10, ttl 255.*flags \[DF\], proto VRRP (112), length 56" "$WORK/adverts.txt" \
        || fail "wrong IP header: $(cat "$WORK/adverts.txt")"
    grep -q "192.0.2.11 > 224.0.0.18: VRRPv2, Advertisement, vrid 7, prio 20" "$WORK/adverts.txt" \
        || fail "wrong CARP header: $(cat "$WORK/adverts.txt")"
}

test_nomcast_broadcasts_and_interoperates_with_ucarp() {
    needs tcpdump
    topology_up 2
    start_carp h1 "$SWIFTCARP" --nomcast --advskew=0
    wait_for 6 owns h1 || fail "h1 did not become master"
    start_carp h2 "$REFERENCE_UCARP" --nomcast --advskew=50
    capture h2 "ip proto 112 and src host 192.0.2.11" 1 8 > "$WORK/adverts.txt"
    grep -q "00:00:5e:00:00:07 > ff:ff:ff:ff:ff:ff" "$WORK/adverts.txt" || fail "not broadcast: $(cat "$WORK/adverts.txt")"
    wait_for 6 only_owner h1 || fail "h1 should be the only master (owners: $(owners))"
    kill -9 "$(pid_of h1)"
    wait_for 8 owns h2 || fail "ucarp did not take over from us with --nomcast"
    ! log_has h2 "Bad digest" || fail "ucarp logged a bad digest"
}

test_other_multicast_group_interoperates_with_ucarp() {
    needs tcpdump
    topology_up 2
    start_carp h1 "$SWIFTCARP" -m 224.0.0.19 --advskew=50
    wait_for 5 listening h1 || fail "h1 did not start"
    # --preempt: ucarp takes the address whichever host's first timeout ran out first (h1's skew
    # is only 0.2 s worse, about what a loaded machine takes to start ucarp after h1).
    start_carp h2 "$REFERENCE_UCARP" --mcastip=224.0.0.19 --advskew=0 --preempt
    capture h1 "ip proto 112 and dst host 224.0.0.19" 1 8 > "$WORK/adverts.txt"
    grep -q "01:00:5e:00:00:13" "$WORK/adverts.txt" || fail "no advert to 224.0.0.19: $(cat "$WORK/adverts.txt")"
    wait_for 6 only_owner h2 || fail "ucarp (advskew 0) should be master (owners: $(owners))"
    kill -9 "$(pid_of h2)"
    wait_for 8 owns h1 || fail "we did not take over from ucarp on 224.0.0.19"
}
