# shellcheck shell=bash
# Reload without moving the address (issue 22), seen by a client: `ucarp --reload` applies a
# changed configuration and re-executes the binary on disk in the same process, and nobody
# notices. h1 (SwiftCARP, preferred, --preempt --shutdown) master, h2 (SwiftCARP) backup, each
# serving long TCP connections and UDP probes (connections.py serve); the client h3 holds 50
# TCP connections to the address, exchanging a line on each about once a second, and sends
# 200 probes a second, while tcpdump on h3 records h1's advertisements. Across each reload:
# no connection broken, no probe lost, the address always on h1 alone, h2 never out of BACKUP,
# no up or down script run, the same pid, and no pause in h1's advertisements as long as one
# and a half of its intervals (a skipped advertisement shows as two intervals; the half
# leaves room for the scheduling of a loaded machine).
#
# `--reload --all` is not used here: it would reach the instances of every other test running
# on this host (the package's upgrade test uses it, in its own root).

RELOAD_CLIENT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/connections.py"
RELOAD_PYTHON=/usr/bin/python3

# reload_write_config HOST SKEW [UP DOWN [OPTIONS]]: $WORK/HOST.conf, HOST's configuration
# file: the test's vhid, password and address, advskew SKEW, the scripts UP and DOWN (default
# the usual ones), --shutdown --preempt and OPTIONS.
reload_write_config() {
    local host=$1 skew=$2 up=${3:-$WORK/up} down=${4:-$WORK/down} options=${5:-}
    cat > "$WORK/$host.conf.tmp" <<EOF
ID="7"
BIND_INTERFACE="eth0"
SOURCE_ADDRESS="$(host_address "$host")"
VIP_ADDRESS="$VIP"
PASSWORD="hunter2"
UPSCRIPT="$up"
DOWNSCRIPT="$down"
OPTIONS="--shutdown --preempt --advskew=$skew $options"
EOF
    chmod 600 "$WORK/$host.conf.tmp"
    mv "$WORK/$host.conf.tmp" "$WORK/$host.conf"
}

# reload_start HOST [options...]: SwiftCARP on HOST with $WORK/HOST.conf and the state file
# $WORK/HOST.state; the binary is $RELOAD_BINARY (default ours).
reload_start() {
    local host=$1
    shift
    run_on "$host" "${RELOAD_BINARY:-$SWIFTCARP}" --config="$WORK/$host.conf" --facility=none \
        --statefile="$WORK/$host.state" "$@"
}

# reload_services: the TCP and UDP service on h1 and h2.
reload_services() {
    run_named serve-h1 h1 "$RELOAD_PYTHON" "$RELOAD_CLIENT" serve h1
    run_named serve-h2 h2 "$RELOAD_PYTHON" "$RELOAD_CLIENT" serve h2
}

# reload_pair [options for h1]: a new three-host topology (or, with RELOAD_TOPOLOGY=no, the
# one already up), the services, h1 (advskew 0) master and h2 (advskew 100) backup.
reload_pair() {
    needs "$RELOAD_PYTHON" tcpdump
    [ "${RELOAD_TOPOLOGY:-yes}" = no ] || topology_up 3
    reload_services
    reload_write_config h1 0 "${RELOAD_UP:-$WORK/up}" "${RELOAD_DOWN:-$WORK/down}" "${RELOAD_OPTIONS:-}"
    reload_write_config h2 100 "${RELOAD_UP:-$WORK/up}" "${RELOAD_DOWN:-$WORK/down}" "${RELOAD_OPTIONS:-}"
    reload_start h1 "$@"
    wait_for 10 owns h1 || fail "h1 did not become master"
    reload_start h2
    wait_for 5 listening h2 || fail "h2 did not start"
    holds_for 1 only_owner h1 || fail "h1 is not the only master (owners: $(owners))"
}

# reload_pid HOST: the pid of HOST's daemon (from its pid file when it has one).
reload_pid() {
    if [ -s "$WORK/$1.pidfile" ]; then cat "$WORK/$1.pidfile"; else pid_of "$1"; fi
}

# reload_sample_owners: until $WORK goes, appends the owners of the address to
# $WORK/owners.samples every 50 ms.
reload_sample_owners() {
    while [ -d "$WORK" ]; do
        owners >> "$WORK/owners.samples" 2>/dev/null || return 0
        sleep 0.05
    done
}

# reload_watch: tcpdump on h3 records h1's advertisements, the client opens its connections,
# and the owners are sampled; two seconds of quiet follow. The state before: RELOAD_PID_H1,
# RELOAD_PID_H2 and RELOAD_SCRIPTS (both hosts' script calls so far).
RELOAD_SAMPLER=""
reload_watch() {
    RELOAD_PID_H1=$(reload_pid h1)
    RELOAD_PID_H2=$(reload_pid h2)
    RELOAD_SCRIPTS="$(script_log h1 | wc -l) $(script_log h2 | wc -l)"
    run_named capture h3 tcpdump -tt -nn -l -T carp -i eth0 "ip proto 112 and src host $(host_address 1)"
    wait_for 5 log_has capture "listening on" || fail "tcpdump did not start: $(log_of capture)"
    run_named client h3 "$RELOAD_PYTHON" "$RELOAD_CLIENT" client "$VIP" --connections 50 --rate 200 \
        --duration 120 --out "$WORK/client.out"
    wait_for 10 log_has client "^connected 50$" || fail "the client could not connect: $(log_of client)"
    : > "$WORK/owners.samples"
    reload_sample_owners &
    RELOAD_SAMPLER=$!
    sleep 2
}

# reload_verdict WHAT: after two more seconds, stops the client, the capture and the sampler,
# and fails unless nothing was seen of WHAT (a reload): no connection broken, no probe lost,
# only h1 answered, h1 alone owned the address at every sample, the scripts ran no more, h2
# never left BACKUP, both kept their pids, and h1's advertisements never paused as long as
# one and a half of its intervals (advbase 1, advskew up to RELOAD_MAX_SKEW, default 0).
reload_verdict() {
    local what=$1 summary gap limit
    sleep 2
    kill -TERM "$(pid_of client)"
    wait_for 10 has_exited client || fail "the client did not finish"
    kill "$RELOAD_SAMPLER" 2>/dev/null
    wait "$RELOAD_SAMPLER" 2>/dev/null
    kill "$(pid_of capture)"
    wait_for 5 has_exited capture
    [ "$(exit_status_of client)" = 0 ] || fail "the client failed: $(log_of client)"
    summary=$(head -n 1 "$WORK/client.out")
    echo "    $what: $summary"
    [[ "$summary" =~ ^connections\ 50\ broken\ 0\ .*\ lost\ 0\ responders\ h1$ ]] \
        || fail "$what: the client saw $(head -n 4 "$WORK/client.out" | tr '\n' ';')"
    ! grep -qvx h1 "$WORK/owners.samples" \
        || fail "$what: the address was not h1's alone: $(grep -vx h1 "$WORK/owners.samples" | sort | uniq -c | tr '\n' ';')"
    [ "$(script_log h1 | wc -l) $(script_log h2 | wc -l)" = "$RELOAD_SCRIPTS" ] \
        || fail "$what: scripts ran: h1 $(script_log h1 | tail -n 2 | tr '\n' ';') h2 $(script_log h2 | tail -n 2 | tr '\n' ';')"
    { [ "$(state_changes h2)" = 1 ] && ! log_has h2 "Switching to state: MASTER"; } \
        || fail "$what: h2 left BACKUP"
    { [ "$(reload_pid h1)" = "$RELOAD_PID_H1" ] && kill -0 "$RELOAD_PID_H1"; } || fail "$what: h1's pid changed or died"
    { [ "$(reload_pid h2)" = "$RELOAD_PID_H2" ] && kill -0 "$RELOAD_PID_H2"; } || fail "$what: h2's pid changed or died"
    gap=$(awk '$1 ~ /^[0-9]+\.[0-9]+$/ && $2 == "IP" { if (last) { g = ($1 - last) * 1000; if (g > max) max = g } last = $1 } END { printf "%d", max }' \
        "$WORK/capture.log")
    limit=$(( (1000 + ${RELOAD_MAX_SKEW:-0} * 1000 / 256) * 3 / 2 ))
    echo "    $what: $(grep -Ec '^[0-9]+\.[0-9]+ IP ' "$WORK/capture.log") advertisements from h1, longest gap $gap ms"
    [ "$gap" -lt "$limit" ] || fail "$what: h1's advertisements paused $gap ms (limit $limit ms)"
}

# reload_ask HOST [identifying options...]: `ucarp --reload` for HOST's instance (by default
# by its --config), from HOST's namespace; its output in $WORK/reload.out, its exit status
# returned.
reload_ask() {
    local host=$1
    shift
    [ $# -gt 0 ] || set -- --config="$WORK/$host.conf"
    ip netns exec "$(ns "$host")" "$SWIFTCARP" --reload "$@" > "$WORK/reload.out" 2>&1
}

# last_advskew: the advskew of the last advertisement of h1 that tcpdump decoded.
reload_last_advskew() { grep -o 'advskew=[0-9]*' "$WORK/capture.log" | tail -n 1 | cut -d= -f2; }

# reload_scripts_v2: up2 and down2, which do what up and down do and log UP2 and DOWN2.
reload_scripts_v2() {
    sed 's/echo "UP /echo "UP2 /' "$WORK/up" > "$WORK/up2"
    sed 's/echo "DOWN /echo "DOWN2 /' "$WORK/down" > "$WORK/down2"
    chmod +x "$WORK/up2" "$WORK/down2"
}

# (a) A changed skew and changed scripts: applied (the advertisements carry the new skew, the
# hand-over at the end runs the new down script), and nothing else seen.
test_reload_changed_skew_and_scripts_break_no_connection() {
    reload_pair
    reload_scripts_v2
    reload_watch
    reload_write_config h1 20 "$WORK/up2" "$WORK/down2"
    reload_ask h1 || fail "--reload exited $?: $(cat "$WORK/reload.out")"
    RELOAD_MAX_SKEW=20 reload_verdict "reload with skew 0 -> 20 and new scripts"
    [ "$(reload_last_advskew)" = 20 ] || fail "h1 still advertises advskew $(reload_last_advskew)"
    kill -TERM "$(pid_of h1)"
    wait_for 10 has_exited h1 || fail "h1 did not leave on TERM"
    last_script_matches h1 '^DOWN2 ' || fail "the old down script ran: $(script_log h1 | tail -n 1)"
}

# (b) The binary file replaced as dpkg replaces it (a new file renamed over the old one: a new
# inode): after the reload the same process runs the new file.
test_reload_runs_the_replaced_binary_in_the_same_process() {
    topology_up 3
    cp "$SWIFTCARP" "$WORK/ucarp"
    RELOAD_TOPOLOGY=no RELOAD_BINARY="$WORK/ucarp" reload_pair
    reload_watch
    local pid old
    pid=$(pid_of h1)
    old=$(stat -L -c %i "/proc/$pid/exe")
    cp "$SWIFTCARP" "$WORK/ucarp.dpkg-new"
    mv "$WORK/ucarp.dpkg-new" "$WORK/ucarp"
    [ "$(stat -c %i "$WORK/ucarp")" != "$old" ] || fail "the copy has the old inode"
    [[ "$(readlink "/proc/$pid/exe")" == *"(deleted)" ]] || fail "h1 does not run the replaced file: $(readlink "/proc/$pid/exe")"
    reload_ask h1 || fail "--reload exited $?: $(cat "$WORK/reload.out")"
    reload_verdict "reload after the binary was replaced"
    { [ "$(readlink "/proc/$pid/exe")" = "$WORK/ucarp" ] && [ "$(stat -L -c %i "/proc/$pid/exe")" = "$(stat -c %i "$WORK/ucarp")" ]; } \
        || fail "h1 (pid $pid) runs $(readlink "/proc/$pid/exe"), not the new $WORK/ucarp"
}

# (c) An invalid configuration, and one that would make it another instance (vhid): refused,
# exit 1, one line naming what is wrong; the instance runs on unchanged.
test_reload_invalid_configuration_is_refused_and_changes_nothing() {
    reload_pair
    reload_watch
    cp "$WORK/h1.conf" "$WORK/h1.conf.good"
    reload_write_config h1 1000
    reload_ask h1
    local status=$?
    [ "$status" = 1 ] || fail "--reload of an invalid file exited $status: $(cat "$WORK/reload.out")"
    grep -Eq -- 'advskew.*1000' "$WORK/reload.out" || fail "the refusal does not name advskew: $(cat "$WORK/reload.out")"
    sed 's/^ID="7"/ID="8"/' "$WORK/h1.conf.good" > "$WORK/h1.conf"
    reload_ask h1
    status=$?
    [ "$status" = 1 ] || fail "--reload with another vhid exited $status: $(cat "$WORK/reload.out")"
    { [ "$(wc -l < "$WORK/reload.out")" = 1 ] && grep -qi 'vhid' "$WORK/reload.out"; } \
        || fail "the refusal is not one line naming the vhid: $(cat "$WORK/reload.out")"
    cp "$WORK/h1.conf.good" "$WORK/h1.conf"
    reload_verdict "two refused reloads"
    [ "$(reload_last_advskew)" = 0 ] || fail "h1 advertises advskew $(reload_last_advskew) after refused reloads"
    # Nothing of that kind runs: exit 2.
    reload_ask h1 --config="$WORK/no-such.conf"
    status=$?
    [ "$status" = 2 ] || fail "--reload of no running instance exited $status: $(cat "$WORK/reload.out")"
}

# (d) The backup reloaded with a changed skew: it stays BACKUP, silent, and the master is not
# disturbed.
test_reload_of_the_backup_keeps_it_backup() {
    reload_pair
    reload_watch
    reload_write_config h2 120
    reload_ask h2 || fail "--reload of h2 exited $?: $(cat "$WORK/reload.out")"
    reload_verdict "reload of the backup"
    holds_for 1 only_owner h1 || fail "the address moved after the backup's reload: $(owners)"
}

# (e) Under the etcd guard: the master keeps its lease across the reload (the same lease on
# the same key), and the backup stays BACKUP.
test_reload_under_etcd_keeps_the_lease() {
    etcd_cluster_up
    # The lease's keep-alive must survive the reload: a TTL of 2 s, as test_etcd.sh's.
    RELOAD_TOPOLOGY=no RELOAD_OPTIONS="--etcd=$(etcd_endpoints) --etcd-ttl=2" reload_pair
    wait_for 3 etcd_holder_is h1 || fail "h1 is master but the key says '$(etcd_holder)'"
    local lease
    lease=$(etcdctl_on h3 get -w fields "/swiftcarp/7/$VIP" | awk '$1 == "\"Lease\"" { print $3 }')
    { [ -n "$lease" ] && [ "$lease" != 0 ]; } || fail "no lease on the key"
    reload_watch
    reload_write_config h1 10 "$WORK/up" "$WORK/down" "--etcd=$(etcd_endpoints) --etcd-ttl=2"
    reload_ask h1 || fail "--reload exited $?: $(cat "$WORK/reload.out")"
    RELOAD_MAX_SKEW=10 reload_verdict "reload under --etcd"
    etcd_holder_is h1 || fail "the key says '$(etcd_holder)' after the reload"
    [ "$(etcdctl_on h3 get -w fields "/swiftcarp/7/$VIP" | awk '$1 == "\"Lease\"" { print $3 }')" = "$lease" ] \
        || fail "the key's lease changed across the reload"
}

# (f) Under --daemonize, found by its pid file, after the binary was replaced: the pid in the
# file (the supervisor's) stays, and its worker runs the new file.
test_reload_under_daemonize_keeps_the_pid() {
    topology_up 3
    cp "$SWIFTCARP" "$WORK/ucarp"
    RELOAD_TOPOLOGY=no RELOAD_BINARY="$WORK/ucarp" reload_pair --daemonize --pidfile="$WORK/h1.pidfile"
    wait_for 5 test -s "$WORK/h1.pidfile" || fail "no pid file"
    reload_watch
    reload_write_config h1 10
    cp "$SWIFTCARP" "$WORK/ucarp.dpkg-new"
    mv "$WORK/ucarp.dpkg-new" "$WORK/ucarp"
    reload_ask h1 --pidfile="$WORK/h1.pidfile" || fail "--reload --pidfile exited $?: $(cat "$WORK/reload.out")"
    RELOAD_MAX_SKEW=10 reload_verdict "reload under --daemonize"
    [ "$(reload_last_advskew)" = 10 ] || fail "h1 still advertises advskew $(reload_last_advskew)"
    # The worker (the ucarp whose parent is the supervisor in the pid file) runs the new file,
    # and so, once the worker told it, does the supervisor: the same pid, the pid file as it was.
    local supervisor
    supervisor=$(cat "$WORK/h1.pidfile")
    [ "$supervisor" = "$RELOAD_PID_H1" ] || fail "the pid file says $supervisor, not $RELOAD_PID_H1"
    reload_both_run_new h1 "$supervisor"
}

# reload_worker_of HOST SUPERVISOR: the pid of the ucarp on HOST whose parent is SUPERVISOR.
reload_worker_of() {
    local pid
    for pid in $(ip netns pids "$(ns "$1")"); do
        [ "$(awk '{ print $4 }' "/proc/$pid/stat" 2>/dev/null)" = "$2" ] \
            && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = ucarp ] && echo "$pid"
    done
}

# reload_has_worker HOST SUPERVISOR: SUPERVISOR has a worker on HOST.
reload_has_worker() { [ -n "$(reload_worker_of "$1" "$2")" ]; }

# reload_runs_new PID FILE: process PID runs FILE, the very inode now at that path.
reload_runs_new() {
    [ "$(readlink "/proc/$1/exe")" = "$2" ] && [ "$(stat -L -c %i "/proc/$1/exe")" = "$(stat -c %i "$2")" ]
}

# reload_both_run_new HOST SUPERVISOR: SUPERVISOR (within 5 s: it follows its worker) and its
# worker on HOST both run the new $WORK/ucarp; sets RELOAD_WORKER to the worker's pid.
reload_both_run_new() {
    wait_for 5 reload_runs_new "$2" "$WORK/ucarp" \
        || fail "the supervisor, pid $2, runs $(readlink "/proc/$2/exe"), not the new $WORK/ucarp"
    RELOAD_WORKER=$(reload_worker_of "$1" "$2")
    [ -n "$RELOAD_WORKER" ] || fail "no worker under the supervisor $2"
    reload_runs_new "$RELOAD_WORKER" "$WORK/ucarp" \
        || fail "the worker, pid $RELOAD_WORKER, runs $(readlink "/proc/$RELOAD_WORKER/exe"), not the new $WORK/ucarp"
}

# After a reload under --daemonize has re-executed the supervisor too, the supervisor still
# does its work: a SIGKILL of the worker hands the address over at once (the leaving
# advertisement), runs the down script and records STOPPED, reason daemon-died; then a worker
# on the new binary starts again and, preferred, takes the address back.
test_reload_under_daemonize_then_worker_killed_is_cleaned_up() {
    topology_up 3
    cp "$SWIFTCARP" "$WORK/ucarp"
    RELOAD_TOPOLOGY=no RELOAD_BINARY="$WORK/ucarp" reload_pair --daemonize --pidfile="$WORK/h1.pidfile"
    wait_for 5 test -s "$WORK/h1.pidfile" || fail "no pid file"
    local supervisor worker scripts
    supervisor=$(cat "$WORK/h1.pidfile")
    cp "$SWIFTCARP" "$WORK/ucarp.dpkg-new"
    mv "$WORK/ucarp.dpkg-new" "$WORK/ucarp"
    reload_ask h1 --pidfile="$WORK/h1.pidfile" || fail "--reload --pidfile exited $?: $(cat "$WORK/reload.out")"
    reload_both_run_new h1 "$supervisor"
    worker=$RELOAD_WORKER
    scripts=$(script_log h1 | wc -l)
    kill -KILL "$worker"
    wait_for 3 only_owner h2 || fail "h2 did not take over from the killed worker (owners: $(owners))"
    wait_for 3 grep -qx "REASON=daemon-died" "$WORK/h1.state" || fail "h1's state file: $(cat "$WORK/h1.state")"
    [ "$(script_log h1 | wc -l)" -gt "$scripts" ] || fail "no down script ran on h1 after the worker died"
    kill -0 "$supervisor" 2>/dev/null || fail "the supervisor, pid $supervisor, is gone"
    wait_for 10 reload_has_worker h1 "$supervisor" || fail "no new worker started"
    wait_for 10 only_owner h1 || fail "the new worker did not take the address back (owners: $(owners))"
    [ "$(cat "$WORK/h1.pidfile")" = "$supervisor" ] || fail "the pid file now says $(cat "$WORK/h1.pidfile")"
}

# --watchdog: the foreground process is the supervisor, and it follows its worker's reload as
# under --daemonize (same pid, the new binary, still logging where it was started); a SIGKILL
# of the worker afterwards still hands the address over.
test_reload_under_watchdog_reexecutes_the_foreground_supervisor() {
    topology_up 2
    cp "$SWIFTCARP" "$WORK/ucarp"
    # Scripts named relative to where it was started: a foreground worker stays there across
    # reloads (a second reload would not find them from /).
    (cd "$WORK" && run_on h1 "$WORK/ucarp" --interface=eth0 --srcip="$(host_address 1)" --vhid=7 --pass=hunter2 \
        --addr="$VIP" --upscript=./up --downscript=./down --facility=none --advskew=0 \
        --statefile="$WORK/h1.state" --watchdog)
    wait_for 5 listening h1 || fail "h1 did not start: $(log_of h1)"
    start_carp h2 "$SWIFTCARP" --advskew=100
    wait_for 10 only_owner h1 || fail "h1 did not become master (owners: $(owners))"
    local supervisor worker
    supervisor=$(pid_of h1)
    cp "$SWIFTCARP" "$WORK/ucarp.new"
    mv "$WORK/ucarp.new" "$WORK/ucarp"
    reload_ask h1 --statefile="$WORK/h1.state" || fail "--reload exited $?: $(cat "$WORK/reload.out")"
    reload_both_run_new h1 "$supervisor"
    wait_for 3 log_has h1 "the supervisor executes $WORK/ucarp" || fail "the foreground log does not say: $(log_of h1)"
    holds_for 1 only_owner h1 || fail "the address moved (owners: $(owners))"
    reload_ask h1 --statefile="$WORK/h1.state" || fail "a second --reload exited $?: $(cat "$WORK/reload.out")"
    reload_both_run_new h1 "$supervisor"
    worker=$RELOAD_WORKER
    [ "$(readlink "/proc/$worker/cwd")" = "$WORK" ] || fail "the worker moved to $(readlink "/proc/$worker/cwd")"
    holds_for 1 only_owner h1 || fail "the address moved (owners: $(owners))"
    kill -KILL "$worker"
    wait_for 3 only_owner h2 || fail "h2 did not take over from the killed worker (owners: $(owners))"
    wait_for 3 log_has h1 "The instance \(pid $worker\) was killed by signal 9 while MASTER" \
        || fail "the re-executed supervisor did not clean up: $(log_of h1)"
    kill -TERM "$supervisor"
    wait_for 3 has_exited h1 || fail "TERM did not end the foreground process"
}

# The worst case: a binary on disk that re-executes the worker but cannot even start as the
# supervisor (here a script that runs the real one for the worker and exits 1 otherwise).
# The supervisor is gone then; the worker hears its pipe close and leaves, handing the
# address over: no address is left without a process that answers for it.
test_reload_under_daemonize_supervisor_that_cannot_start_leaves_no_orphan() {
    topology_up 3
    cp "$SWIFTCARP" "$WORK/ucarp"
    RELOAD_TOPOLOGY=no RELOAD_BINARY="$WORK/ucarp" reload_pair --daemonize --pidfile="$WORK/h1.pidfile"
    wait_for 5 test -s "$WORK/h1.pidfile" || fail "no pid file"
    local supervisor worker
    supervisor=$(cat "$WORK/h1.pidfile")
    worker=$(reload_worker_of h1 "$supervisor")
    cat > "$WORK/ucarp.new" <<SCRIPT
#!/bin/sh
case "\$*" in *--swiftcarp-supervise=*) exit 1 ;; esac
exec "$SWIFTCARP" "\$@"
SCRIPT
    chmod 755 "$WORK/ucarp.new"
    mv "$WORK/ucarp.new" "$WORK/ucarp"
    reload_ask h1 --pidfile="$WORK/h1.pidfile" || fail "--reload --pidfile exited $?: $(cat "$WORK/reload.out")"
    wait_for 5 sh -c "! kill -0 $supervisor 2>/dev/null" || fail "the supervisor, pid $supervisor, still runs"
    wait_for 3 only_owner h2 || fail "h2 did not take over (owners: $(owners))"
    wait_for 3 sh -c "! kill -0 $worker 2>/dev/null" || fail "the worker, pid $worker, outlived its supervisor"
    grep -qx "STATE=STOPPED" "$WORK/h1.state" || fail "h1's state file: $(cat "$WORK/h1.state")"
}
