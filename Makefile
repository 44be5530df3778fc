# gslbd build and test targets. `make test` is what CI runs.
GO ?= go
FUZZTIME ?= 60s

.PHONY: all build deb test vet vulncheck fuzz fuzz-smoke flood bench mutation proto demo clean

all: build

build:
	$(GO) build -o bin/gslbd ./cmd/gslbd

# The Debian package (bin/gslbd_<version>_<arch>.deb; docs/operations.md).
deb:
	bash packaging/build-deb.sh bin

demo:
	$(GO) run ./cmd/gslbd

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1)

# Unit and integration tests with the race detector; leak checks run in
# TestMain of the packages that start servers.
test: vet
	$(GO) test -race -timeout 20m ./...

# govulncheck with the vulnerability database from the module proxy
# (.ci/run runs it with the toolchain of go.mod's toolchain line).
vulncheck:
	GOTOOLCHAIN=$${GOTOOLCHAIN:-go1.26.11} bash .ci/vulncheck

# Every fuzz target for FUZZTIME each (default 60 s). Minimisation is capped
# so that a large interesting input does not eat the run.
FUZZMIN ?= 5s
FUZZ_TARGETS = ./internal/cookie:FuzzFind ./internal/location:FuzzReadFile ./internal/dnspolicy:FuzzCompile ./internal/nsconf:FuzzParse ./internal/config:FuzzConfig ./internal/gslb:FuzzServeDNS ./internal/nitro:FuzzRequest ./internal/mep/wire:FuzzFrame ./internal/mep:FuzzAcceptor ./internal/mep:FuzzPeerFrames
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "== $$name ($$pkg) for $(FUZZTIME)"; \
		$(GO) test $$pkg -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMIN); \
	done

# CI's short run counts executions instead of seconds: with a duration, Go's
# fuzz coordinator can fail with "context deadline exceeded" when the time
# runs out while a worker is minimising a new input (seen in CI on FuzzConfig).
# Minimisation is held to 100 runs per new input: at 5 s each, FuzzConfig
# spent minutes at 0 executions a second (BENCHMARKS.md).
fuzz-smoke:
	$(MAKE) fuzz FUZZTIME=100000x FUZZMIN=100x

# TCP under pressure for a minute (make test floods for 5 s): 3,000 silent
# clients reconnecting, a legitimate one answered every time.
flood:
	$(GO) test ./internal/dnsserver -run '^TestTCPSilentFlood$$' -tcp-flood 60s -v -timeout 10m

bench:
	$(GO) test ./internal/gslb -run '^$$' -bench . -benchtime 3s
	bash bench/dns.sh

# Mutation testing with gremlins (pinned in the script), outside `make test`:
# per package, killed / covered mutants and the ones that lived; figures in
# BENCHMARKS.md. PKGS narrows it: make mutation PKGS=internal/zone; WORKERS=2
# runs two mutants at once (monitor, whose tests mostly wait).
mutation:
	WORKERS=$(WORKERS) bash bench/mutation.sh $(PKGS)

# Regenerates the MEP payload code (internal/mep/wire/mep.pb.go, committed)
# with Debian's protoc (apt-get install protobuf-compiler) and
# protoc-gen-go at the version of google.golang.org/protobuf in go.mod.
PROTOC_GEN_GO_VERSION = $(shell $(GO) list -m -f '{{.Version}}' google.golang.org/protobuf)
proto:
	GOBIN=$(CURDIR)/bin $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	cd internal/mep/wire && PATH=$(CURDIR)/bin:$$PATH protoc --go_out=. --go_opt=paths=source_relative mep.proto

clean:
	rm -rf bin bench/out
