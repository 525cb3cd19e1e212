# forensics/capture: benchmark data, peer comparison and fuzz smoke runs.
#
# bench-data: a 1 GiB and a 3 GiB mixed capture (120 000 distinct clients;
# HTTPS with JA3/JA4, HTTP, DNS, SSH, refused connections) and a scan
# capture of more than 5 million distinct 5-tuples. Deterministic, made by
# testdata/gen, never committed (bench-data/ is git-ignored).
CAPTURE_BENCH_1G   ?= bench-data/bench-1g.pcap
CAPTURE_BENCH_3G   ?= bench-data/bench-3g.pcap
CAPTURE_BENCH_SCAN ?= bench-data/scan-5m.pcap
CAPTURE_FUZZTIME   ?= $(FUZZTIME)
CAPTURE_FUZZ       := FuzzRead FuzzDecode FuzzHTTP FuzzTLS FuzzSSH FuzzDNS FuzzFlowEncoder

.PHONY: capture-bench capture-scan-check capture-fuzz-long analyze-scan-bench

bench-data:: $(CAPTURE_BENCH_1G) $(CAPTURE_BENCH_3G) $(CAPTURE_BENCH_SCAN)

$(CAPTURE_BENCH_1G):
	@mkdir -p $(dir $@)
	$(GO) run ./testdata/gen -bench-pcap $@ -bench-pcap-size 1073741824 -bench-pcap-clients 120000

$(CAPTURE_BENCH_3G):
	@mkdir -p $(dir $@)
	$(GO) run ./testdata/gen -bench-pcap $@ -bench-pcap-size 3221225472 -bench-pcap-clients 120000

# Fewer than 2 KB per client switches the generator to a port scan: here
# 1 M targets x 16 ports, 80% of probes unanswered, about 6 M 5-tuples.
$(CAPTURE_BENCH_SCAN):
	@mkdir -p $(dir $@)
	$(GO) run ./testdata/gen -bench-pcap $@ -bench-pcap-size 600000000 -bench-pcap-clients 1000000

# tshark, argus|ra and tracehop side by side on the 1 GiB and 3 GiB files.
bench-peers:: build $(CAPTURE_BENCH_1G) $(CAPTURE_BENCH_3G)
	@command -v tshark >/dev/null && command -v ra >/dev/null && command -v argus >/dev/null || \
		(apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q tshark argus-client argus-server)
	testdata/capture/bench-peers.sh ./$(BIN) $(CAPTURE_BENCH_1G) $(CAPTURE_BENCH_3G)

# The package benchmarks (full path vs a bare gopacket loop) on the 1 GiB file,
# and the flow JSON encoder and the sort/spill/merge of `tracehop flows`.
capture-bench: $(CAPTURE_BENCH_1G)
	TRACEHOP_BENCH_PCAP=$(CURDIR)/$(CAPTURE_BENCH_1G) $(GO) test -run '^$$' -bench . -benchtime 3x ./forensics/capture
	$(GO) test -run '^$$' -bench 'FlowJSON|AppendJSONString' -benchmem ./forensics/capture
	$(GO) test -run '^$$' -bench 'FlowSorter' -benchtime 3x -benchmem ./cmd/tracehop

# The scan stays within the flow cap and the memory bound.
capture-scan-check: $(CAPTURE_BENCH_SCAN)
	TRACEHOP_BENCH_SCAN=$(CURDIR)/$(CAPTURE_BENCH_SCAN) $(GO) test -count=1 -v -run '^TestBenchScanMemory$$' ./forensics/capture

# analyze-scan-bench: `tracehop analyze --no-enrich` (the whole bundle) on
# the scan capture: time and peak RSS (the helper's lines columns mean
# nothing for a capture). Flows are spooled on disk
# (forensics/analyze/spooledflows.go); what grows is one entry per address.
analyze-scan-bench: build $(CAPTURE_BENCH_SCAN)
	@mkdir -p $(LOGS_BENCH_DIR); $(LOGS_MEASURE); echo "== analyze, scan capture: $$(nproc) cores"; out=$$(mktemp -d); \
	measure "tracehop analyze --no-enrich, scan" $(CAPTURE_BENCH_SCAN) ./$(BIN) analyze --no-enrich -q --out $$out/b $(CAPTURE_BENCH_SCAN); \
	du -sh $$out/b; rm -rf $$out $(LOGS_BENCH_DIR)/.time $(LOGS_BENCH_DIR)/.stderr

fuzz-smoke::
	@for f in $(CAPTURE_FUZZ); do \
		$(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(CAPTURE_FUZZTIME) -fuzzminimizetime 0s -parallel 1 ./forensics/capture || exit 1; \
	done

# The long run of the issue: 10 minutes per target.
capture-fuzz-long:
	@for f in $(CAPTURE_FUZZ); do \
		$(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime 10m -parallel 1 ./forensics/capture || exit 1; \
	done
