# shellcheck shell=bash
# On the host (issue 23): what the daemon refuses at start-up, and what its scripts inherit.

# The ifupdown hook passes the password as IF_UCARP_PASSWORD: no script may inherit it, nor
# any other variable holding the password; the rest of the environment is passed on.
test_host_scripts_do_not_inherit_the_password() {
    topology_up 1
    cat > "$WORK/up-env" <<SCRIPT
#!/bin/sh
env > "$WORK/up.env"
exec "$WORK/up" "\$@"
SCRIPT
    chmod +x "$WORK/up-env"
    IF_UCARP_PASSWORD=hunter2 COPY_OF_IT=hunter2 KEPT=yes start_carp h1 "$SWIFTCARP" --upscript="$WORK/up-env"
    wait_for 6 owns h1 || fail "h1 did not become master"
    wait_for 3 test -s "$WORK/up.env" || fail "the up script did not run"
    grep -q '^KEPT=yes$' "$WORK/up.env" || fail "the environment was not passed on: $(cat "$WORK/up.env")"
    ! grep -q 'hunter2' "$WORK/up.env" || fail "the password reached the script: $(grep hunter2 "$WORK/up.env")"
    ! grep -q '^IF_UCARP_PASSWORD=' "$WORK/up.env" || fail "IF_UCARP_PASSWORD reached the script"
}

# A FIFO as --passfile once waited for a writer forever: refused at once, exit 1.
test_host_fifo_passfile_is_refused_at_once() {
    WORK=$(mktemp -d "/tmp/swiftcarp-e2e.XXXXXX")
    mkfifo "$WORK/pass"
    timeout 5 "$SWIFTCARP" -s 192.0.2.11 -v 7 -a 192.0.2.100 --passfile="$WORK/pass" > "$WORK/out" 2>&1
    local status=$?
    [ "$status" = 1 ] || fail "exit status $status, expected 1 (124: it hung)"
    grep -qF "cannot read passfile '$WORK/pass': not a regular file (a FIFO)" "$WORK/out" \
        || fail "unexpected message: $(cat "$WORK/out")"
}

# Addresses no virtual address can be: refused with one line, exit 1.
test_host_broadcast_or_own_address_is_refused() {
    local output status
    output=$("$SWIFTCARP" -s 192.0.2.11 -v 7 -p x -a 255.255.255.255 2>&1)
    status=$?
    [ "$status" = 1 ] || fail "255.255.255.255: exit status $status, expected 1"
    grep -qF "it is the broadcast address" <<<"$output" || fail "unexpected message: $output"
    output=$("$SWIFTCARP" -s 192.0.2.11 -v 7 -p x -a 192.0.2.11 2>&1)
    status=$?
    [ "$status" = 1 ] || fail "--addr equal to --srcip: exit status $status, expected 1"
    grep -qF "it is this host's own --srcip" <<<"$output" || fail "unexpected message: $output"
}
