# shellcheck shell=bash
# The daemon as an unprivileged user with only CAP_NET_RAW and CAP_NET_ADMIN (issue 23), as
# hardening.conf's User= and AmbientCapabilities= run it: started here with setpriv, the
# capabilities ambient so that the up and down scripts inherit them (`ip address` needs
# CAP_NET_ADMIN). The user is a uid with no password entry (nothing is added to the system),
# so its control directory is /run/ucarp/control-UID, made by root as systemd's
# RuntimeDirectory= would.

UNPRIV_UID=64123

# unpriv_wrapper CAPS: $WORK/ucarp-unpriv, which runs our binary as UNPRIV_UID with the
# ambient capabilities CAPS (setpriv's list, such as +net_raw,+net_admin; none if empty).
unpriv_wrapper() {
    local caps=$1
    {
        echo '#!/bin/sh'
        if [ -n "$caps" ]; then
            echo "exec setpriv --reuid=$UNPRIV_UID --regid=$UNPRIV_UID --clear-groups --inh-caps=$caps --ambient-caps=$caps \"$SWIFTCARP\" \"\$@\""
        else
            echo "exec setpriv --reuid=$UNPRIV_UID --regid=$UNPRIV_UID --clear-groups \"$SWIFTCARP\" \"\$@\""
        fi
    } > "$WORK/ucarp-unpriv"
    chmod 755 "$WORK/ucarp-unpriv"
}

# unpriv_topology: three hosts, the work directory the user's (the scripts stay root's), and
# the user's control directory.
unpriv_topology() {
    needs setpriv
    topology_up 3
    chown "$UNPRIV_UID:$UNPRIV_UID" "$WORK"
    chmod 755 "$WORK"
    install -d -m 0755 /run/ucarp
    install -d -o "$UNPRIV_UID" -g "$UNPRIV_UID" -m 0700 "/run/ucarp/control-$UNPRIV_UID"
    install -d -o "$UNPRIV_UID" -g "$UNPRIV_UID" -m 0700 "$WORK/host-state"
}

# unpriv_start HOST SKEW [options...]: the unprivileged daemon on HOST, with its state and pid
# files and its --host-state in $WORK (the user's, as systemd's StateDirectory= makes it).
unpriv_start() {
    local host=$1 skew=$2
    shift 2
    start_carp "$host" "$WORK/ucarp-unpriv" --advskew="$skew" --shutdown --preempt \
        --statefile="$WORK/$host.state" --pidfile="$WORK/$host.pidfile" --host-state="$WORK/host-state" "$@"
}

# unpriv_uid_of HOST: the real and effective uid of HOST's daemon.
unpriv_uid_of() { awk '/^Uid:/ { print $2, $3 }' "/proc/$(pid_of "$1")/status"; }

# An unprivileged master and backup: the master's up script adds the address, --reload from
# root reaches it (the same process carries on), and at TERM its down script removes the
# address and the backup takes over.
test_unpriv_master_and_backup_fail_over() {
    unpriv_topology
    unpriv_wrapper +net_raw,+net_admin
    unpriv_start h1 0
    wait_for 10 owns h1 || fail "the unprivileged h1 did not become master"
    unpriv_start h2 100
    wait_for 5 listening h2 || fail "the unprivileged h2 did not start"
    holds_for 1 only_owner h1 || fail "h1 is not the only master (owners: $(owners))"
    [ "$(unpriv_uid_of h1)" = "$UNPRIV_UID $UNPRIV_UID" ] || fail "h1 runs as uid $(unpriv_uid_of h1)"
    [ "$(stat -c %u "$WORK/h1.state")" = "$UNPRIV_UID" ] || fail "h1's state file is not the user's"
    [ "$(stat -c %u "$WORK/host-state/eth0.vhid7.record")" = "$UNPRIV_UID" ] \
        || fail "no host-state record of the user's: $(ls -l "$WORK/host-state")"
    not log_has h1 "WARNING.*(Permission denied|Operation not permitted|control socket)" \
        || fail "h1 warned: $(log_of h1 | grep WARNING)"
    last_script_matches h1 "^UP eth0 $VIP" || fail "h1's up script did not run"
    [ -S "/run/ucarp/control-$UNPRIV_UID/$(pid_of h1).sock" ] \
        || fail "no control socket for h1 in /run/ucarp/control-$UNPRIV_UID"

    local pid scripts
    pid=$(pid_of h1)
    scripts=$(script_log h1 | wc -l)
    ip netns exec "$(ns h1)" "$SWIFTCARP" --reload --statefile="$WORK/h1.state" > "$WORK/reload.out" 2>&1 \
        || fail "--reload from root exited $?: $(cat "$WORK/reload.out")"
    grep -q "reloaded" "$WORK/reload.out" || fail "--reload said: $(cat "$WORK/reload.out")"
    holds_for 1 only_owner h1 || fail "the address moved at the reload (owners: $(owners))"
    { [ "$(cat "$WORK/h1.pidfile")" = "$pid" ] && kill -0 "$pid"; } || fail "h1's process did not carry on"
    [ "$(script_log h1 | wc -l)" = "$scripts" ] || fail "scripts ran at the reload: $(script_log h1 | tail -n 1)"

    kill -TERM "$(pid_of h1)"
    wait_for 10 has_exited h1 || fail "h1 did not leave on TERM"
    wait_for 10 owns h2 || fail "h2 did not take over"
    not owns h1 || fail "h1's down script did not remove the address"
    last_script_matches h1 "^DOWN eth0 $VIP" || fail "h1's down script did not run"
    holds_for 1 only_owner h2 || fail "h2 is not the only master (owners: $(owners))"
}

# The daemon's own user may reload it too (ExecReload= runs as User=); another user may not.
test_unpriv_reload_by_its_own_user_not_by_another() {
    unpriv_topology
    unpriv_wrapper +net_raw,+net_admin
    unpriv_start h1 0
    wait_for 10 owns h1 || fail "the unprivileged h1 did not become master"
    ip netns exec "$(ns h1)" setpriv --reuid="$UNPRIV_UID" --regid="$UNPRIV_UID" --clear-groups \
        "$SWIFTCARP" --reload --statefile="$WORK/h1.state" > "$WORK/reload.out" 2>&1 \
        || fail "--reload by the daemon's user exited $?: $(cat "$WORK/reload.out")"
    local status=0
    ip netns exec "$(ns h1)" setpriv --reuid=$((UNPRIV_UID + 1)) --regid=$((UNPRIV_UID + 1)) --clear-groups \
        "$SWIFTCARP" --reload --statefile="$WORK/h1.state" > "$WORK/reload.out" 2>&1 || status=$?
    [ "$status" != 0 ] || fail "--reload by another user succeeded: $(cat "$WORK/reload.out")"
    holds_for 1 only_owner h1 || fail "h1 lost the address (owners: $(owners))"
}

# Without CAP_NET_RAW the daemon says which capability it needs, and exits non-zero.
test_unpriv_missing_capability_is_named() {
    unpriv_topology
    unpriv_wrapper ""
    unpriv_start h1 0
    wait_for 10 has_exited h1 || fail "the daemon without capabilities did not exit"
    [ "$(exit_status_of h1)" = 2 ] || fail "the daemon without capabilities exited $(exit_status_of h1), not 2"
    log_has h1 "need CAP_NET_RAW to capture on eth0 \(run as root or grant it\)" \
        || fail "no message naming CAP_NET_RAW: $(log_of h1)"
    not owns h1 || fail "h1 holds the address"
}
