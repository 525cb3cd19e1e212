# forensics/hive: Parquet tables (--format parquet), and the spooled-event
# decoder of the events table (forensics/analyze).

fuzz-smoke::
	$(GO) test -run '^$$' -fuzz '^FuzzEventRoundTrip$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0s -parallel 1 ./forensics/hive
	$(GO) test -run '^$$' -fuzz '^FuzzReadSessions$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0s -parallel 1 ./forensics/hive
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeEventLine$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0s -parallel 1 ./forensics/analyze
