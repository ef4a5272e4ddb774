# shellcheck shell=bash
# Configuration files (--config, the Red Hat layout) with the default scripts, and the command
# line of Debian's /etc/network/if-up.d/ucarp.

CONFIG_SOURCE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Two addresses behind one DNS name (round robin): each host owns one, and both when alone.
DNS_VIP1=192.0.2.101
DNS_VIP2=192.0.2.102

# write_dns_pair HOST: $WORK/HOST/ucarp/ as /etc/ucarp would be on HOST: vip-common.conf,
# vip-001.conf and vip-002.conf, and the default scripts installed beside them. h1 prefers
# 192.0.2.101 (advskew 0 against 100), h2 prefers 192.0.2.102.
write_dns_pair() {
    local host=$1 n=${1#h} dir="$WORK/$1/ucarp" skew1=0 skew2=100
    [ "$n" = 1 ] || { skew1=100; skew2=0; }
    mkdir -p "$dir"
    cp "$CONFIG_SOURCE/etc/ucarp/vip-up" "$CONFIG_SOURCE/etc/ucarp/vip-down" "$dir/"
    cat > "$dir/vip-common.conf" <<EOF
# What both addresses of $host share.
export BIND_INTERFACE=eth0
SOURCE_ADDRESS="$(host_address "$n")"
PASSWORD='round robin'   # a blank, quoted
OPTIONS="--advbase=9"    # replaced by OPTIONS of vip-NNN.conf
EOF
    cat > "$dir/vip-001.conf" <<EOF
ID="001"
VIP_ADDRESS="$DNS_VIP1"
OPTIONS="--shutdown --preempt --advskew=$skew1"
EOF
    # No ID: the vhid comes from the file name.
    cat > "$dir/vip-002.conf" <<EOF
VIP_ADDRESS=$DNS_VIP2; OPTIONS='--shutdown --preempt --advskew $skew2'
EOF
}

# start_dns_pair HOST: one daemon per file, recorded as HOST-001 and HOST-002. --facility sits
# beside --config on the command line.
start_dns_pair() {
    local id
    for id in 001 002; do
        run_named "$1-$id" "$1" "$SWIFTCARP" --config="$WORK/$1/ucarp/vip-$id.conf" --facility=none
    done
}

# dns_owners_are OWNER1 OWNER2: the owners of 192.0.2.101 and 192.0.2.102.
dns_owners_are() { [ "$(owners_of "$DNS_VIP1")" = "$1" ] && [ "$(owners_of "$DNS_VIP2")" = "$2" ]; }
dns_owners() { echo "$DNS_VIP1: $(owners_of "$DNS_VIP1"), $DNS_VIP2: $(owners_of "$DNS_VIP2")"; }

# fail_config MESSAGE: fail, with every daemon log of the test.
fail_config() {
    {
        echo "    FAILED: $*"
        local log
        for log in "$WORK"/*.log; do
            [ -e "$log" ] || continue
            echo "    --- $(basename "$log")"; tail -n 15 "$log" | sed 's/^/    | /'
        done
    } >&"$E2E_OUTPUT"
    end_test failed
}

test_config_two_hosts_share_two_dns_addresses() {
    topology_up 2
    write_dns_pair h1
    write_dns_pair h2
    start_dns_pair h1
    start_dns_pair h2
    wait_for 8 dns_owners_are h1 h2 || fail_config "each host should own one address ($(dns_owners))"
    log_has h1-001 "Spawning \[$WORK/h1/ucarp/vip-up eth0 $DNS_VIP1\]" \
        || fail_config "h1 did not run the default vip-up beside its files"
    ! grep -q "WARNING.*unknown" "$WORK"/h*-00*.log || fail_config "unexpected warnings"

    kill -TERM "$(pid_of h1-001)" "$(pid_of h1-002)"
    { wait_for 5 has_exited h1-001 && wait_for 5 has_exited h1-002; } \
        || fail_config "h1's daemons did not exit on TERM"
    [ "$(exit_status_of h1-001) $(exit_status_of h1-002)" = "0 0" ] \
        || fail_config "exit statuses $(exit_status_of h1-001) $(exit_status_of h1-002), expected 0 (--shutdown)"
    wait_for 5 dns_owners_are h2 h2 || fail_config "h2 should own both addresses ($(dns_owners))"

    start_dns_pair h1
    wait_for 6 dns_owners_are h1 h2 || fail_config "h1 did not take its address back ($(dns_owners))"
    holds_for 1 dns_owners_are h1 h2 || fail_config "the owners changed again ($(dns_owners))"
}

test_config_errors_name_the_file_and_line() {
    WORK=$(mktemp -d "/tmp/swiftcarp-e2e.XXXXXX")
    # shellcheck disable=SC2016 # a literal $secret: the configuration's undefined variable
    printf 'VIP_ADDRESS=192.0.2.101\nSOURCE_ADDRESS=192.0.2.11\nPASSWORD="$secret"\n' > "$WORK/vip-001.conf"
    "$SWIFTCARP" --config="$WORK/vip-001.conf" > "$WORK/out" 2>&1
    local status=$?
    [ "$status" = 1 ] || fail_config "exit status $status, expected 1"
    grep -qF "$WORK/vip-001.conf:3: '\$' expansion is not supported" "$WORK/out" \
        || fail_config "no file:line in: $(cat "$WORK/out")"
}

# Debian's hook runs /usr/sbin/ucarp -i IF -s ADDR -B -z -v N -p PASS -a VIP -u UP -d DOWN
# [-P] [-k N] [-b N] [-r N] [-M] [-x X] from the ucarp-* lines of /etc/network/interfaces.
test_config_debian_if_up_hook_command_line() {
    topology_up 1
    ip netns exec "$(ns h1)" "$SWIFTCARP" -i eth0 -s "$(host_address 1)" -B -z -v 7 -p hunter2 -a "$VIP" \
        -u "$WORK/up" -d "$WORK/down" -P -k 10 -b 1 -r 3 -M -x eth0:ucarp > "$WORK/h1.log" 2>&1
    local status=$? pid
    [ "$status" = 0 ] || fail "the command exited $status"
    wait_for 6 owns h1 || fail "the detached daemon did not become master"
    pid=$(ip netns pids "$(ns h1)" | head -n 1)
    [ -n "$pid" ] || fail "no daemon left running"
    [ "$(script_log h1 | tail -n 1)" = "UP eth0 $VIP eth0:ucarp" ] || fail "up script not called with xparam"
    kill -TERM "$pid"
    wait_for 5 sh -c "! kill -0 $pid 2>/dev/null" || fail "the daemon did not exit on TERM"
    [ "$(script_log h1 | tail -n 1)" = "DOWN eth0 $VIP eth0:ucarp" ] || fail "TERM did not run the down script (-z)"
    ! owns h1 || fail "the address is still there"
}

# The hook itself (from Debian's ucarp package), run with our binary in place of /usr/sbin/ucarp.
test_config_debian_if_up_hook_itself() {
    local hook=/etc/network/if-up.d/ucarp
    [ -r "$hook" ] || skip "no $hook"
    topology_up 1
    sed "s|^UCARP=.*|UCARP=$SWIFTCARP|" "$hook" > "$WORK/if-up-ucarp"
    grep -q "^UCARP=$SWIFTCARP\$" "$WORK/if-up-ucarp" || fail "could not point the hook at our binary"
    ip netns exec "$(ns h1)" env -i PATH="$PATH" IFACE=eth0 IF_ADDRESS="$(host_address 1)" \
        IF_UCARP_VID=7 IF_UCARP_VIP="$VIP" IF_UCARP_PASSWORD=hunter2 \
        IF_UCARP_UPSCRIPT="$WORK/up" IF_UCARP_DOWNSCRIPT="$WORK/down" IF_UCARP_MASTER=yes \
        IF_UCARP_ADVSKEW=10 IF_UCARP_ADVBASE=1 IF_UCARP_DEADRATIO=3 IF_UCARP_NOMCAST=yes IF_UCARP_XPARAM=x \
        sh "$WORK/if-up-ucarp" > "$WORK/h1.log" 2>&1
    local status=$?
    [ "$status" = 0 ] || fail "the hook exited $status"
    wait_for 6 owns h1 || fail "the hook's daemon did not become master"
    [ "$(script_log h1 | tail -n 1)" = "UP eth0 $VIP x" ] || fail "unexpected script call"
}

# The arguments come from the argv glibc hands over, not from /proc/self/cmdline: a chroot or
# a mount namespace without /proc once lost every argument (--version printed the usage).
test_arguments_do_not_need_proc() {
    local output
    # shellcheck disable=SC2016 # "$0" is the inner shell's: the binary
    output=$(unshare --mount --propagation private sh -c 'mount -t tmpfs none /proc && exec "$0" --version' "$SWIFTCARP" 2>&1)
    case "$output" in
        "ucarp (SwiftCARP) "*) ;;
        *) fail "--version without /proc printed: $(echo "$output" | head -n 3)" ;;
    esac
}
