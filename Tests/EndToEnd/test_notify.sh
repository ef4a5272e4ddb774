# shellcheck shell=bash
# keepalived's notify script (--notify, --name) and gratuitous ARPs that reach every client
# (--garp-repeat, --garp-interval).

# write_keepalived_notify: $WORK/notify.sh, written as for keepalived ("notify /path/notify.sh"):
# it logs its four arguments to $WORK/notify.log and keeps a flag file per instance name,
# $WORK/master_status.NAME, with the state it was last told.
write_keepalived_notify() {
    cat > "$WORK/notify.sh" <<'SCRIPT'
#!/bin/sh
TYPE=$1
NAME=$2
STATE=$3
PRIORITY=$4
FLAG="$(dirname "$0")/master_status.$NAME"
echo "$TYPE $NAME $STATE $PRIORITY" >> "$(dirname "$0")/notify.log"
case $STATE in
    MASTER) echo MASTER > "$FLAG" ;;
    BACKUP) echo BACKUP > "$FLAG" ;;
    FAULT) echo FAULT > "$FLAG" ;;
    STOP) rm -f "$FLAG"; echo STOPPED > "$FLAG.stopped" ;;
    *) echo "unknown state $STATE" >&2; exit 1 ;;
esac
SCRIPT
    chmod +x "$WORK/notify.sh"
}

# notified NAME: the notify calls for the instance NAME, one "STATE PRIORITY" a line.
notified() { grep " $1 " "$WORK/notify.log" 2>/dev/null | cut -d' ' -f3-; }

# flag_is NAME STATE: the notify script's flag file for NAME says STATE.
flag_is() { [ "$(cat "$WORK/master_status.$1" 2>/dev/null)" = "$2" ]; }

test_notify_script_sees_every_state_with_name_and_priority() {
    topology_up 2
    write_keepalived_notify
    # h1: healthy while $WORK/h1.ok exists, leaves with --shutdown; h2: killed by the signal.
    touch "$WORK/h1.ok"
    start_carp h1 "$SWIFTCARP" --advskew=0 --name=web1 --notify="$WORK/notify.sh" --shutdown \
        --check="test -f $WORK/h1.ok" --check-interval=0.2 --check-fall=1 --check-rise=1
    wait_for 5 listening h1 || fail "h1 did not start"
    start_carp h2 "$SWIFTCARP" --advskew=100 --name=web2 --notify="$WORK/notify.sh"
    wait_for 10 only_owner h1 || fail "h1 did not become master (owners: $(owners))"
    wait_for 3 flag_is web1 MASTER || fail "h1's flag: $(cat "$WORK/master_status.web1" 2>&1)"
    wait_for 3 flag_is web2 BACKUP || fail "h2's flag: $(cat "$WORK/master_status.web2" 2>&1)"
    # The up script ran before the MASTER notification.
    [ "$(script_log h1 | tail -n 1)" = "UP eth0 $VIP" ] || fail "h1's scripts: $(script_log h1)"

    # A failed check: FAULT on h1, MASTER on h2 (priority 255 - advskew 100).
    rm "$WORK/h1.ok"
    wait_for 5 only_owner h2 || fail "h2 did not take over (owners: $(owners))"
    wait_for 3 flag_is web1 FAULT || fail "h1's flag after its check failed: $(cat "$WORK/master_status.web1")"
    wait_for 3 flag_is web2 MASTER || fail "h2's flag after the takeover: $(cat "$WORK/master_status.web2")"
    touch "$WORK/h1.ok"
    wait_for 3 flag_is web1 BACKUP || fail "h1's flag once healthy: $(cat "$WORK/master_status.web1")"

    # h2 stops without --shutdown: STOP, then it dies of the signal; h1 takes over.
    kill -TERM "$(pid_of h2)"
    wait_for 5 has_exited h2 || fail "h2 did not end on SIGTERM"
    [ "$(exit_status_of h2)" = 143 ] || fail "h2's exit status $(exit_status_of h2), expected death by SIGTERM (143)"
    [ -e "$WORK/master_status.web2.stopped" ] || fail "h2's notify script was not told STOP"
    # h2 died without its down script: the address stays on its interface too.
    wait_for 8 owns h1 || fail "h1 did not take over from the stopped h2 (owners: $(owners))"
    wait_for 3 flag_is web1 MASTER || fail "h1's flag after taking over: $(cat "$WORK/master_status.web1")"

    # h1 stops with --shutdown: its down script, then STOP.
    kill -TERM "$(pid_of h1)"
    wait_for 5 has_exited h1 || fail "h1 did not exit on SIGTERM"
    [ "$(exit_status_of h1)" = 0 ] || fail "h1's exit status $(exit_status_of h1)"
    [ -e "$WORK/master_status.web1.stopped" ] || fail "h1's notify script was not told STOP"
    [ "$(script_log h1 | tail -n 1)" = "DOWN eth0 $VIP" ] || fail "h1's last script: $(script_log h1 | tail -n 1)"

    local h1_expected h2_expected
    h1_expected=$(printf '%s\n' "BACKUP 255" "MASTER 255" "FAULT 255" "BACKUP 255" "MASTER 255" "STOP 255")
    h2_expected=$(printf '%s\n' "BACKUP 155" "MASTER 155" "STOP 155")
    [ "$(notified web1)" = "$h1_expected" ] || fail "h1 was notified: $(notified web1 | paste -sd,)"
    [ "$(notified web2)" = "$h2_expected" ] || fail "h2 was notified: $(notified web2 | paste -sd,)"
    grep -qv '^INSTANCE ' "$WORK/notify.log" && fail "not every call was for an INSTANCE: $(cat "$WORK/notify.log")"
    true
}

# mac_of HOST: the MAC address of HOST's eth0.
mac_of() { ip -n "$(ns "$1")" link show eth0 | awk '/link\/ether/ { print $2 }'; }

# client_points_at HOST: the client h3's ARP entry for the virtual address has HOST's MAC.
client_points_at() { ip -n "$(ns h3)" neigh show "$VIP" dev eth0 | grep -qF "lladdr $(mac_of "$1")"; }

# takeover_with_lost_announcements [options for the daemons]: h1 master, h2 backup, h3 a client
# that has talked to the address (its ARP entry points at h1); then the switch drops the first
# two ARP frames that announce the address, h1 leaves, and h2 takes over. The caller looks at
# the client's entry: the client sends nothing more, so only an announcement can change it.
takeover_with_lost_announcements() {
    topology_up 3
    start_carp h1 "$SWIFTCARP" --advskew=0 --shutdown "$@"
    wait_for 5 listening h1 || fail "h1 did not start"
    start_carp h2 "$SWIFTCARP" --advskew=100 "$@"
    wait_for 10 only_owner h1 || fail "h1 did not become master (owners: $(owners))"
    ip netns exec "$(ns h3)" ping -c 1 -W 2 "$VIP" > /dev/null || fail "the client cannot reach the address"
    client_points_at h1 || fail "the client's entry: $(ip -n "$(ns h3)" neigh show "$VIP")"
    # Past the entry's locktime (1 s), so that an announcement may replace it: a wait for the
    # kernel's clock, which shows no state to wait for.
    sleep 1.5
    # On the way to the client (the bridge's forward hook sees a broadcast once per port it
    # leaves by), two announcements of 28 bytes each (the ARP payload) fit in the quota and are
    # dropped.
    ip netns exec "$(ns sw)" nft add table bridge garpcut
    ip netns exec "$(ns sw)" nft add chain bridge garpcut forward '{ type filter hook forward priority 0; policy accept; }'
    ip netns exec "$(ns sw)" nft add rule bridge garpcut forward \
        oifname p3 ether type arp arp saddr ip "$VIP" quota until 60 bytes counter drop
    kill -TERM "$(pid_of h1)"
    wait_for 5 only_owner h2 || fail "h2 did not take over (owners: $(owners))"
    # ucarp's second announcement comes with the third advertisement, 2 s after the first.
    wait_for 5 announcements_dropped 2 \
        || fail "the switch dropped $(announcements_dropped_count) announcements, expected 2"
}

# announcements_dropped_count: how many announcements takeover_with_lost_announcements's switch
# rule dropped; announcements_dropped N: N of them (the rule's quota lets no more be dropped).
announcements_dropped_count() {
    ip netns exec "$(ns sw)" nft list table bridge garpcut | grep -o 'counter packets [0-9]*' | grep -o '[0-9]*$'
}
announcements_dropped() { [ "$(announcements_dropped_count)" = "$1" ]; }

test_garp_repeat_reaches_a_client_whose_first_announcements_were_lost() {
    needs nft ping
    # Without --garp-repeat, ucarp's two announcements are both lost: the client is left behind.
    takeover_with_lost_announcements
    client_points_at h1 || fail "the control case: the client's entry moved without repeats: $(ip -n "$(ns h3)" neigh show "$VIP")"
    topology_down
    takeover_with_lost_announcements --garp-repeat=5 --garp-interval=0.2
    client_points_at h2 || fail "the client still points at $(ip -n "$(ns h3)" neigh show "$VIP") after 5 announcements"
}
