# forensics/hive: Parquet tables (--format parquet), the stored-event and
# stored-flow decoders, and the binary forms of analyze's event and
# session spools (forensics/analyze).

fuzz-smoke::
	$(GO) test -run '^$$' -fuzz '^FuzzEventRoundTrip$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0s -parallel 1 ./forensics/hive
	$(GO) test -run '^$$' -fuzz '^FuzzReadSessions$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0s -parallel 1 ./forensics/hive
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeEventLine$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0s -parallel 1 ./forensics/analyze
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeFlowLine$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0s -parallel 1 ./forensics/analyze
	$(GO) test -run '^$$' -fuzz '^FuzzEventBin$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0s -parallel 1 ./forensics/analyze
	$(GO) test -run '^$$' -fuzz '^FuzzSessionBin$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0s -parallel 1 ./forensics/analyze
	$(GO) test -run '^$$' -fuzz '^FuzzFlowBin$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0s -parallel 1 ./forensics/analyze
