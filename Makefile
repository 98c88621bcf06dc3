# GeoDNS — the README's two commands are `make run` and `make test`.
# Area-specific targets live in mk/*.mk (wire, geoip, bench, fuzz, ...).
SHELL := /bin/bash
.DEFAULT_GOAL := build
SWIFT ?= swift
CONFIG ?= config.yaml
APT_PACKAGES := libmaxminddb-dev mmdb-bin bind9-dnsutils knot-dnsutils pkg-config dnsperf
PIP_PACKAGES := dnspython maxminddb maxminddb-geolite2 prometheus-client
# `geodns --version` names the commit it was built from (Package.swift -> Sources/CBuildInfo);
# `-dirty` when tracked files differ from it. Without the Makefile the commit reads "unknown".
export GEODNS_GIT_COMMIT ?= $(shell c=$$(git rev-parse HEAD 2>/dev/null) && { git diff --quiet HEAD 2>/dev/null && echo $$c || echo $$c-dirty; })

.PHONY: deps build release run test clean

# Install what is missing: Debian packages (without starting their services) and Python test deps.
deps:
	@bash mk/apt-install.sh $(APT_PACKAGES) $(EXTRA_APT)
	@python3 -c 'import dns, maxminddb, _maxminddb_geolite2, prometheus_client' 2>/dev/null || python3 -m pip install -q $(PIP_PACKAGES)

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product geodns

run: release
	./.build/release/geodns serve --config $(CONFIG)

# Every test, then every fuzz target for 60 s (mk/hardening.mk, fuzz-ci; FUZZ_SECONDS=0 skips it).
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --parallel
	$(MAKE) --no-print-directory fuzz-ci

clean:
	rm -rf .build .build-*

# The benchmarks' allocation counter (Sources/BenchSupport): its counting malloc & co. become the
# process's malloc & co., exported so the Swift runtime binds to them (bench-wire, bench-engine).
COUNTING_MALLOC_LDFLAGS := $(foreach s,malloc calloc realloc aligned_alloc posix_memalign,-Xlinker --defsym=$(s)=bench_counting_$(s) -Xlinker --export-dynamic-symbol=$(s))

-include mk/*.mk
