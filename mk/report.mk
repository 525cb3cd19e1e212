# forensics/report: embedded world map and report assets.
#
# worldmap: fetch world-atlas (Natural Earth, ISC) with `npm pack` and
# convert countries-110m.json with our own Go code into the compact,
# pre-projected text form the HTML and PDF renderers embed. The output is
# committed; rerun only to change resolution or projection.
WORLDMAP_TMP ?= $(or $(TMPDIR),/tmp)/tracehop-worldmap
WORLD_ATLAS  ?= world-atlas@2.0.2

.PHONY: worldmap report-test report-screenshot

worldmap:
	rm -rf $(WORLDMAP_TMP) && mkdir -p $(WORLDMAP_TMP)
	cd $(WORLDMAP_TMP) && npm pack --silent $(WORLD_ATLAS) && tar xzf world-atlas-*.tgz
	$(GO) run ./forensics/report/internal/mkworldmap -in $(WORLDMAP_TMP)/package/countries-110m.json -out forensics/report/assets/worldmap.txt
	rm -rf $(WORLDMAP_TMP)

# Browser and PDF tests need Debian's chromium and poppler-utils; they skip
# cleanly without them.
report-test:
	$(GO) test -count=1 ./forensics/report/... ./forensics/

# report-screenshot: the map and timeline of the sample report as rendered
# by headless Chromium, for the README.
report-screenshot:
	@mkdir -p docs
	$(GO) test -count=1 -run 'TestHTMLInChromium/normal' ./forensics/report -screenshot $(CURDIR)/docs/report-map.png

fuzz-smoke::
	$(GO) test -run '^$$' -fuzz '^FuzzVisible$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0s -parallel 1 ./forensics/report
	$(GO) test -run '^$$' -fuzz '^FuzzVerify$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0s -parallel 1 ./forensics/report
	$(GO) test -run '^$$' -fuzz '^FuzzRender$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0s -parallel 1 ./forensics/report
	$(GO) test -run '^$$' -fuzz '^FuzzFlatten$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0s -parallel 1 ./forensics/report
	$(GO) test -run '^$$' -fuzz '^FuzzAppendIndented$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0s -parallel 1 ./forensics/report
	$(GO) test -run '^$$' -fuzz '^FuzzCSVShapes$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0s -parallel 1 ./forensics/report

# pdffont: the PDF's Unicode font. Debian's fonts-noto-cjk ships CFF
# outlines (TTC/OTF), which go-pdf/fpdf cannot embed; fonts-nanum's
# NanumGothic is TrueType and covers Latin and Hangul. Subset to Latin,
# punctuation, arrows and Hangul, rename (SIL OFL reserved font name) and
# gzip. Needs: apt-get install fonts-nanum python3-fonttools.
PDFFONT_SRC ?= /usr/share/fonts/truetype/nanum/NanumGothic.ttf
PDFFONT_UNICODES := U+0020-007E,U+00A0-017F,U+2010-2027,U+2030-205E,U+2190-2195,U+2212,U+2022,U+2026,U+20AC,U+1100-11FF,U+3130-318F,U+AC00-D7A3

.PHONY: pdffont
pdffont:
	/usr/bin/python3 -m fontTools.subset $(PDFFONT_SRC) --unicodes="$(PDFFONT_UNICODES)" --no-hinting --layout-features='' \
		--drop-tables+=GSUB,GPOS,GDEF,DSIG,kern --output-file=$(WORLDMAP_TMP)-font.ttf
	/usr/bin/python3 forensics/report/internal/fontname.py $(WORLDMAP_TMP)-font.ttf $(WORLDMAP_TMP)-font2.ttf "Tracehop Sans KR"
	gzip -9 -n -c $(WORLDMAP_TMP)-font2.ttf > forensics/report/assets/tracehop-sans-kr.ttf.gz
	rm -f $(WORLDMAP_TMP)-font.ttf $(WORLDMAP_TMP)-font2.ttf
