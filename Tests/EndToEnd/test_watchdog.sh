# shellcheck shell=bash
# --watchdog (issue 27, the fault campaign's finding 3): a daemon run in the foreground (runit,
# a container, a terminal) gets the supervising parent --daemonize has, so that a SIGKILL of
# the instance (the OOM killer's pick) or of the process that was started (runit's `sv kill`)
# leaves no address behind. Uses write_reason_script, reasons and kill_and_sample of
# test_death.sh.

# watchdog_master_and_backup: h1 a foreground SwiftCARP --watchdog master (advskew 0, the
# recording down script), h2 a plain SwiftCARP backup (advskew 100).
watchdog_master_and_backup() {
    topology_up 2
    write_reason_script
    run_on h1 "$SWIFTCARP" --interface=eth0 --srcip="$(host_address 1)" --vhid=7 --pass=hunter2 \
        --addr="$VIP" --upscript="$WORK/up" --downscript="$WORK/down-reason" --facility=none \
        --advskew=0 --watchdog
    wait_for 5 listening h1 || fail "h1 did not start: $(log_of h1)"
    start_carp h2 "$SWIFTCARP" --advskew=100
    wait_for 10 only_owner h1 || fail "h1 did not become master (owners: $(owners))"
    # Half a second of steady state before the kill.
    sleep 0.5
}

# watchdog_worker HOST: the pid of the instance under HOST's foreground process, its one child.
watchdog_worker() { ps -o pid= --ppid "$(pid_of "$1")" | tr -d ' ' | head -n 1; }

# watchdog_restarted HOST PID: HOST's foreground process runs an instance other than PID.
watchdog_restarted() {
    local pid
    pid=$(watchdog_worker "$1")
    [ -n "$pid" ] && [ "$pid" != "$2" ]
}

test_watchdog_sigkill_of_a_foreground_instance_releases_its_address_and_restarts_it() {
    watchdog_master_and_backup
    local worker
    worker=$(watchdog_worker h1)
    [ -n "$worker" ] || fail "no instance under the foreground process $(pid_of h1)"
    kill_and_sample "$worker"
    [ "$(reasons h1 | sed -n 2p)" = daemon-died ] || fail "down script reasons: $(reasons h1 | tr '\n' ' ')"
    log_has h1 "The instance \(pid $worker\) was killed by signal 9 while MASTER: cleaning up after it" \
        || fail "the foreground log does not say: $(log_of h1)"
    wait_for 5 watchdog_restarted h1 "$worker" || fail "the instance was not restarted"
    holds_for 2 only_owner h2 || fail "the restarted instance took the address (owners: $(owners))"
    # TERM to the process that was started ends it, as without --watchdog.
    kill -TERM "$(pid_of h1)"
    wait_for 3 has_exited h1 || fail "TERM did not end the foreground process"
    wait_for 2 no_process_on h1 || fail "processes left: $(ip netns pids "$(ns h1)")"
}

# runit's `sv kill` (or any SIGKILL of the pid that was started): the instance, in a process
# group of its own, outlives it, sees that it is gone and leaves, handing the address over.
test_watchdog_sigkill_of_the_foreground_process_hands_over() {
    watchdog_master_and_backup
    local worker
    worker=$(watchdog_worker h1)
    kill_and_sample "$(pid_of h1)"
    wait_for 3 sh -c "! kill -0 $worker 2>/dev/null" || fail "the instance outlived the foreground process"
    # It leaves as with --shutdown (the supervisor-lost is in its log and state file).
    [ "$(reasons h1 | sed -n 2p)" = shutdown ] || fail "down script reasons: $(reasons h1 | tr '\n' ' ')"
    log_has h1 "The supervisor is gone: leaving" || fail "the instance did not say why it left: $(log_of h1)"
}
