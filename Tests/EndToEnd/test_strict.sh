# shellcheck shell=bash
# --auth=strict (issue 23): HMAC-SHA256 over the whole advert and its source, and a counter
# that never goes back. Two strict peers fail over as usual; the attacks of test_hostile.sh
# (hostile.py on h3: forged skew and interval, a dead master replayed) are dropped and counted;
# a peer of the other mode is named in one warning; a restarted master is heard at once.

# strict_drops HOST REASON: HOST's daemon counted at least one drop for REASON (USR1's
# Counters line). For wait_for.
strict_drops() { counters_match "$1" "dropped: .*$2 [1-9]"; }

# strict_drop_count HOST REASON: how many drops for REASON HOST's daemon has counted (0 if none).
strict_drop_count() {
    kill -USR1 "$(pid_of "$1")"
    sleep 0.5
    log_of "$1" | grep "Counters:" | tail -n 1 | grep -o "$2 [0-9]*" | awk '{ n = $2 } END { print n + 0 }'
}

# strict_drops_above HOST REASON N: HOST's daemon has counted more than N drops for REASON.
strict_drops_above() { [ "$(strict_drop_count "$1" "$2")" -gt "$3" ]; }

test_strict_peers_fail_over_normally() {
    two_hosts_with_h1_master --auth=strict --shutdown
    log_has h1 "Strict authentication \(--auth=strict\): counter epoch [0-9]+" \
        || fail "h1 did not say it runs strict: $(log_of h1)"
    holds_for 3 only_owner h1 || fail "h1 did not stay the only owner (owners: $(owners))"
    wait_for 5 counters_match h2 "received [1-9][0-9]*, .*dropped: none" \
        || fail "h2 did not accept h1's adverts: $(log_of h2 | grep Counters | tail -n 1)"
    # A planned departure: the leaving advert is signed too, h2 takes over at once.
    kill -TERM "$(pid_of h1)"
    wait_for 3 only_owner h2 || fail "h2 did not take over from the leaving h1 (owners: $(owners))"
    # A crash: h1 back as the preferred master (preempt), then killed; h2 takes over again.
    start_carp h1 "$SWIFTCARP" --advskew=0 --auth=strict --shutdown --preempt
    wait_for 8 only_owner h1 || fail "the restarted h1 did not preempt h2 (owners: $(owners))"
    kill -9 "$(pid_of h1)"
    # (A dead h1 keeps its address: no one is left to remove it.)
    wait_for 6 owns h2 || fail "h2 did not take over from the dead h1 (owners: $(owners))"
    log_has h2 "replayed|Bad digest|mode; this instance" && fail "h2 dropped a genuine advert: $(log_of h2)"
    return 0
}

# Forged skew and interval (0/1 and 255/255 from another source, checksums made good), then
# the dead master's adverts replayed: none moves anything; each is counted.
test_strict_forgeries_and_replays_are_dropped_and_counted() {
    hostile_pair "$SWIFTCARP" "$SWIFTCARP" --auth=strict
    hostile record "$(host_address 1)" "$WORK/h1.adverts" 1.5
    [ -s "$WORK/h1.adverts" ] || fail "h3 captured no advert of h1"
    hostile forge "$WORK/h1.adverts" 3 0.5 192.0.2.1 0 1 > /dev/null &
    holds_for 3 only_owner h1 || fail "advbase 0/advskew 1 moved the master (owners: $(owners))"
    wait
    # From h1's own address too: only the skew changed.
    hostile forge "$WORK/h1.adverts" 3 0.5 "$(host_address 1)" 255 255 > /dev/null &
    holds_for 3 only_owner h1 || fail "advbase 255/advskew 255 moved the master (owners: $(owners))"
    wait
    # ucarp mode lets h2 take over once on 255/255; strict mode never: BACKUP at the start only.
    [ "$(state_changes h2)" = 1 ] || fail "h2 changed state: $(log_of h2 | grep Switching)"
    wait_for 3 strict_drops h2 bad-digest || fail "h2 did not count the forgeries: $(log_of h2 | tail -n 5)"
    log_has h2 "advbase, advskew and the source" || fail "h2 did not report the forgeries: $(log_of h2)"
    # The dead master's last adverts, replayed once a second: h2 takes over in its usual time.
    kill -9 "$(pid_of h1)"
    local killed takeover=""
    killed=$(now_ms)
    hostile replay "$WORK/h1.adverts" 8 1 3 > "$WORK/replay.out" &
    if wait_for 10 owns h2; then takeover=$(($(now_ms) - killed)); fi
    wait
    echo "    strict takeover with the dead master replayed: ${takeover:-none} ms ($(cat "$WORK/replay.out"))"
    # advbase × deadratio + skew is 3.4 s; a loaded machine needs some more.
    [ -n "$takeover" ] || fail "h2 did not take over within 10 s"
    [ "$takeover" -lt 6000 ] || fail "h2 took $takeover ms"
    log_has h2 "not above .* already accepted from it: replayed, dropped" \
        || fail "h2 did not report the replays: $(log_of h2)"
    wait_for 3 strict_drops h2 replayed || fail "h2 did not count the replays: $(log_of h2 | tail -n 5)"
}

# A SwiftCARP peer in ucarp mode, then Debian's ucarp: neither is heard, each is named in a
# warning (once: rate-limited), and ucarp mode names the strict peer back.
test_strict_against_a_peer_of_the_other_mode_warns_naming_the_mode() {
    topology_up 2
    start_carp h1 "$SWIFTCARP" --auth=strict --advskew=0
    start_carp h2 "$SWIFTCARP" --advskew=100
    wait_for 8 owners_are h1 h2 || fail "both should hold the address, deaf to each other (owners: $(owners))"
    holds_for 3 owners_are h1 h2 || fail "the owners changed (owners: $(owners))"
    local warning
    warning="Advertisement from \[$(host_address 2)\] in ucarp mode; this instance runs --auth=strict"
    [ "$(log_of h1 | grep -c -- "$warning")" = 1 ] || fail "h1 did not warn exactly once: $(log_of h1)"
    log_has h2 "Advertisement from \[$(host_address 1)\] in strict mode; this instance runs --auth=ucarp" \
        || fail "h2 did not name h1's mode: $(log_of h2)"
    wait_for 3 strict_drops h1 other-auth-mode || fail "h1 did not count h2's adverts: $(log_of h1 | tail -n 3)"
    kill -9 "$(pid_of h2)"
    local before
    before=$(strict_drop_count h1 other-auth-mode)
    start_carp h2 "$REFERENCE_UCARP" --advskew=100
    wait_for 10 strict_drops_above h1 other-auth-mode $((before + 2)) \
        || fail "h1 did not count ucarp's adverts as another mode: $(log_of h1 | grep Counters | tail -n 1)"
    log_has h2 "Bad digest" || fail "ucarp did not refuse h1's strict adverts: $(log_of h2)"
}

# The master restarted, its epoch kept in --auth-state: the backup hears its new adverts at
# once. The file starts a day ahead of the clock (as after the clock was set back): only the
# persisted epoch keeps the restarted master's counter above the one the backup remembers.
test_strict_restarted_master_is_not_taken_for_a_replay() {
    topology_up 2
    local ahead=$(( $(date +%s) + 86400 ))
    echo "EPOCH=$ahead" > "$WORK/h1.epoch"
    start_carp h1 "$SWIFTCARP" --auth=strict --advskew=0 --auth-state="$WORK/h1.epoch"
    wait_for 5 listening h1 || fail "h1 did not start"
    [ "$(cat "$WORK/h1.epoch")" = "EPOCH=$((ahead + 1))" ] || fail "h1 kept $(cat "$WORK/h1.epoch")"
    [ "$(stat -c %a "$WORK/h1.epoch")" = 600 ] || fail "the epoch file is $(stat -c %a "$WORK/h1.epoch")"
    start_carp h2 "$SWIFTCARP" --auth=strict --advskew=100
    wait_for 10 only_owner h1 || fail "h1 did not become master (owners: $(owners))"
    wait_for 5 counters_match h2 "received [1-9]" || fail "h2 heard nothing of h1"
    kill -9 "$(pid_of h1)"
    start_carp h1 "$SWIFTCARP" --auth=strict --advskew=0 --preempt --auth-state="$WORK/h1.epoch"
    wait_for 3 log_has h1 "counter epoch $((ahead + 2))" || fail "h1 did not take the next epoch: $(log_of h1)"
    # h1 is master again (at once, or preempting h2 if h2 took over meanwhile), and h2 keeps
    # hearing it: no replay, no second owner.
    wait_for 8 only_owner h1 || fail "the restarted h1 is not the only owner (owners: $(owners))"
    holds_for 5 only_owner h1 || fail "h2 took the address from the restarted h1 (owners: $(owners))"
    log_has h2 "replayed" && fail "h2 dropped the restarted h1's adverts: $(log_of h2)"
    # A file that is not ours is refused at start-up, naming it.
    echo "STATE=MASTER" > "$WORK/h1.epoch"
    kill -9 "$(pid_of h1)"
    # (Its exit recorded first, so that the next one's is not taken for it.)
    wait_for 3 has_exited h1 || fail "h1 did not die"
    start_carp h1 "$SWIFTCARP" --auth=strict --auth-state="$WORK/h1.epoch"
    wait_for 5 has_exited h1 || fail "h1 started with a foreign --auth-state"
    [ "$(exit_status_of h1)" != 0 ] || fail "h1 exited 0 with a foreign --auth-state"
    log_has h1 "auth-state '$WORK/h1.epoch': does not hold EPOCH" || fail "no clear message: $(log_of h1)"
}

test_strict_unknown_auth_mode_is_refused() {
    local out status
    out=$("$SWIFTCARP" --interface=lo --srcip=192.0.2.11 --vhid=7 --pass=hunter2 --addr=192.0.2.100 \
        --auth=sha256 2>&1)
    status=$?
    [ "$status" = 1 ] || fail "exit status $status, expected 1: $out"
    grep -q -- "--auth 'sha256'" <<< "$out" || fail "the message does not name the value: $out"
}

# A supervised master's worker killed: the supervisor's leaving advert (test_death.sh) is
# signed and counted from a new epoch, above every advert of the dead worker, so the strict
# backup takes over at once rather than after its timeout. The epoch is kept beside --statefile.
test_strict_dead_supervised_master_hands_over_with_a_signed_leaving_advert() {
    topology_up 2
    write_reason_script
    start_supervised h1 --auth=strict
    wait_for 5 state_is h1 BACKUP || fail "h1 did not start: $(cat "$WORK/h1.state" 2>/dev/null)"
    grep -qx "EPOCH=[0-9]*" "$WORK/h1.state.epoch" || fail "no epoch beside the state file: $(ls "$WORK")"
    start_carp h2 "$SWIFTCARP" --advskew=100 --auth=strict
    wait_for 10 only_owner h1 || fail "h1 did not become master (owners: $(owners))"
    sleep 0.5
    local worker
    worker=$(worker_of h1)
    [ -n "$worker" ] || fail "no worker under the supervisor"
    kill -KILL "$worker"
    wait_for 3 only_owner h2 || fail "h2 did not take over (owners: $(owners))"
    log_has h2 "Putting MASTER DOWN \(going to time out\)" \
        || fail "h2 took over by timeout: the supervisor's leaving advert was not heard: $(log_of h2)"
    log_has h2 "replayed|Bad digest" && fail "h2 dropped one of h1's adverts: $(log_of h2)"
    wait_for 5 new_worker h1 "$worker" || fail "the supervisor did not restart the worker"
    wait_for 5 state_is h1 BACKUP || fail "the restarted worker: $(cat "$WORK/h1.state")"
    # h2 hands the address back: the new worker's adverts, in a later epoch still, are heard.
    kill -USR2 "$(pid_of h2)"
    wait_for 5 only_owner h1 || fail "the new worker did not take over (owners: $(owners))"
    holds_for 5 only_owner h1 || fail "h2 took the address back (owners: $(owners))"
    log_has h2 "replayed|Bad digest" && fail "h2 dropped one of h1's adverts: $(log_of h2)"
    stop_supervised h1
}

# A foreground master SIGKILLed: its sentinel signs the leaving advert with the counter its
# daemon told it, of the daemon's own epoch (above every advert it sent), so the strict backup
# takes over at once rather than after its timeout; the sentinel takes no epoch of its own
# from --auth-state (a successor's must stay above the dead one's).
test_strict_killed_foreground_master_hands_over_with_the_sentinels_leaving_advert() {
    topology_up 2
    start_carp h1 "$SWIFTCARP" --auth=strict --advskew=0 --auth-state="$WORK/h1.epoch"
    wait_for 5 listening h1 || fail "h1 did not start: $(log_of h1)"
    start_carp h2 "$SWIFTCARP" --auth=strict --advskew=100
    wait_for 10 only_owner h1 || fail "h1 did not become master (owners: $(owners))"
    sleep 0.5
    local epoch killed
    epoch=$(grep '^EPOCH=' "$WORK/h1.epoch")
    killed=$(now_ms)
    kill -KILL "$(pid_of h1)"
    # The master-down time is 3 s: a takeover by timeout comes 2 s after the kill at the earliest.
    wait_for 2 only_owner h2 || fail "h2 did not take over at once (owners: $(owners))"
    echo "    h2 took over $(( $(now_ms) - killed )) ms after the kill"
    log_has h2 "Putting MASTER DOWN \(going to time out\)" \
        || fail "h2 took over by timeout: the sentinel's leaving advert was not heard: $(log_of h2)"
    log_has h1 "Sent the leaving advertisement" || fail "the sentinel sent none: $(log_of h1)"
    log_has h2 "replayed|Bad digest" && fail "h2 dropped one of h1's adverts: $(log_of h2)"
    [ "$(grep '^EPOCH=' "$WORK/h1.epoch")" = "$epoch" ] \
        || fail "the sentinel took an epoch: $(grep '^EPOCH=' "$WORK/h1.epoch"), was $epoch"
}

# Over IPv6 and to --peer addresses (a raw socket: the kernel writes the IPv6 header, the
# source signed is --srcip): strict peers elect one master and fail over.
test_strict_over_ipv6_unicast_peers_fail_over() {
    needs nft
    local VIP=$VIP6
    topology_up 3
    no_multicast
    start_unicast h1 0 --auth=strict
    wait_for 5 listening h1 || fail "h1 did not start"
    start_unicast h2 50 --auth=strict
    wait_for 8 only_owner h1 || fail "h1 should be the only master (owners: $(owners))"
    holds_for 2 only_owner h1 || fail "more than one master (owners: $(owners))"
    wait_for 5 counters_match h2 "received [1-9][0-9]*, .*dropped: none" \
        || fail "h2 did not accept h1's adverts: $(log_of h2 | grep Counters | tail -n 1)"
    kill -9 "$(pid_of h1)"
    remove_address h1 "$VIP"
    wait_for 8 only_owner h2 || fail "h2 did not take over (owners: $(owners))"
}

# The backup restarted (its --auth-state keeps the counters it accepted) just after the master
# died: the dead master's adverts captured before, replayed at the new backup, are still old,
# and it takes over in its usual time rather than after the replay.
test_strict_restarted_backup_still_refuses_the_dead_masters_replays() {
    topology_up 3
    start_carp h1 "$SWIFTCARP" --advskew=0 --auth=strict
    wait_for 6 owns h1 || fail "h1 did not become master alone"
    start_carp h2 "$SWIFTCARP" --advskew=100 --auth=strict --auth-state="$WORK/h2.state"
    wait_for 10 only_owner h1 || fail "h1 never became the only owner (owners: $(owners))"
    hostile record "$(host_address 1)" "$WORK/h1.adverts" 3
    [ -s "$WORK/h1.adverts" ] || fail "h3 captured no advert of h1"
    kill -9 "$(pid_of h1)"
    kill -TERM "$(pid_of h2)"
    wait_for 3 has_exited h2 || fail "h2 did not end on TERM"
    grep -q "^PEER=$(host_address 1) [0-9]*$" "$WORK/h2.state" \
        || fail "h2 kept no counter of h1: $(cat "$WORK/h2.state")"
    start_carp h2 "$SWIFTCARP" --advskew=100 --auth=strict --auth-state="$WORK/h2.state"
    local started taken=""
    started=$(now_ms)
    hostile replay "$WORK/h1.adverts" 10 0.5 3 > "$WORK/replay.out" &
    if wait_for 9 owns h2; then taken=$(($(now_ms) - started)); fi
    wait
    echo "    the restarted backup took over ${taken:-never} ms after its start, under the replay"
    [ -n "$taken" ] || fail "the replay held the restarted h2 for its whole length"
    log_has h2 "not above .* already accepted from it: replayed, dropped" \
        || fail "the restarted h2 did not drop the replays: $(log_of h2)"
    # Not one of them accepted (without the kept counters the first of each was new to it).
    wait_for 3 counters_match h2 "received 0, " \
        || fail "the restarted h2 accepted a replay: $(log_of h2 | grep Counters | tail -n 1)"
}
