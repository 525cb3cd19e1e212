# forensics/logs and `tracehop events`: benchmark data, the GoAccess
# comparison and the fuzz smoke run.
#
#   make bench-data     writes bench-data/logs/{combined.log,ecs.jsonl}
#                       ($(LOGS_BENCH_LINES) lines each, deterministic)
#   make bench-peers    times tracehop events (without and with enrichment)
#                       and goaccess on the same files, same machine
#   make fuzz-smoke     runs every logs fuzz target for $(LOGS_FUZZTIME)
LOGS_BENCH_LINES ?= 5000000
LOGS_BENCH_DIR   ?= bench-data/logs
LOGS_FUZZTIME    ?= $(FUZZTIME)
# Short runs skip minimizing new inputs, as every other fuzz-smoke does: a
# minimization stops the exec count and can run into the -fuzztime deadline.
LOGS_FUZZMIN     ?= -fuzzminimizetime 0s
LOGS_FUZZ        := FuzzCombined FuzzCustomFormat FuzzW3C FuzzALB FuzzJSONL FuzzSSHD FuzzZeekTSV FuzzZeekJSON FuzzEVE FuzzFlowCSV FuzzDetect FuzzProxyChain FuzzShareLines FuzzJSONShape

.PHONY: logs-bench logs-bench-data logs-bench-peers logs-fuzz-smoke logs-fuzz-long

bench-data:: logs-bench-data

logs-bench-data:
	@if [ -s $(LOGS_BENCH_DIR)/combined.log ] && [ -s $(LOGS_BENCH_DIR)/ecs.jsonl ] && \
	   [ "$$(wc -l < $(LOGS_BENCH_DIR)/combined.log)" -eq $(LOGS_BENCH_LINES) ]; then \
		echo "bench-data: $(LOGS_BENCH_DIR) is up to date"; \
	else \
		echo "bench-data: writing $(LOGS_BENCH_LINES) lines to $(LOGS_BENCH_DIR)/combined.log and ecs.jsonl"; \
		$(GO) run ./testdata/gen -bench-logs $(LOGS_BENCH_DIR) -bench-lines $(LOGS_BENCH_LINES); \
	fi

# One line per run: wall seconds, CPU seconds (user+sys), lines/s (wall),
# lines per CPU-second, MB/s and peak RSS, measured by GNU time.
LOGS_MEASURE = measure() { name=$$1; file=$$2; shift 2; \
	lines=$$(wc -l < $$file); mb=$$(( $$(stat -c %s $$file) / 1048576 )); \
	/usr/bin/time -f '%e %U %S %M' -o $(LOGS_BENCH_DIR)/.time "$$@" > /dev/null 2> $(LOGS_BENCH_DIR)/.stderr; rc=$$?; \
	read wall user sys rss < $(LOGS_BENCH_DIR)/.time; \
	awk -v n="$$name" -v l=$$lines -v mb=$$mb -v w=$$wall -v u=$$user -v s=$$sys -v r=$$rss -v rc=$$rc \
	  'BEGIN { c=u+s; if (w<=0) w=0.001; if (c<=0) c=0.001; printf "%-34s %9d lines %7.2fs wall %7.2fs cpu %10.0f lines/s %10.0f lines/cpu-s %7.1f MB/s %7.1f MiB peak RSS (exit %d)\n", n, l, w, c, l/w, l/c, mb/w, r/1024, rc }'; }

bench-peers:: logs-bench-peers

logs-bench-peers: build logs-bench-data
	@command -v goaccess >/dev/null 2>&1 || { echo "bench-peers: installing goaccess (apt)"; \
		apt-get install -y -qq goaccess >/dev/null 2>&1 || sudo apt-get install -y -qq goaccess >/dev/null 2>&1 || echo "bench-peers: goaccess not installable, skipped"; }
	@$(LOGS_MEASURE); echo "== logs: $$(nproc) cores, $$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"; \
	measure "tracehop events --no-enrich"       $(LOGS_BENCH_DIR)/combined.log ./$(BIN) events --no-enrich -q $(LOGS_BENCH_DIR)/combined.log; \
	measure "tracehop events (enriched)"        $(LOGS_BENCH_DIR)/combined.log ./$(BIN) events -q $(LOGS_BENCH_DIR)/combined.log; \
	measure "tracehop events --no-enrich (1 core)" $(LOGS_BENCH_DIR)/combined.log env GOMAXPROCS=1 ./$(BIN) events --no-enrich -q $(LOGS_BENCH_DIR)/combined.log; \
	measure "tracehop events ECS --no-enrich"   $(LOGS_BENCH_DIR)/ecs.jsonl ./$(BIN) events --no-enrich -q $(LOGS_BENCH_DIR)/ecs.jsonl; \
	measure "tracehop events ECS (enriched)"    $(LOGS_BENCH_DIR)/ecs.jsonl ./$(BIN) events -q $(LOGS_BENCH_DIR)/ecs.jsonl; \
	if command -v goaccess >/dev/null 2>&1; then \
	  measure "goaccess --log-format=COMBINED"  $(LOGS_BENCH_DIR)/combined.log goaccess $(LOGS_BENCH_DIR)/combined.log --log-format=COMBINED --no-progress -o $(LOGS_BENCH_DIR)/goaccess.json; \
	  echo "   ($$(goaccess --version | head -1))"; \
	fi; rm -f $(LOGS_BENCH_DIR)/.time $(LOGS_BENCH_DIR)/.stderr

# The in-process parser benchmarks (lines per CPU-second on one core).
logs-bench:
	GOMAXPROCS=1 $(GO) test -run '^$$' -bench . -benchmem ./forensics/logs

fuzz-smoke:: logs-fuzz-smoke

logs-fuzz-smoke:
	@for f in $(LOGS_FUZZ); do \
		$(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(LOGS_FUZZTIME) $(LOGS_FUZZMIN) -parallel 1 ./forensics/logs || exit 1; \
	done
	$(GO) test -run '^$$' -fuzz '^FuzzEventEncoder$$' -fuzztime $(LOGS_FUZZTIME) $(LOGS_FUZZMIN) -parallel 1 ./cmd/tracehop

# The acceptance run: every logs fuzz target for 10 minutes, one at a time.
logs-fuzz-long:
	$(MAKE) --no-print-directory logs-fuzz-smoke LOGS_FUZZTIME=10m LOGS_FUZZMIN=
