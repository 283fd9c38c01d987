# install-metrics: `make demo` shows it at work, `make test` runs every test.
# Every tool a target needs is installed, pinned, into the git-ignored bin/.

SHELL        := bash
.SHELLFLAGS  := -eu -o pipefail -c
GO           ?= go
BIN          := $(CURDIR)/bin
VERSION      ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS      := -X github.com/install-metrics/install-metrics/internal/buildinfo.version=$(VERSION)

GOLANGCI_LINT_VERSION   := v2.15.0
PROMETHEUS_VERSION      := v0.316.0
STATSD_EXPORTER_VERSION := v0.28.0
JAEGER_VERSION          := v1.76.0
EASYJSON_VERSION        := v0.9.2

# Tools the tests need: a real Prometheus, promtool, statsd_exporter and Jaeger.
TEST_TOOLS := $(BIN)/prometheus $(BIN)/promtool $(BIN)/statsd_exporter $(BIN)/jaeger

.PHONY: all build build-darwin test nginx test-short lint fmt vet generate generated tidy bench demo fuzz tools clean release release-check

all: build

# Go's build cache decides what to rebuild. Static (CGO_ENABLED=0): one binary
# for every Linux distribution, and no dynamic loader at start-up (~0.7 ms of
# the wrapper's overhead, issue 3; docs/benchmarks.md).
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/install-metrics ./cmd/install-metrics
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/openshift-install-replay ./cmd/openshift-install-replay

# The darwin binaries CI cannot run but must build (go vet for darwin is in
# `vet`). Output discarded; the build cache makes a second run cheap.
# The darwin binaries build and vet (CI runs on Linux; issue 14).
build-darwin:
	CGO_ENABLED=0 GOOS=darwin GOARCH=arm64 $(GO) build -trimpath -o /dev/null ./cmd/install-metrics
	CGO_ENABLED=0 GOOS=darwin GOARCH=amd64 $(GO) build -trimpath -o /dev/null ./cmd/install-metrics
	GOOS=darwin $(GO) vet ./...

# Release archives for linux and darwin on amd64 and arm64, and SHA256SUMS,
# in out/release/ (hack/release: static, -trimpath, no VCS stamp, no build
# id, sorted tar entries owned by 0:0 at SOURCE_DATE_EPOCH, gzip without a
# time stamp). docs/release.md lists what it made.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
release:
	$(GO) run ./hack/release -version $(VERSION) -mtime $(SOURCE_DATE_EPOCH) -out out/release

# Reproducibility: a second release from an empty build cache must give the
# same SHA256SUMS (a cold cache: several minutes). Version and time are
# taken once, so that both runs build the same inputs.
release-check:
	@v='$(VERSION)'; e='$(SOURCE_DATE_EPOCH)'; tmp=$$(mktemp -d); trap 'chmod -R u+w "$$tmp"; rm -rf "$$tmp"' EXIT; \
	$(GO) run ./hack/release -version "$$v" -mtime "$$e" -out out/release; \
	GOCACHE=$$tmp/cache $(GO) run ./hack/release -version "$$v" -mtime "$$e" -out $$tmp/release >/dev/null; \
	diff out/release/SHA256SUMS $$tmp/release/SHA256SUMS && echo ">> release $$v is reproducible: the same SHA256SUMS from a cold build cache"

tools: $(TEST_TOOLS) $(BIN)/golangci-lint

# Pinned tools, built from the Go module proxy. The empty .pin-* files make a
# new pin rebuild the tool. A cold Prometheus build takes several minutes.
$(BIN)/.pin-%:
	@mkdir -p $(BIN) && touch $@

$(BIN)/prometheus: $(BIN)/.pin-prometheus-$(PROMETHEUS_VERSION)
	@echo ">> building prometheus and promtool $(PROMETHEUS_VERSION) into bin/ (cold: several minutes)"
	GOBIN=$(BIN) $(GO) install github.com/prometheus/prometheus/cmd/prometheus@$(PROMETHEUS_VERSION) \
		github.com/prometheus/prometheus/cmd/promtool@$(PROMETHEUS_VERSION)
	@touch $(BIN)/prometheus $(BIN)/promtool

$(BIN)/promtool: $(BIN)/prometheus

$(BIN)/statsd_exporter: $(BIN)/.pin-statsd_exporter-$(STATSD_EXPORTER_VERSION)
	GOBIN=$(BIN) $(GO) install github.com/prometheus/statsd_exporter@$(STATSD_EXPORTER_VERSION)
	@touch $@

# Jaeger v2 (an OpenTelemetry Collector distribution) for the OTLP trace sink's
# end-to-end tests, pinned in its own tools module hack/tools/jaeger (go.mod and
# go.sum committed): a plain `go install ...@version` can stop at the module
# proxy's version list. A cold build takes 11 minutes on an idle 2-CPU machine
# (23 minutes measured while other builds shared it) and makes a 121 MB binary.
$(BIN)/jaeger: $(BIN)/.pin-jaeger-$(JAEGER_VERSION) hack/tools/jaeger/go.mod hack/tools/jaeger/go.sum
	@echo ">> building jaeger $(JAEGER_VERSION) into bin/ (cold: 11 to 25 minutes)"
	@grep -qw 'github.com/jaegertracing/jaeger $(JAEGER_VERSION)' hack/tools/jaeger/go.mod || \
		{ echo "hack/tools/jaeger/go.mod does not pin jaeger $(JAEGER_VERSION): run 'go get -tool github.com/jaegertracing/jaeger/cmd/jaeger@$(JAEGER_VERSION)' there"; exit 1; }
	cd hack/tools/jaeger && CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/jaeger github.com/jaegertracing/jaeger/cmd/jaeger
	@touch $@

$(BIN)/easyjson: $(BIN)/.pin-easyjson-$(EASYJSON_VERSION)
	GOBIN=$(BIN) $(GO) install github.com/mailru/easyjson/easyjson@$(EASYJSON_VERSION)
	@touch $@

$(BIN)/golangci-lint: $(BIN)/.pin-golangci-lint-$(GOLANGCI_LINT_VERSION)
	GOBIN=$(BIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	@touch $@

# Every test, with the race detector, real Prometheus and statsd_exporter
# included. Under CI=true a missing tool fails the test instead of skipping it.
test: $(TEST_TOOLS) nginx build-darwin
	$(GO) test -race -count=1 -timeout 20m ./...

# nginx for e2e/receiving_test.go: Debian's package, installed when missing
# (as root, no prompt). A warm run costs one `nginx -v`.
nginx:
	@if ! nginx -v >/dev/null 2>&1 && ! /usr/sbin/nginx -v >/dev/null 2>&1; then \
		echo ">> installing Debian's nginx package"; \
		if [ "$$(id -u)" != 0 ]; then echo "nginx is missing: run apt-get install nginx as root" >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null; \
	fi

# Unit tests only: no real components (they skip), quick feedback.
test-short:
	$(GO) test -race -short ./...

lint: fmt vet generated $(BIN)/golangci-lint
	$(BIN)/golangci-lint run ./...

# The journal's record types are encoded by generated code (easyjson: no
# reflection in front of the installer's start; pkg/journal/format.go).
# `make generate` rewrites it; `make generated` (part of lint) fails when
# the committed file is not what the generator makes of format.go.
EASYJSON_OUT := pkg/journal/format_easyjson.go
generate: $(BIN)/easyjson
	cd $(dir $(EASYJSON_OUT)) && $(BIN)/easyjson -no_std_marshalers format.go

generated: $(BIN)/easyjson
	@tmp=$$(mktemp); trap 'rm -f "$$tmp"' EXIT; cp $(EASYJSON_OUT) "$$tmp"; \
	$(MAKE) -s generate; \
	cmp -s "$$tmp" $(EASYJSON_OUT) || { echo "$(EASYJSON_OUT) was stale: regenerated it from format.go; commit it"; exit 1; }

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	GOOS=darwin $(GO) vet ./...

tidy:
	$(GO) mod tidy
	git diff --exit-code go.mod go.sum

# Seeded fuzzers, each for a bounded time (FUZZTIME=30s by default).
FUZZTIME ?= 30s
fuzz:
	@set -e; for pkg in ./pkg/stages ./pkg/modification ./cmd/install-metrics/internal/cmdline; do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo ">> $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

# Speed and memory targets of the issues: Go benchmarks and whole-process
# comparisons side by side, hack/bench/compare.sh among them: bin/install-metrics
# against a build of the commit BENCH_BASE. Results: out/bench/<script>.txt
# (compare.txt, wrap.txt, ...), summarised in docs/benchmarks.md.
BENCH_BASE ?= 5b0e1bf
bench: build
	@mkdir -p out/bench
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./pkg/... | tee out/bench/go-bench.txt
	@for s in hack/bench/*.sh; do echo ">> $$s"; BENCH_BASE=$(BENCH_BASE) OPENSHIFT_INSTALL_REPLAY_BIN=$(BIN)/openshift-install-replay bash $$s $(BIN)/install-metrics | tee out/bench/$$(basename $$s .sh).txt; done

# The wrapper around the replay installer for a realistic `create cluster`,
# in a temporary directory, then what it recorded.
demo: build
	@bash hack/demo.sh $(BIN)/install-metrics $(BIN)/openshift-install-replay

clean:
	rm -rf out
