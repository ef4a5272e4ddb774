# shellcheck shell=bash
# Phase reload: what a client sees when the master's configuration is changed and applied:
# SwiftCARP restarted (TERM with --shutdown, then started again: `systemctl restart`), SwiftCARP
# reloaded (`ucarp --reload`, which also re-executes the binary), and keepalived reloaded
# (SIGHUP, what `systemctl reload keepalived` sends) and restarted, in the same run.
#
# h1 is the preferred master (SwiftCARP: advskew 0, --preempt, as sites that want the address
# back on h1 run it; keepalived: priority 254, which preempts by default), h2 its backup
# (advskew 50; priority 206), both serving long TCP connections and UDP probes
# (Tests/EndToEnd/connections.py serve). The client h3 holds RELOAD_CONNECTIONS (50) TCP
# connections to the address, exchanging a line on each about once a second, and sends 200
# probes a second. After 3 s the change: h1's configuration gets another skew (another
# priority for keepalived, 254 -> 250: both still preferred), then it is applied; the client
# goes on for 12 s (time for a restarted preferred master to take the address back). Measured:
# connections broken, probes lost, how often the address changed hands (its owners sampled
# every 50 ms; "owner changes"), and the longest pause in h1's advertisements (tcpdump on h3) from 1 s before
# the change to the end.

# RELOAD_SCENARIOS (default "ours:restart ours:reload keepalived:reload keepalived:restart")
# picks the runs.
RELOAD_CONNECTIONS=${RELOAD_CONNECTIONS:-50}
RELOAD_SERVICE="$ROOT/Tests/EndToEnd/connections.py"

# reload_conf SKEW: h1's SwiftCARP configuration file, $WORK/reload-h1.conf.
reload_conf() {
    cat > "$WORK/reload-h1.conf" <<EOF
ID="7"
BIND_INTERFACE="eth0"
SOURCE_ADDRESS="$(host_address 1)"
VIP_ADDRESS="$VIP"
PASSWORD="$PASS"
UPSCRIPT="$WORK/vip-up.h1"
DOWNSCRIPT="$WORK/vip-down.h1"
OPTIONS="--advbase=1 --advskew=$1 --shutdown --preempt"
EOF
}

# reload_h1_ours: h1's SwiftCARP from $WORK/reload-h1.conf.
reload_h1_ours() {
    ip netns exec "$(ns h1)" "${BIN[ours]}" --config="$WORK/reload-h1.conf" --facility=none >> "$WORK/h1.log" 2>&1 &
    PID["h1"]=$!
    disown "$!"
}

# reload_owner_sampler: until $WORK/reload.sampling goes, one line a sample: the owners.
reload_owner_sampler() {
    local host line
    while [ -e "$WORK/reload.sampling" ]; do
        line=""
        for host in h1 h2; do
            ip -n "$(ns "$host")" -4 -o addr show dev eth0 | grep -qF " $VIP/32 " && line="$line$host"
        done
        echo "${line:-none}"
        sleep 0.05
    done >> "$WORK/reload.owners"
}

# reload_scenario IMPL HOW: one run; prints the table's row.
reload_scenario() {
    local impl=$1 how=$2 host t_change summary broken lost changes gap
    client_reset
    for host in h1 h2; do
        ip netns exec "$(ns "$host")" python3 "$RELOAD_SERVICE" serve "$host" >> "$WORK/serve.$host.log" 2>&1 &
        disown "$!"
    done
    if [ "$impl" = keepalived ]; then
        # The pid files of the last run's keepalived, killed with -9: a pid in them that is in
        # use again would make keepalived say it is running already.
        rm -f "$WORK"/keepalived.h?.pid "$WORK"/vrrp.h?.pid
        keepalived_start h1 MASTER 254 no "$VIP"
        keepalived_start h2 BACKUP 206 no "$VIP"
    else
        reload_conf 0
        # shellcheck disable=SC2034 # SCRIPTS is daemon's (lib.sh)
        SCRIPTS=vip-
        reload_h1_ours
        wait_until 8 owns_all h1 "$VIP" || note "$impl $how: h1 did not become master"
        daemon h2 h2 ours 7 "$VIP" --advbase=1 --advskew=50 --shutdown
        # shellcheck disable=SC2034
        SCRIPTS=""
    fi
    wait_until 10 owns_all h1 "$VIP" || { note "$impl $how: h1 is not master: not measured"; return; }
    sleep 1
    rm -f "$WORK/reload.owners" "$WORK/reload.client" "$WORK/reload.adverts"
    ip netns exec "$(ns h3)" tcpdump -tt -nn -l -i eth0 "ip proto 112 and src host $(host_address 1)" \
        > "$WORK/reload.adverts" 2> "$WORK/reload.tcpdump.err" &
    TCPDUMP_PID=$!
    wait_until 5 grep -qs "listening on" "$WORK/reload.tcpdump.err" || note "tcpdump did not start"
    ip netns exec "$(ns h3)" python3 "$RELOAD_SERVICE" client "$VIP" --connections "$RELOAD_CONNECTIONS" \
        --rate 200 --duration 15 --out "$WORK/reload.client" > "$WORK/reload.client.log" 2>&1 &
    local client=$!
    wait_until 10 grep -qs '^connected' "$WORK/reload.client.log" || { note "$impl $how: the client could not connect"; kill "$client"; return; }
    touch "$WORK/reload.sampling"
    reload_owner_sampler &
    local sampler=$!
    sleep 3
    t_change=$EPOCHREALTIME
    case "$impl $how" in
        "ours restart")
            reload_conf 5
            kill -TERM "${PID["h1"]}"
            gone "${PID["h1"]}" 10
            reload_h1_ours
            ;;
        "ours reload")
            reload_conf 5
            ip netns exec "$(ns h1)" "${BIN[ours]}" --reload --config="$WORK/reload-h1.conf" >> "$WORK/reload.ask.log" 2>&1 \
                || note "ours reload: ucarp --reload exited $?: $(tail -n 1 "$WORK/reload.ask.log")"
            ;;
        "keepalived reload")
            sed -i 's/priority 254/priority 250/' "$WORK/keepalived.h1.conf"
            kill -HUP "${PID["ka-h1"]}"
            ;;
        "keepalived restart")
            kill -TERM "${PID["ka-h1"]}"
            gone "${PID["ka-h1"]}" 10
            sed -i 's/priority 254/priority 250/' "$WORK/keepalived.h1.conf"
            ip netns exec "$(ns h1)" "$KEEPALIVED" --dont-fork --log-console --no-syslog --vrrp \
                -f "$WORK/keepalived.h1.conf" -p "$WORK/keepalived.h1.pid" -r "$WORK/vrrp.h1.pid" \
                >> "$WORK/keepalived.h1.log" 2>&1 &
            PID["ka-h1"]=$!
            disown "$!"
            ;;
    esac
    wait "$client" 2>/dev/null
    rm -f "$WORK/reload.sampling"
    wait "$sampler" 2>/dev/null
    kill "$TCPDUMP_PID" 2>/dev/null
    wait "$TCPDUMP_PID" 2>/dev/null
    TCPDUMP_PID=""
    summary=$(head -n 1 "$WORK/reload.client" 2>/dev/null)
    broken=$(awk '{ print $4 }' <<< "$summary")
    lost=$(awk '{ print $10 }' <<< "$summary")
    # Hand-overs: changes of the one owner (both, an instant of make-before-break, or none,
    # are on the way from one to the other).
    changes=$(awk '$1 == "h1" || $1 == "h2" { if (last != "" && $1 != last) n++; last = $1 } END { print n + 0 }' "$WORK/reload.owners")
    gap=$(awk -v from="$t_change" '$2 == "IP" && $1 + 0 >= from - 1 { if (last) { g = ($1 - last) * 1000; if (g > max) max = g } last = $1 }
        END { printf "%d", max }' "$WORK/reload.adverts")
    note "$impl $how: $summary; owners $(uniq "$WORK/reload.owners" | tr '\n' ' ')"
    printf '%-22s %11s %13s %14s %22s\n' "$impl $how" "${broken:--}/$RELOAD_CONNECTIONS" "${lost:--}" "$changes" "$gap ms" >> "$WORK/reload.table"
    client_reset
}

run_reload() {
    phase "reload: restart vs reload with a client holding $RELOAD_CONNECTIONS TCP connections (SwiftCARP, keepalived)"
    printf '%-22s %11s %13s %14s %22s\n' "" "broken conns" "probes lost" "owner changes" "longest advert gap h1" > "$WORK/reload.table"
    local run
    for run in ${RELOAD_SCENARIOS:-ours:restart ours:reload keepalived:reload keepalived:restart}; do
        reload_scenario "${run%%:*}" "${run#*:}"
    done
    cat "$WORK/reload.table"
}
