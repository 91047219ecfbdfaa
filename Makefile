# The README's front door: `make demo` and `make test` each work alone on a fresh clone.
SHELL := /bin/bash
NODE_MODULES := node_modules/.package-lock.json

.PHONY: install build test demo manifests bench bench-scale soak chaos e2e clean typecheck tools image

install: $(NODE_MODULES)

$(NODE_MODULES): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# One build, defined in package.json's "build" script (the Dockerfile runs the same): the server
# (tsconfig.build.json), the dashboard's browser modules (tsconfig.web.json) with its page and
# stylesheet, served at /assets/, and dist/cli/main.js made executable, as kubectl runs plugins
# (kubectl-trafficshift -> dist/cli/main.js).
build: install
	npm run -s build

typecheck: install
	npx tsc -p tsconfig.json --noEmit

# Debian's prometheus and alertmanager, for the metric-gate and alert tests (skip loudly without).
tools:
	@bash scripts/ensure-prometheus.sh

test: install typecheck tools build
	@mkdir -p .tmp
	npx jest --json --outputFile=.tmp/jest-results.json

# The end-to-end suite. With TRAFFICSHIFT_E2E_KUBECONFIG set it runs against that cluster.
e2e: install build
	npx jest test/e2e

demo: build
	node dist/demo/main.js

# The CRD is generated from the zod schema; Helm installs its own copy from the chart's crds/.
# Helm reads no file outside the chart, so it also ships copies of the alert rules and dashboard.
manifests: build
	node dist/cli/main.js crd > manifests/crd.yaml
	cp manifests/crd.yaml charts/trafficshift/crds/migrationplans.trafficshift.io.yaml
	cp monitoring/rules.yaml charts/trafficshift/files/alert-rules.yaml
	cp monitoring/grafana-dashboard.json charts/trafficshift/files/grafana-dashboard.json

bench: build
	node dist/bench/main.js

# The controller alone at N plans, the API server in a process of its own (or KUBECONFIG_FILE).
PLANS ?= 100 1000
bench-scale: build
	node dist/bench/scale.js --plans "$(PLANS)" $(if $(KUBECONFIG_FILE),--kubeconfig $(KUBECONFIG_FILE))

# The soak (src/bench/soak.ts): plans created, promoted, rolled back, retried and deleted in a
# loop against the controller process for DURATION; FAIL (exit 1) when its memory grows steadily
# or open handles keep growing. SOAK_KUBECONFIG runs it on that cluster; writes bench/soak.json.
DURATION ?= 30m
REPORT_EVERY ?= 1m
soak: build
	node dist/bench/soak.js --duration $(DURATION) --report-every $(REPORT_EVERY) $(if $(SOAK_KUBECONFIG),--kubeconfig $(SOAK_KUBECONFIG))

# Chaos (src/bench/chaos.ts): RUNS seeded runs from SEED, each two controller replicas on short
# leases, the leader SIGKILLed KILLS times, one write in five answered 500 or 409 and watches
# ended with 410s, over PLANS plans. FAIL (exit 1) on any weight outside the steps, a write by a
# replica the Lease does not name, a plan that ends wrong or repeats a step, or a plan lost. A
# failing run prints its seed; `make chaos RUNS=1 SEED=<it>` reruns it. make test runs a short one.
RUNS ?= 50
SEED ?= 1
CHAOS_PLANS ?= 20
KILLS ?= 3
chaos: build
	node dist/bench/chaos.js --runs $(RUNS) --seed $(SEED) --plans $(CHAOS_PLANS) --kills $(KILLS)

clean:
	rm -rf dist

IMAGE ?= ghcr.io/trafficshift/trafficshift:$(shell node -p "require('./package.json').version")

# The runtime image (Dockerfile). Needs a running Docker engine; test/repo/image.test.ts checks the
# same file set without one.
image:
	@docker info >/dev/null 2>&1 || { echo "make image: no Docker engine answers here (docker info failed); the Dockerfile's runtime files are checked by test/repo/image.test.ts" >&2; exit 1; }
	docker build -t $(IMAGE) .
