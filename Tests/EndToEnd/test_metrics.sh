# shellcheck shell=bash
# --metrics-file: the file as node_exporter's textfile collector reads it, read back with a
# real Prometheus parser (prometheus_client, Debian's python3-prometheus-client), after real
# transitions: master, failover, stop.

here_metrics=$(dirname "${BASH_SOURCE[0]}")
PROM_PYTHON=""

# needs_prometheus_parser: sets PROM_PYTHON to a python3 that has prometheus_client, or skips.
needs_prometheus_parser() {
    local python
    for python in /usr/bin/python3 python3; do
        if "$python" -c 'import prometheus_client.parser' 2> /dev/null; then
            PROM_PYTHON=$python
            return 0
        fi
    done
    skip "python3's prometheus_client is not installed (python3-prometheus-client)"
}

# metrics_of HOST: every sample of HOST's metrics file, parsed (promparse.py); fails the test
# when the parser refuses it.
metrics_of() {
    local parsed
    parsed=$("$PROM_PYTHON" "$here_metrics/promparse.py" "$WORK/$1.prom" 2>&1) || fail "$1's metrics: $parsed"
    echo "$parsed"
}

# metric HOST NAME [LABEL=VALUE...]: the value of the one sample of NAME with these labels
# (besides iname, intf and vrid, which must be vhid7, eth0 and 7), as a whole number when it is one.
metric() {
    local host=$1 name=$2 labels='iname="vhid7",intf="eth0",vrid="7"' label
    shift 2
    for label in "$@"; do labels="$labels,${label%%=*}=\"${label#*=}\""; done
    labels=$(echo "$labels" | tr ',' '\n' | LC_ALL=C sort | paste -sd, -)
    metrics_of "$host" | awk -v series="$name{$labels}" '$1 == series { v = $2; sub(/\.0$/, "", v); print v }'
}

# metric_is HOST VALUE NAME [LABEL=VALUE...]: for wait_for.
metric_is() {
    local host=$1 value=$2
    shift 2
    [ -s "$WORK/$host.prom" ] && [ "$(metric "$host" "$@")" = "$value" ]
}

test_metrics_follow_master_failover_and_stop() {
    needs_prometheus_parser
    topology_up 2
    start_carp h1 "$SWIFTCARP" --advskew=0 --shutdown --metrics-file="$WORK/h1.prom"
    wait_for 5 listening h1 || fail "h1 did not start"
    start_carp h2 "$SWIFTCARP" --advskew=100 --shutdown --metrics-file="$WORK/h2.prom"
    wait_for 10 only_owner h1 || fail "h1 did not become master (owners: $(owners))"
    wait_for 3 metric_is h1 2 ucarp_state ip_address="$VIP" || fail "h1 not MASTER in its metrics: $(cat "$WORK/h1.prom")"
    wait_for 3 metric_is h2 1 ucarp_state ip_address="$VIP" || fail "h2 not BACKUP in its metrics: $(cat "$WORK/h2.prom")"

    # The master's file, as the parser reads it.
    local now taken
    now=$(date +%s)
    [ "$(metrics_of h1 | grep -c '^ucarp_build_info{version="[0-9][^"]*"} 1.0$')" = 1 ] || fail "no build info"
    [ "$(metric h1 ucarp_up)" = 1 ] || fail "h1 not up"
    [ "$(metric h1 ucarp_transitions_total to=MASTER)" = 1 ] || fail "h1's transitions to MASTER"
    [ "$(metric h1 ucarp_transitions_total to=BACKUP)" = 1 ] || fail "h1's transitions to BACKUP (startup)"
    [ "$(metric h1 ucarp_transitions_total to=FAULT)" = 0 ] || fail "h1's transitions to FAULT"
    [ "$(metric h1 ucarp_advertisements_sent_total)" -ge 1 ] || fail "h1 sent nothing"
    [ "$(metric h1 ucarp_dropped_packets_total reason=bad-digest)" = 0 ] || fail "h1 dropped"
    [ "$(metric h1 ucarp_advbase_seconds)" = 1 ] || fail "advbase"
    [ "$(metric h2 ucarp_advskew)" = 100 ] || fail "h2's advskew"
    [ "$(metric h2 ucarp_advertisement_interval_seconds)" = 1.390625 ] || fail "h2's interval"
    taken=$(metric h1 ucarp_last_transition_timestamp_seconds)
    { [ "${taken%.*}" -le "$now" ] && [ "${taken%.*}" -ge $((now - 30)) ]; } || fail "h1's last transition at $taken, now $now"
    # The backup hears the master; the file catches up within 10 s.
    # shellcheck disable=SC2016 # evaluated by wait_for at each poll
    wait_for 12 eval '[ "$(metric h2 ucarp_advertisements_received_total)" -ge 2 ]' \
        || fail "h2's received adverts: $(metric h2 ucarp_advertisements_received_total)"

    # Failover: h1 leaves, h2 takes over; h1's last file says it stopped.
    kill -TERM "$(pid_of h1)"
    wait_for 3 has_exited h1 || fail "h1 did not exit"
    wait_for 3 metric_is h2 2 ucarp_state ip_address="$VIP" || fail "h2 not MASTER in its metrics"
    [ "$(metric h1 ucarp_up)" = 0 ] || fail "h1's file does not say it stopped: $(cat "$WORK/h1.prom")"
    [ "$(metric h1 ucarp_state ip_address="$VIP")" = 0 ] || fail "h1's stopped state"
    [ "$(metric h2 ucarp_transitions_total to=MASTER)" = 1 ] || fail "h2's transitions to MASTER"
    local failover
    failover=$(metric h2 ucarp_last_transition_timestamp_seconds)
    awk -v a="$failover" -v b="$taken" 'BEGIN { exit !(a > b) }' || fail "h2's takeover at $failover, not after $taken"

    # Stop: h2's file stays, saying so.
    kill -TERM "$(pid_of h2)"
    wait_for 3 has_exited h2 || fail "h2 did not exit"
    [ "$(metric h2 ucarp_up)" = 0 ] || fail "h2's file does not say it stopped"
    [ "$(metric h2 ucarp_transitions_total to=BACKUP)" = 2 ] || fail "h2's transitions to BACKUP (startup, shutdown)"
    ! compgen -G "$WORK/*.prom.tmp*" > /dev/null || fail "temporary files left: $(ls "$WORK")"
}

test_metrics_file_must_be_a_prom_file() {
    local output status
    output=$("$SWIFTCARP" -s 192.0.2.11 -v 7 -p pw -a "$VIP" --metrics-file=/tmp/ucarp.txt 2>&1)
    status=$?
    [ "$status" = 1 ] || fail "exit status $status for a .txt metrics file"
    echo "$output" | grep -qF "does not end in .prom" || fail "unclear message: $output"
}
