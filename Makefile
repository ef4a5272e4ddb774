# SwiftCARP: `make demo`, `make test` and `make install` work on a fresh Debian machine as root
# with the Swift toolchain; they install the Debian packages they need first.

SWIFT ?= swift
STRIP ?= strip
# g++ brings libstdc++.a, which the release binary links statically.
DEBIAN_PACKAGES = libpcap-dev pkg-config g++ iproute2 ucarp tcpdump nftables faketime procps binutils file man-db keepalived python3 python3-prometheus-client iputils-ping
# The etcd guard: libcurl's headers for its HTTP client (the EtcdHTTP target, built with the
# package), Debian's etcd 3.4 for the tests that run one (make etcd-test), openssl for their
# certificates. Installing etcd-server enables its unit: where systemd runs, an etcd listens on
# 127.0.0.1:2379 afterwards; the tests use ports of their own.
ETCD_PACKAGES = libcurl4-openssl-dev etcd-server etcd-client openssl

# `make install` (DESTDIR honoured). The configuration stays in /etc/ucarp whatever PREFIX is;
# the systemd units go to $(PREFIX)/lib/systemd/system: with PREFIX=/usr that is
# /usr/lib/systemd/system, Debian's place for packaged units (the same directory as
# /lib/systemd/system, /usr being merged); systemd also reads /usr/local/lib/systemd/system.
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
CONFDIR ?= /etc/ucarp
UNITDIR ?= $(PREFIX)/lib/systemd/system
# The cloud companions (cloud/ucarp-aws, cloud/ucarp-hetzner): $(LIBEXECDIR)/ucarp.
LIBEXECDIR ?= $(PREFIX)/libexec
RELEASE_BINARY = .build/release/ucarp

.PHONY: chaos chaos-smoke
.PHONY: all build deps test unit-test e2e-test e2e-full etcd-test demo clean release install uninstall bench symbol-order sanitize fuzz fuzz-smoke shellcheck lint cloud-test

all: build

# $(call install_missing,PACKAGES): apt-get install those of PACKAGES that are not installed.
define install_missing
	@missing=""; for package in $(1); do \
		dpkg -s $$package >/dev/null 2>&1 || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

deps:
	$(call install_missing,$(DEBIAN_PACKAGES) $(ETCD_PACKAGES))

build: deps
	$(SWIFT) build

unit-test: deps
	$(SWIFT) build --build-tests
	timeout 900 $(SWIFT) test --skip-build
	python3 -B -m unittest discover -s Benchmarks -p 'test_*.py'

# The end-to-end tests but those in Tests/EndToEnd/slow (what each of those proves is covered more
# cheaply elsewhere, the file says where); e2e-full runs them all (about 3 minutes more).
e2e-test: build
	Tests/EndToEnd/run

e2e-full: build
	Tests/EndToEnd/run --all

# The etcd guard's HTTP client and lease logic against real etcd members on loopback, started
# by the tests (EtcdLiveTests; skipped, visibly, by unit-test, which needs no etcd). Seconds.
etcd-test: deps
	$(SWIFT) build --build-tests
	SWIFTCARP_ETCD_TESTS=1 $(SWIFT) test --skip-build --filter EtcdLiveTests

# The cloud companions against their providers' APIs on a network namespace's loopback
# (Tests/Cloud/run): AWS against moto's EC2 server with the AWS CLI, Hetzner Cloud against a
# recording fake of its API (no emulator exists). moto[server] and awscli are installed with pip
# in a virtual environment, .build/cloud-venv, unless aws and moto_server are on PATH already.
# With a SwiftCARP binary in .build (debug, else release), also a failover of the daemon itself;
# skipped, visibly, without one. 2.5 to 4 minutes on two busy cores, most of it the AWS CLI
# starting (about 1 s a call): not part of `make test`.
CLOUD_PACKAGES = jq curl iproute2 python3-venv shellcheck
CLOUD_VENV = .build/cloud-venv
cloud-test:
	$(call install_missing,$(CLOUD_PACKAGES))
	@if [ ! -x $(CLOUD_VENV)/bin/moto_server ] && \
		! { command -v aws && command -v moto_server && python3 -c 'import moto.server'; } >/dev/null 2>&1; then \
		echo "installing moto[server] and awscli in $(CLOUD_VENV)"; \
		python3 -m venv $(CLOUD_VENV) && $(CLOUD_VENV)/bin/pip install -q 'moto[server]' awscli; \
	fi
	PATH="$(CURDIR)/$(CLOUD_VENV)/bin:$$PATH" Tests/Cloud/run


# `make chaos` (issue 27's fault campaign, Tests/Chaos): three hosts and a client in network
# namespaces, a seeded random schedule of faults for CHAOS_SECONDS (the seed and the schedule are
# printed; CHAOS_SEED=N replays one), run against each of CHAOS_IMPLS (swiftcarp: under
# --daemonize; swiftcarp-fg: in the foreground; swiftcarp-watchdog: in the foreground with
# --watchdog; swiftcarp-etcd: with the etcd guard, three
# members of Debian's etcd; Debian's ucarp and keepalived), then the
# checker's invariants and figures (Tests/Chaos/checker.py). Fails if an invariant broke. Its
# runs are kept in .build/chaos/IMPL-seedN (history.json: `Tests/Chaos/checker.py FILE` checks
# one again). Not part of `make test`; chaos-smoke, the short one (SwiftCARP, 45 s), is.
CHAOS_PACKAGES = ucarp keepalived nftables iproute2 faketime python3 etcd-server etcd-client
CHAOS_SECONDS ?= 120
CHAOS_SEED ?=
CHAOS_IMPLS ?= swiftcarp,ucarp,keepalived
chaos: build
	$(call install_missing,$(CHAOS_PACKAGES))
	python3 -B -m unittest discover -s Tests/Chaos -p 'test_*.py'
	CHAOS_SEED=$(CHAOS_SEED) python3 -B Tests/Chaos/chaos.py --impl $(CHAOS_IMPLS) --seconds $(CHAOS_SECONDS)

CHAOS_SMOKE_SEED ?= 7
chaos-smoke: build
	$(call install_missing,$(CHAOS_PACKAGES))
	python3 -B -m unittest discover -s Tests/Chaos -p 'test_*.py'
	CHAOS_SEED=$(CHAOS_SMOKE_SEED) python3 -B Tests/Chaos/chaos.py --impl swiftcarp --seconds 45

# shellcheck (Debian's) over every shell script: those with a #! line and the files the
# end-to-end tests and the benchmarks source. -x follows the `source` lines that name their file
# (a `# shellcheck source=` directive); the test files, sourced in a loop, are checked on their
# own. A finding that is intended is disabled on its line, with the reason. Seconds.
SHELLCHECK_PACKAGES = shellcheck
SHELL_SCRIPTS = .ci/run etc/demo.sh etc/ucarp/vip-up etc/ucarp/vip-down \
	Tests/EndToEnd/run $(wildcard Tests/EndToEnd/*.sh) Tests/Fuzz/run Tests/Fuzz/make-seeds \
	Tests/Package/run Tests/Sanitizers/run \
	Benchmarks/run $(wildcard Benchmarks/*.sh) Benchmarks/profile-symbol-order \
	packaging/deb/build packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm \
	packaging/deb/if-up.d/ucarp packaging/deb/share/vip-up packaging/deb/share/vip-down \
	cloud/ucarp-aws cloud/ucarp-hetzner Tests/Cloud/run Tests/Lint/pure-targets Tests/Package/rpm \
	Tests/Systemd/run packaging/rpm/build packaging/rpm/ucarp-instance
shellcheck:
	$(call install_missing,$(SHELLCHECK_PACKAGES))
	shellcheck -x $(SHELL_SCRIPTS)

# swift format (the toolchain's) over every Swift file with the committed .swift-format, strict:
# a finding fails; and Tests/Lint/pure-targets: the deciding targets (CARPCore, EtcdGuard,
# CARPInstance) import no system module and Package.swift gives them no C library. Seconds.
lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift
	Tests/Lint/pure-targets

# shellcheck and lint first (seconds); the sanitizers, the fuzz smoke and the fault campaign's
# smoke (about 70 s: five runs in a row green on the loaded machine, 63-76 s) run before the
# end-to-end tests, whose summary ends the output.
test: shellcheck lint unit-test etcd-test sanitize fuzz-smoke package-test chaos-smoke e2e-test

# The unit tests under AddressSanitizer (with LeakSanitizer) and ThreadSanitizer, each built in
# its own scratch path (.build-asan, .build-tsan).
sanitize: deps
	SWIFT=$(SWIFT) Tests/Sanitizers/run

# libFuzzer targets (Tests/Fuzz), built in .build-fuzz: `make fuzz FUZZ_SECONDS=600` runs each
# for that long, fuzz-smoke (part of `make test`) for FUZZ_SMOKE_SECONDS. A crash fails them.
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 15
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) SWIFT=$(SWIFT) Tests/Fuzz/run

fuzz-smoke: deps
	FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS) SWIFT=$(SWIFT) Tests/Fuzz/run

demo: build
	etc/demo.sh

# The release binary (make release, install, bench): the Swift standard library, libstdc++ and
# libgcc linked in and the symbols stripped, so that it needs only glibc and libpcap on the
# target host. Linked by lld with every function in its own section, so that the functions a
# daemon runs (Benchmarks/symbol-order.txt, from `make symbol-order`) lie side by side and few
# pages of code stay resident; relative relocations packed (RELR) where glibc, 2.36 and later,
# can load them. BENCHMARKS.md has the figures. swift build is incremental: nothing is rebuilt
# when no source has changed.
CLANG ?= clang
STATIC_CXX_DIR = .build/static-c++
GLIBC_VERSION := $(shell getconf GNU_LIBC_VERSION 2>/dev/null | awk '{ print $$2 }')
RELR_FLAGS := $(shell printf '2.36\n%s\n' "$(GLIBC_VERSION)" | sort -C -V && echo -Xlinker -z -Xlinker pack-relative-relocs)
RELEASE_FLAGS = -c release --static-swift-stdlib \
	-Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections \
	-Xswiftc -use-ld=lld -Xlinker --no-export-dynamic \
	-Xlinker -L$(CURDIR)/$(STATIC_CXX_DIR) -Xswiftc -Xclang-linker -Xswiftc -static-libgcc \
	-Xlinker --symbol-ordering-file=$(CURDIR)/Benchmarks/symbol-order.txt -Xlinker --no-warn-symbol-ordering \
	$(RELR_FLAGS)

release: deps
	@# The toolchain links -lstdc++; a directory holding only libstdc++.a, searched first, makes
	@# that the static library.
	@mkdir -p $(STATIC_CXX_DIR); library=$$($(CLANG) -print-file-name=libstdc++.a); \
	if [ -f "$$library" ]; then ln -sf "$$library" $(STATIC_CXX_DIR)/libstdc++.a; \
	else echo "no libstdc++.a: linking libstdc++ dynamically"; rm -f $(STATIC_CXX_DIR)/libstdc++.a; fi
	$(SWIFT) build $(RELEASE_FLAGS)
	$(STRIP) -o $(RELEASE_BINARY).stripped $(RELEASE_BINARY)

# Regenerates Benchmarks/symbol-order.txt by profiling the release binary (root, valgrind).
symbol-order: release
	$(call install_missing,valgrind)
	Benchmarks/profile-symbol-order $(RELEASE_BINARY)

install: release
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(LIBEXECDIR)/ucarp
	@# Passwords live there: root's alone, as Fedora's package has it. An existing directory
	@# keeps the mode its operator gave it (ucarp warns about a password others may read).
	if [ ! -d $(DESTDIR)$(CONFDIR) ]; then install -d -m 700 $(DESTDIR)$(CONFDIR); fi
	install -m 755 cloud/ucarp-aws cloud/ucarp-hetzner $(DESTDIR)$(LIBEXECDIR)/ucarp/
	install -m 755 $(RELEASE_BINARY).stripped $(DESTDIR)$(SBINDIR)/ucarp
	install -m 644 man/ucarp.8 $(DESTDIR)$(MANDIR)/man8/ucarp.8
	install -m 644 man/ucarp.conf.5 $(DESTDIR)$(MANDIR)/man5/ucarp.conf.5
	install -m 755 etc/ucarp/vip-up etc/ucarp/vip-down $(DESTDIR)$(CONFDIR)/
	install -m 600 etc/ucarp/vip-001.conf.example $(DESTDIR)$(CONFDIR)/
	@# The operator's file: installed once, never overwritten.
	if [ ! -e $(DESTDIR)$(CONFDIR)/vip-common.conf ]; then \
		install -m 600 etc/ucarp/vip-common.conf $(DESTDIR)$(CONFDIR)/; fi
	sed -e 's|/usr/sbin/ucarp|$(SBINDIR)/ucarp|' -e 's|/etc/ucarp/|$(CONFDIR)/|g' \
		'etc/systemd/ucarp@.service' > '$(DESTDIR)$(UNITDIR)/ucarp@.service'
	chmod 644 '$(DESTDIR)$(UNITDIR)/ucarp@.service'
	install -m 644 etc/systemd/ucarp.target $(DESTDIR)$(UNITDIR)/

# Removes what install installed; vip-common.conf only if it is unchanged, and $(CONFDIR) only
# if nothing else (vip-NNN.conf, passfiles) is left in it.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/ucarp $(DESTDIR)$(MANDIR)/man8/ucarp.8 $(DESTDIR)$(MANDIR)/man5/ucarp.conf.5
	rm -f '$(DESTDIR)$(UNITDIR)/ucarp@.service' $(DESTDIR)$(UNITDIR)/ucarp.target
	rm -f $(DESTDIR)$(LIBEXECDIR)/ucarp/ucarp-aws $(DESTDIR)$(LIBEXECDIR)/ucarp/ucarp-hetzner
	rmdir $(DESTDIR)$(LIBEXECDIR)/ucarp 2>/dev/null || true
	rm -f $(DESTDIR)$(CONFDIR)/vip-up $(DESTDIR)$(CONFDIR)/vip-down $(DESTDIR)$(CONFDIR)/vip-001.conf.example
	if cmp -s etc/ucarp/vip-common.conf $(DESTDIR)$(CONFDIR)/vip-common.conf; then \
		rm -f $(DESTDIR)$(CONFDIR)/vip-common.conf; \
	elif [ -e $(DESTDIR)$(CONFDIR)/vip-common.conf ]; then \
		echo "kept $(DESTDIR)$(CONFDIR)/vip-common.conf (changed)"; fi
	rmdir $(DESTDIR)$(CONFDIR) 2>/dev/null || true

# `make deb`: .build/swiftcarp_VERSION_ARCH.deb, a Debian package of the release binary that
# replaces Debian's ucarp (packaging/deb/build says how; VERSION is Usage.version in
# Sources/ucarp/Usage.swift). `make package-test` builds it in .build/package-test, runs lintian
# on it and, where a throwaway Debian root can be built (as root, with mmdebstrap and Debian's
# archive), installs it there over Debian's ucarp, then removes and purges it
# (Tests/Package/run; 1 to 2 minutes once the release binary is built, most of it mmdebstrap).
DEB_PACKAGES = dpkg-dev binutils lintian mmdebstrap
.PHONY: deb package-test
deb: release
	$(call install_missing,$(DEB_PACKAGES))
	packaging/deb/build $(RELEASE_BINARY).stripped .build

package-test: release
	$(call install_missing,$(DEB_PACKAGES) $(RPM_PACKAGES))
	Tests/Package/run $(RELEASE_BINARY).stripped
	Tests/Package/rpm $(RELEASE_BINARY).stripped

# `make rpm`: .build/swiftcarp-VERSION-1.ARCH.rpm, an RPM of the release binary for Fedora, EPEL
# and their family that replaces their ucarp package at its paths, and the source RPM
# .build/swiftcarp-VERSION-1.src.rpm, whose spec (packaging/rpm/swiftcarp.spec) also builds
# from source there. Debian's rpm has rpmbuild; `make package-test` runs rpmlint on both,
# installs the binary one with rpm --root and runs its binary against Debian's ucarp
# (Tests/Package/rpm, seconds).
RPM_PACKAGES = rpm rpmlint patchelf cpio ucarp iproute2
.PHONY: rpm systemd-test
rpm: release
	$(call install_missing,$(RPM_PACKAGES))
	packaging/rpm/build $(RELEASE_BINARY).stripped .build

# `make systemd-test`: ucarp@.service under a real systemd, booted with systemd-nspawn in a Debian
# root with the Debian package installed: a site's notify script through a failover, stop,
# reload where the unit has it, kill -9 (ExecStopPost, Restart=), and the opt-in hardening's
# systemd-analyze security score; then the RPM over a stand-in for EPEL's ucarp, installed with
# rpm --root, keeps ucarp@001 enabled and running (Tests/Systemd/run; 2 to 3 minutes, most of it
# mmdebstrap).
SYSTEMD_TEST_PACKAGES = dpkg-dev mmdebstrap systemd-container ucarp iproute2 rpm patchelf
systemd-test: release
	$(call install_missing,$(SYSTEMD_TEST_PACKAGES))
	Tests/Systemd/run $(RELEASE_BINARY).stripped

# `make bench`: SwiftCARP against Debian's ucarp on the same network namespaces, and what a
# client sees of a failover with SwiftCARP, ucarp and keepalived: two tables and a picture,
# Benchmarks/client-view.png (BENCHMARKS.md explains them). About 11 minutes; needs valgrind
# and Debian's matplotlib besides the test packages.
BENCH_PACKAGES = valgrind python3-matplotlib keepalived
# Benchmarks/run measures (Benchmarks/lib.sh its helpers, Benchmarks/phase_PHASE.sh each phase);
# Benchmarks/report.py (unit-tested first) does the arithmetic and makes the tables,
# Benchmarks/plot.py the picture. One phase or a few, on a binary built beforehand:
# `SWIFTCARP=.build/release/ucarp.stripped HANDOVER_RUNS=1 Benchmarks/run handover` (about 40 s;
# BENCHMARKS.md, Reproduce, lists the phases).
bench: release
	$(call install_missing,$(BENCH_PACKAGES))
	python3 -B -m unittest discover -s Benchmarks -p 'test_*.py'
	SWIFTCARP=$(RELEASE_BINARY).stripped Benchmarks/run

clean:
	rm -rf .build .build-asan .build-tsan .build-fuzz
