# shellcheck shell=bash
# The hand-over race (issue 27, the fault campaign's finding 2): a master leaving on purpose
# with two backups leaves exactly one new holder. Each backup waits its own skew after the
# leaving advertisement, so the preferred one's first advertisement keeps the other BACKUP;
# taking over at once, as before, made both masters for a moment, each with its up script.

# race_sample FILE HOST...: for each HOST, every ~20 ms, a line "MS HOST" into FILE while HOST
# holds the address, and "MS -" while not (one sampler a host, so that a slow `ip` on one does
# not thin out the others' samples); until FILE.run is removed, as race_stop does, or the
# test's work directory with it, however the test ends.
race_sample() {
    local file=$1 host
    shift
    touch "$file.run"
    for host in "$@"; do
        while [ -e "$file.run" ]; do
            if owns "$host"; then echo "$(now_ms) $host"; else echo "$(now_ms) -"; fi
            sleep 0.02
        done >> "$file" 2>/dev/null &
    done
    wait
}

# race_stop FILE PID: stops race_sample FILE, running as PID, and waits for it.
race_stop() {
    rm -f "$1.run"
    wait "$2" 2>/dev/null
}

# race_three_hosts: h1 (advskew 0, --shutdown) master, h2 (advskew 50) and h3 (advskew 100)
# SwiftCARP backups listening to it.
race_three_hosts() {
    topology_up 3
    start_carp h1 "$SWIFTCARP" --advskew=0 --shutdown
    wait_for 5 listening h1 || fail "h1 did not start"
    start_carp h2 "$SWIFTCARP" --advskew=50 --shutdown
    start_carp h3 "$SWIFTCARP" --advskew=100 --shutdown
    wait_for 10 only_owner h1 || fail "h1 did not become master (owners: $(owners))"
    wait_for 5 listening h2 || fail "h2 did not start"
    wait_for 5 listening h3 || fail "h3 did not start"
    # A second of steady state: both backups have heard h1.
    holds_for 1 only_owner h1 || fail "h1 lost the address (owners: $(owners))"
}

# race_one_new_holder SIGNAL: SIGNAL to the master h1; over the next 4 s, sampled every ~20 ms
# on all hosts, h2 alone of the backups ever holds the address, and it holds it alone at the end;
# h3 runs no up script.
race_one_new_holder() {
    local signal=$1 samples sampler holders
    race_three_hosts
    samples="$WORK/race.samples"
    race_sample "$samples" h2 h3 &
    sampler=$!
    kill "-$signal" "$(pid_of h1)"
    # The scenario: the window in which a second new holder would show (the new masters' up
    # scripts, the less preferred one yielding at the next advertisement), sampled all along.
    sleep 4
    wait_for 5 only_owner h2 || fail "h2 did not end up the only holder (owners: $(owners))"
    race_stop "$samples" "$sampler"
    [ "$(grep -c . "$samples")" -ge 40 ] || fail "only $(grep -c . "$samples") samples were taken"
    holders=$(awk '$2 != "-" { seen[$2] = 1 } END { for (h in seen) printf "%s ", h }' "$samples")
    [ "$holders" = "h2 " ] || fail "new holders after $signal: '$holders' (h3 held it in $(grep -c ' h3$' "$samples") samples)"
    ! script_log h3 | grep -q '^UP' || fail "h3 ran its up script: $(script_log h3 | tr '\n' ' ')"
    log_has h2 "Putting MASTER DOWN \(going to time out\)" || fail "h2 did not take over on the leaving advertisement"
    echo "    $signal to the master: $(grep -c . "$samples") samples of h2 and h3, one new holder (h2), h3 stayed BACKUP"
}

test_race_usr2_to_the_master_of_two_backups_leaves_one_new_holder() { race_one_new_holder USR2; }
test_race_term_to_the_master_of_two_backups_leaves_one_new_holder() { race_one_new_holder TERM; }

# The preferred backup is gone: the other one takes over from the leaving master after its
# own skew, and alone.
test_race_leaving_master_with_its_preferred_backup_gone_hands_over_to_the_other() {
    race_three_hosts
    kill -KILL "$(pid_of h2)"
    wait_for 3 has_exited h2 || fail "h2 did not die"
    kill -TERM "$(pid_of h1)"
    # Well before h3's master-down interval (3.4 s) would run out.
    wait_for 2 owns h3 || fail "h3 did not take over from the leaving master (owners: $(owners))"
    wait_for 5 only_owner h3 || fail "h3 did not end up the only holder (owners: $(owners))"
    log_has h3 "Putting MASTER DOWN \(going to time out\)" || fail "h3 took over by timeout, not on the leaving advertisement"
}
