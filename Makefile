# SwiftCARP: `make demo` and `make test` work on a fresh Debian machine as root with the
# Swift toolchain; they install the Debian packages they need first.

SWIFT ?= swift
DEBIAN_PACKAGES = libpcap-dev pkg-config iproute2 ucarp tcpdump nftables faketime procps

.PHONY: all build deps test unit-test e2e-test demo clean

all: build

deps:
	@missing=""; for package in $(DEBIAN_PACKAGES); do \
		dpkg -s $$package >/dev/null 2>&1 || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

build: deps
	$(SWIFT) build

unit-test: deps
	$(SWIFT) build --build-tests
	timeout 900 $(SWIFT) test --skip-build

e2e-test: build
	Tests/EndToEnd/run

test: unit-test e2e-test

demo: build
	etc/demo.sh

clean:
	rm -rf .build
