# shellcheck shell=bash
# SwiftCARP and Debian's ucarp 1.5.2 on one segment, in both directions.

# Neither side may have logged a bad digest for the other's adverts.
no_bad_digests() {
    ! log_has h1 "Bad digest" || fail "h1 logged a bad digest"
    ! log_has h2 "Bad digest" || fail "h2 logged a bad digest"
}

# MASTER_BIN on h1 (advskew 0) and BACKUP_BIN on h2 (advskew 100): h1 wins, then dies.
# Further arguments go to both.
failover_between() {
    local master_bin=$1 backup_bin=$2
    shift 2
    topology_up 2
    start_carp h1 "$master_bin" --advskew=0 "$@"
    # h1 (without --preempt) must win: let it be master before the backup starts (ucarp, with
    # its capture delivering once a second, could otherwise time out first).
    wait_for 6 owns h1 || fail "h1 did not become master alone"
    start_carp h2 "$backup_bin" --advskew=100 "$@"
    wait_for 10 only_owner h1 || fail "h1 (advskew 0) never became the only owner (owners: $(owners))"
    holds_for 2 only_owner h1 || fail "ownership moved while both ran (owners: $(owners))"
    no_bad_digests
    kill -9 "$(pid_of h1)"
    local killed
    killed=$(now_ms)
    wait_for 8 owns h2 || fail "h2 did not take over after kill -9 of h1"
    echo "    takeover after kill -9: $(( $(now_ms) - killed )) ms"
    log_has h2 "Switching to state: MASTER" || fail "h2 did not log its switch to MASTER"
}

test_ucarp_backup_takes_over_from_swiftcarp_master() {
    failover_between "$SWIFTCARP" "$REFERENCE_UCARP"
}

test_swiftcarp_backup_takes_over_from_ucarp_master() {
    failover_between "$REFERENCE_UCARP" "$SWIFTCARP"
}

# A password that is not UTF-8: seven 0xFF bytes (Latin-1 ÿ). ucarp hashes argv's bytes as
# given; read as UTF-8 they would be 21 bytes of U+FFFD, another key. Both directions.
test_non_utf8_password_agrees_with_ucarp() {
    local password
    password=$(printf '\377\377\377\377\377\377\377')
    failover_between "$SWIFTCARP" "$REFERENCE_UCARP" --pass="$password"
    topology_down
    failover_between "$REFERENCE_UCARP" "$SWIFTCARP" --pass="$password"
}

test_swiftcarp_pair_fails_over() {
    failover_between "$SWIFTCARP" "$SWIFTCARP"
}

# Equal intervals: when two masters meet, ucarp keeps the one whose address is "lower" as
# the 32-bit word in memory, which on little-endian hosts compares the last octet first.
# h1 = 192.0.2.11 and h2 = 10.0.0.20: numerically h2 is lower, but by ucarp's rule h1 is
# (11 < 20), so h1 must stay master whichever implementation runs where.
test_equal_intervals_agree_with_ucarp_on_the_tie_break() {
    needs nft
    local first second
    for first in "$SWIFTCARP" "$REFERENCE_UCARP"; do
        second=$([ "$first" = "$SWIFTCARP" ] && echo "$REFERENCE_UCARP" || echo "$SWIFTCARP")
        topology_up 2
        ip -n "$(ns h2)" addr add 10.0.0.20/24 dev eth0
        partition
        start_carp h1 "$first" --advskew=0
        run_on h2 "$second" -i eth0 -s 10.0.0.20 -v 7 -p hunter2 -a "$VIP" -u "$WORK/up" -d "$WORK/down" -f none
        { wait_for 8 owns h1 && wait_for 8 owns h2; } || fail "both should be master while cut off"
        heal
        wait_for 5 only_owner h1 || fail "192.0.2.11 should win the tie (owners: $(owners))"
        holds_for 3 only_owner h1 || fail "the tie-break did not hold (owners: $(owners))"
        topology_down
    done
}

test_wrong_password_is_reported_on_both_sides() {
    topology_up 2
    start_carp h1 "$SWIFTCARP"
    ip netns exec "$(ns h2)" "$REFERENCE_UCARP" -i eth0 -s "$(host_address 2)" -v 7 -p wrong -a "$VIP" \
        -u "$WORK/up" -d "$WORK/down" -f none >> "$WORK/h2.log" 2>&1 &
        disown $!
    wait_for 10 log_has h1 "Bad digest" || fail "SwiftCARP did not report ucarp's wrongly signed adverts"
    wait_for 10 log_has h2 "Bad digest" || fail "ucarp did not report our wrongly signed adverts"
    log_has h1 "Check vhid, password and virtual IP address" || fail "our message does not say what to check"
}

# Issue 23, the counters. ucarp 1.5.2 sends a random counter per advert until it hears a peer:
# a ucarp master with a silent SwiftCARP backup never hears one, and none of its adverts (no
# two alike) may be dropped as a replay.
test_ucarp_master_that_never_heard_a_peer_is_never_dropped() {
    topology_up 2
    start_carp h1 "$REFERENCE_UCARP" --advskew=0
    wait_for 6 owns h1 || fail "ucarp did not become master"
    start_carp h2 "$SWIFTCARP" --advskew=100
    holds_for 5 only_owner h1 || fail "the ucarp master lost the address (owners: $(owners))"
    wait_for 3 counters_match h2 "received [1-9][0-9]*, .*dropped: none" \
        || fail "SwiftCARP dropped some of ucarp's adverts: $(log_of h2 | grep Counters: | tail -n 1)"
}

# ucarp copies the counter it hears and sends it plus one, which a counter counting by one
# would send next: a preempting ucarp that copied ours must still be heard (else two masters),
# and again after a restart mid-run (random again, then a copy again).
test_ucarp_copying_our_counter_and_restarted_is_never_dropped() {
    topology_up 2
    start_carp h1 "$SWIFTCARP" --advskew=100
    wait_for 6 owns h1 || fail "SwiftCARP did not become master"
    local round
    for round in 1 2; do
        run_named "ucarp$round" h2 "$REFERENCE_UCARP" --interface=eth0 --srcip="$(host_address 2)" --vhid=7 \
            --pass=hunter2 --addr="$VIP" --upscript="$WORK/up" --downscript="$WORK/down" --facility=none \
            --advskew=0 --preempt
        wait_for 8 only_owner h2 || fail "round $round: ucarp did not preempt alone (owners: $(owners))"
        holds_for 3 only_owner h2 || fail "round $round: two masters or a flap (owners: $(owners))"
        wait_for 3 counters_match h1 "dropped: none" \
            || fail "round $round: SwiftCARP dropped ucarp's adverts: $(log_of h1 | grep Counters: | tail -n 1)"
        kill -9 "$(pid_of "ucarp$round")"
        # ucarp's address stays behind it (kill -9): take it away, as a reboot would.
        ip -n "$(ns h2)" addr del "$VIP/32" dev eth0 2>/dev/null
        wait_for 8 owns h1 || fail "round $round: SwiftCARP did not take over from the killed ucarp"
    done
}
