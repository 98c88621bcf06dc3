# Reliability and security targets (issue 6). Included by the top Makefile.
#   make fuzz            every libFuzzer target for FUZZ_SECONDS each (default 60), seeded from the
#                        fixtures; a crash stops that target, leaves crash-* in $(HARD_FUZZ_SCRATCH)
#                        and names it: copy it into Tests/ServerTests/Corpus/<target>/ and it is
#                        replayed by `make test` from then on (ServerTests.CorpusReplayTests)
#   make fuzz-policy     the YAML policy loader only      make fuzz-message  the whole query path only
#   make sanitize        the unit and end-to-end tests under ASan, then under TSan
#   make hostile         100,000 hostile packets against the real daemon (HOSTILE_COUNT to change)
#   make reload-soak     dnsperf load while 20 reloads alternate good, broken and changed policies
#   make fuzz-ci         `make fuzz` as `make test` (and so CI) runs it after the tests
# `make test` = the unit and end-to-end tests, then fuzz-ci (each fuzz target 60 s). The sanitizer
# runs, the full hostile run and the reload soak are not in it (time budget); `make test` replays
# the corpora and runs reduced hostile/limit/RRL end-to-end tests.
HARD_SCRATCH ?= .build-hard
HARD_FUZZ_SCRATCH ?= .build-fuzz
FUZZ_SECONDS ?= 60
HOSTILE_COUNT ?= 100000
FUZZ_FLAGS := -c debug --scratch-path $(HARD_FUZZ_SCRATCH) --sanitize=fuzzer --sanitize=address \
  -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp -Xswiftc -DFUZZING
LSAN_SUPP := $(HARD_SCRATCH)/lsan.supp

.PHONY: fuzz fuzz-ci fuzz-policy fuzz-message fuzz-build-policy fuzz-build-message sanitize sanitize-asan sanitize-tsan hostile reload-soak

# TOOLCHAIN.md §4: the only recipe that instruments and links libFuzzer's main (always --product).
define build_fuzzer
	$(SWIFT) build --product fuzz-$(1) $(FUZZ_FLAGS) 2>&1 | grep -v "Cannot export local symbol" ; \
	  exit $${PIPESTATUS[0]}
endef
fuzz-build-policy:
	$(call build_fuzzer,policy)
fuzz-build-message:
	$(call build_fuzzer,message)

# $(1) target, $(2) max_len, $(3) seed dirs (read only, after the growing corpus).
define run_fuzzer
	@mkdir -p $(HARD_FUZZ_SCRATCH)/corpus-$(1)
	SWIFT_BACKTRACE=enable=no $(HARD_FUZZ_SCRATCH)/debug/fuzz-$(1) $(HARD_FUZZ_SCRATCH)/corpus-$(1) $(3) \
	  -max_total_time=$(FUZZ_SECONDS) -max_len=$(2) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	  -artifact_prefix=$(HARD_FUZZ_SCRATCH)/crash-$(1)- 2>&1 | grep -v "Cannot export local symbol" \
	  | grep -E "^(INFO: Seed|#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss|==[0-9]+==|SUMMARY|artifact_prefix|Test unit written|fuzz-.*invariant|  (query|fast|general) )|ERROR" ; \
	  status=$${PIPESTATUS[0]}; echo "fuzz-$(1): exit $$status (FUZZ_SECONDS=$(FUZZ_SECONDS))"; \
	  if [ $$status -ne 0 ]; then ls -1 $(HARD_FUZZ_SCRATCH)/crash-$(1)-* 2>/dev/null; \
	    echo "copy the crash file into Tests/ServerTests/Corpus/$(1)/ (a regression test), then fix"; fi; exit $$status
endef

fuzz-policy: fuzz-build-policy
	$(call run_fuzzer,policy,4096,Tests/ServerTests/Corpus/policy -dict=Tests/ServerTests/Corpus/policy.dict)

fuzz-message: fuzz-build-message
	@mkdir -p $(HARD_FUZZ_SCRATCH)/seed-message
	python3 scripts/wire/corpus.py $(HARD_FUZZ_SCRATCH)/seed-message
	$(call run_fuzzer,message,1024,$(HARD_FUZZ_SCRATCH)/seed-message Tests/ServerTests/Corpus/message)

# fuzz-wire is the wire engineer's target (mk/wire.mk); run it with the same scratch and time.
# Every target runs even when an earlier one crashed; the exit status says whether any did.
# An input that crashed (or leaked, timed out, ran out of memory) is printed in hex as well, so a
# CI log alone is enough to turn it into a corpus file:
#   echo HEX | xxd -r -p > Tests/ServerTests/Corpus/<target>/<name>   (or python3 bytes.fromhex)
fuzz:
	@start=$$(date +%s); failed=""; mkdir -p $(HARD_FUZZ_SCRATCH); touch $(HARD_FUZZ_SCRATCH)/fuzz-start; \
	$(MAKE) --no-print-directory fuzz-wire FUZZ_SCRATCH=$(HARD_FUZZ_SCRATCH) FUZZ_SECONDS=$(FUZZ_SECONDS) || failed="$$failed fuzz-wire"; \
	$(MAKE) --no-print-directory fuzz-policy || failed="$$failed fuzz-policy"; \
	$(MAKE) --no-print-directory fuzz-message || failed="$$failed fuzz-message"; \
	echo "make fuzz: $$(( $$(date +%s) - start )) s wall including builds; $${failed:-no target} failed"; \
	if [ -n "$$failed" ]; then \
	  find $(HARD_FUZZ_SCRATCH) -maxdepth 1 -type f -newer $(HARD_FUZZ_SCRATCH)/fuzz-start \
	    \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'slow-unit-*' \) \
	    | while read -r f; do echo "fuzz input $$f ($$(stat -c %s "$$f") bytes), hex:"; od -An -v -tx1 "$$f" | tr -d ' \n'; echo; done; \
	fi; \
	test -z "$$failed"

# `make test` ends with this: every fuzz target for FUZZ_SECONDS (60 by default, as CI runs it).
# FUZZ_SECONDS=0 skips it (a quick local `make test`); CI never sets it.
fuzz-ci:
	@if [ "$(FUZZ_SECONDS)" = 0 ]; then echo "fuzz-ci: skipped (FUZZ_SECONDS=0)"; \
	else $(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_SECONDS); fi

# TOOLCHAIN.md §4: separate scratch paths; LSan suppression for XCTest's own leaks.
$(LSAN_SUPP):
	@mkdir -p $(HARD_SCRATCH)
	printf 'leak:libXCTest.so\nleak:libswiftCore.so\n' > $@

sanitize: sanitize-asan sanitize-tsan

sanitize-asan: $(LSAN_SUPP)
	@start=$$(date +%s); \
	GEODNS_SANITIZER=address LSAN_OPTIONS=suppressions=$(CURDIR)/$(LSAN_SUPP) $(SWIFT) test --scratch-path .build-asan --sanitize=address $(SANITIZE_ARGS) \
	  2>&1 | grep -v "Cannot export local symbol"; status=$${PIPESTATUS[0]}; \
	echo "sanitize-asan: exit $$status, $$(( $$(date +%s) - start )) s"; exit $$status

sanitize-tsan:
	@start=$$(date +%s); \
	GEODNS_SANITIZER=thread $(SWIFT) test --scratch-path .build-tsan --sanitize=thread $(SANITIZE_ARGS) \
	  2>&1 | grep -v "Cannot export local symbol"; status=$${PIPESTATUS[0]}; \
	echo "sanitize-tsan: exit $$status, $$(( $$(date +%s) - start )) s"; exit $$status

# Sources/hostile starts its own daemon on a free 127.0.0.1 port; HOSTILE_BUILD=release to run
# the release daemon (a separate, slower build).
HOSTILE_BUILD ?= debug
HOSTILE_ARGS ?=
hostile:
	$(SWIFT) build -c $(HOSTILE_BUILD) --scratch-path $(HARD_SCRATCH) --product geodns
	$(SWIFT) build -c $(HOSTILE_BUILD) --scratch-path $(HARD_SCRATCH) --product hostile
	$(HARD_SCRATCH)/$(HOSTILE_BUILD)/hostile --count $(HOSTILE_COUNT) --geodns $(HARD_SCRATCH)/$(HOSTILE_BUILD)/geodns $(HOSTILE_ARGS)

# The reload-under-load end-to-end test with a longer run (RELOAD_SOAK_SECONDS, default 60):
# dnsperf load plus a checking client while 20 reloads alternate changed/broken/original/broken.
RELOAD_SOAK_SECONDS ?= 60
reload-soak:
	$(SWIFT) build --build-tests --scratch-path $(HARD_SCRATCH)
	RELOAD_SOAK_SECONDS=$(RELOAD_SOAK_SECONDS) $(SWIFT) test --skip-build --scratch-path $(HARD_SCRATCH) \
	  --filter HostileReloadEndToEndTests
