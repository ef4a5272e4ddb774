# shellcheck shell=bash
# On the host (issue 23): what the daemon refuses at start-up, and what its scripts inherit.

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
