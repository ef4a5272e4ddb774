# shellcheck shell=bash
# The etcd quorum guard (issue 15): with --etcd an instance is MASTER only while it holds an
# etcd lease on the group's key, so a partition never gives two masters.
#
# Three hosts, each with one member of a three-member etcd 3.4 cluster (Debian's etcd binary)
# on its own address; SwiftCARP on h1 (preferred) and h2, both knowing all three members. A
# partition that isolates h1 cuts it off from h2 and from the etcd majority h2 + h3.

# --- The etcd cluster -------------------------------------------------------------------------

ETCD_SCHEME=http
ETCD_TLS_OPTIONS=()

# etcd_url N: the client URL of the member on host N.
etcd_url() { echo "$ETCD_SCHEME://$(host_address "$1"):2379"; }

# etcd_endpoints: the client URLs of the three members, comma-separated (for --etcd).
etcd_endpoints() { echo "$(etcd_url 1),$(etcd_url 2),$(etcd_url 3)"; }

# etcd_member_start N: starts (or starts again, on its data directory) the member on host hN,
# as the process etcd-hN (pid_of, log_of). Its data lives under $WORK, which topology_down
# removes after namespaces_down has killed every process of the host's namespace. --pre-vote:
# without it a member that rejoins after a partition, its term raised by its lonely
# elections, deposes the leader, and etcd answers nothing for longer than a 2 s lease allows.
etcd_member_start() {
    local n=$1 cluster="" i
    for i in 1 2 3; do cluster="$cluster${cluster:+,}h$i=http://$(host_address "$i"):2380"; done
    run_named "etcd-h$n" "h$n" etcd --name "h$n" --data-dir "$WORK/etcd-h$n" \
        --listen-client-urls "$(etcd_url "$n")" --advertise-client-urls "$(etcd_url "$n")" \
        --listen-peer-urls "http://$(host_address "$n"):2380" \
        --initial-advertise-peer-urls "http://$(host_address "$n"):2380" \
        --initial-cluster "$cluster" --initial-cluster-state new \
        --initial-cluster-token "$NS_PREFIX" --pre-vote "${ETCD_TLS_OPTIONS[@]}"
}

# etcdctl_on HOST ARGS...: etcdctl in HOST's namespace, talking to HOST's own member.
etcdctl_on() {
    local host=$1 tls=()
    shift
    [ "$ETCD_SCHEME" = https ] && tls=(--cacert="$WORK/pki/ca.crt" --cert="$WORK/pki/client.crt" --key="$WORK/pki/client.key")
    ip netns exec "$(ns "$host")" env ETCDCTL_API=3 etcdctl --endpoints="$(etcd_url "${host#h}")" \
        --dial-timeout=1s --command-timeout=2s "${tls[@]}" "$@"
}

# etcd_writable HOST: HOST's member is part of a majority (a put through it succeeds).
etcd_writable() { etcdctl_on "$1" put /swiftcarp-test/probe "$1" > /dev/null 2>&1; }

# etcd_cluster_up [--tls]: a three-host topology with one member on each host, once the
# cluster takes writes through every member; with --tls, on TLS with client certificates
# (etcd_certificates).
etcd_cluster_up() {
    needs etcd etcdctl nft
    topology_up 3
    write_timeline_scripts
    [ "${1:-}" = --tls ] && etcd_certificates
    local n
    for n in 1 2 3; do etcd_member_start "$n"; done
    for n in 1 2 3; do
        wait_for 20 etcd_writable "h$n" || fail "the etcd member on h$n takes no writes: $(log_of etcd-h$n | tail -n 5)"
    done
}

# etcd_stop: kills the three members (the cluster is gone; their data stays).
etcd_stop() {
    local n
    for n in 1 2 3; do kill -9 "$(pid_of etcd-h$n)" 2>/dev/null; done
    for n in 1 2 3; do wait_for 5 has_exited "etcd-h$n" || fail "the etcd member on h$n did not die"; done
}

# etcd_start_again: starts the three members again on their data and waits for a majority.
etcd_start_again() {
    local n
    for n in 1 2 3; do etcd_member_start "$n"; done
    for n in 1 2 3; do wait_for 20 etcd_writable "h$n" || fail "the etcd member on h$n did not come back"; done
}

# etcd_holder: the value of the group's key (the holder's address and name), empty when free.
etcd_holder() { etcdctl_on h3 get --print-value-only "/swiftcarp/7/$VIP" 2>/dev/null; }

# etcd_key_free: nobody holds the group's key.
etcd_key_free() { [ -z "$(etcd_holder)" ]; }

# etcd_certificates: a CA, a server certificate for the three members' addresses and a client
# certificate, in $WORK/pki; the members then serve TLS on their client port and require a
# client certificate signed by the CA (--client-cert-auth).
etcd_certificates() {
    local pki="$WORK/pki" name usage
    mkdir -p "$pki"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
        -subj /CN=swiftcarp-test-ca -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null \
        || fail "openssl could not make the CA"
    for name in server client; do
        usage=clientAuth
        [ "$name" = server ] && usage=serverAuth,clientAuth
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$name" \
            -keyout "$pki/$name.key" -out "$pki/$name.csr" 2>/dev/null || fail "openssl: no $name key"
        printf 'subjectAltName=IP:%s,IP:%s,IP:%s,IP:127.0.0.1\nextendedKeyUsage=%s\n' \
            "$(host_address 1)" "$(host_address 2)" "$(host_address 3)" "$usage" > "$pki/$name.ext"
        openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
            -CAcreateserial -days 1 -extfile "$pki/$name.ext" -out "$pki/$name.crt" 2>/dev/null \
            || fail "openssl could not sign the $name certificate"
    done
    ETCD_SCHEME=https
    ETCD_TLS_OPTIONS=(--cert-file="$pki/server.crt" --key-file="$pki/server.key"
        --trusted-ca-file="$pki/ca.crt" --client-cert-auth)
}

# isolate HOST: the bridge forwards nothing to or from HOST (its CARP peers and the etcd
# members of the other hosts are out of reach; the others still reach each other).
isolate() {
    local port="p${1#h}"
    ip netns exec "$(ns sw)" nft add table bridge isolate
    ip netns exec "$(ns sw)" nft add chain bridge isolate forward '{ type filter hook forward priority 0; }'
    ip netns exec "$(ns sw)" nft add rule bridge isolate forward iifname "$port" drop
    ip netns exec "$(ns sw)" nft add rule bridge isolate forward oifname "$port" drop
}
rejoin() { ip netns exec "$(ns sw)" nft delete table bridge isolate; }

# cut_etcd_client_port HOST: HOST reaches no etcd member's client port (its own included);
# CARP and the members' peer traffic go on.
cut_etcd_client_port() {
    ip netns exec "$(ns "$1")" nft add table inet etcdcut
    ip netns exec "$(ns "$1")" nft add chain inet etcdcut output '{ type filter hook output priority 0; }'
    ip netns exec "$(ns "$1")" nft add rule inet etcdcut output tcp dport 2379 drop
}

# --- Scripts that keep a timeline -------------------------------------------------------------

# write_timeline_scripts: up and down scripts (etcd-up, etcd-down) that do what the usual ones
# do and also log to $WORK/timeline "NANOSECONDS UP|DOWN HOST CARP_REASON" (and the up script
# its CARP_ETCD_KEY and CARP_ETCD_LEASE to $WORK/etcd-env.HOST). The up script logs
# before it adds the address and the down script after it removed it, so each host's
# intervals from UP to DOWN contain the time it really held the address. The down script
# first sleeps the seconds in $WORK/down-delay, if any: a down script that takes its time (a
# cloud provider's API, an arping) must still be done before the next master's up script.
write_timeline_scripts() {
    cat > "$WORK/etcd-up" <<SCRIPT
#!/bin/sh
host=\$(ip netns identify \$\$)
echo "\$(date +%s%N) UP \${host##*-} \${CARP_REASON:--}" >> "$WORK/timeline"
echo "\${CARP_ETCD_KEY:-} \${CARP_ETCD_LEASE:-}" > "$WORK/etcd-env.\${host##*-}"
exec "$WORK/up" "\$@"
SCRIPT
    cat > "$WORK/etcd-down" <<SCRIPT
#!/bin/sh
host=\$(ip netns identify \$\$)
sleep "\$(cat "$WORK/down-delay" 2>/dev/null || echo 0)"
"$WORK/down" "\$@"
echo "\$(date +%s%N) DOWN \${host##*-} \${CARP_REASON:--}" >> "$WORK/timeline"
SCRIPT
    chmod +x "$WORK/etcd-up" "$WORK/etcd-down"
}

timeline() { cat "$WORK/timeline" 2>/dev/null; }

# dual_master_ms: the total time, in milliseconds, during which two hosts held the address at
# once according to the timeline (an UP without its DOWN lasts until now).
dual_master_ms() {
    { timeline; echo "$(date +%s%N) END - -"; } | sort -n | awk '
        $2 == "UP" && !($3 in since) { since[$3] = $1; holders++; if (holders == 2) start = $1 }
        $2 == "DOWN" && ($3 in since) { if (holders == 2) total += $1 - start; delete since[$3]; holders-- }
        $2 == "END" { if (holders >= 2) total += $1 - start }
        END { printf "%d\n", total / 1000000 }'
}

# timeline_ns EVENT HOST [NTH]: the timestamp of HOST's NTH (default last) EVENT (UP, DOWN).
timeline_ns() {
    timeline | awk -v event="$1" -v host="$2" -v nth="${3:-0}" '
        $2 == event && $3 == host { count++; if (nth == 0 || count == nth) found = $1 }
        END { print found }'
}

# down_reasons HOST: the CARP_REASON of each down script HOST ran, space-separated.
down_reasons() { timeline | awk -v host="$1" '$2 == "DOWN" && $3 == host { printf "%s ", $4 }'; }

# --- The instances ----------------------------------------------------------------------------

# start_timeline HOST ADVSKEW [options...]: SwiftCARP on HOST with advbase 1 and the timeline
# scripts; start_guarded adds the guard on the three members with a TTL of 2 s.
start_timeline() {
    local host=$1 skew=$2
    shift 2
    run_on "$host" "$SWIFTCARP" --interface=eth0 --srcip="$(host_address "$host")" --vhid=7 \
        --pass=hunter2 --addr="$VIP" --upscript="$WORK/etcd-up" --downscript="$WORK/etcd-down" \
        --facility=none --advbase=1 --advskew="$skew" --statefile="$WORK/$host.state" "$@"
}
start_guarded() {
    local host=$1 skew=$2
    shift 2
    start_timeline "$host" "$skew" --etcd="$(etcd_endpoints)" --etcd-ttl=2 "$@"
}

# guarded_pair [options for both]: the cluster, then guarded_instances.
guarded_pair() {
    etcd_cluster_up
    guarded_instances "$@"
}

# guarded_instances [options for both]: h1 (advskew 0) master holding the key and h2 (advskew
# 100) backup.
guarded_instances() {
    start_guarded h1 0 "$@"
    wait_for 5 listening h1 || fail "h1 did not start"
    start_guarded h2 100 "$@"
    wait_for 10 only_owner h1 || fail "h1 did not become master (owners: $(owners))"
    wait_for 3 etcd_holder_is h1 || fail "h1 is master but the key says '$(etcd_holder)'"
    wait_for 5 listening h2 || fail "h2 did not start"
}

# etcd_holder_is HOST: the key's value names HOST's address.
etcd_holder_is() { etcd_holder | grep -qF "$(host_address "$1")"; }

# ms_between NS1 NS2: NS2 - NS1 in milliseconds.
ms_between() { echo $(( ($2 - $1) / 1000000 )); }

# carp_bound_ms ADVSKEW: how long a backup with ADVSKEW (advbase 1) waits for a silent master:
# three of its own intervals.
carp_bound_ms() { echo $(( 3 * (1000 + $1 * 1000 / 256) )); }

# one_holder_settles: within 10 s exactly one host holds the address, and keeps it for 2 s.
one_holder_settles() {
    local holder
    wait_for 10 one_owner || fail "no single holder (owners: '$(owners)')"
    holder=$(owners)
    holds_for 2 only_owner "$holder" || fail "the address moved on: '$holder', then '$(owners)'"
}

# no_overlap_so_far: the timeline shows no instant at which two hosts held the address.
no_overlap_so_far() {
    local dual
    dual=$(dual_master_ms)
    [ "$dual" = 0 ] || fail "two hosts held the address for $dual ms: $(timeline | tr '\n' ';')"
}

# --- The tests --------------------------------------------------------------------------------

# h1 is cut off from h2 and from the etcd majority (h2 + h3): it gives the address up at its own
# lease deadline, before etcd lets the lease go, so h2 takes it only after h1 has let go.
test_etcd_isolated_master_gives_the_address_up_before_the_other_side_takes_it() {
    guarded_pair
    holds_for 1 only_owner h1 || fail "h1 lost the address (owners: $(owners))"
    local cut down1 up2
    cut=$(date +%s%N)
    isolate h1
    wait_for 10 only_owner h2 || fail "h2 did not take over from the isolated h1 (owners: $(owners))"
    down1=$(timeline_ns DOWN h1)
    up2=$(timeline_ns UP h2)
    { [ -n "$down1" ] && [ "$down1" -lt "$up2" ]; } || fail "h2 took the address before h1 gave it up: $(timeline | tr '\n' ';')"
    no_overlap_so_far
    case " $(down_reasons h1)" in *" lease-lost "*) ;; *) fail "h1's down script reasons: $(down_reasons h1)" ;; esac
    etcd_holder_is h2 || fail "h2 holds the address but the key says '$(etcd_holder)'"
    echo "    partition with the guard: h1 let go after $(ms_between "$cut" "$down1") ms, h2 took over after $(ms_between "$cut" "$up2") ms, two masters for 0 ms"
    holds_for 2 only_owner h2 || fail "the isolated h1 took the address back (owners: $(owners))"
    # Healed, the group settles on one master, still with no overlap.
    rejoin
    one_holder_settles
    no_overlap_so_far
}

# The same partition without --etcd: both sides are master until it heals.
test_etcd_partition_without_the_guard_gives_two_masters() {
    needs nft
    topology_up 3
    write_timeline_scripts
    start_timeline h1 0
    wait_for 5 listening h1 || fail "h1 did not start"
    start_timeline h2 100
    wait_for 10 only_owner h1 || fail "h1 did not become master (owners: $(owners))"
    holds_for 1 only_owner h1 || fail "h1 lost the address (owners: $(owners))"
    local cut up2 dual
    cut=$(date +%s%N)
    isolate h1
    wait_for 10 owners_are h1 h2 || fail "the partition did not give two masters (owners: $(owners))"
    up2=$(timeline_ns UP h2)
    holds_for 2 owners_are h1 h2 || fail "two masters expected during the partition (owners: $(owners))"
    rejoin
    wait_for 5 only_owner h1 || fail "two masters after healing (owners: $(owners))"
    dual=$(dual_master_ms)
    [ "$dual" -ge 1500 ] || fail "two masters for only $dual ms: $(timeline | tr '\n' ';')"
    echo "    partition without the guard: h2 took over after $(ms_between "$cut" "$up2") ms, two masters for $dual ms (until the partition healed)"
}

# kill -9 of the master (its host dies: the address goes with it): h2 takes over once CARP sees
# the master silent and the dead master's lease has expired, within TTL + the CARP bound.
test_etcd_crash_of_the_master_is_taken_over_within_the_ttl_and_the_carp_bound() {
    guarded_pair
    holds_for 1 only_owner h1 || fail "h1 lost the address (owners: $(owners))"
    local killed up2 took bound
    killed=$(date +%s%N)
    kill -9 "$(pid_of h1)"
    ip -n "$(ns h1)" addr del "$VIP/32" dev eth0
    bound=$(( 2000 + $(carp_bound_ms 100) ))
    wait_for 10 owns h2 || fail "h2 did not take over from the dead master"
    up2=$(timeline_ns UP h2)
    took=$(ms_between "$killed" "$up2")
    [ "$took" -le "$bound" ] || fail "h2 took over after $took ms, more than TTL + the CARP bound ($bound ms)"
    wait_for 3 etcd_holder_is h2 || fail "h2 is master but the key says '$(etcd_holder)'"
    # The lease shows in the scripts' environment, the state file and the USR1 line.
    local key="/swiftcarp/7/$VIP" lease
    lease=$(etcdctl_on h3 get "$key" -w fields 2>/dev/null | awk -F' : ' '/"Lease"/ { print $2 }')
    [ -n "$lease" ] || fail "no lease on the key"
    [ "$(cat "$WORK/etcd-env.h2")" = "$key $lease" ] || fail "the up script saw '$(cat "$WORK/etcd-env.h2")', the key's lease is $lease"
    { grep -qx "ETCD_KEY=$key" "$WORK/h2.state" && grep -qx "ETCD_LEASE=$lease" "$WORK/h2.state"; } \
        || fail "h2's state file: $(cat "$WORK/h2.state")"
    kill -USR1 "$(pid_of h2)"
    wait_for 3 log_has h2 "etcd: key $key, held with lease $lease" || fail "the USR1 line does not show the lease"
    echo "    crash of the master with the guard: h2 took over after $took ms (bound $bound ms)"
}

# TERM with --shutdown: h1 removes the address and revokes its lease before it leaves, and h2
# takes the key at once: under 0.2 s from the end of h1's down script (which takes 0.3 s) to
# h2's up script, and never before that end.
test_etcd_planned_handover_takes_under_200_ms() {
    guarded_pair --shutdown
    holds_for 1 only_owner h1 || fail "h1 lost the address (owners: $(owners))"
    echo 0.3 > "$WORK/down-delay"
    kill -TERM "$(pid_of h1)"
    wait_for 5 has_exited h1 || fail "h1 did not exit"
    wait_for 5 owns h2 || fail "h2 did not take over"
    local down1 up2 gap
    down1=$(timeline_ns DOWN h1)
    up2=$(timeline_ns UP h2)
    [ -n "$down1" ] || fail "h1 ran no down script: $(timeline | tr '\n' ';')"
    gap=$(( (up2 - down1) / 1000000 ))
    [ "$up2" -ge "$down1" ] || fail "h2's up script ran $(( -gap )) ms before h1's down script: two masters"
    [ "$gap" -lt 200 ] || fail "the hand-over took $gap ms between h1's down and h2's up script"
    [ "$(exit_status_of h1)" = 0 ] || fail "h1 exited $(exit_status_of h1)"
    etcd_holder_is h2 || fail "h2 is master but the key says '$(etcd_holder)'"
    echo "    planned hand-over with the guard: $(( (up2 - down1) / 1000 )) µs from h1's down script to h2's up script"
}

# etcd stopped entirely under the default --etcd-unreachable=release: the master gives the
# address up at its lease deadline and nobody takes it while etcd is down; once etcd is back, a
# master is elected again.
test_etcd_stopped_under_release_leaves_nobody_holding_the_address() {
    guarded_pair
    holds_for 1 only_owner h1 || fail "h1 lost the address (owners: $(owners))"
    local stopped down1
    stopped=$(date +%s%N)
    etcd_stop
    wait_for 5 not owns h1 || fail "h1 kept the address with etcd down under release"
    down1=$(timeline_ns DOWN h1)
    [ "$(ms_between "$stopped" "$down1")" -le 2000 ] || fail "h1 gave up $(ms_between "$stopped" "$down1") ms after etcd stopped: past its 2 s lease"
    case " $(down_reasons h1)" in *" lease-lost "*) ;; *) fail "h1's down script reasons: $(down_reasons h1)" ;; esac
    # Longer than the CARP bound: the backup (and h1) stay BACKUP.
    holds_for "$(( $(carp_bound_ms 100) / 1000 + 2 ))" owners_are || fail "someone became master while etcd was down (owners: $(owners))"
    { kill -0 "$(pid_of h1)" && kill -0 "$(pid_of h2)"; } || fail "a daemon exited while etcd was down"
    echo "    etcd stopped, release: h1 let go after $(ms_between "$stopped" "$down1") ms, nobody held the address for $(( $(carp_bound_ms 100) / 1000 + 2 )) s"
    etcd_start_again
    one_holder_settles
    no_overlap_so_far
}

# Under --etcd-unreachable=keep the master keeps the address while etcd is down, but a backup
# never becomes master without the key: not even when the master dies.
test_etcd_stopped_under_keep_keeps_the_master_and_makes_no_new_one() {
    guarded_pair --etcd-unreachable=keep
    holds_for 1 only_owner h1 || fail "h1 lost the address (owners: $(owners))"
    etcd_stop
    holds_for 4 only_owner h1 || fail "h1 did not keep the address under keep (owners: $(owners))"
    kill -9 "$(pid_of h1)"
    ip -n "$(ns h1)" addr del "$VIP/32" dev eth0
    holds_for "$(( $(carp_bound_ms 100) / 1000 + 2 ))" owners_are || fail "h2 became master while etcd was down (owners: $(owners))"
    # etcd back: the dead master's lease expires and h2 takes over.
    etcd_start_again
    wait_for 15 only_owner h2 || fail "h2 did not take over once etcd was back (owners: $(owners))"
    wait_for 3 etcd_holder_is h2 || fail "h2 is master but the key says '$(etcd_holder)'"
}

# A master that still hears (and is heard by) its CARP peer but reaches no etcd member leaves
# with lease-lost; h2 takes over once etcd has let the lease go, never earlier.
test_etcd_master_cut_from_etcd_leaves_with_lease_lost() {
    guarded_pair
    holds_for 1 only_owner h1 || fail "h1 lost the address (owners: $(owners))"
    local cut down1 up2
    cut=$(date +%s%N)
    cut_etcd_client_port h1
    wait_for 5 not owns h1 || fail "h1 kept the address without etcd"
    case " $(down_reasons h1)" in *" lease-lost "*) ;; *) fail "h1's down script reasons: $(down_reasons h1)" ;; esac
    wait_for 10 only_owner h2 || fail "h2 did not take over once the lease was free (owners: $(owners))"
    down1=$(timeline_ns DOWN h1)
    up2=$(timeline_ns UP h2)
    no_overlap_so_far
    etcd_holder_is h2 || fail "h2 is master but the key says '$(etcd_holder)'"
    echo "    master cut from etcd: h1 let go after $(ms_between "$cut" "$down1") ms, h2 took over after $(ms_between "$cut" "$up2") ms"
    # etcd reachable again: h1 (no --preempt) stays BACKUP.
    ip netns exec "$(ns h1)" nft delete table inet etcdcut
    holds_for 3 only_owner h2 || fail "after h1 reached etcd again: owners '$(owners)'"
    no_overlap_so_far
}

# h2 holds the key; the preferred h1 comes back with --preempt and gets the address (the holder
# yields to its advert and revokes its lease), with no overlap, even though h2's down script
# takes 0.3 s.
test_etcd_preferred_host_with_preempt_gets_the_address_from_the_holder() {
    etcd_cluster_up
    start_guarded h2 100 --preempt
    wait_for 10 only_owner h2 || fail "h2 did not become master alone (owners: $(owners))"
    wait_for 3 etcd_holder_is h2 || fail "h2 is master but the key says '$(etcd_holder)'"
    echo 0.3 > "$WORK/down-delay"
    local started
    started=$(date +%s%N)
    start_guarded h1 0 --preempt
    wait_for 10 only_owner h1 || fail "the preferred h1 did not get the address (owners: $(owners))"
    wait_for 3 etcd_holder_is h1 || fail "h1 is master but the key says '$(etcd_holder)'"
    no_overlap_so_far
    echo "    preemption with the guard: h1 master $(ms_between "$started" "$(timeline_ns UP h1)") ms after it started, $(ms_between "$(timeline_ns DOWN h2)" "$(timeline_ns UP h1)") ms after h2's down script"
    holds_for 2 only_owner h1 || fail "the address moved on (owners: $(owners))"
}

# etcd serving TLS with --client-cert-auth, certificates made by the test: h1 with
# --etcd-cacert, --etcd-cert and --etcd-key, h2 with the same as ETCD_* in its vip-007.conf;
# they hold the key in turn and hand it over.
test_etcd_tls_with_client_certificates() {
    needs openssl
    etcd_cluster_up --tls
    local pki="$WORK/pki"
    start_guarded h1 0 --etcd-cacert="$pki/ca.crt" --etcd-cert="$pki/client.crt" --etcd-key="$pki/client.key" --shutdown
    wait_for 5 listening h1 || fail "h1 did not start"
    cat > "$WORK/vip-007.conf" <<CONF
ID=7
VIP_ADDRESS=$VIP
BIND_INTERFACE=eth0
SOURCE_ADDRESS=$(host_address 2)
PASSWORD=hunter2
UPSCRIPT=$WORK/etcd-up
DOWNSCRIPT=$WORK/etcd-down
OPTIONS="--advbase=1 --advskew=100 --shutdown"
ETCD_ENDPOINTS="$(etcd_endpoints | tr , ' ')"
ETCD_TTL=2
ETCD_CACERT=$pki/ca.crt
ETCD_CERT=$pki/client.crt
ETCD_KEY=$pki/client.key
CONF
    run_on h2 "$SWIFTCARP" --config="$WORK/vip-007.conf" --facility=none --statefile="$WORK/h2.state"
    wait_for 10 only_owner h1 || fail "h1 did not become master over TLS (owners: $(owners))"
    wait_for 3 etcd_holder_is h1 || fail "h1 is master but the key says '$(etcd_holder)'"
    wait_for 5 listening h2 || fail "h2 did not start from its file"
    log_has h2 "etcd: MASTER only while holding key /swiftcarp/7/$VIP \(lease TTL 2 s, .*https://" \
        || fail "h2 did not take the guard from its file"
    # The members do require a client certificate.
    ! ip netns exec "$(ns h3)" etcdctl --endpoints="$(etcd_url 3)" --cacert="$pki/ca.crt" \
        --dial-timeout=1s --command-timeout=2s get /x > /dev/null 2>&1 || fail "etcd took a client without a certificate"
    kill -TERM "$(pid_of h1)"
    # (Whether the hand-over overlaps is test_etcd_planned_handover_takes_under_200_ms's.)
    wait_for 5 only_owner h2 || fail "h2 did not take over over TLS (owners: $(owners))"
    wait_for 3 etcd_holder_is h2 || fail "h2 is master but the key says '$(etcd_holder)'"
}

# bad_etcd_option WORD OPTION...: SwiftCARP with the guard's OPTIONs exits 1 at once with one
# line that names WORD (besides the usual "Try 'ucarp --help'" of a command-line error).
bad_etcd_option() {
    local word=$1 out="$WORK/bad.out" status lines
    shift
    ip netns exec "$(ns h1)" timeout 5 "$SWIFTCARP" --interface=eth0 --srcip="$(host_address 1)" \
        --vhid=7 --pass=hunter2 --addr="$VIP" --facility=none "$@" > "$out" 2>&1
    status=$?
    lines=$(grep -v "^Try 'ucarp --help'" "$out")
    [ "$status" = 1 ] || fail "with $*: exit status $status, expected 1: $(cat "$out")"
    [ "$(grep -c . <<<"$lines")" = 1 ] || fail "with $*: expected one line: $(cat "$out")"
    grep -qF -- "$word" <<<"$lines" || fail "with $*: the message does not name '$word': $lines"
    ! grep -qi "unrecognized option" <<<"$lines" || fail "with $*: $lines"
    echo "    $*: $lines"
}

# A bad endpoint, a TTL below etcd's minimum and a missing certificate file are one line and
# exit 1; an etcd that cannot be reached at start-up is not an error: the instance runs as
# BACKUP and never takes the address.
test_etcd_bad_input_is_one_line_and_exit_1() {
    topology_up 1
    bad_etcd_option 192.0.2.20:2379 --etcd=192.0.2.20:2379
    bad_etcd_option 1 --etcd=http://192.0.2.11:2379 --etcd-ttl=1
    bad_etcd_option missing-ca.crt --etcd=https://192.0.2.11:2379 --etcd-cacert="$WORK/missing-ca.crt"
    start_carp h1 "$SWIFTCARP" --etcd=http://192.0.2.20:2379 --etcd-ttl=2
    holds_for "$(( $(carp_bound_ms 0) / 1000 + 2 ))" not owns h1 || fail "h1 took the address without etcd"
    ! has_exited h1 || fail "an unreachable etcd at start-up ended the instance: $(log_of h1)"
    log_has h1 "Switching to state: BACKUP" || fail "h1 did not start as BACKUP: $(log_of h1)"
    log_has h1 "etcd" || fail "h1 did not log why it may not be master: $(log_of h1)"
}
