# forensics/casefile: case file storage benchmarks and fuzzing.
#
# make bench-casefile  insert throughput (rows/s) and case size per row
#                      for events and flows (README performance section);
#                      nothing to generate, the records are built in memory.

.PHONY: bench-casefile

bench-casefile:
	$(GO) test -run '^$$' -bench 'Add(Events|Flows)$$' -benchtime 20x -benchmem ./forensics/casefile/

fuzz-smoke::
	$(GO) test -run '^$$' -fuzz '^FuzzKeyReader$$' -fuzztime 15s -fuzzminimizetime 0s -parallel 1 ./forensics/casefile/
	$(GO) test -run '^$$' -fuzz '^FuzzCheckFile$$' -fuzztime 10s -fuzzminimizetime 0s -parallel 1 ./forensics/casefile/
