# shellcheck shell=bash
# Shared helpers of the end-to-end tests: hosts in network namespaces on one bridge
# (topology.sh), daemons on them, and the verdicts fail and skip.
#
# Each test gets its own namespaces, named "$NS_PREFIX-<name>", so a failed test cannot
# leave state that confuses the next one. Addresses come from 192.0.2.0/24 (TEST-NET-1) and
# 2001:db8::/64 (the IPv6 documentation prefix); no packet leaves the namespaces. A test of
# IPv6 sets VIP to an IPv6 address (`local VIP=$VIP6`): its topology then has IPv6 addresses,
# and start_carp advertises from them.

: "${SWIFTCARP:?path of our ucarp binary}"
: "${REFERENCE_UCARP:=/usr/sbin/ucarp}"
VIP=192.0.2.100
# shellcheck disable=SC2034 # for the test files (local VIP=$VIP6), which run sources after this file
VIP6=2001:db8::100
WORK=""
NS_PREFIX="sc$$"
# The directory of the tests and their helpers (inject.py), for the test files.
# shellcheck disable=SC2034 # used by the test files, which run sources after this file
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=Tests/EndToEnd/topology.sh
source "$(dirname "${BASH_SOURCE[0]}")/topology.sh"

# topology_up N [ipv6]: a switch namespace with bridge br0 and hosts h1..hN, each with eth0 on
# it, and a new work directory with the up and down scripts. The hosts have IPv6 addresses
# too with "ipv6", or when VIP is an IPv6 address.
topology_up() {
    local ipv6=${2:-}
    is_ipv6 "$VIP" && ipv6=ipv6
    # A fresh prefix per topology: nothing of an earlier test's namespaces can interfere.
    NS_PREFIX="sc${BASHPID}x${RANDOM}"
    WORK=$(mktemp -d "/tmp/swiftcarp-e2e.XXXXXX")
    namespaces_up "$1" "$ipv6"
    write_scripts
}

# is_ipv6 ADDRESS: ADDRESS is an IPv6 address (it has a colon).
is_ipv6() { case $1 in *:*) return 0 ;; *) return 1 ;; esac; }

# carp_address N (or hN): the address host N advertises from: its IPv4 address, or its IPv6
# one when VIP is an IPv6 address.
carp_address() { if is_ipv6 "$VIP"; then host_address6 "$1"; else host_address "$1"; fi; }

# topology_down: kills every process of the namespaces (daemons, scripts, the etcd members of
# test_etcd.sh) and removes them and the work directory. A killed process's run_named shell,
# outside the namespaces, may still be writing its exit status there: the removal is retried.
topology_down() {
    namespaces_down
    if [ -n "$WORK" ]; then
        rm -rf "$WORK" 2>/dev/null || { sleep 0.3; rm -rf "$WORK"; }
    fi
    WORK=""
}

# The up and down scripts add and remove the address (an IPv6 one as /128 with no duplicate
# address detection, as vip-up does), and log each call with its arguments.
write_scripts() {
    cat > "$WORK/up" <<'SCRIPT'
#!/bin/sh
echo "UP $*" >> "$(dirname "$0")/scripts.$(ip netns identify $$).log"
case $2 in
*:*) ip -6 addr add "$2/128" dev "$1" nodad ;;
*) ip addr add "$2/32" dev "$1" ;;
esac
SCRIPT
    cat > "$WORK/down" <<'SCRIPT'
#!/bin/sh
echo "DOWN $*" >> "$(dirname "$0")/scripts.$(ip netns identify $$).log"
case $2 in
*:*) ip -6 addr del "$2/128" dev "$1" 2>/dev/null ;;
*) ip addr del "$2/32" dev "$1" 2>/dev/null ;;
esac
exit 0
SCRIPT
    chmod +x "$WORK/up" "$WORK/down"
}

# script_count_at_least HOST N: HOST's daemon has called its scripts N times or more.
script_count_at_least() { [ "$(script_log "$1" | wc -l)" -ge "$2" ]; }

# script_log HOST: the up/down calls HOST's daemon made.
script_log() { cat "$WORK/scripts.$(ns "$1").log" 2>/dev/null; }

# start_carp HOST BINARY [extra options...]: starts a daemon on HOST with the test's vhid,
# password, address (VIP, advertised from carp_address) and scripts. Its output goes to
# $WORK/HOST.log, its pid to $WORK/HOST.pid and, once it ends, its exit status to
# $WORK/HOST.exit.
start_carp() {
    local host=$1 binary=$2 n=${1#h}
    shift 2
    run_on "$host" "$binary" --interface=eth0 --srcip="$(carp_address "$n")" --vhid=7 \
        --pass=hunter2 --addr="$VIP" --upscript="$WORK/up" --downscript="$WORK/down" \
        --facility=none "$@"
}

# run_on HOST COMMAND...: runs COMMAND in HOST's namespace in the background, as start_carp.
run_on() { run_named "$1" "$@"; }

# run_named NAME HOST COMMAND...: as run_on, but records the process under NAME (for several
# daemons on one host): pid_of NAME, log_of NAME, has_exited NAME, exit_status_of NAME.
run_named() {
    local name=$1 host=$2
    shift 2
    rm -f "$WORK/$name.pid" "$WORK/$name.exit"
    (
        ip netns exec "$(ns "$host")" "$@" >> "$WORK/$name.log" 2>&1 &
        echo $! > "$WORK/$name.pid.tmp" && mv "$WORK/$name.pid.tmp" "$WORK/$name.pid"
        wait $!
        echo $? > "$WORK/$name.exit"
    ) 2>/dev/null &
    disown $!
    wait_for 5 test -s "$WORK/$name.pid"
}

# exit_status_of HOST: the exit status of HOST's last daemon, once it has ended.
exit_status_of() { cat "$WORK/$1.exit" 2>/dev/null; }
has_exited() { test -s "$WORK/$1.exit"; }

pid_of() { cat "$WORK/$1.pid"; }
log_of() { cat "$WORK/$1.log" 2>/dev/null; }

# owns HOST: HOST has the virtual address on eth0.
owns() { owns_address "$1" "$VIP"; }

# owns_address HOST ADDRESS: HOST has ADDRESS (IPv4 or IPv6, as `ip` prints it) on eth0.
owns_address() {
    if is_ipv6 "$2"; then
        ip -n "$(ns "$1")" -6 addr show dev eth0 2>/dev/null | grep -qF "inet6 $2/"
    else
        ip -n "$(ns "$1")" -4 addr show dev eth0 2>/dev/null | grep -qF "inet $2/"
    fi
}

# remove_address HOST ADDRESS: deletes ADDRESS from HOST's eth0. A daemon killed with -9 runs
# no down script; after such a crash the tests take the address away as a dead host loses it.
remove_address() {
    if is_ipv6 "$2"; then
        ip -n "$(ns "$1")" -6 addr del "$2/128" dev eth0
    else
        ip -n "$(ns "$1")" addr del "$2/32" dev eth0
    fi
}

# create_interface HOST: gives HOST its eth0 again, on the bridge, with its addresses (the
# IPv6 one too when VIP is IPv6) and a new MAC, as topology.sh made it (after `ip link del
# eth0`, which removes the bridge's port too).
create_interface() {
    local i=${1#h}
    ip link add name eth0 netns "$(ns "h$i")" type veth peer name "p$i" netns "$(ns sw)"
    ip -n "$(ns sw)" link set "p$i" master br0 up
    ip -n "$(ns "h$i")" link set eth0 up
    ip -n "$(ns "h$i")" addr add "$(host_address "$i")/24" dev eth0
    if is_ipv6 "$VIP"; then ip -n "$(ns "h$i")" addr add "$(host_address6 "$i")/64" dev eth0 nodad; fi
}

# owners_of ADDRESS: the hosts that own ADDRESS, space-separated.
owners_of() {
    local host result=""
    for host in "${HOSTS[@]}"; do owns_address "$host" "$1" && result="$result $host"; done
    echo "${result# }"
}

# owners: the hosts that own the virtual address, space-separated.
owners() {
    local host result=""
    for host in "${HOSTS[@]}"; do owns "$host" && result="$result $host"; done
    echo "${result# }"
}

# wait_for SECONDS COMMAND...: polls COMMAND every 0.1 s until it succeeds or time is up.
wait_for() {
    local deadline=$(( $(date +%s%N) + ${1%.*} * 1000000000 ))
    shift
    until "$@"; do
        [ "$(date +%s%N)" -ge "$deadline" ] && return 1
        sleep 0.1
    done
}

# holds_for SECONDS COMMAND...: COMMAND succeeds at every poll, every 0.1 s, for SECONDS (a
# whole number); returns 1 as soon as it fails. For "nothing changes for SECONDS": a window that
# is part of the scenario, sampled all along rather than looked at once after a sleep.
holds_for() {
    local deadline=$(( $(date +%s%N) + $1 * 1000000000 ))
    shift
    while [ "$(date +%s%N)" -lt "$deadline" ]; do
        "$@" || return 1
        sleep 0.1
    done
    "$@"
}

# holds_until MS COMMAND...: as holds_for, until the instant MS (now_ms's clock): a window that
# began at an event, however long the steps since it took.
holds_until() {
    local until=$1
    shift
    while [ "$(now_ms)" -lt "$until" ]; do
        "$@" || return 1
        sleep 0.1
    done
}

# now_ms: monotonic-enough milliseconds for measuring takeovers in messages.
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# partition: the bridge forwards nothing between hosts; heal: it forwards again.
partition() {
    ip netns exec "$(ns sw)" nft add table bridge cut
    ip netns exec "$(ns sw)" nft add chain bridge cut forward '{ type filter hook forward priority 0; policy drop; }'
}
heal() { ip netns exec "$(ns sw)" nft delete table bridge cut; }

only_owner() { [ "$(owners)" = "$1" ]; }

# owners_are HOST...: exactly those hosts own the virtual address (owners_are: nobody does).
owners_are() { [ "$(owners)" = "$*" ]; }

# one_owner: exactly one host owns the virtual address, whichever.
one_owner() { [ "$(owners | wc -w)" = 1 ]; }

# last_script_matches HOST REGEX: HOST's last up/down call matches the extended REGEX.
last_script_matches() { script_log "$1" | tail -n 1 | grep -Eq -- "$2"; }

# counters_match HOST REGEX: sends HOST's daemon USR1; its last counters line so far (perhaps the
# previous one: the daemon answers USR1 asynchronously) matches REGEX. For wait_for.
counters_match() {
    kill -USR1 "$(pid_of "$1")"
    log_of "$1" | grep "Counters:" | tail -n 1 | grep -Eq -- "$2"
}

# no_process_on HOST: nothing runs in HOST's namespace.
no_process_on() { [ -z "$(ip netns pids "$(ns "$1")")" ]; }

# not COMMAND...: succeeds when COMMAND fails (for wait_for: wait_for 3 not owns h1).
not() { ! "$@"; }

# listening HOST: HOST's daemon has started and joined the election (logged its first BACKUP).
listening() { log_has "$1" "Switching to state: BACKUP"; }

# state_changes HOST: how many times HOST's daemon switched state so far.
state_changes() { log_of "$1" | grep -c "Switching to state"; }

# two_hosts_with_h1_master [options for both]: a new two-host topology with SwiftCARP on both,
# h1 (advskew 0) master and h2 (advskew 100) backup; h1 starts listening before h2 starts.
two_hosts_with_h1_master() {
    topology_up 2
    start_carp h1 "$SWIFTCARP" --advskew=0 "$@"
    wait_for 5 listening h1 || fail "h1 did not start"
    start_carp h2 "$SWIFTCARP" --advskew=100 "$@"
    wait_for 10 only_owner h1 || fail "h1 did not become master (owners: $(owners))"
}

# log_has HOST PATTERN: the daemon log of HOST matches the extended regular expression.
log_has() { log_of "$1" | grep -Eq -- "$2"; }

# Verdicts. Tests/EndToEnd/run runs each test in a subshell of its own, whose pid it sets in
# E2E_TEST_PID, with E2E_VERDICT naming a file for the verdict and E2E_OUTPUT the descriptor
# of its own output. fail and skip end the test wherever they are called: in the test, in a
# helper, or in a subshell of the test ($(...), a pipeline), whose end then stops the test's
# shell too. Outside a test (no E2E_TEST_PID) they only return 1.
E2E_TEST_PID=""
E2E_VERDICT=""
E2E_OUTPUT=1

# fail MESSAGE: the test has failed: prints MESSAGE and each host's daemon log and script
# calls, and ends the test.
fail() {
    {
        echo "    FAILED: $*"
        local host
        for host in "${HOSTS[@]}"; do
            echo "    --- $host daemon log"; log_of "$host" | tail -n 15 | sed 's/^/    | /'
            echo "    --- $host scripts"; script_log "$host" | sed 's/^/    | /'
        done
    } >&"$E2E_OUTPUT"
    end_test failed
}

# skip REASON: the test cannot run here (a tool it needs is missing): ends it, and run reports
# "ok - NAME # SKIP REASON".
skip() { end_test "skipped $*"; }

# needs COMMAND...: skips the test unless each COMMAND is installed.
needs() {
    local tool
    for tool in "$@"; do command -v "$tool" > /dev/null || skip "$tool is not installed"; done
}

# end_test VERDICT: records VERDICT ("failed", or "skipped REASON") for run, unless the test
# has failed already, and ends the test: exit status 1 for a failure, 77 for a skip.
end_test() {
    local status=1
    [ "${1%% *}" = skipped ] && status=77
    if [ -n "$E2E_VERDICT" ] && ! grep -qs '^failed' "$E2E_VERDICT"; then echo "$1" > "$E2E_VERDICT"; fi
    [ -n "$E2E_TEST_PID" ] || return 1
    # In a subshell of the test: the test's shell ends too (run traps TERM there).
    [ "$BASHPID" = "$E2E_TEST_PID" ] || kill -TERM "$E2E_TEST_PID" 2>/dev/null
    exit "$status"
}
