#!/usr/bin/env bash
# A live demonstration: two hosts in network namespaces share 192.0.2.100 with SwiftCARP, and
# a third, a client, sends it 1000 UDP probes a second (Benchmarks/probe.py; each host answers
# with its name). The master is killed with SIGKILL; the backup takes the address over, and
# the client's view shows the gap. Everything is removed at the end. Run as root from the
# repository (`make demo` builds first).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
export SWIFTCARP="${SWIFTCARP:-$root/.build/debug/ucarp}"
source "$root/Tests/EndToEnd/lib.sh"
trap topology_down EXIT

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
show_owners() { printf '  owner of %s: %s\n' "$VIP" "$(owners || true)"; [ -n "$(owners)" ] || echo "  (nobody)"; }

say "Two hosts, h1 (192.0.2.11) and h2 (192.0.2.12), and a client, h3 (192.0.2.13), on one bridge; each host runs:"
echo "  ucarp -i eth0 -s <own address> -v 7 -p hunter2 -a $VIP -u up -d down -b 1 -k <skew>"
echo "  h1 with advskew 0 (preferred), h2 with advskew 100"
topology_up 3
run_named responder-h1 h1 python3 "$root/Benchmarks/probe.py" respond h1
run_named responder-h2 h2 python3 "$root/Benchmarks/probe.py" respond h2
start_carp h1 "$SWIFTCARP" --advbase=1 --advskew=0
start_carp h2 "$SWIFTCARP" --advbase=1 --advskew=100

say "Waiting for the election (a new instance listens for 3 advertisement intervals)..."
wait_for 10 only_owner h1 || { echo "election failed"; log_of h1; log_of h2; exit 1; }
show_owners
sleep 1
say "Adverts on the wire (tcpdump -T carp on h2, 3 packets):"
ip netns exec "$(ns h2)" timeout 5 tcpdump -nn -T carp -c 3 -i eth0 'ip proto 112' 2>/dev/null | sed 's/^/  /'

say "The client h3 sends 1000 probes a second to $VIP; after 1 s, kill -9 of the master's ucarp on h1..."
run_named client h3 python3 "$root/Benchmarks/probe.py" send "$VIP" --rate 1000 --duration 10 --out "$WORK/probes"
sleep 1
killed_at=$EPOCHREALTIME
kill -9 "$(pid_of h1)"
ip -n "$(ns h1)" addr del "$VIP/32" dev eth0   # the dead daemon's address goes with its host
killed=$(now_ms)
wait_for 10 owns h2 || { echo "no takeover"; log_of h2; exit 1; }
took=$(( $(now_ms) - killed ))
show_owners
echo "  h2 took over ${took} ms after the kill (the protocol bound: 3 x 1 s + 100/256 s = 3.39 s)"
sleep 1
kill -TERM "$(pid_of client)"
wait_for 3 has_exited client

say "What the client saw (seconds from the kill):"
python3 "$root/Benchmarks/report.py" --timeline "$killed_at" "$WORK/probes" | sed 's/^/  /'

say "h2's log:"
log_of h2 | sed 's/^/  /'
say "Cleaning up."
