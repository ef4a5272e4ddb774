# shellcheck shell=bash
# `make install` and `make uninstall` into a staging directory, the man pages, the systemd units.
# The install test builds the release binary (minutes the first time; incremental afterwards).

INSTALL_SOURCE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# fail_install MESSAGE: fail, with the end of the make output.
fail_install() {
    {
        echo "    FAILED: $*"
        [ -s "$WORK/make.log" ] && tail -n 20 "$WORK/make.log" | sed 's/^/    | /'
    } >&"$E2E_OUTPUT"
    end_test failed
}

# installed_files: the files and links under the staging directory, relative to it.
installed_files() { (cd "$WORK/root" && find . ! -type d | sed 's|^\./||' | sort); }

test_install_and_uninstall_into_destdir() {
    needs file readelf
    WORK=$(mktemp -d "/tmp/swiftcarp-e2e.XXXXXX")
    local root="$WORK/root" units="$WORK/root/usr/lib/systemd/system"
    make -C "$INSTALL_SOURCE" --no-print-directory install DESTDIR="$root" PREFIX=/usr > "$WORK/make.log" 2>&1 \
        || fail_install "make install failed"

    "$root/usr/sbin/ucarp" --version | grep -q "^ucarp (SwiftCARP)" || fail_install "the binary does not run"
    file -L "$root/usr/sbin/ucarp" | grep -q ", stripped" || fail_install "not stripped: $(file "$root/usr/sbin/ucarp")"
    ldd "$root/usr/sbin/ucarp" > "$WORK/ldd" 2>&1 || fail_install "ldd failed: $(cat "$WORK/ldd")"
    ! grep -q "libswift\|libFoundation\|libdispatch" "$WORK/ldd" \
        || fail_install "the Swift runtime is linked dynamically: $(cat "$WORK/ldd")"
    grep -q "libpcap" "$WORK/ldd" || fail_install "no libpcap in: $(cat "$WORK/ldd")"
    # What the binary itself asks for (ldd adds libpcap's own dependencies): glibc and libpcap.
    local needed
    needed=$(readelf -d "$root/usr/sbin/ucarp" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' \
        | grep -v '^libpcap\.so\|^libc\.so\.6$\|^libm\.so\.6$\|^ld-linux' || true)
    [ -z "$needed" ] || fail_install "needs more than glibc and libpcap: $needed"
    echo "    ldd: $(awk '{print $1}' "$WORK/ldd" | tr '\n' ' ')"

    local expected="etc/ucarp/vip-001.conf.example
etc/ucarp/vip-common.conf
etc/ucarp/vip-down
etc/ucarp/vip-up
usr/lib/systemd/system/ucarp.target
usr/lib/systemd/system/ucarp@.service
usr/libexec/ucarp/ucarp-aws
usr/libexec/ucarp/ucarp-hetzner
usr/sbin/ucarp
usr/share/man/man5/ucarp.conf.5
usr/share/man/man8/ucarp.8"
    # In the order of installed_files' sort, whatever the locale.
    expected=$(sort <<< "$expected")
    [ "$(installed_files)" = "$expected" ] || fail_install "installed: $(installed_files | tr '\n' ' ')"
    { [ -x "$root/usr/libexec/ucarp/ucarp-aws" ] && [ -x "$root/usr/libexec/ucarp/ucarp-hetzner" ]; } \
        || fail_install "the cloud companions are not executable"
    { [ -x "$root/etc/ucarp/vip-up" ] && [ -x "$root/etc/ucarp/vip-down" ]; } || fail_install "scripts not executable"
    # Passwords live there: the directory and the configuration files are root's alone.
    [ "$(stat -c %a "$root/etc/ucarp" "$root/etc/ucarp/vip-common.conf" "$root/etc/ucarp/vip-001.conf.example")" \
        = "$(printf '700\n600\n600')" ] || fail_install "modes: $(stat -c '%a %n' "$root"/etc/ucarp "$root"/etc/ucarp/*)"
    grep -qx 'ExecStart=/usr/sbin/ucarp --config=/etc/ucarp/vip-%i.conf --shutdown --statefile=/run/ucarp/%i/state' "$units/ucarp@.service" \
        || fail_install "ExecStart: $(grep ExecStart "$units/ucarp@.service")"

    # An operator's vip-common.conf survives a second install and an uninstall.
    echo 'SOURCE_ADDRESS="10.1.1.1"' >> "$root/etc/ucarp/vip-common.conf"
    make -C "$INSTALL_SOURCE" --no-print-directory install DESTDIR="$root" PREFIX=/usr > "$WORK/make.log" 2>&1 \
        || fail_install "second make install failed"
    grep -q '^SOURCE_ADDRESS="10.1.1.1"$' "$root/etc/ucarp/vip-common.conf" \
        || fail_install "make install overwrote vip-common.conf"

    make -C "$INSTALL_SOURCE" --no-print-directory uninstall DESTDIR="$root" PREFIX=/usr > "$WORK/make.log" 2>&1 \
        || fail_install "make uninstall failed"
    [ "$(installed_files)" = "etc/ucarp/vip-common.conf" ] \
        || fail_install "left after uninstall: $(installed_files | tr '\n' ' ')"
    # Unchanged, it goes too, and /etc/ucarp with it.
    cp "$INSTALL_SOURCE/etc/ucarp/vip-common.conf" "$root/etc/ucarp/vip-common.conf"
    make -C "$INSTALL_SOURCE" --no-print-directory uninstall DESTDIR="$root" PREFIX=/usr > "$WORK/make.log" 2>&1 \
        || fail_install "second make uninstall failed"
    { [ -z "$(installed_files)" ] && [ ! -e "$root/etc/ucarp" ]; } \
        || fail_install "left after uninstall: $(installed_files | tr '\n' ' ')"
}

test_install_man_pages_render_without_warnings() {
    command -v man > /dev/null || skip "no man"
    WORK=$(mktemp -d "/tmp/swiftcarp-e2e.XXXXXX")
    local page
    for page in man/ucarp.8 man/ucarp.conf.5; do
        MANWIDTH=80 man --warnings -l "$INSTALL_SOURCE/$page" > /dev/null 2> "$WORK/warnings" \
            || fail_install "man failed on $page: $(cat "$WORK/warnings")"
        [ ! -s "$WORK/warnings" ] || fail_install "$page: $(cat "$WORK/warnings")"
    done
}

test_install_systemd_units_verify() {
    command -v systemd-analyze > /dev/null || skip "no systemd-analyze"
    WORK=$(mktemp -d "/tmp/swiftcarp-e2e.XXXXXX")
    # An instance as systemctl would load it; ExecStart names /usr/sbin/ucarp, which the tests
    # need anyway (Debian's ucarp, the reference).
    cp "$INSTALL_SOURCE/etc/systemd/ucarp@.service" "$WORK/ucarp@001.service"
    cp "$INSTALL_SOURCE/etc/systemd/ucarp.target" "$WORK/"
    systemd-analyze verify --man=no "$WORK/ucarp@001.service" "$WORK/ucarp.target" > "$WORK/verify" 2>&1 \
        || fail_install "systemd-analyze verify: $(cat "$WORK/verify")"
    [ ! -s "$WORK/verify" ] || fail_install "systemd-analyze verify: $(cat "$WORK/verify")"
}

# The release binary (lld, symbol ordering, static libstdc++: Makefile) against Debian's ucarp,
# in both directions: the end-to-end tests otherwise run the debug build.
# release_binary: builds it and prints its path; fails the test, with the end of the build's
# output, when the build fails.
release_binary() {
    make -C "$INSTALL_SOURCE" --no-print-directory release > /tmp/swiftcarp-release.log 2>&1 \
        || { tail -n 20 /tmp/swiftcarp-release.log | sed 's/^/    | /' >&"$E2E_OUTPUT"; fail "make release"; }
    echo "$INSTALL_SOURCE/.build/release/ucarp.stripped"
}

test_install_release_binary_is_taken_over_by_ucarp() {
    local binary
    binary=$(release_binary)
    failover_between "$binary" "$REFERENCE_UCARP"
}

test_install_release_binary_takes_over_from_ucarp() {
    local binary
    binary=$(release_binary)
    failover_between "$REFERENCE_UCARP" "$binary"
}
