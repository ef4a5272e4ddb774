# shellcheck shell=bash
# Addresses that vanish come back: a master whose virtual address is flushed, or whose link
# goes down and up, runs its up script again and announces the address, without a change of
# role, and a client (h3) reaches the address again within a second.

# reachable_from HOST: HOST gets an answer to one ping of the virtual address.
reachable_from() { ip netns exec "$(ns "$1")" ping -n -q -c 1 -W 0.2 "$VIP" > /dev/null 2>&1; }

# reachable_within_a_second_from HOST: pings from HOST until one is answered, for at most a
# second from the caller's START_MS.
reachable_within_a_second_from() {
    until reachable_from "$1"; do
        [ $(( $(now_ms) - START_MS )) -lt 1000 ] || return 1
    done
    [ $(( $(now_ms) - START_MS )) -le 1000 ]
}

# master_h1_backup_h2_client_h3 [options for h1]: three hosts, h3 runs no daemon and reaches
# the address.
master_h1_backup_h2_client_h3() {
    topology_up 3
    start_carp h1 "$SWIFTCARP" --advskew=0 --metrics-file="$WORK/h1.prom" "$@"
    wait_for 5 listening h1 || fail "h1 did not start"
    start_carp h2 "$SWIFTCARP" --advskew=100
    wait_for 10 only_owner h1 || fail "h1 did not become master (owners: $(owners))"
    wait_for 3 script_count_at_least h1 2 || fail "h1's up script did not run"
    wait_for 3 reachable_from h3 || fail "h3 cannot reach $VIP before the test"
}

test_flushed_address_comes_back_without_a_role_change() {
    needs ping
    master_h1_backup_h2_client_h3
    local h1_changes h2_changes scripts
    h1_changes=$(state_changes h1)
    h2_changes=$(state_changes h2)
    scripts=$(script_log h1 | wc -l)
    START_MS=$(now_ms)
    # As NetworkManager or `systemctl restart networking` would: every address goes, and the
    # host's own comes back.
    ip -n "$(ns h1)" addr flush dev eth0
    ip -n "$(ns h1)" addr add "$(host_address 1)/24" dev eth0
    reachable_within_a_second_from h3 || fail "$VIP unreachable $(( $(now_ms) - START_MS )) ms after the flush"
    owns h1 || fail "h1 does not own $VIP"
    log_has h1 "Virtual address $VIP vanished from \[eth0\] while MASTER" || fail "no address-lost line"
    [ "$(script_log h1 | wc -l)" = $((scripts + 1)) ] || fail "the up script did not run once more"
    script_log h1 | tail -n 1 | grep -q "^UP eth0 $VIP" || fail "the last script is not the up script"
    grep -q '^ucarp_address_restores_total{.*} 1$' "$WORK/h1.prom" || fail "not counted: $(cat "$WORK/h1.prom")"
    # No role changed, on either host, a few advertisements later (a window: state_changes
    # counts, so a look at its end sees any change).
    sleep 2
    [ "$(state_changes h1)" = "$h1_changes" ] || fail "h1 changed state"
    [ "$(state_changes h2)" = "$h2_changes" ] || fail "h2 changed state"
    only_owner h1 || fail "owners: $(owners)"
}

test_link_down_and_up_comes_back_without_a_role_change() {
    needs ping
    # Without --ignoreifstate a link down long enough to be seen makes h1 BACKUP, as ucarp.
    master_h1_backup_h2_client_h3 --ignoreifstate
    local h1_changes h2_changes scripts
    h1_changes=$(state_changes h1)
    h2_changes=$(state_changes h2)
    scripts=$(script_log h1 | wc -l)
    ip -n "$(ns h1)" link set dev eth0 down
    START_MS=$(now_ms)
    ip -n "$(ns h1)" link set dev eth0 up
    reachable_within_a_second_from h3 || fail "$VIP unreachable $(( $(now_ms) - START_MS )) ms after the link came up"
    wait_for 1 log_has h1 "Interface \[eth0\] is up again while MASTER" || fail "no address-lost line"
    wait_for 1 script_count_at_least h1 $((scripts + 1)) || fail "the up script did not run again"
    # A window of a few advertisements, as above.
    sleep 2
    [ "$(state_changes h1)" = "$h1_changes" ] || fail "h1 changed state"
    [ "$(state_changes h2)" = "$h2_changes" ] || fail "h2 changed state"
    only_owner h1 || fail "owners: $(owners)"
}

test_the_down_script_removing_the_address_is_no_loss() {
    master_h1_backup_h2_client_h3
    # h1 steps down: its down script removes the address, which is no loss to repair.
    kill -USR2 "$(pid_of h1)"
    wait_for 3 only_owner h2 || fail "h2 did not take over (owners: $(owners))"
    wait_for 3 last_script_matches h1 "^DOWN eth0 $VIP" || fail "h1's last script is not the down script"
    holds_for 1 not log_has h1 "vanished" || fail "h1 took its own down script for a loss"
    only_owner h2 || fail "owners: $(owners)"
}
