# GeoIP area (issue 3): the libmaxminddb benchmark and the data/ demo database.
#   make bench-geoip   release Swift wrapper vs a gcc -O2 C loop on GeoLite2-City, with the ratio
#   make data          rebuild data/geodns-demo.mmdb from data/networks.csv and check it matches
#   make data-update   rebuild it and overwrite the committed file
GEOIP_SCRATCH ?= .build
GEOLITE2_CITY = $(shell python3 -c 'import _maxminddb_geolite2,os;print(os.path.join(os.path.dirname(_maxminddb_geolite2.__file__),"GeoLite2-City.mmdb"))' 2>/dev/null)
BENCH_GEOIP_COUNT ?= 5000000
BENCH_GEOIP_ROUNDS ?= 3

.PHONY: bench-geoip data data-update

bench-geoip: deps
	$(SWIFT) build -c release --product bench-geoip --scratch-path $(GEOIP_SCRATCH)
	gcc -O2 -o $(GEOIP_SCRATCH)/geoip_c bench/geoip_c.c $$(pkg-config --cflags --libs libmaxminddb)
	$(GEOIP_SCRATCH)/release/bench-geoip --db "$(GEOLITE2_CITY)" --c-loop $(GEOIP_SCRATCH)/geoip_c \
	  --count $(BENCH_GEOIP_COUNT) --rounds $(BENCH_GEOIP_ROUNDS)

data: deps
	$(SWIFT) build --product geodns --scratch-path $(GEOIP_SCRATCH)
	@mkdir -p $(GEOIP_SCRATCH)/data
	$(GEOIP_SCRATCH)/debug/geodns mmdb build data/networks.csv -o $(GEOIP_SCRATCH)/data/geodns-demo.mmdb
	@if cmp -s $(GEOIP_SCRATCH)/data/geodns-demo.mmdb data/geodns-demo.mmdb; then \
	  echo "data/geodns-demo.mmdb matches data/networks.csv ($$(wc -c < data/geodns-demo.mmdb) bytes)"; \
	else \
	  echo "data/geodns-demo.mmdb does NOT match what data/networks.csv builds; run 'make data-update' and commit" >&2; exit 1; fi

data-update: deps
	$(SWIFT) build --product geodns --scratch-path $(GEOIP_SCRATCH)
	$(GEOIP_SCRATCH)/debug/geodns mmdb build data/networks.csv -o data/geodns-demo.mmdb
