# shellcheck shell=bash
# What SwiftCARP does better than ucarp 1.5.2 (all compatible on the wire).

# A leaving master's final advert (advbase 255, advskew 255) makes backups take over at once:
# they log "going to time out" instead of waiting advbase x deadratio.
hand_over_to() {
    local backup_bin=$1 how=$2
    topology_up 2
    start_carp h1 "$SWIFTCARP" --advskew=0 --shutdown
    wait_for 5 listening h1 || fail "h1 did not start"
    start_carp h2 "$backup_bin" --advskew=100
    wait_for 10 only_owner h1 || fail "h1 did not become master (owners: $(owners))"
    # A second of steady state (an advert heard by the backup) before the signal.
    holds_for 1 only_owner h1 || fail "h1 lost the address (owners: $(owners))"
    local started
    started=$(now_ms)
    kill "-$how" "$(pid_of h1)"
    wait_for 6 owns h2 || fail "h2 did not take over after $how"
    echo "    $how hand-over to $([ "$backup_bin" = "$SWIFTCARP" ] && echo SwiftCARP || echo ucarp): $(( $(now_ms) - started )) ms"
    log_has h2 "Putting MASTER DOWN \(going to time out\)" \
        || fail "h2 took over by timeout, not because h1 said it was leaving"
}

test_term_hands_over_at_once_to_swiftcarp() { hand_over_to "$SWIFTCARP" TERM; }
test_term_hands_over_at_once_to_ucarp() { hand_over_to "$REFERENCE_UCARP" TERM; }
test_usr2_hands_over_at_once_to_ucarp() { hand_over_to "$REFERENCE_UCARP" USR2; }

test_usr2_holds_off_for_three_seconds_then_preempts_again() {
    topology_up 2
    start_carp h1 "$SWIFTCARP" --advskew=0 --preempt
    wait_for 5 listening h1 || fail "h1 did not start"
    start_carp h2 "$SWIFTCARP" --advskew=100
    wait_for 10 only_owner h1 || fail "h1 did not become master"
    local signalled
    signalled=$(now_ms)
    kill -USR2 "$(pid_of h1)"
    wait_for 3 only_owner h2 || fail "h2 did not take over at once (owners: $(owners))"
    # Sampled only inside the hold, however long the take-over took to show.
    holds_until $(( signalled + 2500 )) only_owner h2 \
        || fail "h1 reclaimed the address during its 3 s hold (owners: $(owners))"
    wait_for 6 only_owner h1 || fail "h1 (preferred, --preempt) did not take the address back after the hold"
}

# --preempt-delay: a preferred master that (re)starts leaves a working master alone for the
# delay, then preempts; a master that falls silent meanwhile is replaced at once all the same.
test_preempt_delay_keeps_a_starting_preferred_master_waiting() {
    topology_up 2
    start_carp h2 "$SWIFTCARP" --advskew=100
    wait_for 6 only_owner h2 || fail "h2 did not become master alone (owners: $(owners))"
    local started
    started=$(now_ms)
    start_carp h1 "$SWIFTCARP" --advskew=0 --preempt --preempt-delay=4
    wait_for 5 listening h1 || fail "h1 did not start"
    # Inside the delay, however long the start took: h2 keeps the address.
    holds_until $(( started + 3500 )) only_owner h2 \
        || fail "h1 preempted within its --preempt-delay (owners: $(owners))"
    wait_for 4 only_owner h1 || fail "h1 (preferred, --preempt) did not take over after its delay (owners: $(owners))"
    log_has h1 "Putting MASTER down - preemption" || fail "h1 took over, but not by preemption"
}

test_preempt_delay_still_replaces_a_silent_master_at_once() {
    topology_up 2
    start_carp h2 "$SWIFTCARP" --advskew=100
    wait_for 6 only_owner h2 || fail "h2 did not become master alone (owners: $(owners))"
    start_carp h1 "$SWIFTCARP" --advskew=0 --preempt --preempt-delay=600
    wait_for 5 listening h1 || fail "h1 did not start"
    holds_for 1 only_owner h2 || fail "h1 preempted within its --preempt-delay (owners: $(owners))"
    local killed
    killed=$(now_ms)
    kill -9 "$(pid_of h2)"
    # advbase 1 x deadratio 3 and a second's margin: the delay does not leave the address unheld.
    wait_for 5 owns h1 || fail "h1 did not replace the silent master within its --preempt-delay"
    echo "    silent master replaced by the delayed preferred host: $(( $(now_ms) - killed )) ms"
    log_has h1 "Switching to state: MASTER" || fail "h1 owns the address but never became master"
}

test_scripts_get_the_transition_in_their_environment() {
    topology_up 1
    cat > "$WORK/env-script" <<SCRIPT
#!/bin/sh
env | grep '^CARP_' | sort | tr '\n' ' ' >> "$WORK/env.log"
echo >> "$WORK/env.log"
SCRIPT
    chmod +x "$WORK/env-script"
    start_carp h1 "$SWIFTCARP" --upscript="$WORK/env-script" --downscript="$WORK/env-script" --xparam=x1
    wait_for 6 script_env_lines 2 || fail "scripts did not run twice"
    local expected_start="CARP_INTERFACE=eth0 CARP_PREVIOUS_STATE=INIT CARP_REASON=startup CARP_SOURCE_ADDRESS=192.0.2.11 CARP_STATE=BACKUP CARP_VHID=7 CARP_VIRTUAL_ADDRESS=$VIP CARP_VIRTUAL_ADDRESSES=$VIP CARP_XPARAM=x1 "
    local expected_master="CARP_INTERFACE=eth0 CARP_PREVIOUS_STATE=BACKUP CARP_REASON=master-silent CARP_SOURCE_ADDRESS=192.0.2.11 CARP_STATE=MASTER CARP_VHID=7 CARP_VIRTUAL_ADDRESS=$VIP CARP_VIRTUAL_ADDRESSES=$VIP CARP_XPARAM=x1 "
    [ "$(sed -n 1p "$WORK/env.log")" = "$expected_start" ] || fail "start-up: $(sed -n 1p "$WORK/env.log")"
    [ "$(sed -n 2p "$WORK/env.log")" = "$expected_master" ] || fail "master: $(sed -n 2p "$WORK/env.log")"
    kill -USR2 "$(pid_of h1)"
    wait_for 3 script_env_lines 3 || fail "no script on step-down"
    sed -n 3p "$WORK/env.log" | grep -q "CARP_PREVIOUS_STATE=MASTER CARP_REASON=step-down .*CARP_STATE=BACKUP" \
        || fail "step-down: $(sed -n 3p "$WORK/env.log")"
}
script_env_lines() { [ "$(wc -l < "$WORK/env.log" 2>/dev/null)" -ge "$1" ]; }

test_hung_script_is_killed_after_the_timeout() {
    topology_up 1
    printf '#!/bin/sh\nexec sleep 1000\n' > "$WORK/hang"
    chmod +x "$WORK/hang"
    start_carp h1 "$SWIFTCARP" --upscript="$WORK/hang" --script-timeout=1 --neutral
    wait_for 6 log_has h1 "Spawning \[$WORK/hang" || fail "the up script never started"
    kill -USR2 "$(pid_of h1)"
    wait_for 4 log_has h1 "still running after 1.0s: killing its process group" || fail "the hung script was not killed"
    wait_for 3 script_count_at_least h1 1 || fail "the down script did not run after the kill"
    ! ps -o comm= -p "$(ip netns pids "$(ns h1)" | paste -sd, -)" | grep -q '^sleep$' || fail "the hung sleep survived"
}

# advbase 0 and advskew 26: adverts every 0.1 s. ucarp's 1 s capture timeout makes this flap;
# we must not change roles once.
test_subsecond_adverts_run_without_spurious_transitions() {
    topology_up 2
    start_carp h1 "$SWIFTCARP" --advbase=0 --advskew=26
    wait_for 5 only_owner h1 || fail "h1 did not become master (owners: $(owners))"
    # The backup waits 100/256 s: about four of the master's 0.1 s intervals.
    start_carp h2 "$SWIFTCARP" --advbase=0 --advskew=100
    wait_for 5 only_owner h1 || fail "h2 took the address (owners: $(owners))"
    # h1 is the only owner before h2 has logged anything: count from h2's BACKUP, not from an
    # empty log.
    wait_for 3 log_has h2 "Switching to state: BACKUP" || fail "h2 did not start as BACKUP"
    local before1 before2
    before1=$(state_changes h1)
    before2=$(state_changes h2)
    # The scenario: ten seconds (a window; state_changes counts, a look at its end sees any change).
    sleep 10
    [ "$(state_changes h1)" = "$before1" ] || fail "h1 changed state during 10 s"
    [ "$(state_changes h2)" = "$before2" ] || fail "h2 changed state during 10 s"
    kill -9 "$(pid_of h1)"
    wait_for 3 owns h2 || fail "h2 did not take over"
}

# The master's wall clock stepped back an hour changes nothing: its timers run on the
# monotonic clock. (ucarp schedules on gettimeofday: its next advert would be an hour away and
# the backup would take over.) libfaketime fakes every wall-clock call of the master and reads
# its offset from a file; the backup keeps the real clock.
wall_clock_step_on_master() {
    local binary=$1 lib
    lib=$(find /usr/lib -path "/usr/lib/*/faketime/libfaketime.so.1" 2>/dev/null | head -n 1)
    [ -n "$lib" ] || skip "libfaketime is not installed (apt-get install faketime)"
    topology_up 2
    echo "+0" > "$WORK/clock"
    run_on h1 env LD_PRELOAD="$lib" FAKETIME_TIMESTAMP_FILE="$WORK/clock" FAKETIME_NO_CACHE=1 \
        FAKETIME_DONT_FAKE_MONOTONIC=1 "$binary" -i eth0 -s "$(host_address 1)" -v 7 -p hunter2 -a "$VIP" \
        -u "$WORK/up" -d "$WORK/down" -f none -k 0
    wait_for 5 listening h1 || fail "h1 did not start"
    start_carp h2 "$SWIFTCARP" --advskew=100
    wait_for 10 only_owner h1 || fail "h1 did not become master"
    local before hour_ago next_hour_ago
    before=$(cat "$WORK/h1.log" "$WORK/h2.log" | grep -c "Switching to state")
    # The hours of now and of a few seconds later, an hour ago (the line may cross an hour).
    hour_ago=$(date -d '-1 hour' +%Y-%m-%dT%H)
    next_hour_ago=$(date -d '-1 hour +10 seconds' +%Y-%m-%dT%H)
    echo "-1h" > "$WORK/clock"
    kill -USR1 "$(pid_of h1)"
    wait_for 3 log_has h1 "^($hour_ago|$next_hour_ago).*MASTER on eth0" || fail "the fake clock did not take effect"
    # Five seconds on the stepped clock (a window: the count sees any change).
    sleep 5
    [ "$(cat "$WORK/h1.log" "$WORK/h2.log" | grep -c "Switching to state")" = "$before" ] \
        || fail "a role changed after the master's wall clock stepped back"
    only_owner h1 || fail "owners after the step: $(owners)"
}

test_wall_clock_step_changes_nothing() { wall_clock_step_on_master "$SWIFTCARP"; }

test_pidfile_is_locked_written_after_daemonizing_and_removed() {
    topology_up 1
    local pidfile="$WORK/ucarp.pid"
    ip netns exec "$(ns h1)" "$SWIFTCARP" -B -i eth0 -s "$(host_address 1)" -v 7 -p hunter2 -a "$VIP" \
        -f none --pidfile="$pidfile" || fail "start failed"
    # The starting command returns once the daemon has written it (systemd's Type=forking).
    [ -s "$pidfile" ] || fail "no pid file when the starting command returned"
    local pid
    pid=$(cat "$pidfile")
    # The pid file holds the supervisor (README, "When the daemon dies"); its one child is the worker.
    [ "$(ip netns pids "$(ns h1)" | sort)" = "$( (echo "$pid"; ps -o pid= --ppid "$pid" | tr -d ' ') | sort)" ] \
        || fail "pid file says $pid, the processes are $(ip netns pids "$(ns h1)" | tr '\n' ' ')"
    ip netns exec "$(ns h1)" "$SWIFTCARP" -i eth0 -s "$(host_address 1)" -v 7 -p hunter2 -a "$VIP" \
        -f none --pidfile="$pidfile" > "$WORK/second.log" 2>&1
    local status=$?
    [ "$status" = 2 ] || fail "a second instance exited $status, expected 2"
    grep -q "already running as pid $pid" "$WORK/second.log" || fail "message: $(cat "$WORK/second.log")"
    [ "$(cat "$pidfile" 2>/dev/null)" = "$pid" ] || fail "the refused instance damaged the pid file"
    kill -TERM "$pid"
    wait_for 3 test ! -e "$pidfile" || fail "the pid file was not removed at exit"
}

# A pid file that cannot be written after daemonizing (here: a full file system) fails the
# command that started the daemon, with the reason, as any other start-up error would.
test_pidfile_write_failure_after_daemonizing_reaches_the_starting_command() {
    topology_up 1
    mkdir "$WORK/full"
    # shellcheck disable=SC2016 # $1 and $@ are the inner shell's
    unshare --mount sh -c '
        mount -t tmpfs -o size=16k none "$1" && head -c 65536 /dev/zero > "$1/filler" 2>/dev/null
        shift
        exec ip netns exec "$@"' sh "$WORK/full" "$(ns h1)" "$SWIFTCARP" -B -i eth0 -s "$(host_address 1)" \
        -v 7 -p hunter2 -a "$VIP" -f none --pidfile="$WORK/full/ucarp.pid" > "$WORK/h1.log" 2>&1
    local status=$?
    [ "$status" = 2 ] || fail "exit status $status, expected 2"
    log_has h1 "write on $WORK/full/ucarp.pid failed: No space left on device" \
        || fail "no reason given: $(log_of h1)"
    wait_for 3 no_process_on h1 || fail "a daemon is left running: $(ip netns pids "$(ns h1)")"
}

test_statefile_follows_every_change() {
    topology_up 1
    start_carp h1 "$SWIFTCARP" --statefile="$WORK/state" --shutdown
    wait_for 6 grep -qx "STATE=MASTER" "$WORK/state" || fail "state file: $(cat "$WORK/state")"
    grep -qx "REASON=master-silent" "$WORK/state" || fail "no reason: $(cat "$WORK/state")"
    grep -qx "VIRTUAL_ADDRESS=$VIP" "$WORK/state" || fail "no address: $(cat "$WORK/state")"
    grep -q "^SINCE=20" "$WORK/state" || fail "no time: $(cat "$WORK/state")"
    kill -USR2 "$(pid_of h1)"
    wait_for 3 grep -qx "STATE=BACKUP" "$WORK/state" || fail "after USR2: $(cat "$WORK/state")"
    grep -qx "REASON=step-down" "$WORK/state" || fail "after USR2: $(cat "$WORK/state")"
    kill -TERM "$(pid_of h1)"
    wait_for 3 grep -qx "STATE=STOPPED" "$WORK/state" || fail "after TERM: $(cat "$WORK/state")"
    ! compgen -G "$WORK/*state.tmp*" > /dev/null || fail "temporary files left: $(ls "$WORK")"
}

test_bad_packet_warnings_are_rate_limited_and_counted() {
    topology_up 2
    start_carp h1 "$SWIFTCARP"
    # A misconfigured peer on our vhid, advertising ten times a second.
    run_on h2 "$REFERENCE_UCARP" -i eth0 -s "$(host_address 2)" -v 7 -p wrong -a "$VIP" -b 0 -k 25 -f none
    # The scenario: four seconds of its adverts, about forty.
    sleep 4
    kill -USR1 "$(pid_of h1)"
    wait_for 3 log_has h1 "Counters:" || fail "no counters"
    local lines dropped
    lines=$(log_of h1 | grep -c "Bad digest")
    dropped=$(log_of h1 | grep -o "bad-digest [0-9]*" | tail -n 1 | awk '{print $2}')
    [ "$lines" = 1 ] || fail "$lines bad-digest warnings in 4 s, expected 1"
    [ "${dropped:-0}" -ge 5 ] || fail "only ${dropped:-0} bad digests counted"
}

test_password_is_not_visible_in_the_process_list() {
    topology_up 1
    start_carp h1 "$SWIFTCARP" -p topsecret
    wait_for 3 log_has h1 "Switching to state" || fail "did not start"
    ! tr '\0' ' ' < "/proc/$(pid_of h1)/cmdline" | grep -q "topsecret\|hunter2" \
        || fail "password visible: $(tr '\0' ' ' < "/proc/$(pid_of h1)/cmdline")"
}

test_passfile_readable_by_others_gets_a_warning() {
    topology_up 1
    echo "filesecret" > "$WORK/pass"
    chmod 644 "$WORK/pass"
    run_on h1 "$SWIFTCARP" -i eth0 -s "$(host_address 1)" -v 7 -o "$WORK/pass" -a "$VIP" -f none
    wait_for 3 log_has h1 "readable by group or others \(mode 0644\)" || fail "no warning for mode 644"
    topology_down
    topology_up 1
    echo "filesecret" > "$WORK/pass"
    chmod 600 "$WORK/pass"
    run_on h1 "$SWIFTCARP" -i eth0 -s "$(host_address 1)" -v 7 -o "$WORK/pass" -a "$VIP" -f none
    wait_for 3 log_has h1 "Switching to state" || fail "did not start"
    ! log_has h1 "readable by group" || fail "warned about a mode 600 passfile"
}
