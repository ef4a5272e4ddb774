# shellcheck shell=bash
# Phase takeover: crash takeovers at advbase 1 (kill -9 of the master), and the masters' memory.

run_takeover() {
    phase "crash takeover: advbase 1, master advskew 0, backup advskew 50, kill -9 ($TAKEOVER_RUNS runs each)"
    capture_start takeover
    rm -f "$WORK/takeover.runs"
    local i impl outcome t_signal t_up rss anon ring _
    declare -A RSS=() ANON=() RING=()
    for i in $(seq 1 "$TAKEOVER_RUNS"); do
        for impl in ours ucarp; do
            read -r outcome t_signal t_up rss anon ring _ <<< "$(takeover_cycle "$impl" 1 0 50 KILL 0)"
            [ "$outcome" = measured ] && echo "$impl $i $t_signal $t_up" >> "$WORK/takeover.runs"
            # The memory of this cycle's master, whatever became of the takeover.
            if [ "$rss" != - ]; then
                sample rss "$impl" "$rss"; sample anon "$impl" "$anon"; sample ring "$impl" "$ring"
                RSS[$impl]+=" $rss"; ANON[$impl]+=" $anon"; RING[$impl]+=" $ring"
            fi
        done
    done
    capture_stop
    crash_times takeover crash
    for impl in ours ucarp; do
        note "$impl master memory (kB, per run): VmRSS${RSS[$impl]:-}; RssAnon${ANON[$impl]:-}; capture ring${RING[$impl]:-}"
    done
}
