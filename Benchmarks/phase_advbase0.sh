# shellcheck shell=bash
# Phase advbase0: sub-second adverts: the steady state's spurious role changes, then crash
# takeovers.

run_advbase0() {
    phase "advbase 0: master advskew 26, backup advskew 40; 15 s of steady state, then kill -9 (3 runs each)"
    rm -f "$WORK/advbase0.runs"
    capture_start advbase0
    local i impl outcome t_signal t_up spurious _
    declare -A MEASURED=([ours]=0 [ucarp]=0)
    # A run in which the backup was already master (ucarp flaps) is repeated, up to 6 attempts.
    for i in 1 2 3 4 5 6; do
        for impl in ours ucarp; do
            [ "${MEASURED[$impl]}" -lt 3 ] || continue
            read -r outcome t_signal t_up _ _ _ spurious \
                <<< "$(takeover_cycle "$impl" 0 26 40 KILL "$([ "$i" = 1 ] && echo 15 || echo 0)")"
            [ "$spurious" != - ] && sample spurious "$impl" "$spurious"
            sample attempt0 "$impl" "$outcome"
            if [ "$outcome" = measured ]; then
                echo "$impl $i $t_signal $t_up" >> "$WORK/advbase0.runs"
                MEASURED[$impl]=$(( MEASURED[$impl] + 1 ))
            fi
        done
    done
    capture_stop
    crash_times advbase0 crash0
    return 0
}
