# shellcheck shell=bash
# Shared helpers of the benchmarks (Benchmarks/run sources this file, then phase_*.sh): the
# hosts' scripts, daemons, their script events, packet captures, memory, notes and samples,
# and the takeover cycle that the takeover, handover and advbase0 phases repeat. The arithmetic
# is report.py's (calc); what stays here in awk only picks fields out of files, on every poll
# of wait_until (20 ms), where starting python3 would load the CPUs under measurement.

declare -A PID=()     # daemon name -> pid
TCPDUMP_PID=""

# cleanup: at exit, every process of the run ended, the namespaces and the work directory removed.
cleanup() {
    local pid
    for pid in "${PID[@]}" "${RESPONDER[@]}" $TCPDUMP_PID; do kill -9 "$pid" 2>/dev/null; done
    namespaces_down
    wait 2>/dev/null
    if [ -n "${KEEP_WORK:-}" ]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}


# topology_up: the two hosts and the client (h3) on their bridge, and the hosts' up and down
# scripts.
topology_up() {
    local i
    namespaces_up 3
    # The scripts only record when they ran: what is measured is the daemon, not `ip addr`.
    # The client phase's (vip-up, vip-down) also add and remove the address, as in production.
    # shellcheck disable=SC2016 # $2 and $(date) are the generated scripts' own, not this shell's
    for i in 1 2; do
        printf '#!/bin/sh\necho "$(date +%%s.%%N) UP $2" >> %s/events.h%s\n' "$WORK" "$i" > "$WORK/up.h$i"
        printf '#!/bin/sh\necho "$(date +%%s.%%N) DOWN $2" >> %s/events.h%s\n' "$WORK" "$i" > "$WORK/down.h$i"
        printf '#!/bin/sh\necho "$(date +%%s.%%N) UP $2" >> %s/events.h%s\nip addr add "$2/32" dev "$1"\n' \
            "$WORK" "$i" > "$WORK/vip-up.h$i"
        printf '#!/bin/sh\necho "$(date +%%s.%%N) DOWN $2" >> %s/events.h%s\nip addr del "$2/32" dev "$1" 2>/dev/null\nexit 0\n' \
            "$WORK" "$i" > "$WORK/vip-down.h$i"
        # keepalived's notify script (INSTANCE NAME STATE PRIORITY): it only logs.
        printf '#!/bin/sh\necho "$(date +%%s.%%N) $3 $2" >> %s/events.h%s\n' "$WORK" "$i" > "$WORK/notify.h$i"
        chmod 755 "$WORK/up.h$i" "$WORK/down.h$i" "$WORK/vip-up.h$i" "$WORK/vip-down.h$i" "$WORK/notify.h$i"
    done
}

# daemon NAME HOST IMPL VHID VIRTUAL-ADDRESS [OPTION...]: starts one daemon in the background.
# WRAP (an array) may hold a command to run it under (valgrind); SCRIPTS a prefix of the
# scripts' names ("vip-": the ones that add and remove the address).
WRAP=()
SCRIPTS=""
daemon() {
    local name=$1 host=$2 impl=$3 vhid=$4 vip=$5 binary
    shift 5
    binary=${BIN[$impl]}
    [ ${#WRAP[@]} -gt 0 ] && binary=${CGBIN[$impl]}
    ip netns exec "$(ns "$host")" "${WRAP[@]}" "$binary" --interface=eth0 --srcip="$(host_address "$host")" \
        --vhid="$vhid" --pass="$PASS" --addr="$vip" --upscript="$WORK/${SCRIPTS}up.$host" \
        --downscript="$WORK/${SCRIPTS}down.$host" --facility=none "$@" >> "$WORK/$name.log" 2>&1 &
    PID[$name]=$!
    # Not a job of this shell: bash would report every SIGKILL as "Killed".
    disown "$!"
}

# gone PID [SECONDS]: waits until the process has ended (at most SECONDS, default 5).
gone() {
    local n=0 limit=$(( ${2:-5} * 100 ))
    while kill -0 "$1" 2>/dev/null && [ $n -lt $limit ]; do sleep 0.01; n=$((n + 1)); done
    ! kill -0 "$1" 2>/dev/null
}

# stop_all: SIGKILL to every daemon, and forget the scripts' events.
stop_all() {
    local name
    for name in "${!PID[@]}"; do kill -9 "${PID[$name]}" 2>/dev/null; done
    for name in "${!PID[@]}"; do gone "${PID[$name]}"; done
    PID=()
    sleep 0.2   # scripts spawned just before the kill
    rm -f "$WORK"/events.h*
}

# now_us: $EPOCHREALTIME in microseconds, an integer (LC_ALL=C: its decimal sign is a dot).
now_us() { echo "${EPOCHREALTIME/./}"; }

# wait_until SECONDS COMMAND...: polls COMMAND every 20 ms, for at most SECONDS (a whole number).
wait_until() {
    local deadline=$(( $(now_us) + $1 * 1000000 ))
    shift
    until "$@"; do
        [ "$(now_us)" -gt "$deadline" ] && return 1
        sleep 0.02
    done
}

# first_event HOST KIND AFTER: the time of HOST's first KIND (UP/DOWN) script run after AFTER.
first_event() { awk -v k="$2" -v t="$3" '$2 == k && $1 + 0 > t + 0 { print $1; exit }' "$WORK/events.$1" 2>/dev/null; }
has_event() { [ -n "$(first_event "$1" "$2" "$3")" ]; }
# last_event_before HOST TIME: the kind of HOST's last script run before TIME (none: BACKUP).
last_event_before() {
    awk -v t="$2" '$1 + 0 < t + 0 { k = $2 } END { print (k == "" ? "NONE" : k) }' "$WORK/events.$1" 2>/dev/null || echo NONE
}
event_count() { cat "$WORK"/events.h* 2>/dev/null | wc -l; }

# calc NAME ARG...: one computation of report.py (report.py's CALCULATIONS say which).
calc() { python3 "$ROOT/Benchmarks/report.py" calc "$@"; }
# sub LATER EARLIER: LATER - EARLIER, in seconds to the millisecond.
sub() { calc difference "$1" "$2"; }

# Packet capture on the bridge: every CARP packet, kernel timestamps.
capture_start() {
    rm -f "$WORK/capture.err"
    ip netns exec "$(ns sw)" tcpdump -i br0 -n -U --immediate-mode -Z root -s 128 -w "$WORK/$1.pcap" 'ip proto 112' \
        2> "$WORK/capture.err" &
    TCPDUMP_PID=$!
    wait_until 5 grep -qs "listening on" "$WORK/capture.err" || { echo "tcpdump did not start: $(cat "$WORK/capture.err")" >&2; exit 1; }
}
capture_stop() {
    sleep 0.1
    kill -INT "$TCPDUMP_PID" 2>/dev/null
    wait "$TCPDUMP_PID" 2>/dev/null
    TCPDUMP_PID=""
}
# adverts CAPTURE HOST: HOST's advertisements in the capture, as tcpdump prints them (-tt).
adverts() { tcpdump -r "$WORK/$1.pcap" -n -tt -T carp "src host $(host_address "$2")" 2>/dev/null; }
# last_advert_before CAPTURE HOST TIME: the time of HOST's last advertisement before TIME.
last_advert_before() { adverts "$1" "$2" | calc last-advert-before - "$3"; }
# adverts_between CAPTURE HOST FROM TO: how many.
adverts_between() { adverts "$1" "$2" | calc adverts-between - "$3" "$4"; }

# memory_kb PID: "VmRSS RssAnon capture-ring Pss", in kB; the ring is the Rss of the packet
# socket's mapping (libpcap's kernel ring buffer).
memory_kb() { calc memory "$1"; }
# note TEXT: a line of the run's details, printed and kept in $WORK/details.
note() { printf '  %s\n' "$*" | tee -a "$WORK/details" >&"$OUT"; }
phase() { printf '\n== %s (%ss into the run)\n' "$1" "$(sub "$EPOCHREALTIME" "$STARTED")"; }
# sample MEASURE IMPLEMENTATION VALUE...: one raw sample for report.py.
sample() { echo "$*" >> "$SAMPLES"; }

# takeover_cycle IMPL ADVBASE SKEW1 SKEW2 SIGNAL [OBSERVE]: one takeover. h1 (advskew SKEW1)
# becomes master alone, then h2 (advskew SKEW2) joins as backup, 0-1 s later, and hears it for
# 2-3 s (a random fraction, so that the signal falls anywhere in the interval), or for OBSERVE
# seconds of steady state in which role changes are counted; then SIGNAL goes to h1.
# Prints one line, "OUTCOME SIGNAL-TIME UP-TIME RSS ANON RING SPURIOUS", "-" for what this
# cycle did not measure: OUTCOME is measured (h2 took over: both times are known), flapped
# (h2 was master already when h1 got the signal), failed (h2 did not take over within 8 s) or
# no-master (h1 never became master: nothing was measured). RSS ANON RING are h1's memory
# (memory_kb) just before the signal; SPURIOUS the script runs in the OBSERVE seconds.
takeover_cycle() {
    local impl=$1 advbase=$2 skew1=$3 skew2=$4 signal=$5 observe=${6:-0}
    local t_signal t_up=- kind spurious=- outcome
    daemon h1 h1 "$impl" 7 "$VIP" --advbase="$advbase" --advskew="$skew1" --shutdown
    if ! wait_until 8 has_event h1 UP 0; then
        note "$impl: h1 never became master: nothing measured"
        stop_all
        echo "no-master - - - - - -"
        return
    fi
    # The backup starts at a random point of the master's interval: ucarp's capture delivers
    # packets when its 1 s buffer timer fires, and that timer's phase is set when it opens the
    # capture; starting it always just after the master's first advert would favour it.
    sleep "0.$(printf '%03d' $((RANDOM % 1000)))"
    daemon h2 h2 "$impl" 7 "$VIP" --advbase="$advbase" --advskew="$skew2" --shutdown
    if [ "$observe" -gt 0 ]; then
        sleep 1
        local before after
        before=$(event_count)
        sleep "$observe"
        after=$(event_count)
        spurious=$((after - before))
        note "$impl advbase $advbase: $spurious script runs (role changes) in ${observe} s of steady state"
    else
        sleep "$(( 2 - (advbase == 0) )).$(printf '%03d' $((RANDOM % 1000)))"
    fi
    local rss=- anon=- ring=-
    read -r rss anon ring _ <<< "$(memory_kb "${PID[h1]}" 2>/dev/null)"
    [ -n "$ring" ] || { rss=-; anon=-; ring=-; }
    kind=$(last_event_before h2 "$EPOCHREALTIME")
    t_signal=$EPOCHREALTIME
    kill "-$signal" "${PID[h1]}"
    if [ "$kind" = UP ]; then
        note "$impl $signal: h2 was already master when h1 got the signal (flapping): not counted"
        outcome=flapped
    elif wait_until 8 has_event h2 UP "$t_signal"; then
        t_up=$(first_event h2 UP "$t_signal")
        outcome=measured
    else
        note "$impl $signal: h2 did not take over within 8 s: not counted"
        outcome=failed
    fi
    stop_all
    echo "$outcome $t_signal $t_up $rss $anon $ring $spurious"
}

# crash_times CAPTURE MEASURE: from CAPTURE.runs ("impl run kill-time up-time" lines) and the
# capture, the times from h1's last advertisement to h2's up script, as MEASURE samples.
# The last advertisement is the last one before the up script: one may leave in the instant
# between the time taken and the signal landing.
crash_times() {
    local impl i t_kill t_up last
    [ -s "$WORK/$1.runs" ] || return 0
    while read -r impl i t_kill t_up; do
        last=$(last_advert_before "$1" h1 "$t_up")
        [ -n "$last" ] || { note "$impl run $i: no advert of h1 in the capture"; continue; }
        sample "$2" "$impl" "$(sub "$t_up" "$last")"
        note "$impl run $i: last advert -> up script $(sub "$t_up" "$last") s (kill -> up script $(sub "$t_up" "$t_kill") s, last advert $(sub "$t_kill" "$last") s before the kill)"
    done < "$WORK/$1.runs"
}

