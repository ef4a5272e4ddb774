# shellcheck shell=bash
# Hosts in network namespaces on one bridge, for the end-to-end tests (lib.sh sources this
# file) and the benchmarks (Benchmarks/run; Benchmarks/profile-symbol-order through lib.sh).
#
# "$NS_PREFIX-sw" holds the bridge br0; "$NS_PREFIX-h1" to "$NS_PREFIX-hN" each have an eth0
# whose peer, pN, is a port of br0, with the address 192.0.2.(10 + N)/24 (TEST-NET-1) and, when
# asked, 2001:db8::(10 + N)/64 (the documentation prefix). No packet leaves the namespaces.
# The caller chooses NS_PREFIX so that its namespaces cannot meet anyone else's.

NS_PREFIX=${NS_PREFIX:-ns$$}
HOSTS=()

# ns NAME: the namespace of host NAME (h1, h2, ...) or of the switch (sw).
ns() { echo "$NS_PREFIX-$1"; }

# host_address N (or hN): the real address of host N.
host_address() { echo "192.0.2.$((10 + ${1#h}))"; }

# host_address6 N (or hN): the real IPv6 address of host N.
host_address6() { echo "2001:db8::$((10 + ${1#h}))"; }

# namespaces_up N [ipv6]: the switch and hosts h1..hN, added to HOSTS; with "ipv6" each host
# also has its IPv6 address, and no address of its namespace waits for duplicate address
# detection (the link-local one included), so that all are usable at once.
namespaces_up() {
    local count=$1 ipv6=${2:-} i
    ip netns add "$(ns sw)"
    # Bridged frames are not to be checked by iptables (br_netfilter drops bad IP checksums,
    # which the robustness tests inject on purpose).
    ip netns exec "$(ns sw)" sysctl -qw net.bridge.bridge-nf-call-iptables=0 2>/dev/null || true
    ip -n "$(ns sw)" link add br0 type bridge
    ip -n "$(ns sw)" link set br0 up
    # Multicast snooping would need IGMP queriers; a dumb switch floods, as most LANs do.
    ip netns exec "$(ns sw)" sh -c 'echo 0 > /sys/class/net/br0/bridge/multicast_snooping' 2>/dev/null || true
    for i in $(seq 1 "$count"); do
        ip netns add "$(ns "h$i")"
        [ "$ipv6" = ipv6 ] && ip netns exec "$(ns "h$i")" sysctl -qw net.ipv6.conf.default.accept_dad=0
        ip link add name eth0 netns "$(ns "h$i")" type veth peer name "p$i" netns "$(ns sw)"
        ip -n "$(ns sw)" link set "p$i" master br0 up
        ip -n "$(ns "h$i")" link set lo up
        ip -n "$(ns "h$i")" link set eth0 up
        ip -n "$(ns "h$i")" addr add "$(host_address "$i")/24" dev eth0
        [ "$ipv6" = ipv6 ] && ip -n "$(ns "h$i")" addr add "$(host_address6 "$i")/64" dev eth0 nodad
        HOSTS+=("h$i")
    done
}

# namespaces_down: kills every process left in the namespaces of HOSTS and the switch, and
# deletes them.
namespaces_down() {
    local name pid
    for name in "${HOSTS[@]}" sw; do
        for pid in $(ip netns pids "$(ns "$name")" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    done
    for name in "${HOSTS[@]}" sw; do ip netns del "$(ns "$name")" 2>/dev/null; done
    HOSTS=()
}
