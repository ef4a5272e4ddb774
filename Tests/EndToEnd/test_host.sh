# shellcheck shell=bash
# On the host (issue 23): what the daemon refuses at start-up, and what its scripts inherit.

# The ifupdown hook passes the password as IF_UCARP_PASSWORD: no script may inherit it, nor
# any other variable holding the password; the rest of the environment is passed on.
test_host_scripts_do_not_inherit_the_password() {
    topology_up 1
    cat > "$WORK/up-env" <<SCRIPT
#!/bin/sh
env > "$WORK/up.env"
exec "$WORK/up" "\$@"
SCRIPT
    chmod +x "$WORK/up-env"
    IF_UCARP_PASSWORD=hunter2 COPY_OF_IT=hunter2 KEPT=yes start_carp h1 "$SWIFTCARP" --upscript="$WORK/up-env"
    wait_for 6 owns h1 || fail "h1 did not become master"
    wait_for 3 test -s "$WORK/up.env" || fail "the up script did not run"
    grep -q '^KEPT=yes$' "$WORK/up.env" || fail "the environment was not passed on: $(cat "$WORK/up.env")"
    ! grep -q 'hunter2' "$WORK/up.env" || fail "the password reached the script: $(grep hunter2 "$WORK/up.env")"
    ! grep -q '^IF_UCARP_PASSWORD=' "$WORK/up.env" || fail "IF_UCARP_PASSWORD reached the script"
}

# A FIFO as --passfile once waited for a writer forever: refused at once, exit 1.
test_host_fifo_passfile_is_refused_at_once() {
    WORK=$(mktemp -d "/tmp/swiftcarp-e2e.XXXXXX")
    mkfifo "$WORK/pass"
    timeout 5 "$SWIFTCARP" -s 192.0.2.11 -v 7 -a 192.0.2.100 --passfile="$WORK/pass" > "$WORK/out" 2>&1
    local status=$?
    [ "$status" = 1 ] || fail "exit status $status, expected 1 (124: it hung)"
    grep -qF "cannot read passfile '$WORK/pass': not a regular file (a FIFO)" "$WORK/out" \
        || fail "unexpected message: $(cat "$WORK/out")"
}

# Addresses no virtual address can be: refused with one line, exit 1.
test_host_broadcast_or_own_address_is_refused() {
    local output status
    output=$("$SWIFTCARP" -s 192.0.2.11 -v 7 -p x -a 255.255.255.255 2>&1)
    status=$?
    [ "$status" = 1 ] || fail "255.255.255.255: exit status $status, expected 1"
    grep -qF "it is the broadcast address" <<<"$output" || fail "unexpected message: $output"
    output=$("$SWIFTCARP" -s 192.0.2.11 -v 7 -p x -a 192.0.2.11 2>&1)
    status=$?
    [ "$status" = 1 ] || fail "--addr equal to --srcip: exit status $status, expected 1"
    grep -qF "it is this host's own --srcip" <<<"$output" || fail "unexpected message: $output"
}

# Another local user (nobody) against the files the daemon writes as root: the pid file cannot
# be opened, so its lock cannot be taken; a link planted in /tmp is not written through; a
# directory anyone may write is refused at start-up.
test_host_another_user_can_neither_lock_nor_redirect_the_files() {
    needs runuser
    needs flock
    topology_up 1
    local pidfile
    pidfile="/tmp/swiftcarp-e2e-$BASHPID.pid"
    rm -f "$pidfile"
    start_carp h1 "$SWIFTCARP" --pidfile="$pidfile"
    wait_for 6 owns h1 || fail "h1 did not become master"
    [ "$(stat -c %a "$pidfile")" = 600 ] || fail "pid file mode $(stat -c %a "$pidfile"), expected 600"
    ! runuser -u nobody -- flock -n -s "$pidfile" true 2> /dev/null || fail "nobody could lock the pid file"
    kill -TERM "$(pid_of h1)"
    wait_for 5 has_exited h1 || fail "h1 did not stop"
    [ ! -e "$pidfile" ] || fail "the pid file was left behind"

    # A link to a file of root's, planted by nobody where the pid file goes.
    echo keep > "$WORK/victim"
    chmod 644 "$WORK/victim"
    runuser -u nobody -- ln -s "$WORK/victim" "$pidfile" || fail "nobody could not plant the link"
    "$SWIFTCARP" --interface=lo -s 127.0.0.1 -v 7 -p x -a 127.0.0.2 --pidfile="$pidfile" -f none > "$WORK/link.out" 2>&1
    local status=$?
    rm -f "$pidfile"
    [ "$status" = 2 ] || fail "a planted link: exit status $status, expected 2: $(cat "$WORK/link.out")"
    [ "$(cat "$WORK/victim")" = keep ] || fail "the link was written through"

    # A directory that nobody may write.
    mkdir "$WORK/open"
    chmod 777 "$WORK/open"
    "$SWIFTCARP" --interface=lo -s 127.0.0.1 -v 7 -p x -a 127.0.0.2 --statefile="$WORK/open/state" -f none \
        > "$WORK/dir.out" 2>&1
    status=$?
    [ "$status" = 2 ] || fail "an open directory: exit status $status, expected 2: $(cat "$WORK/dir.out")"
    grep -qF -- "--statefile $WORK/open/state: its directory $WORK/open is writable by group or others and not sticky" \
        "$WORK/dir.out" || fail "unexpected message: $(cat "$WORK/dir.out")"
}

# --cleanup runs the down script on the configuration's interface, never on one the state
# file names otherwise.
test_host_cleanup_refuses_a_state_file_of_another_interface() {
    topology_up 1
    printf 'STATE=MASTER\nINTERFACE=lo\nPID=999999\n' > "$WORK/h1.state"
    ip netns exec "$(ns h1)" env SERVICE_RESULT=signal "$SWIFTCARP" --interface=eth0 --srcip="$(host_address 1)" \
        --vhid=7 --pass=hunter2 --addr="$VIP" --upscript="$WORK/up" --downscript="$WORK/down" --facility=none \
        --statefile="$WORK/h1.state" --cleanup > "$WORK/cleanup.log" 2>&1
    local status=$?
    [ "$status" = 1 ] || fail "exit status $status, expected 1: $(cat "$WORK/cleanup.log")"
    grep -qF "Not cleaning up: the state file names interface lo, the configuration eth0" "$WORK/cleanup.log" \
        || fail "unexpected message: $(cat "$WORK/cleanup.log")"
    [ -z "$(script_log h1)" ] || fail "a script ran: $(script_log h1)"
    grep -qx "STATE=MASTER" "$WORK/h1.state" || fail "the state file was changed"
}

# A down script that hangs (and ignores SIGTERM) no longer holds the address away from a
# master for --script-timeout (60 s): the up script supersedes it, it is asked to stop, then
# killed 2 s later, and the up script runs.
test_host_hung_down_script_is_superseded_by_the_up_script() {
    topology_up 1
    cat > "$WORK/down-hang" <<'SCRIPT'
#!/bin/sh
trap '' TERM
sleep 120
SCRIPT
    chmod +x "$WORK/down-hang"
    local started
    started=$(now_ms)
    start_carp h1 "$SWIFTCARP" --downscript="$WORK/down-hang"
    wait_for 12 owns h1 || fail "the up script did not run within 12 s (the down script still held the queue)"
    echo "    address up after $(( $(now_ms) - started )) ms"
    log_has h1 "Master now: stopping \[$WORK/down-hang eth0 $VIP\] \(SIGTERM, SIGKILL after 2s\)" \
        || fail "no word of stopping the down script: $(log_of h1)"
    log_has h1 "still running 2s after SIGTERM: killing its process group" || fail "the down script was not killed"
}
