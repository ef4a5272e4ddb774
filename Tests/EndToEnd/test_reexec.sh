# shellcheck shell=bash
# Reload in place (issue 22, the daemon's side): `ucarp --reload` makes the instance read its
# configuration again and re-execute the binary on disk, handing its state across: the pid
# stays, the address stays, the backup never leaves BACKUP, the adverts keep their interval.
# What is invalid or not executable is refused and changes nothing.

# reexec_config [OPTIONS] [VIP_ADDRESS]: h1's whole configuration in $WORK/h1.conf, OPTIONS
# (default advskew 0) and the addresses (default VIP) changed as given.
reexec_config() {
    cat > "$WORK/h1.conf" <<CONF
ID=7
BIND_INTERFACE=eth0
SOURCE_ADDRESS=$(host_address 1)
VIP_ADDRESS="${2:-$VIP}"
PASSWORD=hunter2
UPSCRIPT=$WORK/up
DOWNSCRIPT=$WORK/down
OPTIONS="${1:---advskew=0} --advbase=1"
CONF
}

# reexec_pair: h1 (SwiftCARP from a copy of the binary in $WORK/bin, with only --config, a pid
# file and --facility on its command line) master, h2 (SwiftCARP) backup with advskew 100; h2
# captures h1's adverts into $WORK/adverts.txt for CAPTURE seconds (default 12).
reexec_pair() {
    topology_up 2
    mkdir -p "$WORK/bin"
    cp "$SWIFTCARP" "$WORK/bin/ucarp"
    reexec_config
    run_on h1 "$WORK/bin/ucarp" --config="$WORK/h1.conf" --pidfile="$WORK/h1.pidfile" --facility=none
    wait_for 5 listening h1 || fail "h1 did not start"
    start_carp h2 "$SWIFTCARP" --advskew=100 --statefile="$WORK/h2.state"
    wait_for 10 only_owner h1 || fail "h1 did not become master (owners: $(owners))"
    wait_for 5 listening h2 || fail "h2 did not start"
    ip netns exec "$(ns h2)" timeout "${CAPTURE:-12}" tcpdump -tt -nn -vv -T carp -i eth0 \
        "ip proto 112 and src host $(host_address 1)" > "$WORK/adverts.txt" 2> "$WORK/capture.err" &
    wait_for 5 grep -qs "listening on" "$WORK/capture.err" || fail "tcpdump did not start"
}

# reexec_reload ARGS...: runs `ucarp --reload ARGS` with the copied binary; its output in
# $WORK/reload.out, its exit status in RELOAD_STATUS.
reexec_reload() {
    RELOAD_STATUS=0
    "$WORK/bin/ucarp" --reload "$@" > "$WORK/reload.out" 2>&1 || RELOAD_STATUS=$?
}

# reexec_longest_gap_ms: the longest interval between two of h1's captured adverts.
reexec_longest_gap_ms() {
    awk '/^[0-9]/ && seen { gap = ($1 - last) * 1000; if (gap > max) max = gap } /^[0-9]/ { last = $1; seen = 1 } END { printf "%d", max }' \
        "$WORK/adverts.txt"
}

# reexec_unchanged: the pair as reexec_pair left it: h1 the only owner, its scripts called
# once each (DOWN at start, UP), h2 never out of BACKUP.
reexec_unchanged() {
    only_owner h1 && [ "$(script_log h1 | wc -l)" = 2 ] && [ "$(state_changes h2)" = 1 ]
}

test_reexec_master_reloaded_with_a_new_binary_and_skew_keeps_everything() {
    needs tcpdump
    local pid inode
    reexec_pair
    pid=$(cat "$WORK/h1.pidfile")
    sleep 3
    # dpkg's way: the new binary written beside, then renamed over the old (a new inode).
    cp "$SWIFTCARP" "$WORK/bin/ucarp.new" && mv "$WORK/bin/ucarp.new" "$WORK/bin/ucarp"
    inode=$(stat -c %i "$WORK/bin/ucarp")
    reexec_config --advskew=20
    reexec_reload --config="$WORK/h1.conf"
    [ "$RELOAD_STATUS" = 0 ] || fail "--reload exited $RELOAD_STATUS: $(cat "$WORK/reload.out")"
    grep -q "reloaded: pid $pid runs $WORK/bin/ucarp" "$WORK/reload.out" \
        || fail "unexpected answer: $(cat "$WORK/reload.out")"
    [ "$(cat "$WORK/h1.pidfile")" = "$pid" ] || fail "the pid changed: $(cat "$WORK/h1.pidfile") for $pid"
    [ "$(stat -L -c %i "/proc/$pid/exe")" = "$inode" ] || fail "pid $pid does not run the new binary"
    holds_for 2 reexec_unchanged || fail "something moved: owners $(owners), h1 scripts $(script_log h1 | wc -l)," \
        "h2 changes $(state_changes h2)"
    # The backup, named by its state file: it goes on timing the master and stays BACKUP.
    reexec_reload --statefile="$WORK/h2.state"
    [ "$RELOAD_STATUS" = 0 ] || fail "--reload of the backup exited $RELOAD_STATUS: $(cat "$WORK/reload.out")"
    grep -q "reloaded: pid $(pid_of h2) " "$WORK/reload.out" || fail "unexpected answer: $(cat "$WORK/reload.out")"
    log_has h2 "Reloaded: carrying on as BACKUP" || fail "h2 did not carry on as BACKUP: $(log_of h2)"
    holds_for 3 reexec_unchanged || fail "something moved after the backup's reload: owners $(owners)," \
        "h2 changes $(state_changes h2)"
    wait
    grep -q "advskew=0 " "$WORK/adverts.txt" || fail "no advert with the old skew: $(head -n 2 "$WORK/adverts.txt")"
    [ "$(grep -c "advskew=20 " "$WORK/adverts.txt")" -ge 2 ] \
        || fail "the new skew is not on the wire: $(tail -n 4 "$WORK/adverts.txt")"
    local gap
    gap=$(reexec_longest_gap_ms)
    echo "    reload of the master: longest gap between its adverts $gap ms (advbase 1)"
    # advbase 1 with advskew 20: an interval of 1078 ms after the reload, and a little slack.
    [ "$gap" -le 1250 ] || fail "the adverts paused for $gap ms across the reload"
    ! log_has h1 "Switching to state" || [ "$(state_changes h1)" = 2 ] || fail "h1 changed state: $(log_of h1)"
    ! log_has h2 "MASTER" || fail "h2 left BACKUP: $(log_of h2)"
}

test_reexec_refuses_an_invalid_configuration_and_a_non_executable_binary() {
    local pid
    CAPTURE=2 reexec_pair
    pid=$(cat "$WORK/h1.pidfile")
    reexec_config --advskew=nope
    reexec_reload --pidfile="$WORK/h1.pidfile"
    [ "$RELOAD_STATUS" = 1 ] || fail "an invalid configuration: --reload exited $RELOAD_STATUS"
    grep -q "refused: invalid configuration: .*--advskew 'nope'" "$WORK/reload.out" \
        || fail "the refusal does not name the error: $(cat "$WORK/reload.out")"
    # Another instance: a different address set.
    reexec_config --advskew=0 "$VIP 192.0.2.101"
    reexec_reload --config="$WORK/h1.conf"
    [ "$RELOAD_STATUS" = 1 ] || fail "another address set: --reload exited $RELOAD_STATUS"
    grep -q "refused: the set of addresses changed" "$WORK/reload.out" \
        || fail "the refusal does not name the change: $(cat "$WORK/reload.out")"
    # The binary replaced by a file that is not executable.
    reexec_config
    echo "not a program" > "$WORK/bin/ucarp.new" && chmod 644 "$WORK/bin/ucarp.new"
    mv "$WORK/bin/ucarp.new" "$WORK/bin/ucarp"
    RELOAD_STATUS=0
    "$SWIFTCARP" --reload --config="$WORK/h1.conf" > "$WORK/reload.out" 2>&1 || RELOAD_STATUS=$?
    [ "$RELOAD_STATUS" = 1 ] || fail "a non-executable binary: --reload exited $RELOAD_STATUS"
    grep -q "failed: cannot execute $WORK/bin/ucarp: .*the old binary carries on" "$WORK/reload.out" \
        || fail "the failure does not name the binary: $(cat "$WORK/reload.out")"
    # Nothing changed: the same process, master, no script called, the backup still BACKUP.
    kill -0 "$pid" || fail "h1 is gone"
    holds_for 3 reexec_unchanged || fail "something moved: owners $(owners), h1 scripts $(script_log h1 | wc -l)"
    # An unknown instance, and --reload misused. A socket left by a killed instance (nobody
    # listening on it) is removed on the way.
    /usr/bin/python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' \
        /run/ucarp/control/999999999.sock
    [ -S /run/ucarp/control/999999999.sock ] || fail "could not leave a stale socket"
    RELOAD_STATUS=0
    "$SWIFTCARP" --reload --pidfile="$WORK/none.pid" > "$WORK/reload.out" 2>&1 || RELOAD_STATUS=$?
    [ "$RELOAD_STATUS" = 2 ] || fail "no such instance: --reload exited $RELOAD_STATUS"
    [ ! -e /run/ucarp/control/999999999.sock ] || fail "the stale socket is left"
    RELOAD_STATUS=0
    "$SWIFTCARP" --reload --vhid=7 > "$WORK/reload.out" 2>&1 || RELOAD_STATUS=$?
    [ "$RELOAD_STATUS" = 2 ] || fail "--reload --vhid: exited $RELOAD_STATUS"
    grep -q "usage: ucarp --reload" "$WORK/reload.out" || fail "no usage: $(cat "$WORK/reload.out")"
}

# reexec_slow_up_script: an up script that takes 3 s before it adds the address.
reexec_slow_up_script() {
    cat > "$WORK/slowup" <<SCRIPT
#!/bin/sh
echo "SLOW \$*" >> "$WORK/scripts.\$(ip netns identify \$\$).log"
sleep 3
exec "$WORK/up" "\$@"
SCRIPT
    chmod +x "$WORK/slowup"
}

test_reexec_a_running_up_script_and_the_queue_behind_it_go_across() {
    topology_up 1
    reexec_slow_up_script
    start_carp h1 "$SWIFTCARP" --pidfile="$WORK/h1.pidfile" --upscript="$WORK/slowup" --notify=/bin/echo
    wait_for 10 log_has h1 "Spawning \[$WORK/slowup" || fail "h1 did not become master"
    not owns h1 || fail "the slow up script added the address at once"
    RELOAD_STATUS=0
    "$SWIFTCARP" --reload --pidfile="$WORK/h1.pidfile" > "$WORK/reload.out" 2>&1 || RELOAD_STATUS=$?
    [ "$RELOAD_STATUS" = 0 ] || fail "--reload exited $RELOAD_STATUS: $(cat "$WORK/reload.out")"
    # The script, still running, is collected by the new process; the notify queued behind it
    # runs after it, and the address is added once.
    wait_for 8 owns h1 || fail "the up script did not finish: $(log_of h1)"
    wait_for 5 log_has h1 "Spawning \[/bin/echo INSTANCE vhid7 MASTER" || fail "the queued notify never ran: $(log_of h1)"
    [ "$(script_log h1 | grep -c '^UP')" = 1 ] || fail "the up script ran $(script_log h1 | grep -c '^UP') times"
    log_has h1 "Reloaded: carrying on as MASTER" || fail "no reload in the log: $(log_of h1)"
    [ "$(state_changes h1)" = 2 ] || fail "h1 changed state again: $(log_of h1)"
}

# reexec_host_config HOST OPTIONS: HOST's whole configuration in $WORK/HOST.conf (vhid 7 on
# eth0, its own source address), with OPTIONS.
reexec_host_config() {
    cat > "$WORK/$1.conf" <<CONF
ID=7
BIND_INTERFACE=eth0
SOURCE_ADDRESS=$(host_address "${1#h}")
VIP_ADDRESS="$VIP"
PASSWORD=hunter2
UPSCRIPT=$WORK/up
DOWNSCRIPT=$WORK/down
OPTIONS="$2 --advbase=1"
CONF
}

# reexec_configured_pair H1_OPTIONS H2_OPTIONS: in the topology of two hosts already up (so
# that $WORK is set for the options), h1 (advskew 0) master and h2 (advskew 100) backup, both
# from the copied binary with only --config, a pid file and --facility on their command
# lines; h2 captures h1's adverts into $WORK/adverts.txt for CAPTURE seconds.
reexec_configured_pair() {
    mkdir -p "$WORK/bin"
    cp "$SWIFTCARP" "$WORK/bin/ucarp"
    reexec_host_config h1 "--advskew=0 $1"
    reexec_host_config h2 "--advskew=100 $2"
    run_on h1 "$WORK/bin/ucarp" --config="$WORK/h1.conf" --pidfile="$WORK/h1.pidfile" --facility=none
    wait_for 5 listening h1 || fail "h1 did not start"
    run_on h2 "$WORK/bin/ucarp" --config="$WORK/h2.conf" --pidfile="$WORK/h2.pidfile" --facility=none
    wait_for 10 only_owner h1 || fail "h1 did not become master (owners: $(owners))"
    wait_for 5 listening h2 || fail "h2 did not start"
    ip netns exec "$(ns h2)" timeout "${CAPTURE:-12}" tcpdump -tt -nn -i eth0 \
        "ip proto 112 and src host $(host_address 1)" > "$WORK/adverts.txt" 2> "$WORK/capture.err" &
    wait_for 5 grep -qs "listening on" "$WORK/capture.err" || fail "tcpdump did not start"
}

# reexec_strict_peer_counter FILE ADDRESS: the counter an --auth-state FILE keeps for ADDRESS.
reexec_strict_peer_counter() { awk -v peer="PEER=$2" '$1 == peer { print $2 }' "$1"; }

# --auth=strict across a reload: the master goes on with a counter above its last (the backup
# drops nothing as replayed), the reloaded backup keeps the master's latest counter, not the
# one its --auth-state file had: neither side drops a genuine advert, nobody moves.
test_reexec_strict_pair_reloaded_keeps_its_counters() {
    needs tcpdump
    local before after gap
    topology_up 2
    reexec_configured_pair "--auth=strict --auth-state=$WORK/h1.auth" "--auth=strict --auth-state=$WORK/h2.auth"
    wait_for 5 counters_match h2 "received [1-9][0-9]*, .*dropped: none" \
        || fail "h2 does not accept h1's strict adverts: $(log_of h2 | grep Counters | tail -n 1)"
    sleep 2
    reexec_host_config h1 "--advskew=20 --auth=strict --auth-state=$WORK/h1.auth"
    reexec_reload --config="$WORK/h1.conf"
    [ "$RELOAD_STATUS" = 0 ] || fail "--reload exited $RELOAD_STATUS: $(cat "$WORK/reload.out")"
    holds_for 3 reexec_unchanged || fail "something moved: owners $(owners), h2 changes $(state_changes h2)"
    # The backup's file kept h1's counter of when h1's epoch was first heard; its reload
    # records the latest one it accepted.
    before=$(reexec_strict_peer_counter "$WORK/h2.auth" "$(host_address 1)")
    [ -n "$before" ] || fail "h2's --auth-state has no counter for h1: $(cat "$WORK/h2.auth")"
    reexec_reload --config="$WORK/h2.conf"
    [ "$RELOAD_STATUS" = 0 ] || fail "--reload of h2 exited $RELOAD_STATUS: $(cat "$WORK/reload.out")"
    log_has h2 "Reloaded: carrying on as BACKUP" || fail "h2 did not carry on as BACKUP: $(log_of h2)"
    after=$(reexec_strict_peer_counter "$WORK/h2.auth" "$(host_address 1)")
    if [ -z "$after" ] || [ "$after" -le $((before + 3)) ]; then
        fail "h2's --auth-state did not get h1's latest counter: $before then ${after:-none}"
    fi
    holds_for 3 reexec_unchanged || fail "something moved after h2's reload: owners $(owners)"
    wait
    for host in h1 h2; do
        if [ "$(strict_drop_count "$host" replayed)" != 0 ] || [ "$(strict_drop_count "$host" other-auth-mode)" != 0 ]; then
            fail "$host dropped genuine adverts: $(log_of "$host" | grep Counters | tail -n 1)"
        fi
        ! log_has "$host" "replayed|mode; this instance|Bad digest" || fail "$host dropped an advert: $(log_of "$host")"
    done
    ! log_has h2 "MASTER" || fail "h2 left BACKUP: $(log_of h2)"
    gap=$(reexec_longest_gap_ms)
    echo "    reload of a strict master: longest gap between its adverts $gap ms (advbase 1)"
    [ "$gap" -le 1250 ] || fail "the adverts paused for $gap ms across the reload"
}

# reexec_status_line HOST DIR: the line of vhid 7 in `ucarp --status` of DIR.
reexec_status_line() { "$SWIFTCARP" --status --host-state="$2" | grep -E '^7 +eth0 '; }

# A member of a group reloaded: `ucarp --status` shows the same line (state, since, reason,
# peer, pid) before and after; a reload that moves --host-state leaves one record, in the new
# directory.
test_reexec_a_group_members_status_is_the_same_after_a_reload() {
    local before after
    topology_up 2
    CAPTURE=1 reexec_configured_pair "--host-state=$WORK/hs1 --group=router" "--host-state=$WORK/hs2 --group=router"
    wait_for 5 grep -Eq " $(host_address 1) " <(reexec_status_line h2 "$WORK/hs2") \
        || fail "h2's record does not name h1 as its peer: $(reexec_status_line h2 "$WORK/hs2")"
    sleep 2
    for host in h2 h1; do
        before=$(reexec_status_line "$host" "$WORK/hs${host#h}")
        reexec_reload --config="$WORK/$host.conf"
        [ "$RELOAD_STATUS" = 0 ] || fail "--reload of $host exited $RELOAD_STATUS: $(cat "$WORK/reload.out")"
        after=$(reexec_status_line "$host" "$WORK/hs${host#h}")
        [ "$after" = "$before" ] || fail "$host's --status changed across its reload: '$before' then '$after'"
    done
    before=$(reexec_status_line h2 "$WORK/hs2")
    reexec_host_config h2 "--advskew=100 --host-state=$WORK/hs2b --group=router"
    reexec_reload --config="$WORK/h2.conf"
    [ "$RELOAD_STATUS" = 0 ] || fail "--reload of h2 to a new --host-state exited $RELOAD_STATUS: $(cat "$WORK/reload.out")"
    [ -z "$(ls "$WORK/hs2"/*.record 2>/dev/null)" ] || fail "the old record is left: $(ls "$WORK/hs2")"
    after=$(reexec_status_line h2 "$WORK/hs2b")
    [ "$after" = "$before" ] || fail "h2's --status in its new directory differs: '$before' then '$after'"
    # --status with the instance's file looks where the instance writes.
    [ "$("$SWIFTCARP" --status --config="$WORK/h2.conf" | grep -E '^7 +eth0 ')" = "$after" ] \
        || fail "--status --config does not show h2's record: $("$SWIFTCARP" --status --config="$WORK/h2.conf" 2>&1)"
    holds_for 2 reexec_unchanged || fail "something moved: owners $(owners), h2 changes $(state_changes h2)"
}
