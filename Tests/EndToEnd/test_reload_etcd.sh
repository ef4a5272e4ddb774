# shellcheck shell=bash
# A reload that changes the etcd settings (issue 22's last point), seen by the same client as
# test_reload.sh's: h1 (master) and h2 (backup) under --etcd on the three-member cluster of
# test_etcd.sh, and a second cluster (one member on h3, ports 2479 and 2480). A master
# reloaded onto the second cluster takes the key there first, its old lease renewed until the
# re-execution and then left to lapse: the address stays, nothing is broken, the key ends in
# the second cluster alone (within the TTL). A second cluster where another host holds the key
# refuses the reload, naming the holder, and nothing changes. A backup reloaded onto the second
# cluster just takes the new settings. A binary that cannot be executed after the key was
# taken leaves the master with its old lease, the new one revoked.

# second_etcd_url: the client URL of the second cluster's member.
second_etcd_url() { echo "http://$(host_address 3):2479"; }

# second_etcd_up: the second cluster, once it takes writes.
second_etcd_up() {
    run_named etcd-second h3 etcd --name second --data-dir "$WORK/etcd-second" \
        --listen-client-urls "$(second_etcd_url)" --advertise-client-urls "$(second_etcd_url)" \
        --listen-peer-urls "http://$(host_address 3):2480" \
        --initial-advertise-peer-urls "http://$(host_address 3):2480" \
        --initial-cluster "second=http://$(host_address 3):2480" --initial-cluster-state new \
        --initial-cluster-token "$NS_PREFIX-second"
    wait_for 20 second_etcdctl put /swiftcarp-test/probe second \
        || fail "the second etcd takes no writes: $(log_of etcd-second | tail -n 5)"
}

# second_etcdctl ARGS...: etcdctl on the second cluster (quiet).
second_etcdctl() {
    ip netns exec "$(ns h3)" env ETCDCTL_API=3 etcdctl --endpoints="$(second_etcd_url)" \
        --dial-timeout=1s --command-timeout=2s "$@" > /dev/null 2>&1
}

# second_etcd_holder: the key's value in the second cluster, empty when free.
second_etcd_holder() {
    ip netns exec "$(ns h3)" env ETCDCTL_API=3 etcdctl --endpoints="$(second_etcd_url)" \
        --dial-timeout=1s --command-timeout=2s get --print-value-only "/swiftcarp/7/$VIP" 2>/dev/null
}

# second_etcd_key_free: nobody holds the key in the second cluster.
second_etcd_key_free() { [ -z "$(second_etcd_holder)" ]; }

# second_etcd_holder_is HOST: the second cluster's key names HOST's address.
second_etcd_holder_is() { second_etcd_holder | grep -qF "$(host_address "$1")"; }

# etcd_lease_of_key: the lease bound to the key in the first cluster.
etcd_lease_of_key() {
    etcdctl_on h3 get -w fields "/swiftcarp/7/$VIP" | awk '$1 == "\"Lease\"" { print $3 }'
}

# reload_etcd_pair: both clusters, then the pair under --etcd on the first (TTL 2 s).
reload_etcd_pair() {
    etcd_cluster_up
    second_etcd_up
    RELOAD_TOPOLOGY=no RELOAD_OPTIONS="--etcd=$(etcd_endpoints) --etcd-ttl=2" reload_pair
    wait_for 3 etcd_holder_is h1 || fail "h1 is master but the key says '$(etcd_holder)'"
}

test_reload_etcd_master_moves_onto_another_cluster() {
    reload_etcd_pair
    reload_watch
    reload_write_config h1 0 "$WORK/up" "$WORK/down" "--etcd=$(second_etcd_url) --etcd-ttl=2"
    reload_ask h1 || fail "--reload exited $?: $(cat "$WORK/reload.out")"
    reload_verdict "reload onto another etcd cluster"
    second_etcd_holder_is h1 || fail "the second cluster's key says '$(second_etcd_holder)'"
    # The old lease, no longer renewed, lapses within its TTL (2 s).
    wait_for 4 etcd_key_free || fail "the first cluster's key is still held: '$(etcd_holder)'"
    log_has h1 "taken at the new endpoints" || fail "h1 did not say it took the key: $(log_of h1 | tail -n 5)"
    # Still renewed there by the new process: held after several TTLs.
    holds_for 5 second_etcd_holder_is h1 || fail "the new lease was not renewed: '$(second_etcd_holder)'"
}

test_reload_etcd_onto_a_key_held_elsewhere_is_refused() {
    reload_etcd_pair
    local lease
    lease=$(etcd_lease_of_key)
    second_etcdctl put "/swiftcarp/7/$VIP" "192.0.2.99 intruder" || fail "cannot put the key in the second cluster"
    reload_watch
    cp "$WORK/h1.conf" "$WORK/h1.conf.good"
    reload_write_config h1 0 "$WORK/up" "$WORK/down" "--etcd=$(second_etcd_url) --etcd-ttl=2"
    reload_ask h1
    local status=$?
    [ "$status" = 1 ] || fail "--reload onto a key held elsewhere exited $status: $(cat "$WORK/reload.out")"
    { [ "$(wc -l < "$WORK/reload.out")" = 1 ] && grep -q 'held by 192.0.2.99 intruder' "$WORK/reload.out"; } \
        || fail "the refusal is not one line naming the holder: $(cat "$WORK/reload.out")"
    cp "$WORK/h1.conf.good" "$WORK/h1.conf"
    reload_verdict "a refused reload onto another etcd cluster"
    etcd_holder_is h1 || fail "the first cluster's key says '$(etcd_holder)'"
    [ "$(etcd_lease_of_key)" = "$lease" ] || fail "the first cluster's lease changed"
    [ "$(second_etcd_holder)" = "192.0.2.99 intruder" ] || fail "the second cluster's key says '$(second_etcd_holder)'"
}

test_reload_etcd_backup_takes_new_endpoints() {
    reload_etcd_pair
    reload_watch
    reload_write_config h2 100 "$WORK/up" "$WORK/down" "--etcd=$(second_etcd_url) --etcd-ttl=2"
    reload_ask h2 || fail "--reload of h2 exited $?: $(cat "$WORK/reload.out")"
    reload_verdict "reload of the backup onto another etcd cluster"
    etcd_holder_is h1 || fail "the first cluster's key says '$(etcd_holder)'"
    [ -z "$(second_etcd_holder)" ] || fail "the backup took the key in the second cluster: '$(second_etcd_holder)'"
    log_has h2 "nothing to hand over" || fail "h2 did not say it took the settings: $(log_of h2 | tail -n 5)"
}

test_reload_etcd_added_to_a_master_takes_the_key_first() {
    etcd_cluster_up
    RELOAD_TOPOLOGY=no reload_pair
    reload_watch
    reload_write_config h1 0 "$WORK/up" "$WORK/down" "--etcd=$(etcd_endpoints) --etcd-ttl=2"
    reload_ask h1 || fail "--reload exited $?: $(cat "$WORK/reload.out")"
    reload_verdict "reload adding --etcd to the master"
    etcd_holder_is h1 || fail "the key says '$(etcd_holder)' after --etcd was added"
    holds_for 5 etcd_holder_is h1 || fail "the lease was not renewed: '$(etcd_holder)'"
}

test_reload_etcd_removed_from_a_master_frees_the_key() {
    reload_etcd_pair
    reload_watch
    reload_write_config h1 0 "$WORK/up" "$WORK/down"
    reload_ask h1 || fail "--reload exited $?: $(cat "$WORK/reload.out")"
    reload_verdict "reload removing --etcd from the master"
    wait_for 4 etcd_key_free || fail "the key is still held: '$(etcd_holder)'"
}

# The key taken in the second cluster, then execve fails (the binary on disk replaced by a
# file that is not executable): the new lease is revoked, and the master carries on with the
# old settings and its old lease, renewed as before; nothing moved.
test_reload_etcd_failed_execution_keeps_the_old_lease() {
    etcd_cluster_up
    second_etcd_up
    cp "$SWIFTCARP" "$WORK/ucarp"
    RELOAD_TOPOLOGY=no RELOAD_BINARY="$WORK/ucarp" RELOAD_OPTIONS="--etcd=$(etcd_endpoints) --etcd-ttl=2" reload_pair
    wait_for 3 etcd_holder_is h1 || fail "h1 is master but the key says '$(etcd_holder)'"
    local lease
    lease=$(etcd_lease_of_key)
    reload_watch
    echo "not a program" > "$WORK/ucarp.new" && chmod 644 "$WORK/ucarp.new"
    mv "$WORK/ucarp.new" "$WORK/ucarp"
    reload_write_config h1 0 "$WORK/up" "$WORK/down" "--etcd=$(second_etcd_url) --etcd-ttl=2"
    reload_ask h1
    local status=$?
    [ "$status" = 1 ] || fail "--reload with a binary that cannot run exited $status: $(cat "$WORK/reload.out")"
    grep -q "failed: cannot execute $WORK/ucarp" "$WORK/reload.out" \
        || fail "the failure does not name the binary: $(cat "$WORK/reload.out")"
    log_has h1 "taken at the new endpoints" || fail "h1 did not take the key there first: $(log_of h1 | tail -n 5)"
    reload_verdict "a failed execution after the etcd move"
    etcd_holder_is h1 || fail "the first cluster's key says '$(etcd_holder)'"
    [ "$(etcd_lease_of_key)" = "$lease" ] || fail "the first cluster's lease changed: $lease -> $(etcd_lease_of_key)"
    wait_for 3 second_etcd_key_free || fail "the new lease was not revoked: the second cluster's key says '$(second_etcd_holder)'"
    log_has h1 "carrying on with lease $lease" || fail "h1 did not say it kept its lease: $(log_of h1 | tail -n 5)"
    # Still renewed by the same process: held after several TTLs, h1 still the only master.
    holds_for 5 etcd_holder_is h1 || fail "the old lease was not renewed: '$(etcd_holder)'"
    only_owner h1 || fail "h1 is not the only master (owners: $(owners))"
}

# The same cluster by other endpoints (a member dropped from the list): the lease is kept.
test_reload_etcd_same_cluster_by_other_endpoints_keeps_the_lease() {
    reload_etcd_pair
    local lease
    lease=$(etcd_lease_of_key)
    reload_watch
    reload_write_config h1 0 "$WORK/up" "$WORK/down" "--etcd=$(etcd_url 2),$(etcd_url 3) --etcd-ttl=2"
    reload_ask h1 || fail "--reload exited $?: $(cat "$WORK/reload.out")"
    reload_verdict "reload onto other endpoints of the same cluster"
    etcd_holder_is h1 || fail "the key says '$(etcd_holder)'"
    [ "$(etcd_lease_of_key)" = "$lease" ] || fail "the lease changed: $lease -> $(etcd_lease_of_key)"
    log_has h1 "keeping it" || fail "h1 did not say it kept its lease: $(log_of h1 | tail -n 5)"
    holds_for 5 etcd_holder_is h1 || fail "the lease was not renewed: '$(etcd_holder)'"
}
