# `make bench`: geodns against gdnsd, Knot and PowerDNS on the lab's scenario (issue 5).
BENCH_APT := gdnsd knot knot-module-geoip pdns-server pdns-backend-geoip dnsperf
# 4 interleaved rounds: single 10 s cells of one server spread by about ±10 % on this box, and two
# 2-round runs an hour apart disagreed on who led (bench/RESULTS.md).
BENCH_ROUNDS ?= 4
BENCH_SECONDS ?= 10

.PHONY: bench bench-deps
bench-deps:
	@$(MAKE) --no-print-directory deps EXTRA_APT="$(BENCH_APT)"
	@# the peers' packaged services must not run (policy-rc.d stops them starting at install)
	@for s in gdnsd knot pdns; do systemctl stop $$s >/dev/null 2>&1 || true; done

bench: bench-deps
	$(SWIFT) build -c release --product geodns
	bash bench/matrix.sh $(BENCH_ROUNDS) $(BENCH_SECONDS)

# geodns vs gdnsd on the lab scenario: dig conformance table, answer diff, ECS scope meter.
.PHONY: lab-check
lab-check: bench-deps
	$(SWIFT) build -c release --product geodns
	bash bench/labcheck.sh
