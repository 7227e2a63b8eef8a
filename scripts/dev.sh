#!/usr/bin/env bash
# `make dev`: a development key, migrations, sample data, then the mesh in the foreground.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .data
if [ ! -s .data/dev-api-key ]; then
  node -e 'process.stdout.write(require("node:crypto").randomBytes(16).toString("hex"))' > .data/dev-api-key
fi
export MLMESH_API_KEYS="${MLMESH_API_KEYS:-$(cat .data/dev-api-key)}"
export MLMESH_DATA_DIR="${MLMESH_DATA_DIR:-.data}"
# Pages served from this machine on any port may call the Connect port (a browser app in development).
export MLMESH_CORS_ORIGINS="${MLMESH_CORS_ORIGINS:-http://localhost:*,http://127.0.0.1:*}"
KEY=${MLMESH_API_KEYS%%,*}

node dist/cli/main.js migrate
if [ ! -f .data/seeded ]; then
  node dist/cli/main.js seed --sample
  node dist/cli/main.js train match
  node dist/cli/main.js train recommend
  touch .data/seeded
fi

cat <<MSG

ml-mesh (development)
  gRPC     127.0.0.1:${GRPC_PORT:-50051}   (health, reflection: grpcurl -plaintext 127.0.0.1:${GRPC_PORT:-50051} list)
  Connect  http://127.0.0.1:${CONNECT_PORT:-8080}
  REST     http://127.0.0.1:${GATEWAY_PORT:-8000}
  Admin    http://127.0.0.1:${ADMIN_PORT:-9464}/metrics  /healthz  /readyz
  API key  $KEY   (also in .data/dev-api-key)

Try, once it says "mesh started":
  curl -s -X POST http://127.0.0.1:${GATEWAY_PORT:-8000}/forecast/demand -H "authorization: Bearer $KEY" \\
    -H 'content-type: application/json' -d @scripts/samples/forecast-demand.json
  MLMESH_API_KEY=$KEY node dist/cli/main.js call ForecastService.ForecastDemand "\$(cat scripts/samples/forecast-demand.json)"
  MLMESH_API_KEY=$KEY node dist/cli/main.js call JobQueueService.SubmitInferenceJob '{"task": "INFERENCE_TASK_FORECAST_ALL_PRODUCTS"}'
  MLMESH_API_KEY=$KEY node dist/cli/main.js jobs watch <job_id from the line above>
  curl -s -X POST http://127.0.0.1:${GATEWAY_PORT:-8000}/api/ml-matching/prompt-search -H "authorization: Bearer $KEY" \\
    -d '{"prompt": "Looking for hiking enthusiasts", "latitude": 35.68, "longitude": 139.75, "max_distance": 50, "age_range": [25, 35], "limit": 5}'

MSG
# Embedded PGlite opens in one process only: jobs run on a worker inside the mesh.
exec node dist/cli/main.js serve --worker
