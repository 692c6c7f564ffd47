# tierwall: zero-trust NetworkPolicies at render time.
# `make help` lists the targets.

SHELL        := /usr/bin/env bash
GO           ?= go
BIN          := $(CURDIR)/bin
TOOLS        := $(CURDIR)/.bin
# What the binaries say (tierwall version): the tag, or 0.0.0-dev+<commit> for a
# tree without one, and the commit; scripts/version.sh reads both from git.
ifndef VERSION
VERSION      := $(shell scripts/version.sh)
endif
ifndef COMMIT
COMMIT       := $(shell scripts/version.sh commit)
endif
LDFLAGS      := -s -w -X github.com/tierwall/tierwall/pkg/version.Version=$(VERSION) \
	-X github.com/tierwall/tierwall/pkg/version.Commit=$(COMMIT)
GOBUILD      := CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)'
# The Helm 4 plugin folder; `make plugin PLATFORMS=all` adds every OS/arch.
PLUGIN_DIR   := $(CURDIR)/dist/helm-plugin
PLATFORMS    ?=
# The KRM function image and the Argo CD plugin sidecar image (make image); the examples
# run tierwall:dev. IMAGE_PLATFORMS=linux/amd64 linux/arm64 makes each a manifest list (podman).
IMAGE        ?= tierwall:dev
CMP_IMAGE    ?= tierwall-argocd-cmp:dev
# The tierwall verify image (make verify-image): tierwall-verify, the enforcers, kube-apiserver and etcd.
VERIFY_IMAGE ?= tierwall-verify:dev
IMAGE_PLATFORMS ?=
# make release: the platforms, and the folder the artifacts go to.
RELEASE_PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
RELEASE_DIR  ?= $(CURDIR)/dist/release/$(VERSION)

# The real binaries the end-to-end tests drive; scripts/tools.sh installs them.
export TIERWALL_BIN_DIR := $(TOOLS)
# DOCKER is the docker CLI kustomize runs container functions with: the podman
# shim scripts/tools.sh writes (set DOCKER=$$(command -v docker) to use Docker).
E2E_ENV := TIERWALL_E2E=1 TIERWALL_BIN=$(BIN) KUSTOMIZE=$(TOOLS)/kustomize \
	HELM3=$(TOOLS)/helm HELM4=$(TOOLS)/helm4 KUBECTL=$${KUBECTL:-$$(command -v kubectl)} \
	TIERWALL_HELM_PLUGIN=$(PLUGIN_DIR) DOCKER=$${DOCKER:-$(TOOLS)/docker} \
	KUBE_APISERVER=$(TOOLS)/kube-apiserver ETCD=$(TOOLS)/etcd CILIUM_CRDS=$(TOOLS)/cilium-crds \
	KUBE_NETWORK_POLICIES=$(TOOLS)/kube-network-policies KUBE_ROUTER=$(TOOLS)/kube-router \
	KPT=$${KPT:-$$(command -v kpt)} KREW=$(TOOLS)/krew BUSYBOX=$(TOOLS)/busybox
# (kpt cannot be installed from the Go proxy: the kpt tests run it only where one is on PATH.)

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## build bin/tierwall (KRM function, CLI), bin/tierwall-postrender (Helm) and the Helm 4 plugin folder, static
	@mkdir -p $(BIN)
	$(GOBUILD) -o $(BIN)/tierwall ./fn/tierwall
	$(GOBUILD) -o $(BIN)/tierwall-postrender ./postrender/tierwall-postrender
	@COMMIT=$(COMMIT) VERSION=$(VERSION) PREBUILT=$(BIN)/tierwall-postrender scripts/plugin.sh $(PLUGIN_DIR)

.PHONY: plugin
plugin: ## build the Helm 4 plugin folder dist/helm-plugin (PLATFORMS=all: every OS/arch in plugin.yaml)
	COMMIT=$(COMMIT) VERSION=$(VERSION) scripts/plugin.sh $(PLUGIN_DIR) $(PLATFORMS)

.PHONY: image
image: ## build the KRM function image (IMAGE=tierwall:dev) and the Argo CD plugin sidecar (CMP_IMAGE=tierwall-argocd-cmp:dev) offline with podman or Docker
	scripts/tools.sh kustomize helm3 busybox
	COMMIT=$(COMMIT) VERSION=$(VERSION) PLATFORMS="$(IMAGE_PLATFORMS)" scripts/image.sh $(IMAGE)
	COMMIT=$(COMMIT) VERSION=$(VERSION) PLATFORMS="$(IMAGE_PLATFORMS)" scripts/image.sh --argocd-cmp $(CMP_IMAGE)

.PHONY: release
release: ## binaries, Helm 4 plugin and krew archives per platform, image archives, SBOM, SHA256SUMS in dist/release/VERSION (SIGNING_KEY=gpg key to sign)
	COMMIT=$(COMMIT) VERSION=$(VERSION) PLATFORMS="$(RELEASE_PLATFORMS)" scripts/release.sh $(RELEASE_DIR)

.PHONY: bench
bench: ## whole-process benchmark against a do-nothing kyaml function (dist/bench/results.txt), then the Go benchmarks
	scripts/bench.sh
	$(GO) test -run XXX -bench . -benchmem -count 3 ./pkg/stream ./pkg/inject ./pkg/analysis ./pkg/cli | tee dist/bench/go-bench.txt

.PHONY: tools
tools: ## install the pinned kustomize, Helm 3, Helm 4, podman (+ docker shim), kube-apiserver, etcd and the NetworkPolicy enforcers the tests drive (.bin/, cached)
	scripts/tools.sh
	scripts/apiserver.sh build
	scripts/enforcers.sh

# Fuzz targets: package and function. FUZZTIME is per target.
FUZZ_TARGETS := ./pkg/stream:FuzzStream ./pkg/stream:FuzzFastReader ./pkg/api/v1alpha1:FuzzLoad ./pkg/analysis:FuzzAnalysis ./pkg/cli:FuzzFunction
FUZZTIME     ?= 10m

.PHONY: test
test: tools build vet lint ## install the tools, then lint, run unit, golden and end-to-end tests, and a short fuzz pass
	$(E2E_ENV) $(GO) test -tags e2e -race -count=1 -timeout 40m ./...
	$(E2E_ENV) $(GO) test -tags verify -count=1 -run TestVerifyCommand ./pkg/cli
	$(MAKE) --no-print-directory fuzz FUZZTIME=10s

.PHONY: verify-bin
verify-bin: ## build bin/tierwall-verify: tierwall with the verify command (real enforcers; needs root)
	@mkdir -p $(BIN)
	$(GOBUILD) -tags verify -o $(BIN)/tierwall-verify ./fn/tierwall

.PHONY: verify-image
verify-image: ## build the tierwall verify image (VERIFY_IMAGE=tierwall-verify:dev) offline with podman or Docker: run it with --privileged
	scripts/tools.sh busybox
	scripts/apiserver.sh build
	scripts/enforcers.sh
	COMMIT=$(COMMIT) VERSION=$(VERSION) scripts/verify-image.sh $(VERIFY_IMAGE)

.PHONY: fuzz
fuzz: ## run each fuzz target for FUZZTIME (default 10m; make test runs 10s each)
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t#*:} ($${t%%:*}) for $(FUZZTIME)"; \
		$(GO) test -run XXX -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) $${t%%:*}; \
	done

.PHONY: unit
unit: ## run the tests that need no external binary
	$(GO) test -race ./...

.PHONY: golden
golden: ## rewrite the golden files under testdata/ (review the diff!)
	UPDATE_GOLDEN=1 $(GO) test -count=1 ./pkg/... -run Golden
	@git status --short testdata/

.PHONY: e2e
e2e: tools build ## run the end-to-end tests against the real kustomize, kubectl and Helm
	$(E2E_ENV) $(GO) test -tags e2e -count=1 -timeout 40m ./pkg/internal/e2e/...

.PHONY: demo
demo: build ## run the three-tier example through the real kustomize: the policies, then who can reach whom
	@scripts/tools.sh kustomize
	@echo "# kustomize build --enable-alpha-plugins --enable-exec examples/three-tier  (generated policies)"
	@$(TOOLS)/kustomize build --enable-alpha-plugins --enable-exec examples/three-tier \
		| awk 'BEGIN{RS="---\n"; ORS=""} /managed-by: tierwall/ {print "---\n" $$0}'
	@echo
	@echo "# ... | tierwall report -o markdown  (connectivity table and Mermaid graph)"
	@$(TOOLS)/kustomize build --enable-alpha-plugins --enable-exec examples/three-tier \
		| $(BIN)/tierwall report -o markdown --config examples/three-tier/tierwall.yaml
	@echo "# ... | tierwall check"
	@$(TOOLS)/kustomize build --enable-alpha-plugins --enable-exec examples/three-tier \
		| $(BIN)/tierwall check --config examples/three-tier/tierwall.yaml

.PHONY: lint
lint: ## golangci-lint (pinned; .golangci.yml: errorlint, gosec, revive, testifylint, staticcheck ...)
	scripts/lint.sh

.PHONY: vet
vet: ## go vet and a gofmt check
	$(GO) vet -tags e2e,verify ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi

.PHONY: verify
verify: vet test ## everything CI checks

.PHONY: clean
clean: ## remove built binaries (keeps the cached tools in .bin/)
	rm -rf $(BIN) dist
