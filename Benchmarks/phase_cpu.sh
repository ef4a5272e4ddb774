# shellcheck shell=bash
# Phase cpu: the CPU and memory of 40 daemons on each of two hosts, 20 s after their election.

# 40 virtual addresses, one daemon per address and host: vhid v, 198.51.100.v. h1 is preferred
# (advskew 0, the other 100) for the odd vhids, h2 for the even ones: 20 masters on each host.
# masters_settled: polled by wait_until (awk, not python3: see lib.sh).
masters_settled() {
    # Every address has exactly one host whose last script run was UP.
    awk '{ last[FILENAME, $3] = $2; vips[$3] = 1 }
         END { for (v in vips) { n = (last[ARGV[1], v] == "UP") + (last[ARGV[2], v] == "UP"); if (n == 1) ok++ }
               exit !(ok == 40) }' "$WORK/events.h1" "$WORK/events.h2" 2>/dev/null
}
# cpu_ticks: utime + stime of the daemons together, in clock ticks; and their sum_exec_runtime in ns.
cpu_ticks() { calc cpu "${PID[@]}"; }
# role_pids ROLE: the pids of the 40 daemons preferred as MASTER (c1 odd, c2 even) or BACKUP.
role_pids() {
    local v odd
    for v in $(seq 1 40); do
        odd=$(( v % 2 ))
        case $1-$odd in
            master-1 | backup-0) echo "${PID[c1-$v]}" ;;
            *) echo "${PID[c2-$v]}" ;;
        esac
    done
}

run_cpu() {
    phase "CPU: 40 addresses, 40 daemons on each of two hosts, advbase 1, 20 s after the election"
    local impl v hz before after e0 e1 cpu
    hz=$(getconf CLK_TCK)
    if [ -n "${CPU_PERF:-}" ] && ! command -v perf > /dev/null; then
        note "CPU_PERF: perf is not installed (Debian's linux-perf); the phase runs without it"
        CPU_PERF=""
    fi
    for impl in ours ucarp; do
        for v in $(seq 1 40); do
            daemon "c1-$v" h1 "$impl" "$v" "198.51.100.$v" --advskew=$(( v % 2 ? 0 : 100 ))
            daemon "c2-$v" h2 "$impl" "$v" "198.51.100.$v" --advskew=$(( v % 2 ? 100 : 0 ))
        done
        if ! wait_until 20 masters_settled; then
            note "$impl: the 40 elections did not settle within 20 s"
            stop_all
            continue
        fi
        sleep 3
        local masters backups mb bb ma ba
        mapfile -t masters < <(role_pids master)
        mapfile -t backups < <(role_pids backup)
        e0=$(event_count)
        before=$(cpu_ticks)
        mb=$(calc cpu "${masters[@]}")
        bb=$(calc cpu "${backups[@]}")
        if [ -n "${CPU_PERF:-}" ]; then
            # Where the time goes, kernel or user space, by role: cpu-clock samples every 50 µs.
            local role list recorders=()
            for role in master backup; do
                [ $role = master ] && list=$(IFS=,; echo "${masters[*]}") || list=$(IFS=,; echo "${backups[*]}")
                perf record -q -e cpu-clock -c 50000 -p "$list" -o "${CPU_PERF_DIR:-$WORK}/perf-$impl-$role.data" -- sleep 20 \
                    > /dev/null 2>&1 &
                recorders+=($!)
            done
        fi
        sleep 20
        [ -n "${CPU_PERF:-}" ] && wait "${recorders[@]}"
        after=$(cpu_ticks)
        ma=$(calc cpu "${masters[@]}")
        ba=$(calc cpu "${backups[@]}")
        e1=$(event_count)
        cpu=$(calc cpu-used "$before" "$after" "$hz")
        mb=$(calc cpu-used "$mb" "$ma" "$hz")
        bb=$(calc cpu-used "$bb" "$ba" "$hz")
        sample cpu-master "$impl" "${mb#* }"
        sample cpu-backup "$impl" "${bb#* }"
        note "$impl: of the sum_exec_runtime, the 40 masters ${mb#* } s, the 40 backups ${bb#* } s"
        if [ -n "${CPU_PERF:-}" ]; then
            for role in master backup; do
                note "$impl: ${role}s' samples by object: $(perf report -i "${CPU_PERF_DIR:-$WORK}/perf-$impl-$role.data" --stdio --sort dso --show-nr-samples 2>/dev/null |
                    awk '/^ +[0-9.]+%/ { printf "%s %s (%s); ", $3, $2, $1 }')"
            done
        fi
        sample cpu "$impl" "$cpu"
        note "$impl: 80 daemons used ${cpu% *} s of CPU (utime+stime) in 20 s; sum_exec_runtime ${cpu#* } s; $((e1 - e0)) script runs meanwhile"
        local pss_sum rss_mib pss_mib _
        read -r _ pss_sum rss_mib pss_mib <<< "$(calc memory-total "${PID[@]}")"
        sample pss "$impl" "$pss_sum"
        note "$impl: the 80 daemons together: VmRSS $rss_mib MiB, Pss $pss_mib MiB"
        stop_all
    done
}
