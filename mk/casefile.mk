# forensics/casefile: case file storage benchmarks and fuzzing.
#
# make bench-casefile  insert throughput (rows/s wall and per CPU second)
#                      and case size per row for events and flows (README
#                      performance section); nothing to generate, the
#                      records are built in memory. The *Cloned variants
#                      (every record with its own enrichment copy, the
#                      worst case of the enrichment cache) run with
#                      `go test -bench Cloned`.

.PHONY: bench-casefile

bench-casefile:
	$(GO) test -run '^$$' -bench 'Add(Events|Flows)$$' -benchtime 20x -benchmem ./forensics/casefile/

fuzz-smoke::
	$(GO) test -run '^$$' -fuzz '^FuzzKeyReader$$' -fuzztime 15s -fuzzminimizetime 0s -parallel 1 ./forensics/casefile/
	$(GO) test -run '^$$' -fuzz '^FuzzCheckFile$$' -fuzztime 10s -fuzzminimizetime 0s -parallel 1 ./forensics/casefile/
	$(GO) test -run '^$$' -fuzz '^FuzzRecordJSON$$' -fuzztime 15s -fuzzminimizetime 0s -parallel 1 ./forensics/
	$(GO) test -run '^$$' -fuzz '^FuzzEscapeInvisibles$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0s -parallel 1 ./forensics/
	$(GO) test -run '^$$' -fuzz '^FuzzBlockCodec$$' -fuzztime 10s -fuzzminimizetime 0s -parallel 1 ./forensics/casefile/
