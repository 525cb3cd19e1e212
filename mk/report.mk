# forensics/report: embedded world map and report assets.
#
# worldmap: fetch world-atlas (Natural Earth, ISC) with `npm pack` and
# convert countries-110m.json with our own Go code into the compact,
# pre-projected text form the HTML and PDF renderers embed. The output is
# committed; rerun only to change resolution or projection.
WORLDMAP_TMP ?= $(or $(TMPDIR),/tmp)/tracehop-worldmap
WORLD_ATLAS  ?= world-atlas@2.0.2

.PHONY: worldmap report-test report-fuzz

worldmap:
	rm -rf $(WORLDMAP_TMP) && mkdir -p $(WORLDMAP_TMP)
	cd $(WORLDMAP_TMP) && npm pack --silent $(WORLD_ATLAS) && tar xzf world-atlas-*.tgz
	$(GO) run ./forensics/report/internal/mkworldmap -in $(WORLDMAP_TMP)/package/countries-110m.json -out forensics/report/assets/worldmap.txt
	rm -rf $(WORLDMAP_TMP)

# Browser and PDF tests need Debian's chromium and poppler-utils; they skip
# cleanly without them.
report-test:
	$(GO) test -count=1 ./forensics/report/... ./forensics/ -run 'Custody|.'

fuzz-smoke::
	$(GO) test -run '^$$' -fuzz '^FuzzVisible$$' -fuzztime 10s -parallel 1 ./forensics/report
	$(GO) test -run '^$$' -fuzz '^FuzzVerify$$' -fuzztime 10s -parallel 1 ./forensics/report
