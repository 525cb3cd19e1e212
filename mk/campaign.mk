# forensics/session, forensics/campaign, forensics/trace: scale benchmark
# and fuzz smoke.
#
# bench-campaign: 10 million generated sessions (realistic indicator
# distributions, see forensics/campaign/bench_test.go) streamed into a
# campaign.Builder and grouped; prints the grouping time and peak RSS
# (/usr/bin/time -v "Maximum resident set size"). GOMEMLIMIT keeps the
# garbage collector's headroom inside the 4 GB budget.
BENCH_SESSIONS ?= 10000000

.PHONY: bench-campaign campaign-test

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
	$(GO) test -run '^$$' -fuzz '^FuzzBuild$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0s -parallel 1 ./forensics/campaign
