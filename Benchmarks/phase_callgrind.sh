# shellcheck shell=bash
# Phase callgrind: instructions per advertisement sent and received, under valgrind.

# callgrind: total instructions (Ir) of one daemon run for two durations; the difference divided
# by the difference in advertisements sent (or received) is the cost of one, start-up and exit
# cancelling out. Advertisements are counted on the wire.
# callgrind_run IMPL send|receive SECONDS: the sample "callgrind IMPL ROLE SECONDS IR ADVERTS
# ELAPSED" (IR 0 when callgrind wrote no profile).
callgrind_run() {
    local impl=$1 role=$2 seconds=$3 t0 t1 ir count pid
    capture_start "cg-$role-$seconds"
    if [ "$role" = receive ]; then
        # A native master of the same implementation advertises ~25 times a second; the backup
        # under valgrind uses advbase 1 (master-down 3.4 s), so that valgrind's slowness
        # cannot make it take over.
        daemon m h1 "$impl" 7 "$VIP" --advbase=0 --advskew=10
        wait_until 5 has_event h1 UP 0 || note "$impl: the native master did not start"
        sleep 0.3
        WRAP=(valgrind --tool=callgrind -q "--callgrind-out-file=$WORK/cg.%p")
        t0=$EPOCHREALTIME
        daemon cg h2 "$impl" 7 "$VIP" --advbase=1 --advskew=100 --shutdown
    else
        WRAP=(valgrind --tool=callgrind -q "--callgrind-out-file=$WORK/cg.%p")
        t0=$EPOCHREALTIME
        daemon cg h1 "$impl" 7 "$VIP" --advbase=0 --advskew=10 --shutdown
    fi
    # shellcheck disable=SC2034 # SCRIPTS and WRAP are daemon's (lib.sh)
    WRAP=()
    pid=${PID[cg]}
    sleep "$seconds"
    kill -TERM "$pid"
    gone "$pid" 10 || note "$impl: the daemon under valgrind did not exit within 10 s of TERM"
    t1=$EPOCHREALTIME
    # The advertisements of h1: sent by the daemon under valgrind, or received by it.
    count=$(adverts_between "cg-$role-$seconds" h1 "$t0" "$t1")
    [ "$role" = receive ] && has_event h2 UP 0 && note "$impl: the backup under valgrind took over (timing missed)"
    capture_stop
    ir=$(calc callgrind-total "$WORK/cg.$pid" 2>/dev/null)
    sample callgrind "$impl" "$role" "$seconds" "${ir:-0}" "$count" "$(sub "$t1" "$t0")"
    note "$impl $role: ${seconds}s run: ${ir:-0} Ir, $count adverts in $(sub "$t1" "$t0") s"
    [ -n "${KEEP_WORK:-}" ] && cp "$WORK/cg.$pid" "$WORK/callgrind.$impl.$role.$seconds"
    stop_all
}

run_callgrind() {
    phase "callgrind: instructions per advertisement (advbase 0, advskew 10: ~25 a second)"
    # report.py: the difference in instructions over the difference in adverts of the two runs.
    local impl role
    for impl in ours ucarp; do
        for role in send receive; do
            callgrind_run "$impl" "$role" 4
            callgrind_run "$impl" "$role" 12
            # The rate between the two runs (the last two samples), to check the setting.
            note "$impl $role: $(calc advert-rate "$SAMPLES") adverts/s between the runs (expected 25.6/s)"
        done
    done
}
