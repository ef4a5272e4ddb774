# shellcheck shell=bash
# Phase handover: planned hand-overs (TERM with --shutdown) and USR2 step-downs.

run_handover() {
    phase "planned hand-over (TERM with --shutdown) and USR2 step-down ($HANDOVER_RUNS runs each)"
    local i impl signal outcome t_signal t_up rest
    for signal in TERM USR2; do
        for i in $(seq 1 "$HANDOVER_RUNS"); do
            for impl in ours ucarp; do
                read -r outcome t_signal t_up rest <<< "$(takeover_cycle "$impl" 1 0 50 "$signal" 0)"
                [ "$outcome" = measured ] || continue
                sample "$signal" "$impl" "$(sub "$t_up" "$t_signal")"
                note "$impl $signal run $i: signal -> backup's up script $(sub "$t_up" "$t_signal") s"
            done
        done
    done
}
