# Scale (issue 5): how load time, reload time, RSS and QPS grow with the policy.
#   make bench-scale              10 / 1,000 / 100,000 steered names x continent / country /
#                                 subdivision regions x demo / GeoLite2-City: one table, and the
#                                 growth shape of each column (bench/scale/scale.sh, report.py)
#   make bench-scale SCALE_QUICK=1    countries only (6 cells)
# Knobs (environment): SCALE_NAMES, SCALE_REGIONS, SCALE_DBS, SCALE_SECONDS (dnsperf, default 5),
# SCALE_PORT (15305-15309), SCALE_OUT (default /tmp/geodns-scale; results.tsv there).
# Its own scratch path, so other builds of .build do not race it.
SCALE_SCRATCH ?= .build-scale

.PHONY: bench-scale
bench-scale:
	@$(MAKE) --no-print-directory deps EXTRA_APT="dnsperf"
	$(SWIFT) build -c release --product geodns --scratch-path $(SCALE_SCRATCH)
	GEODNS_BIN=$(SCALE_SCRATCH)/release/geodns bash bench/scale/scale.sh
