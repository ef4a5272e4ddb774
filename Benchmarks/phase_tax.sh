# shellcheck shell=bash
# Phase tax: what 40 daemons on a host cost the host's own traffic. Every packet socket bound to
# all protocols (libpcap's, ucarp's as ours) runs its filter on every frame the host receives
# and, unless it asks for none (PACKET_IGNORE_OUTGOING), on every frame the host sends, in the
# time of whoever sends or receives. Measured as the system time a sender spends on
# TAX_DATAGRAMS UDP datagrams (default 200,000), from h1 to the client h3 (h1's daemons see
# them leave) and from h3 to h1 (they see them arrive: the receive runs in the sender's time,
# veth and bridge hand the frame on in the same soft interrupt), with no daemon, with
# SwiftCARP's and with ucarp's, in rotation, TAX_RUNS times (default 3). TAX_OTHER names another
# SwiftCARP binary (an older build, say) to rotate with them as "other".

# send_datagrams FROM TO: the system and user time, in seconds, of sending TAX_DATAGRAMS
# 64-byte UDP datagrams from host FROM to host TO (discard port).
send_datagrams() {
    ip netns exec "$(ns "$1")" python3 -c '
import resource, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
payload, target, count = b"x" * 64, (sys.argv[1], 9), int(sys.argv[2])
r0 = resource.getrusage(resource.RUSAGE_SELF)
for _ in range(count):
    s.sendto(payload, target)
r1 = resource.getrusage(resource.RUSAGE_SELF)
print("%.3f %.3f" % (r1.ru_stime - r0.ru_stime, r1.ru_utime - r0.ru_utime))' "$(host_address "$2")" "${TAX_DATAGRAMS:-200000}"
}

run_tax() {
    phase "Tax: the system time of ${TAX_DATAGRAMS:-200000} datagrams a host sends and receives, with 40 daemons on it"
    local run impl v out into impls=(none ours ucarp)
    if [ -n "${TAX_OTHER:-}" ]; then
        cp "$TAX_OTHER" "$WORK/swiftcarp-other" || { note "TAX_OTHER: cannot copy $TAX_OTHER"; return; }
        # shellcheck disable=SC2034 # BIN is Benchmarks/run's (daemon reads it)
        BIN["other"]=$WORK/swiftcarp-other
        impls+=(other)
    fi
    for run in $(seq 1 "${TAX_RUNS:-3}"); do
        for impl in "${impls[@]}"; do
            if [ "$impl" != none ]; then
                for v in $(seq 1 40); do
                    daemon "t1-$v" h1 "$impl" "$v" "198.51.100.$v" --advskew=$(( v % 2 ? 0 : 100 ))
                    daemon "t2-$v" h2 "$impl" "$v" "198.51.100.$v" --advskew=$(( v % 2 ? 100 : 0 ))
                done
                wait_until 20 masters_settled || note "$impl: the 40 elections did not settle within 20 s"
            fi
            out=$(send_datagrams h1 h3)
            into=$(send_datagrams h3 h1)
            sample tax-out "$impl" "${out% *}"
            sample tax-in "$impl" "${into% *}"
            note "run $run, $impl: from h1, system ${out% *} s (user ${out#* } s); into h1, system ${into% *} s (user ${into#* } s)"
            [ "$impl" != none ] && stop_all
        done
    done
}
