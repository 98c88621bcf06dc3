# DNSWire targets (wire engineer). Included by the top Makefile.
#   make golden      regenerate the dnspython golden packets and the malformed corpus
#   make test-wire   DNSWire unit tests only
#   make bench-wire  release benchmark: ns and heap allocations per decode / encode
#   make fuzz-wire   libFuzzer run, bounded by FUZZ_SECONDS, seeded from the fixtures
WIRE_SCRATCH ?= .build-wire
FUZZ_SCRATCH ?= .build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_MAX_LEN ?= 512
FUZZ_CORPUS ?= $(FUZZ_SCRATCH)/corpus-wire

.PHONY: golden test-wire bench-wire fuzz-wire fuzz-wire-build

golden: deps
	python3 scripts/wire/golden.py
	python3 scripts/wire/malformed.py

test-wire: deps
	$(SWIFT) test --scratch-path $(WIRE_SCRATCH) --filter DNSWireTests

bench-wire:
	$(SWIFT) build -c release --product bench-wire --scratch-path $(WIRE_SCRATCH) $(COUNTING_MALLOC_LDFLAGS)
	$(WIRE_SCRATCH)/release/bench-wire

# TOOLCHAIN.md §4: the only recipe that instruments and links libFuzzer's main; -DFUZZING swaps
# the replay @main for LLVMFuzzerTestOneInput.
fuzz-wire-build:
	$(SWIFT) build --product fuzz-wire -c debug --scratch-path $(FUZZ_SCRATCH) \
	  --sanitize=fuzzer --sanitize=address \
	  -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp -Xswiftc -DFUZZING \
	  2>&1 | grep -v "Cannot export local symbol" ; test -x $(FUZZ_SCRATCH)/debug/fuzz-wire

fuzz-wire: fuzz-wire-build
	python3 scripts/wire/corpus.py $(FUZZ_CORPUS)
	SWIFT_BACKTRACE=enable=no $(FUZZ_SCRATCH)/debug/fuzz-wire $(FUZZ_CORPUS) \
	  -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN) -print_final_stats=1 \
	  -artifact_prefix=$(FUZZ_SCRATCH)/ 2>&1 | grep -v "Cannot export local symbol" \
	  | grep -E "^(INFO: Seed|#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss|==[0-9]+==|SUMMARY|artifact_prefix|Test unit written)|ERROR|invariant|Fatal|fatal"; \
	  status=$${PIPESTATUS[0]}; echo "fuzz-wire exit $$status"; exit $$status
