# shellcheck shell=bash
# Several addresses on one vhid (issue 12): --addr given more than once, or VIP_ADDRESS with
# several addresses, move together; the scripts run once per address, in the order given,
# with the usual arguments, and CARP_VIRTUAL_ADDRESSES lists them all.

SEVERAL_V4=192.0.2.101
# The order given: the scripts run in it, and CARP_VIRTUAL_ADDRESSES lists it.
SEVERAL_ALL="$VIP $SEVERAL_V4 $VIP6"

# write_several_env_scripts: up-env and down-env, which record the address and
# CARP_VIRTUAL_ADDRESSES of each call in env.HOST, then run the usual up and down scripts.
write_several_env_scripts() {
    local kind
    for kind in up down; do
        cat > "$WORK/$kind-env" <<SCRIPT
#!/bin/sh
echo "\$2: \$CARP_VIRTUAL_ADDRESSES" >> "$WORK/env.\$(ip netns identify \$\$)"
exec "$WORK/$kind" "\$@"
SCRIPT
        chmod +x "$WORK/$kind-env"
    done
}

# several_env HOST: what HOST's scripts were told, one line a call.
several_env() { cat "$WORK/env.$(ns "$1")" 2>/dev/null; }

# owns_all HOST: HOST has every address of the vhid; owns_none HOST: none of them.
owns_all() { local a; for a in $SEVERAL_ALL; do owns_address "$1" "$a" || return 1; done; }
owns_none() { local a; for a in $SEVERAL_ALL; do ! owns_address "$1" "$a" || return 1; done; }
several_owners() { local a; for a in $SEVERAL_ALL; do printf '%s: %s; ' "$a" "$(owners_of "$a")"; done; }

# several_calls HOST KIND: HOST's last three script calls are KIND (UP or DOWN) for each
# address, in the order given.
several_calls() {
    local a expected=""
    for a in $SEVERAL_ALL; do expected+="$2 eth0 $a"$'\n'; done
    [ "$(script_log "$1" | tail -n 3)" = "${expected%$'\n'}" ]
}

# several_reachable_from HOST: HOST gets an answer to a ping of each address.
several_reachable_from() {
    local a
    for a in $SEVERAL_ALL; do
        ip netns exec "$(ns "$1")" ping -n -q -c 1 -W 0.3 "$a" > /dev/null 2>&1 || return 1
    done
}

test_several_addresses_move_together_and_scripts_run_once_per_address() {
    needs ping
    local options
    topology_up 3 ipv6
    options=(--addr="$SEVERAL_V4" --addr="$VIP6" --upscript="$WORK/up-env" --downscript="$WORK/down-env")
    write_several_env_scripts
    start_carp h1 "$SWIFTCARP" --advskew=0 "${options[@]}"
    wait_for 5 listening h1 || fail "h1 did not start"
    start_carp h2 "$SWIFTCARP" --advskew=100 "${options[@]}"
    wait_for 10 owns_all h1 || fail "h1 did not get all three addresses ($(several_owners))"
    wait_for 3 owns_none h2 || fail "h2 has some of them ($(several_owners))"
    several_calls h1 UP || fail "h1's up script did not run once per address in order: $(script_log h1)"
    [ "$(several_env h1 | tail -n 1)" = "$VIP6: $SEVERAL_ALL" ] \
        || fail "CARP_VIRTUAL_ADDRESSES is not '$SEVERAL_ALL': $(several_env h1 | tail -n 1)"
    wait_for 3 several_reachable_from h3 || fail "h3 cannot reach all three at h1"
    ! log_has h2 "Bad digest" || fail "h2 rejected the digest over three addresses"

    kill -USR2 "$(pid_of h1)"
    wait_for 6 owns_all h2 || fail "h2 did not get all three addresses ($(several_owners))"
    wait_for 3 owns_none h1 || fail "h1 kept some of them ($(several_owners))"
    several_calls h1 DOWN || fail "h1's down script did not run once per address in order: $(script_log h1)"
    several_calls h2 UP || fail "h2's up script did not run once per address in order: $(script_log h2)"
    [ "$(several_env h2 | tail -n 1)" = "$VIP6: $SEVERAL_ALL" ] \
        || fail "CARP_VIRTUAL_ADDRESSES is not '$SEVERAL_ALL' at h2: $(several_env h2 | tail -n 1)"
    wait_for 3 several_reachable_from h3 || fail "h3 cannot reach all three at h2"
}

# VIP_ADDRESS with several addresses, and the shipped vip-up and vip-down, which add an IPv6
# address as /128 with nodad (usable at once) and remove it.
test_several_addresses_from_vip_address_with_the_default_scripts() {
    local dir line
    topology_up 1 ipv6
    dir="$WORK/ucarp"
    mkdir -p "$dir"
    cp "$CONFIG_SOURCE/etc/ucarp/vip-up" "$CONFIG_SOURCE/etc/ucarp/vip-down" "$dir/"
    cat > "$dir/vip-007.conf" <<EOF
BIND_INTERFACE=eth0
SOURCE_ADDRESS=$(host_address 1)
PASSWORD=hunter2
VIP_ADDRESS="$SEVERAL_ALL"
OPTIONS="--shutdown --handover-wait=0"
EOF
    run_named h1 h1 "$SWIFTCARP" --config="$dir/vip-007.conf" --facility=none
    wait_for 6 owns_all h1 || fail "h1 did not get all three addresses ($(several_owners))"
    line=$(ip -n "$(ns h1)" -6 addr show dev eth0 | grep -F "inet6 $VIP6/")
    case "$line" in
        *"inet6 $VIP6/128 "*) ;;
        *) fail "vip-up did not add $VIP6/128: $line" ;;
    esac
    case "$line" in
        *tentative*) fail "vip-up's $VIP6 waits for duplicate address detection: $line" ;;
    esac
    kill -TERM "$(pid_of h1)"
    wait_for 5 has_exited h1 || fail "h1 did not exit on TERM"
    owns_none h1 || fail "vip-down left some of them ($(several_owners))"
}

# several_counters NAME: the counters NAME's daemon logs on USR1, once they count at least
# COUNTED (a regular expression) or after five tries (injected frames may still be queued).
several_counters() {
    local _ counters=""
    for _ in 1 2 3 4 5; do
        kill -USR1 "$(pid_of "$1")"
        sleep 0.5
        counters=$(log_of "$1" | grep "Counters:" | tail -n 1)
        echo "$counters" | grep -Eq -- "$2" && break
    done
    echo "$counters"
}

# The digest over several addresses, against adverts that inject.py signs by the BSD rule on
# its own: IPv4 addresses by value (192.0.2.9 before 192.0.2.100, unlike their text), IPv6
# ones by their bytes (::9 before ::100). One daemon on h1 listens over IPv4, one over IPv6,
# both given the addresses in another order; h2 plays a preferred master for 4.5 s.
test_several_addresses_digest_agrees_with_the_bsd_rule_over_ipv4_and_ipv6() {
    needs python3
    local set="192.0.2.100,192.0.2.9,2001:db8::100,2001:db8::9" addresses name counters injector
    addresses=(--addr=2001:db8::100 --addr=192.0.2.100 --addr=2001:db8::9 --addr=192.0.2.9)
    topology_up 2 ipv6
    run_named over4 h1 "$SWIFTCARP" --interface=eth0 --srcip="$(host_address 1)" --vhid=7 --pass=hunter2 \
        --advskew=100 "${addresses[@]}" --upscript="$WORK/up" --downscript="$WORK/down" --facility=none
    run_named over6 h1 "$SWIFTCARP" --interface=eth0 --srcip="$(host_address6 1)" --vhid=7 --pass=hunter2 \
        --advskew=100 "${addresses[@]}" --upscript="$WORK/up" --downscript="$WORK/down" --facility=none
    { wait_for 5 listening over4 && wait_for 5 listening over6; } || fail "the daemons did not start"
    ip netns exec "$(ns h2)" python3 "$E2E_DIR/inject.py" eth0 valid 225 "$set" &
    injector=$!
    ip netns exec "$(ns h2)" python3 "$E2E_DIR/inject.py" eth0 valid6 225 "$set" || fail "injecting valid6 failed"
    wait "$injector" || fail "injecting valid failed"
    for name in over4 over6; do
        ! log_has "$name" "Switching to state: MASTER" || fail "$name took over from a valid master: $(log_of "$name")"
        counters=$(several_counters "$name" "received 2[0-9][0-9]")
        echo "$counters" | grep -Eq "received 2[0-9][0-9]," || fail "$name did not accept the adverts: $counters"
        echo "$counters" | grep -q "dropped: none" || fail "$name dropped some: $counters"
    done
    ip netns exec "$(ns h2)" python3 "$E2E_DIR/inject.py" eth0 hoplimit6 25 "$set" || fail "injecting hoplimit6 failed"
    counters=$(several_counters over6 "bad-ttl 25")
    echo "$counters" | grep -q "bad-ttl 25" || fail "hop limit 64 not dropped 25 times: $counters"
    log_has over6 "Bad hop limit" || fail "no warning about the hop limit"
    # Signed over one address of the four: a peer with another set.
    ip netns exec "$(ns h2)" python3 "$E2E_DIR/inject.py" eth0 valid 25 192.0.2.100 || fail "injecting failed"
    counters=$(several_counters over4 "bad-digest 25")
    echo "$counters" | grep -q "bad-digest 25" || fail "another address set not a bad digest: $counters"
    log_has over4 "sets of addresses for this vhid may differ" || fail "the warning does not say the sets may differ"
}
