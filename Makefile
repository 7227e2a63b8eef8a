# ml-mesh. `make dev` starts the mesh on sample data; `make test` runs every check CI runs.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
BIN := node_modules/.bin
TSX := $(BIN)/tsx
export NODE_OPTIONS ?= --enable-source-maps

.PHONY: test-deps install proto-deps generate lint check-gen check-imports check-style format descriptors openapi build typecheck test test-unit \
        dev fleet seed train migrate bench eval-match eval-notify eval-recommend eval-forecast check-helm check-envoy check-rules clean

node_modules/.installed: package.json package-lock.json .npmrc
	npm ci --no-audit --no-fund
	@touch $@

install: node_modules/.installed

# The Debian packages the checks need (PostgreSQL and Redis for the tests' private servers, Go and
# sprig for the Helm renderer, protoc-gen-swagger): installed when root, else the apt-get command is printed.
test-deps:
	@bash scripts/test-deps.sh

# Third-party protos come from npm packages; Buf's registry is out of reach here.
build/proto-deps/.stamp: node_modules/.installed scripts/vendor-protos.ts
	$(TSX) scripts/vendor-protos.ts build/proto-deps
	@touch $@

proto-deps: build/proto-deps/.stamp

generate: proto-deps
	$(BIN)/buf generate

lint: proto-deps
	$(BIN)/buf lint

# gen/ is committed: it must be exactly what `buf generate` writes from proto/ today.
check-gen: proto-deps
	rm -rf build/gen-check
	$(BIN)/buf generate -o build/gen-check
	diff -r gen build/gen-check/gen || { echo "gen/ is stale: run 'make generate' and commit it"; exit 1; }

# The descriptor set that Envoy's transcoder loads.
descriptors: proto-deps
	$(BIN)/buf build -o build/mlmesh.binpb

# OpenAPI of the REST surface (protoc-gen-swagger from Debian's golang-grpc-gateway), served at /openapi.json.
openapi: proto-deps
	rm -rf build/openapi
	$(BIN)/buf generate --template buf.gen.openapi.yaml 2>&1 | { grep -v -e 'proto3 optional' -e '_service.proto' -e 'does not support' || true; }
	$(TSX) scripts/openapi.ts build/openapi/parts build/openapi/mlmesh.swagger.json

build: install
	$(BIN)/tsc -p tsconfig.build.json
	$(TSX) scripts/word-vectors.ts
	chmod +x dist/cli/main.js
	$(BIN)/tsc -p clients/node/tsconfig.json
	$(BIN)/tsc -p clients/web/tsconfig.json

typecheck: install
	$(BIN)/tsc -p tsconfig.json --noEmit
	$(BIN)/tsc -p clients/node/tsconfig.json --noEmit
	$(BIN)/tsc -p clients/web/tsconfig.json --noEmit

# The areas stand side by side: an area reaches another only through its index.ts, runtime/ imports
# no area (the rules are in the script).
check-imports: install
	$(TSX) scripts/check-imports.ts

# Biome: the formatter and the linter (biome.json). `make format` rewrites what `check-style` reports.
check-style: install
	$(BIN)/biome check --error-on-warnings .

format: install
	$(BIN)/biome check --write .

# Starts its own PostgreSQL and Redis (test/support/global-setup.ts) and stops them at the end;
# TEST_DATABASE_URL and TEST_REDIS_URL point it at servers of your own instead.
test-unit: test-deps install
	$(BIN)/vitest run

eval-notify: install
	$(TSX) services/notify/eval/main.ts

eval-match: install
	$(TSX) services/match/eval/main.ts

.PHONY: eval-search
eval-search: install
	$(TSX) services/match/eval/search/main.ts $(if $(MARKDOWN),--markdown $(MARKDOWN))

eval-recommend: install
	$(TSX) services/recommend/eval/main.ts

# The Helm chart rendered by Helm's engine (Go text/template + sprig, built offline) and checked
# against values.schema.json and Kubernetes' schemas.
check-helm: install
	$(TSX) scripts/check-helm.ts

# Envoy's config decoded strictly into Envoy's own Bootstrap message (API protos from
# @grpc/grpc-js-xds), its transcoder's services checked against the current descriptor set.
check-envoy: descriptors
	$(TSX) scripts/check-envoy.ts

# The alert rules (deploy/prometheus/alert-rules.yml): promtool's check of the Prometheus config and the
# rules it loads, promtool's unit tests of every alert, and the Helm chart's copy equal to compose's.
check-rules: test-deps
	promtool check config deploy/prometheus/prometheus.yml
	cd deploy/prometheus && promtool test rules alert-rules.test.yml
	cmp deploy/prometheus/alert-rules.yml helm/mlmesh/files/alert-rules.yml || { echo "helm/mlmesh/files/alert-rules.yml differs from deploy/prometheus/alert-rules.yml: copy it"; exit 1; }

# Synthetic data: `make seed` (10,000 travellers), `make seed TRAVELLERS=1000000`.
seed: build
	node dist/cli/main.js seed --travellers $(or $(TRAVELLERS),10000)

train: build
	node dist/cli/main.js train match
	node dist/cli/main.js train recommend

eval-forecast: install
	$(TSX) services/forecast/eval/main.ts $(if $(MARKDOWN),--markdown $(MARKDOWN))

test: test-deps install lint check-gen descriptors openapi typecheck build check-style check-imports check-helm check-envoy check-rules test-unit eval-match eval-search eval-notify eval-recommend eval-forecast

migrate: build
	node dist/cli/main.js migrate

dev: install proto-deps descriptors build
	@if command -v protoc-gen-swagger >/dev/null; then $(MAKE) --no-print-directory openapi; else echo "protoc-gen-swagger not installed (apt-get install golang-grpc-gateway): no /openapi.json"; fi
	@bash scripts/dev.sh

# A local fleet: FLEET_REPLICAS (3) mesh replicas and FLEET_WORKERS (2) workers behind HAProxy (scripts/fleet/),
# on DATABASE_URL/REDIS_URL or the machine's 127.0.0.1:5432 (database mlmesh_fleet) and 6379 (prefix fleet).
fleet: build
	@command -v haproxy >/dev/null || { echo "make fleet puts HAProxy in front: apt-get install haproxy"; exit 1; }
	node dist/scripts/fleet/main.js

bench: build descriptors
	@command -v h2load >/dev/null || { echo "make bench drives load with h2load: apt-get install nghttp2-client"; exit 1; }
	@command -v haproxy >/dev/null || { echo "make bench's fleet section puts HAProxy in front: apt-get install haproxy"; exit 1; }
	mkdir -p build/bench
	$(MAKE) --no-print-directory eval-forecast MARKDOWN=build/bench/forecast.md
	node dist/bench/forecast-e2e.js --markdown build/bench/forecast-e2e.md
	$(MAKE) --no-print-directory eval-search MARKDOWN=build/bench/search.md
	node dist/bench/jobs.js --markdown build/bench/jobs.md
	node dist/bench/notify-delivery.js --markdown build/bench/notify-delivery.md
	node dist/bench/soak.js --markdown build/bench/soak.md
	node dist/bench/ways-in.js --markdown build/bench/ways-in.md
	node dist/bench/startup.js --markdown build/bench/startup.md
	node dist/bench/fleet.js --markdown build/bench/fleet.md
	node dist/bench/main.js --out BENCHMARKS.md --sections build/bench

clean:
	rm -rf build dist
