# forensics/session, forensics/campaign, forensics/trace: scale benchmarks
# and fuzz smoke.
#
# sessions-bench: `tracehop sessions` on the first 1M lines of the
# generated combined log and on all of it (make bench-data), with and
# without enrichment: time, lines/s and peak RSS (flat in the number of
# lines: sessions are streamed, see forensics/analyze/sessions.go).
#
# analyze-bench: `tracehop analyze` (the whole bundle) on the first 200k
# and 1M lines of the generated combined log, with and without
# enrichment: time and peak RSS (events and sessions are spooled, see
# forensics/analyze/spooled.go; what grows is one entry per address).
#
# bench-campaign: 10 million generated sessions (realistic indicator
# distributions, see forensics/campaign/bench_test.go) streamed into a
# campaign.Builder and grouped; prints the grouping time and peak RSS
# (/usr/bin/time -v "Maximum resident set size"). GOMEMLIMIT keeps the
# garbage collector's headroom inside the 4 GB budget.
BENCH_SESSIONS ?= 10000000

.PHONY: bench-campaign campaign-test sessions-bench analyze-bench

sessions-bench: build logs-bench-data
	@head -n 1000000 $(LOGS_BENCH_DIR)/combined.log > $(LOGS_BENCH_DIR)/combined-1m.log
	@$(LOGS_MEASURE); echo "== sessions: $$(nproc) cores"; \
	measure "tracehop sessions --no-enrich, 1M" $(LOGS_BENCH_DIR)/combined-1m.log ./$(BIN) sessions --no-enrich -q $(LOGS_BENCH_DIR)/combined-1m.log; \
	measure "tracehop sessions --no-enrich"     $(LOGS_BENCH_DIR)/combined.log ./$(BIN) sessions --no-enrich -q $(LOGS_BENCH_DIR)/combined.log; \
	measure "tracehop sessions (enriched), 1M"  $(LOGS_BENCH_DIR)/combined-1m.log ./$(BIN) sessions -q $(LOGS_BENCH_DIR)/combined-1m.log; \
	measure "tracehop sessions (enriched)"      $(LOGS_BENCH_DIR)/combined.log ./$(BIN) sessions -q $(LOGS_BENCH_DIR)/combined.log; \
	rm -f $(LOGS_BENCH_DIR)/.time $(LOGS_BENCH_DIR)/.stderr

analyze-bench: build logs-bench-data
	@head -n 200000 $(LOGS_BENCH_DIR)/combined.log > $(LOGS_BENCH_DIR)/combined-200k.log
	@head -n 1000000 $(LOGS_BENCH_DIR)/combined.log > $(LOGS_BENCH_DIR)/combined-1m.log
	@$(LOGS_MEASURE); echo "== analyze: $$(nproc) cores"; out=$$(mktemp -d); \
	for n in 200k 1m; do \
	  measure "tracehop analyze --no-enrich, $$n" $(LOGS_BENCH_DIR)/combined-$$n.log ./$(BIN) analyze --no-enrich -q --out $$out/b$$n-plain $(LOGS_BENCH_DIR)/combined-$$n.log; \
	  measure "tracehop analyze (enriched), $$n"  $(LOGS_BENCH_DIR)/combined-$$n.log ./$(BIN) analyze -q --out $$out/b$$n $(LOGS_BENCH_DIR)/combined-$$n.log; \
	  rm -rf $$out/b$$n-plain $$out/b$$n; \
	done; rm -rf $$out $(LOGS_BENCH_DIR)/.time $(LOGS_BENCH_DIR)/.stderr

bench-campaign:
	@mkdir -p bench-data
	$(GO) test -c -o bench-data/campaign.test ./forensics/campaign
	cd forensics/campaign && TRACEHOP_BENCH_SESSIONS=$(BENCH_SESSIONS) GOMEMLIMIT=3GiB GOMAXPROCS=2 \
		/usr/bin/time -v ../../bench-data/campaign.test -test.run '^$$' -test.bench '^BenchmarkGroup$$' -test.benchtime 1x 2>&1 | \
		grep -E 'Benchmark|Maximum resident|Elapsed'

campaign-test:
	$(GO) test -count=1 ./forensics/session/... ./forensics/campaign/... ./forensics/trace/...

fuzz-smoke::
	$(GO) test -run '^$$' -fuzz '^FuzzParsePath$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0s -parallel 1 ./forensics/session
	$(GO) test -run '^$$' -fuzz '^FuzzStream$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0s -parallel 1 ./forensics/session
	$(GO) test -run '^$$' -fuzz '^FuzzBuild$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0s -parallel 1 ./forensics/campaign
