# shellcheck shell=bash
# Faults and hostile neighbours: the election must survive them, and so must the daemon.

test_frozen_master_is_replaced_and_one_master_remains_after_the_thaw() {
    two_hosts_with_h1_master
    kill -STOP "$(pid_of h1)"
    wait_for 6 owns h2 || fail "h2 did not take over from a frozen master"
    # The scenario: h1 stays frozen, still holding the address, for two of h2's adverts.
    sleep 2
    kill -CONT "$(pid_of h1)"
    # Within a couple of intervals exactly one master is left and its scripts have run.
    wait_for 5 one_owner || fail "after the thaw: owners '$(owners)'"
    local settled
    settled="$(owners)"
    holds_for 3 only_owner "$settled" || fail "ownership still moving after the thaw: $(owners)"
}

test_link_flap_on_the_master_leaves_one_master() {
    two_hosts_with_h1_master
    ip -n "$(ns h1)" link set eth0 down
    wait_for 6 owns h2 || fail "h2 did not take over when h1's link went down"
    # The scenario: the link stays down for four of h2's adverts.
    sleep 4
    ip -n "$(ns h1)" link set eth0 up
    holds_for 4 only_owner h2 || fail "after the flap: owners '$(owners)', expected h2 alone (no --preempt)"
    { kill -0 "$(pid_of h1)" && kill -0 "$(pid_of h2)"; } || fail "a daemon exited"
    local ticks
    ticks=$(awk '{print $14 + $15}' "/proc/$(pid_of h1)/stat")
    [ "$ticks" -lt 100 ] || fail "h1 used $ticks clock ticks: spinning?"
}

test_partition_makes_two_masters_and_healing_one() {
    needs nft
    two_hosts_with_h1_master
    partition
    wait_for 6 owns h2 || fail "h2 did not take over during the cut"
    owns h1 || fail "h1 should still be master on its side"
    heal
    # h2 hears h1's more frequent adverts and steps down at once.
    wait_for 5 only_owner h1 || fail "two masters after healing (owners: $(owners))"
}

# 25% of CARP packets lost for 15 s (every fourth: with random loss, the 15 adverts of the
# window would all pass 1.3% of the time and the test would prove nothing). With advbase 1 and
# deadratio 6 a takeover needs six adverts lost in a row: no role change may happen.
test_lossy_segment_causes_no_role_change_within_the_dead_ratio() {
    needs nft
    topology_up 2
    start_carp h1 "$SWIFTCARP" --advskew=0 --deadratio=6
    wait_for 5 listening h1 || fail "h1 did not start"
    start_carp h2 "$SWIFTCARP" --advskew=100 --deadratio=6
    wait_for 15 only_owner h1 || fail "h1 did not become master"
    local before1 before2
    before1=$(state_changes h1)
    before2=$(state_changes h2)
    ip netns exec "$(ns sw)" nft add table bridge loss
    ip netns exec "$(ns sw)" nft add chain bridge loss forward '{ type filter hook forward priority 0; }'
    ip netns exec "$(ns sw)" nft add rule bridge loss forward ip protocol 112 numgen inc mod 4 0 counter drop
    # The scenario: 15 s of loss (state_changes counts, so a look at the end sees any change).
    sleep 15
    local dropped
    dropped=$(ip netns exec "$(ns sw)" nft list table bridge loss | grep -o 'packets [0-9]*' | awk '{print $2}')
    ip netns exec "$(ns sw)" nft delete table bridge loss
    [ "${dropped:-0}" -ge 1 ] || fail "the loss rule dropped nothing"
    echo "    adverts dropped: $dropped"
    { [ "$(state_changes h1)" = "$before1" ] && [ "$(state_changes h2)" = "$before2" ]; } \
        || fail "roles changed under 25% loss"
}

test_broken_and_hostile_packets_are_counted_and_dropped() {
    needs python3
    topology_up 3
    start_carp h1 "$SWIFTCARP" --advskew=0
    wait_for 5 listening h1 || fail "h1 did not start"
    start_carp h2 "$SWIFTCARP" --advskew=100
    wait_for 10 only_owner h1 || fail "h1 did not become master"
    local kind
    for kind in truncated oversized version ttl checksum digest; do
        ip netns exec "$(ns h3)" python3 "$E2E_DIR/inject.py" eth0 "$kind" 25 || fail "injecting $kind failed"
    done
    only_owner h1 || fail "the election was disturbed (owners: $(owners))"
    # The injected frames may still be queued when USR1 arrives (signals are handled first):
    # ask again until the last kind injected is all counted.
    local counters
    wait_for 5 counters_match h2 "bad-digest 25"
    counters=$(log_of h2 | grep "Counters:" | tail -n 1)
    [ -n "$counters" ] || fail "no counters"
    for kind in truncated oversized bad-version bad-ttl bad-checksum bad-digest; do
        echo "$counters" | grep -q "$kind 25" || fail "$kind not counted 25 times: $counters"
    done
    # One warning per kind at most, not 25.
    [ "$(log_of h2 | grep -c "Bad digest")" -le 1 ] || fail "bad digests flood the log"
    [ "$(log_of h2 | grep -c "Bad TTL")" -le 1 ] || fail "bad TTLs flood the log"
    { kill -0 "$(pid_of h1)" && kill -0 "$(pid_of h2)"; } || fail "a daemon died"
}

test_keepalived_on_the_same_id_does_not_disturb_the_election() {
    needs keepalived
    topology_up 3
    cat > "$WORK/keepalived.conf" <<CONF
vrrp_instance carp_neighbour {
    state MASTER
    interface eth0
    virtual_router_id 7
    priority 200
    advert_int 1
    virtual_ipaddress {
        198.51.100.7/32
    }
}
CONF
    run_on h3 keepalived --dont-fork --log-console --vrrp -f "$WORK/keepalived.conf" \
        -p "$WORK/keepalived.pid" -r "$WORK/vrrp.pid"
    start_carp h1 "$SWIFTCARP" --advskew=0
    wait_for 5 listening h1 || fail "h1 did not start"
    start_carp h2 "$SWIFTCARP" --advskew=100
    wait_for 10 only_owner h1 || fail "h1 did not become master next to keepalived (owners: $(owners))"
    holds_for 3 only_owner h1 || fail "keepalived's VRRP disturbed the election (owners: $(owners))"
    kill -USR1 "$(pid_of h2)"
    wait_for 3 log_has h2 "Counters:.*truncated [1-9]" || fail "VRRP packets not counted: $(log_of h2 | grep Counters)"
}

# A daemon whose interface is deleted waits for it (issue 27, ucarp issue #26): down script
# (it was master), one line, no exit, no spinning.
test_removed_interface_runs_the_down_script_and_waits() {
    topology_up 1
    start_carp h1 "$SWIFTCARP" --shutdown
    wait_for 6 owns h1 || fail "h1 never became master"
    ip -n "$(ns h1)" link del eth0
    wait_for 5 log_has h1 "Interface \[eth0\] is gone: waiting for it to come back" || fail "no clear log line"
    wait_for 5 last_script_matches h1 "^DOWN eth0 $VIP$" || fail "no down script: $(script_log h1)"
    # The scenario: the interface stays gone for three of the daemon's looks.
    sleep 3
    has_exited h1 && fail "the daemon exited (status $(exit_status_of h1)) when its interface was removed"
    [ "$(log_of h1 | grep -c "is gone")" = 1 ] || fail "the wait is logged more than once"
    [ "$(script_log h1 | grep -c UP)" = 1 ] || fail "an up script ran for the removal: $(script_log h1)"
    local ticks
    ticks=$(awk '{print $14 + $15}' "/proc/$(pid_of h1)/stat")
    [ "$ticks" -lt 100 ] || fail "h1 used $ticks clock ticks while waiting: spinning?"
}

# mac_of HOST: the MAC of HOST's eth0.
mac_of() { ip -n "$(ns "$1")" -br link show dev eth0 | awk '{print $3}'; }

# client_sees_vip_at HOST MAC: HOST's neighbour entry for the virtual address has MAC.
client_sees_vip_at() { ip -n "$(ns "$1")" neigh show "$VIP" | grep -qF "lladdr $2"; }

# The master's veth deleted and created again (a new MAC), as `systemctl restart networking`
# does: the other host takes over meanwhile, and with --preempt the master takes the address
# back once its interface is back, announced from the new MAC.
test_recreated_interface_rejoins() {
    topology_up 3
    start_carp h1 "$SWIFTCARP" --advskew=0 --preempt
    wait_for 5 listening h1 || fail "h1 did not start"
    start_carp h2 "$SWIFTCARP" --advskew=100 --preempt
    wait_for 10 only_owner h1 || fail "h1 did not become master (owners: $(owners))"
    # h3, a client, knows the address at h1's MAC.
    ip netns exec "$(ns h3)" ping -c 1 -W 1 "$VIP" > /dev/null || fail "the client cannot reach the address"
    local old_mac new_mac
    old_mac=$(mac_of h1)
    ip -n "$(ns h1)" link del eth0
    wait_for 6 only_owner h2 || fail "h2 did not take over while h1's interface was gone (owners: $(owners))"
    last_script_matches h1 "^DOWN eth0 $VIP$" || fail "h1 ran no down script: $(script_log h1)"
    create_interface h1
    new_mac=$(mac_of h1)
    [ "$new_mac" != "$old_mac" ] || fail "the new interface has the old MAC $old_mac"
    wait_for 5 log_has h1 "Interface \[eth0\] is back" || fail "h1 did not see its interface back"
    log_has h1 "Local advertised ethernet address is \[$new_mac\]" || fail "h1 does not use the new MAC $new_mac"
    wait_for 6 only_owner h1 || fail "h1 did not take the address back (owners: $(owners))"
    wait_for 5 client_sees_vip_at h3 "$new_mac" \
        || fail "the client's neighbour entry: $(ip -n "$(ns h3)" neigh show "$VIP"), expected $new_mac"
    ip netns exec "$(ns h3)" ping -c 1 -W 1 "$VIP" > /dev/null || fail "the client cannot reach the address"
    has_exited h1 && fail "h1 exited (status $(exit_status_of h1))"
    [ "$(log_of h1 | grep -c "is gone")" = 1 ] || fail "the wait is logged more than once"
}

# The same against Debian's ucarp: it hears our adverts again, from the new interface, and
# gives the address back to a preferred master.
test_recreated_interface_rejoins_a_ucarp_peer() {
    topology_up 2
    start_carp h1 "$SWIFTCARP" --advskew=0 --preempt
    wait_for 5 listening h1 || fail "h1 did not start"
    start_carp h2 "$REFERENCE_UCARP" --advskew=100
    wait_for 10 only_owner h1 || fail "h1 did not become master (owners: $(owners))"
    ip -n "$(ns h1)" link del eth0
    wait_for 6 only_owner h2 || fail "ucarp did not take over (owners: $(owners))"
    create_interface h1
    wait_for 8 only_owner h1 || fail "h1 did not take the address back from ucarp (owners: $(owners))"
    holds_for 3 only_owner h1 || fail "ucarp does not hear h1's adverts (owners: $(owners))"
}

# A backup's interface deleted and created again: it comes back as a backup that hears the
# master (no takeover), and still takes over when the master dies.
test_recreated_backup_interface_rejoins_as_backup() {
    two_hosts_with_h1_master
    ip -n "$(ns h2)" link del eth0
    wait_for 5 log_has h2 "Interface \[eth0\] is gone" || fail "h2 did not see its interface go"
    create_interface h2
    wait_for 5 log_has h2 "Interface \[eth0\] is back" || fail "h2 did not see its interface back"
    holds_for 5 only_owner h1 || fail "h2 does not hear the master on its new interface (owners: $(owners))"
    kill -9 "$(pid_of h1)"
    remove_address h1 "$VIP"
    wait_for 6 only_owner h2 || fail "h2 did not take over from a dead master (owners: $(owners))"
}
