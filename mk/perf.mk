# Performance targets (issue 5; performance engineer). Included by the top Makefile.
#   make bench-cost    engine cost per query on the lab's queries with GeoLite2-City: ns and heap
#                      allocations per stage (bench-engine, release, counting malloc linked in),
#                      then callgrind instructions per stage, general path (BEFORE) vs fast path (AFTER)
#                      (and the same for ECS queries carrying a client COOKIE)
#   make bench-usercost whole-daemon user-space instructions per answered query under dnsperf
#                      (callgrind via ../shared/lab/usercost.sh): ECS, no-ECS, ECS + COOKIE
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
	@[ -s $(COST_QUERIES) ] && [ -s $(COST_QUERIES_NOECS) ] || { . $(LAB)/env.sh && python3 $(LAB)/gen_queries.py /tmp/geolab-bench 100000; }

bench-cost: bench-engine-build cost-config
	@echo "== bench-engine, GeoLite2-City, ECS queries (time is noisy here; allocations are exact)"
	$(PERF_SCRATCH)/release/bench-engine --config $(COST_OUT)/config-geolite2.yaml --queries $(COST_QUERIES) --count $(COST_COUNT)
	@echo "== bench-engine, GeoLite2-City, no-ECS queries"
	$(PERF_SCRATCH)/release/bench-engine --config $(COST_OUT)/config-geolite2.yaml --queries $(COST_QUERIES_NOECS) --count $(COST_COUNT)
	@echo "== callgrind instructions per query (exact), ECS queries"
	CALLGRIND_OUT=$(COST_OUT)/ecs bash bench/cost/callgrind.sh $(PERF_SCRATCH)/release/bench-engine $(COST_OUT)/config-geolite2.yaml $(COST_QUERIES) $(COST_COUNT)
	@echo "== callgrind instructions per query (exact), no-ECS queries"
	CALLGRIND_OUT=$(COST_OUT)/noecs bash bench/cost/callgrind.sh $(PERF_SCRATCH)/release/bench-engine $(COST_OUT)/config-geolite2.yaml $(COST_QUERIES_NOECS) $(COST_COUNT)
	@echo "== bench-engine and callgrind, ECS queries each with a client COOKIE (a fresh server cookie per reply)"
	python3 bench/cost/add_cookie.py $(COST_QUERIES) $(COST_QUERIES_COOKIE)
	$(PERF_SCRATCH)/release/bench-engine --config $(COST_OUT)/config-geolite2.yaml --queries $(COST_QUERIES_COOKIE) --count $(COST_COUNT)
	CALLGRIND_OUT=$(COST_OUT)/cookie bash bench/cost/callgrind.sh $(PERF_SCRATCH)/release/bench-engine $(COST_OUT)/config-geolite2.yaml $(COST_QUERIES_COOKIE) $(COST_COUNT)
	@echo "== socket stage: the kernel's UDP path (recvmmsg + sendmmsg + loopback delivery), not countable in"
	@echo "   this VM (no PMU: perf stat -e instructions:k is not supported); \`make bench\` times it as the"
	@echo "   echo row, a C recvmmsg/sendmmsg loop doing no DNS work: ~4.1-4.5 µs per query here, against"
	@echo "   ~0.3 µs for everything above (bench/RESULTS.md, The kernel floor)"


# make bench-usercost: whole-server user-space instructions per answered query (callgrind's exact
# count, stable on this noisy machine), through the lab's usercost.sh: the release daemon on
# GeoLite2-City with one thread, dnsperf sending the lab's ECS queries, then the no-ECS ones, then
# the ECS ones each carrying a client COOKIE (every reply then computes a fresh server cookie).
# CG_QPS=2000 measures at low load (the lab's reference point), unset = saturation.
USERCOST_PORT ?= 15391
USERCOST_OUT ?= /tmp/geodns-usercost
COST_QUERIES_COOKIE ?= $(COST_OUT)/queries-ecs-cookie.bin

.PHONY: bench-usercost
bench-usercost: cost-config
	$(SWIFT) build -c release --product geodns --scratch-path $(PERF_SCRATCH)
	@mkdir -p $(USERCOST_OUT)
	objcopy --strip-debug $(PERF_SCRATCH)/release/geodns $(USERCOST_OUT)/geodns
	python3 bench/cost/add_cookie.py $(COST_QUERIES) $(COST_QUERIES_COOKIE)
	@for q in ecs:$(COST_QUERIES) noecs:$(COST_QUERIES_NOECS) ecs-cookie:$(COST_QUERIES_COOKIE); do \
	  USERCOST_OUT=$(USERCOST_OUT) bash $(LAB)/usercost.sh geodns-$${q%%:*} $(USERCOST_PORT) $${q#*:} -- \
	    $(USERCOST_OUT)/geodns serve --config $(COST_OUT)/config-geolite2.yaml --listen 127.0.0.1:$(USERCOST_PORT) \
	    --threads 1 --log-level notice; \
	done
