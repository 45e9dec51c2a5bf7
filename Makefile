# bluegreen: make demo | make test. Everything else is a step of those two.
SHELL := /usr/bin/env bash -o errexit -o pipefail -o nounset
.DEFAULT_GOAL := help

BIN := $(CURDIR)/bin
# test/cluster finds the control plane binaries here.
export BLUEGREEN_BIN_DIR := $(BIN)
GO_TEST_FLAGS ?= -count=1 -timeout 30m

.PHONY: help
help: ## Show the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

.PHONY: demo
demo: controlplane prometheus build ## Release an example application twice (a good build, a failing one) on a local cluster, with analysis and Slack.
	go run ./test/demo

.PHONY: test
test: controlplane prometheus verify-generated vet ## Every test, unit to end-to-end (builds the control plane if missing).
	go test $(GO_TEST_FLAGS) ./...

.PHONY: bench
bench: controlplane ## Benchmark the operator with 100, 500 and 1,000 Rollouts updated at once (not part of make test).
	go run ./test/bench -n $(or $(N),100,500,1000) -json bench.json

.PHONY: build
build: ## Build the manager and the kubectl plugin into bin/.
	CGO_ENABLED=0 go build -trimpath -o $(BIN)/ ./cmd/manager ./cmd/kubectl-bluegreen

.PHONY: generate
generate: ## Generate deepcopy code.
	go tool controller-gen object:headerFile=hack/boilerplate.go.txt paths=./api/...

.PHONY: manifests
manifests: ## Generate the CRDs and RBAC under config/.
	go tool controller-gen crd:generateEmbeddedObjectMeta=true rbac:roleName=bluegreen-manager-role paths=./api/... paths=./controllers/... \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac
	go build -o $(BIN)/trimcrd ./hack/trimcrd
	$(BIN)/trimcrd config/crd/bases/rollouts.bluegreen.dev_rollouts.yaml spec.template
	cp config/crd/bases/*.yaml charts/bluegreen/crds/
	cp config/rbac/role.yaml charts/bluegreen/files/manager-role.yaml

.PHONY: verify-generated
verify-generated: ## Fail when generated files are stale.
	hack/verify-generated.sh

.PHONY: vet
vet: ## go vet and gofmt.
	go vet ./...
	@out=$$(git ls-files --cached --others --exclude-standard '*.go' | xargs -r ls -d 2>/dev/null | xargs -r gofmt -l); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

.PHONY: controlplane
controlplane: ## Build etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl and kwok into bin/ (skipped when up to date).
	hack/controlplane/build.sh $(BIN)

.PHONY: prometheus
prometheus: ## Build Prometheus (pinned in hack/prometheus) into bin/ for the analysis tests and the demo (skipped when up to date).
	hack/prometheus/build.sh $(BIN)

.PHONY: clean
clean: ## Remove bin/.
	rm -rf $(BIN)
