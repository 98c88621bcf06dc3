# Performance targets (issue 5; performance engineer). Included by the top Makefile.
#   make bench-cost    engine cost per query on the lab's queries with GeoLite2-City: ns and heap
#                      allocations per stage (bench-engine, release, counting malloc linked in),
#                      then callgrind instructions per stage, general path (BEFORE) vs fast path (AFTER)
#   make bench         the side-by-side table against gdnsd, Knot, PowerDNS (mk/bench.mk)
#   make bench-scale   growth with the policy (mk/scale.mk)
PERF_SCRATCH ?= .build-perf
COST_OUT ?= /tmp/geodns-cost
COST_QUERIES ?= /tmp/geolab-bench/queries-ecs.bin
COST_QUERIES_NOECS ?= /tmp/geolab-bench/queries-noecs.bin
COST_COUNT ?= 20000
LAB ?= $(CURDIR)/../shared/lab

.PHONY: bench-cost bench-engine-build cost-config

bench-engine-build:
	$(SWIFT) build -c release --product bench-engine --scratch-path $(PERF_SCRATCH) $(COUNTING_MALLOC_LDFLAGS) 2>&1 | grep -v "Cannot export local symbol"; test -x $(PERF_SCRATCH)/release/bench-engine

# The project's config.yaml on GeoLite2-City (as bench/geodns/start.sh serves it), and the lab's query files.
cost-config:
	@mkdir -p $(COST_OUT)
	@. $(LAB)/env.sh && sed -e "s|^\(\s*geoip:\s*\).*|\1$$GEOLITE2_CITY|" config.yaml > $(COST_OUT)/config-geolite2.yaml
	@[ -s $(COST_QUERIES) ] && [ -s $(COST_QUERIES_NOECS) ] || python3 $(LAB)/gen_queries.py /tmp/geolab-bench 100000

bench-cost: bench-engine-build cost-config
	@echo "== bench-engine, GeoLite2-City, ECS queries (time is noisy here; allocations are exact)"
	$(PERF_SCRATCH)/release/bench-engine --config $(COST_OUT)/config-geolite2.yaml --queries $(COST_QUERIES) --count $(COST_COUNT)
	@echo "== bench-engine, GeoLite2-City, no-ECS queries"
	$(PERF_SCRATCH)/release/bench-engine --config $(COST_OUT)/config-geolite2.yaml --queries $(COST_QUERIES_NOECS) --count $(COST_COUNT)
	@echo "== callgrind instructions per query (exact), ECS queries"
	CALLGRIND_OUT=$(COST_OUT)/ecs bash bench/cost/callgrind.sh $(PERF_SCRATCH)/release/bench-engine $(COST_OUT)/config-geolite2.yaml $(COST_QUERIES) $(COST_COUNT)
	@echo "== callgrind instructions per query (exact), no-ECS queries"
	CALLGRIND_OUT=$(COST_OUT)/noecs bash bench/cost/callgrind.sh $(PERF_SCRATCH)/release/bench-engine $(COST_OUT)/config-geolite2.yaml $(COST_QUERIES_NOECS) $(COST_COUNT)
	@echo "== socket stage: the kernel's UDP path (recvmmsg + sendmmsg + loopback delivery), not countable in"
	@echo "   this VM (no PMU: perf stat -e instructions:k is not supported); \`make bench\` times it as the"
	@echo "   echo row, a C recvmmsg/sendmmsg loop doing no DNS work: ~4.1-4.5 µs per query here, against"
	@echo "   ~0.3 µs for everything above (bench/RESULTS.md, The kernel floor)"

