#!/usr/bin/env bash
# A live demonstration: two hosts in network namespaces share 192.0.2.100 with SwiftCARP.
# The master is killed with SIGKILL; the backup takes the address over. Everything is removed
# at the end. Run as root from the repository (`make demo` builds first).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
export SWIFTCARP="${SWIFTCARP:-$root/.build/debug/ucarp}"
source "$root/Tests/EndToEnd/lib.sh"
trap topology_down EXIT

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
show_owners() { printf '  owner of %s: %s\n' "$VIP" "$(owners || true)"; [ -n "$(owners)" ] || echo "  (nobody)"; }

say "Two hosts, h1 (192.0.2.11) and h2 (192.0.2.12), on one bridge; each runs:"
echo "  ucarp -i eth0 -s <own address> -v 7 -p hunter2 -a $VIP -u up -d down -b 1 -k <skew>"
echo "  h1 with advskew 0 (preferred), h2 with advskew 100"
topology_up 2
start_carp h1 "$SWIFTCARP" --advbase=1 --advskew=0
start_carp h2 "$SWIFTCARP" --advbase=1 --advskew=100

say "Waiting for the election (a new instance listens for 3 advertisement intervals)..."
wait_for 10 only_owner h1 || { echo "election failed"; log_of h1; log_of h2; exit 1; }
show_owners
sleep 2
say "Adverts on the wire (tcpdump on h2, 3 packets):"
ip netns exec "$(ns h2)" timeout 5 tcpdump -nn -c 3 -i eth0 'ip proto 112' 2>/dev/null | sed 's/^/  /'

say "kill -9 of the master's ucarp on h1..."
kill -9 "$(pid_of h1)"
ip -n "$(ns h1)" addr del "$VIP/32" dev eth0   # the dead daemon's address goes with its host
killed=$(now_ms)
wait_for 10 owns h2 || { echo "no takeover"; log_of h2; exit 1; }
took=$(( $(now_ms) - killed ))
show_owners
echo "  h2 took over ${took} ms after the kill (the protocol bound: 3 x 1 s + 100/256 s = 3.39 s)"

say "h2's log:"
log_of h2 | sed 's/^/  /'
say "Cleaning up."
