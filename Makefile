# tracehop build, test and release targets. Package-specific targets live in
# mk/*.mk (bench-data, bench-peers and fuzz-smoke are double-colon rules that
# each of those files extends).
GO        ?= go
BIN       ?= tracehop
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0-dev)
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
export CGO_ENABLED=0

# How long `make fuzz-smoke` runs each fuzz target (CI uses the default).
FUZZTIME  ?= 5s

# Packages that run work concurrently get the race detector (needs cgo).
RACE_PKGS ?= ./forensics/analyze/... ./forensics/capture/... ./forensics/logs/... ./forensics/casefile/... ./forensics/report/... ./forensics/internal/extsort/... ./enrich/...

.PHONY: fixtures all build test vet fmt-check race cross-windows demo bench bench-data bench-peers fuzz-smoke lint dist clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/tracehop

# ./... skips testdata/, so the fixture generator is named explicitly.
PKGS      := ./... ./testdata/gen/...

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

race:
	CGO_ENABLED=1 $(GO) test -race -count=1 $(RACE_PKGS)

cross-windows:
	GOOS=windows GOARCH=amd64 $(GO) build -o /dev/null ./cmd/tracehop

test: vet fmt-check cross-windows
	$(GO) test -count=1 $(PKGS)
	@if command -v gcc >/dev/null 2>&1; then $(MAKE) --no-print-directory race; else echo "race: no C compiler, skipped"; fi

demo: build
	./$(BIN) analyze testdata/demo --home KR --out tracehop-report

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

bench-data::
	@mkdir -p bench-data

bench-peers::
	@mkdir -p bench-data

# Fuzz runs go through mk/go-fuzz.sh (a Go 1.26 coordinator race, see there);
# the target-specific GO reaches every fuzz-smoke rule and its prerequisites.
fuzz-smoke: REAL_GO := $(GO)
fuzz-smoke: GO := $(CURDIR)/mk/go-fuzz.sh
export REAL_GO

fuzz-smoke::
	@true

lint: vet fmt-check
	@if command -v staticcheck >/dev/null 2>&1; then staticcheck $(PKGS); else echo "lint: staticcheck not installed (go install honnef.co/go/tools/cmd/staticcheck@latest)"; fi

DIST_TARGETS := linux/amd64 linux/arm64 windows/amd64 darwin/arm64
dist:
	@rm -rf dist && mkdir -p dist
	@for t in $(DIST_TARGETS); do \
		os=$${t%/*}; arch=$${t#*/}; ext=; [ $$os = windows ] && ext=.exe; \
		echo "build $$os/$$arch"; \
		GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/tracehop-$$os-$$arch$$ext ./cmd/tracehop || exit 1; \
	done
	cd dist && sha256sum tracehop-* > SHA256SUMS

# Rewrite the committed fixtures and sample case from the generator.
fixtures:
	$(GO) run ./testdata/gen

clean:
	rm -rf $(BIN) dist tracehop-report

-include mk/*.mk
