# shellcheck shell=bash
# The address never outlives its daemon (issue 17): a master's instance dies on a live host
# (SIGKILL, a crash), and within a second the address leaves that host and the backup has it.

# The down script, recording CARP_REASON before removing the address.
write_reason_script() {
    cat > "$WORK/down-reason" <<SCRIPT
#!/bin/sh
echo "\$CARP_REASON" >> "$WORK/reasons.\$(ip netns identify \$\$)"
exec "$WORK/down" "\$@"
SCRIPT
    chmod +x "$WORK/down-reason"
    # A keepalived-style notify script, recording the state and CARP_REASON it is told.
    cat > "$WORK/notify" <<SCRIPT
#!/bin/sh
echo "\$3 \$CARP_REASON" >> "$WORK/notified.\$(ip netns identify \$\$)"
SCRIPT
    chmod +x "$WORK/notify"
}

# death_notified HOST: the states (and reasons) HOST's notify script was told.
death_notified() { cat "$WORK/notified.$(ns "$1")" 2>/dev/null; }

# reasons HOST: the CARP_REASON of each down script HOST ran.
reasons() { cat "$WORK/reasons.$(ns "$1")" 2>/dev/null; }

# start_supervised HOST [options...]: ucarp --daemonize on HOST, with a pid file and a state
# file in $WORK (HOST.pidfile, HOST.state), the recording down script, and advskew 0.
start_supervised() {
    local host=$1 n=${1#h}
    shift
    ip netns exec "$(ns "$host")" "$SWIFTCARP" -B -i eth0 -s "$(host_address "$n")" -v 7 -p hunter2 -a "$VIP" \
        -u "$WORK/up" -d "$WORK/down-reason" -f none -k 0 --pidfile="$WORK/$host.pidfile" \
        --statefile="$WORK/$host.state" --notify="$WORK/notify" "$@" > "$WORK/$host.log" 2>&1 || fail "ucarp -B exited $?: $(log_of "$host")"
}

supervisor_of() { cat "$WORK/$1.pidfile"; }
# stop_supervised HOST: TERM to the pid file's pid ends the supervised instance.
stop_supervised() {
    kill -TERM "$(supervisor_of "$1")"
    wait_for 3 test ! -e "$WORK/$1.pidfile" || fail "TERM did not end the supervised instance on $1"
}
# worker_of HOST: the pid of the worker, the supervisor's one child.
worker_of() { ps -o pid= --ppid "$(supervisor_of "$1")" | tr -d ' ' | head -n 1; }
state_is() { grep -qx "STATE=$2" "$WORK/$1.state" 2>/dev/null; }
new_worker() { local pid; pid=$(worker_of "$1"); [ -n "$pid" ] && [ "$pid" != "$2" ]; }

# h1 supervised master, h2 a plain SwiftCARP backup.
supervised_master_and_backup() {
    topology_up 2
    write_reason_script
    start_supervised h1 "$@"
    wait_for 5 state_is h1 BACKUP || fail "h1 did not start: $(cat "$WORK/h1.state" 2>/dev/null)"
    start_carp h2 "$SWIFTCARP" --advskew=100
    wait_for 10 only_owner h1 || fail "h1 did not become master (owners: $(owners))"
    # Half a second of steady state before the test's event.
    sleep 0.5
}

# hand_over_sampled SINCE_MS [ALLOWED_MS]: samples the owners every ~50 ms for 3 s after
# SINCE_MS: h1 must let go of the address within ALLOWED_MS (a second by default), and h2 must
# hold it alone from then on.
hand_over_sampled() {
    local since=$1 allowed=${2:-1000} elapsed now_owners gone=""
    while :; do
        now_owners=$(owners)
        elapsed=$(( $(now_ms) - since ))
        [ -z "$gone" ] && [ "$now_owners" = h2 ] && gone=$elapsed
        if [ "$elapsed" -gt "$allowed" ]; then
            [ "$now_owners" = h2 ] || fail "${elapsed} ms after the death the owners are '$now_owners', expected h2 alone"
        fi
        [ "$elapsed" -ge $((allowed + 2000)) ] && break
        sleep 0.05
    done
    echo "    the address left h1 for h2 ${gone} ms after the death"
    log_has h2 "Putting MASTER DOWN \(going to time out\)" \
        || fail "h2 took over by timeout, not because of a leaving advertisement"
}

# kill_and_sample TARGET...: SIGKILL to TARGET (kill's operands: a pid, or -- -PGID for a
# process group), then hand_over_sampled from that moment.
kill_and_sample() {
    local killed
    killed=$(now_ms)
    kill -KILL "$@"
    hand_over_sampled "$killed"
}

test_death_sigkill_of_the_master_worker_hands_over_and_it_rejoins_as_backup() {
    supervised_master_and_backup
    local supervisor worker
    supervisor=$(supervisor_of h1)
    worker=$(worker_of h1)
    { [ -n "$worker" ] && [ "$worker" != "$supervisor" ]; } || fail "no worker under the supervisor $supervisor"
    kill_and_sample "$worker"
    [ "$(reasons h1 | sed -n 2p)" = daemon-died ] || fail "down script reasons: $(reasons h1 | tr '\n' ' ')"
    wait_for 5 new_worker h1 "$worker" || fail "the supervisor did not restart the worker"
    wait_for 5 state_is h1 BACKUP || fail "the restarted worker: $(cat "$WORK/h1.state")"
    holds_for 2 only_owner h2 || fail "the restarted instance took the address (owners: $(owners))"
    [ "$(supervisor_of h1)" = "$supervisor" ] || fail "the pid file changed: $(supervisor_of h1)"
    # The pid file's pid still reaches the instance, and TERM still ends it.
    stop_supervised h1
}

# The worker reopened its interface, deleted and created again (issue 27): the supervisor,
# whose capture is of the old one, still sends the leaving advertisement when it dies.
test_death_of_a_master_worker_after_its_interface_was_recreated_hands_over() {
    supervised_master_and_backup
    ip -n "$(ns h1)" link del eth0
    wait_for 6 only_owner h2 || fail "h2 did not take over while h1's interface was gone (owners: $(owners))"
    create_interface h1
    # The scenario: a detached daemon logs nowhere here; the worker looks every second.
    sleep 2
    # h2 hands the address back (USR2); the new master is h1's reopened worker.
    kill -USR2 "$(pid_of h2)"
    wait_for 5 only_owner h1 || fail "h1 did not take the address back (owners: $(owners))"
    # The scenario: USR2 keeps h2 a backup for 3 s; the death comes after.
    sleep 3.5
    local worker
    worker=$(worker_of h1)
    kill_and_sample "$worker"
    stop_supervised h1
}

test_death_sigkill_of_the_workers_process_group_hands_over() {
    supervised_master_and_backup
    local worker
    worker=$(worker_of h1)
    kill_and_sample -- "-$worker"
    wait_for 3 eval 'death_notified h1 | grep -qx "STOP daemon-died"' \
        || fail "the notify script did not hear STOP for the dead worker: $(death_notified h1 | tr "\n" " ")"
    wait_for 5 new_worker h1 "$worker" || fail "the supervisor did not restart the worker"
    stop_supervised h1
}

# The supervisor's process group (the pid file's): the worker, in a group of its own, outlives
# it, sees that it is gone and leaves, handing the address over.
test_death_sigkill_of_the_supervisors_process_group_hands_over() {
    supervised_master_and_backup
    local supervisor worker group
    supervisor=$(supervisor_of h1)
    worker=$(worker_of h1)
    group=$(ps -o pgid= -p "$supervisor" | tr -d ' ')
    kill_and_sample -- "-$group"
    wait_for 3 sh -c "! kill -0 $worker 2>/dev/null" || fail "the worker outlived its supervisor"
    # Started again (as its operator would), it rejoins as backup.
    start_supervised h1
    wait_for 5 state_is h1 BACKUP || fail "the new instance did not start"
    holds_for 2 only_owner h2 || fail "the new instance took the address (owners: $(owners))"
    stop_supervised h1
}

# Under systemd (Type=exec, no --daemonize) the whole unit dies at once and systemd runs
# ExecStopPost=ucarp ... --cleanup with $SERVICE_RESULT. systemd cannot be PID 1 here, so the
# test does what it would: SIGKILL of the process group, then the command, then the restart.
test_death_of_the_whole_foreground_group_is_cleaned_up_by_the_stop_post_command() {
    topology_up 2
    write_reason_script
    local options=(--interface=eth0 --srcip="$(host_address 1)" --vhid=7 --pass=hunter2 --addr="$VIP"
        --upscript="$WORK/up" --downscript="$WORK/down-reason" --facility=none --advskew=0 --shutdown
        --statefile="$WORK/h1.state")
    run_on h1 setsid "$SWIFTCARP" "${options[@]}"
    wait_for 5 listening h1 || fail "h1 did not start"
    start_carp h2 "$SWIFTCARP" --advskew=100
    wait_for 10 only_owner h1 || fail "h1 did not become master (owners: $(owners))"
    # Half a second of steady state before the kill.
    sleep 0.5
    local killed
    killed=$(now_ms)
    kill -KILL -- "-$(pid_of h1)"
    wait_for 2 has_exited h1 || fail "h1 did not die"
    ip netns exec "$(ns h1)" env SERVICE_RESULT=signal EXIT_CODE=killed EXIT_STATUS=KILL \
        "$SWIFTCARP" "${options[@]}" --cleanup > "$WORK/cleanup.log" 2>&1 \
        || fail "--cleanup exited $?: $(cat "$WORK/cleanup.log")"
    hand_over_sampled "$killed"
    grep -q "The instance died while MASTER (the service ended with signal)" "$WORK/cleanup.log" \
        || fail "--cleanup said: $(cat "$WORK/cleanup.log")"
    [ "$(reasons h1)" = "$(printf 'startup\ndaemon-died')" ] || fail "down script reasons: $(reasons h1 | tr '\n' ' ')"
    { grep -qx "STATE=STOPPED" "$WORK/h1.state" && grep -qx "REASON=daemon-died" "$WORK/h1.state"; } \
        || fail "state file after --cleanup: $(cat "$WORK/h1.state")"
    # Run again (or after a clean stop): nothing to do.
    ip netns exec "$(ns h1)" env SERVICE_RESULT=signal "$SWIFTCARP" "${options[@]}" --cleanup > "$WORK/again.log" 2>&1
    grep -q "Nothing to clean up: the instance was STOPPED" "$WORK/again.log" || fail "again: $(cat "$WORK/again.log")"
    [ "$(reasons h1 | wc -l)" = 2 ] || fail "a second --cleanup ran the down script again"
    # Restart=on-failure: the instance comes back as backup.
    run_on h1 "$SWIFTCARP" "${options[@]}"
    wait_for 5 state_is h1 BACKUP || fail "the restarted instance did not start"
    holds_for 2 only_owner h2 || fail "the restarted instance took the address (owners: $(owners))"
}

test_death_worker_crashing_in_a_loop_is_given_up_with_no_address_left() {
    topology_up 1
    write_reason_script
    # Sub-second adverts: each new worker is master within a fraction of a second.
    start_supervised h1 -b 0 -k 26
    local supervisor worker="" round
    supervisor=$(supervisor_of h1)
    for round in 1 2 3 4 5; do
        wait_for 20 new_worker h1 "$worker" || fail "round $round: no new worker"
        worker=$(worker_of h1)
        wait_for 5 state_is h1 MASTER || fail "round $round: the worker did not become master"
        wait_for 2 owns h1 || fail "round $round: no address"
        kill -SEGV "$worker"
        wait_for 2 state_is h1 STOPPED || fail "round $round: not cleaned up: $(cat "$WORK/h1.state")"
    done
    wait_for 3 sh -c "! kill -0 $supervisor 2>/dev/null" || fail "the supervisor did not give up after 5 deaths"
    ! owns h1 || fail "the address was left behind"
    [ ! -e "$WORK/h1.pidfile" ] || fail "the pid file was left behind"
    grep -qx "REASON=daemon-died" "$WORK/h1.state" || fail "state file: $(cat "$WORK/h1.state")"
    [ -z "$(ip netns pids "$(ns h1)")" ] || fail "processes left: $(ip netns pids "$(ns h1)")"
}

# The pid file holds the supervisor: TERM to it reaches the worker, which with --shutdown
# hands over at once, as it does without a supervisor.
test_death_term_with_shutdown_to_the_supervisor_still_hands_over_at_once() {
    supervised_master_and_backup --shutdown
    local signalled
    signalled=$(now_ms)
    kill -TERM "$(supervisor_of h1)"
    # A planned hand-over: h1 keeps the address until h2's second advertisement (make before
    # break), within the hand-over's bound of 2 s.
    hand_over_sampled "$signalled" 2500
    wait_for 3 test ! -e "$WORK/h1.pidfile" || fail "the supervisor did not exit"
    [ "$(reasons h1 | sed -n 2p)" = shutdown ] || fail "down script reasons: $(reasons h1 | tr '\n' ' ')"
}
