#!/usr/bin/env bash
# API fuzzing: schemathesis (PyPI, pinned in .ci/fuzz-requirements.txt) runs every check of the OpenAPI document,
# in every phase (examples, coverage, fuzzing, stateful), against the local runtime this script starts on a free
# port and stops afterwards. What is left out, and why, is listed in docs/operations.md (API fuzzing) and in .ci/schemathesis.toml.
# Knobs: ORDERLINE_FUZZ_MAX_EXAMPLES (per operation and phase), ORDERLINE_FUZZ_WORKERS, ORDERLINE_FUZZ_SEED (a failing
# run prints its seed; pass it back to replay), ORDERLINE_FUZZ_VENV.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=.ci/venv.sh
. .ci/venv.sh
venv="${ORDERLINE_FUZZ_VENV:-.ci/.venv-fuzz}"
ci_venv "$venv" .ci/fuzz-requirements.txt "the API fuzzer"
"$venv/bin/st" --version

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
base="http://127.0.0.1:$port"
log="$(mktemp -t orderline-fuzz-runtime.XXXXXX)"
# Its own process group (set -m), so stopping it stops npm, tsx, node and DynamoDB Local together. The fuzzer
# creates suppliers with drawn endpoint URLs and dispatches relays to them: every call leaving this machine goes to a
# proxy that refuses it (Node's NODE_USE_ENV_PROXY), so no drawn host is contacted and each attempt fails at once
# with the documented 502 RELAY_SEND_FAILED; the runtime's own calls to 127.0.0.1 go direct.
set -m
NODE_USE_ENV_PROXY=1 HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.1,localhost \
  ORDERLINE_SUPPLIER_TIMEOUT_MS=2000 ORDERLINE_SUPPLIER_RETRY_DELAY_MS=10 \
  PORT="$port" ORDERLINE_LOG_LEVEL="${ORDERLINE_LOG_LEVEL:-WARN}" POWERTOOLS_LOG_LEVEL=ERROR POWERTOOLS_METRICS_DISABLED=true \
  npm run --silent dev >"$log" 2>&1 &
runtime=$!
set +m
stop_runtime() {
  if kill -0 "$runtime" 2>/dev/null; then
    kill -TERM -- "-$runtime" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$runtime" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$runtime" 2>/dev/null || true
  fi
  rm -f "$log"
}
trap stop_runtime EXIT

healthy() { node -e 'fetch(process.argv[1] + "/health").then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$base"; }
for _ in $(seq 1 120); do
  healthy && break
  kill -0 "$runtime" 2>/dev/null || { echo "the local runtime exited before it was ready:"; cat "$log"; exit 1; }
  sleep 0.5
done
healthy || { echo "the local runtime did not answer /health within 60 s:"; tail -50 "$log"; exit 1; }
echo "local runtime ready at $base"

seed="${ORDERLINE_FUZZ_SEED:-$RANDOM$RANDOM}"
echo "schemathesis seed: $seed (replay: ORDERLINE_FUZZ_SEED=$seed .ci/fuzz-api.sh)"
# Hypothesis keeps its own state in .hypothesis under the working directory: keep it under .ci/ too (ignored).
# Schemathesis closes with pytest-style "=== 1 failure in 62s ===" banners; they are rewritten to "--- ... ---" so
# that whatever reads the CI log takes its test counts from the suite's own closing line, not from the fuzzer's.
set +e
HYPOTHESIS_STORAGE_DIRECTORY=.ci/.hypothesis "$venv/bin/st" --config-file .ci/schemathesis.toml run "$base/openapi.json" \
  --url "$base" \
  --checks all \
  --exclude-checks ignored_auth \
  --max-examples "${ORDERLINE_FUZZ_MAX_EXAMPLES:-60}" \
  --workers "${ORDERLINE_FUZZ_WORKERS:-2}" \
  --seed "$seed" \
  --generation-database none \
  --no-color \
  --output-truncate true 2>&1 | sed -E 's/^=+ (.*) =+$/--- \1 ---/'
status=${PIPESTATUS[0]}
set -e
if [[ $status -ne 0 ]]; then
  echo "--- last lines of the local runtime's log"
  tail -40 "$log"
fi
exit "$status"
