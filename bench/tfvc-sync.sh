#!/usr/bin/env bash
# TFVC sync benchmark (BENCHMARKS.md): a synthetic history of CHANGESETS changesets
# (`tfvc-fixture-server generate`, as bench/tfvc.sh) served with LATENCY_MS of latency per
# request is imported through the API (PUT → `complete`); then ROUNDS times one changeset
# (a new file on Main) is appended (`PUT /_fixture/history`) and `POST /import/sync` runs
# to `complete`. Prints the first import's time and each sync's time, importing stage and
# the requests it made.
# Usage: bench/tfvc-sync.sh [CHANGESETS=2000] [LATENCY_MS=20]
# Environment: SRCIMPORT_BIN, FIXTURE_BIN (skip the build), ROUNDS (default 3).
set -eu -o pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. bench/lib.sh
ensure_packages git:git curl:curl
changesets=${1:-2000}
latency=${2:-20}
rounds=${ROUNDS:-3}
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
target=${CARGO_TARGET_DIR:-$PWD/target}
if [ -z "${SRCIMPORT_BIN:-}" ] || [ -z "${FIXTURE_BIN:-}" ]; then
    cargo build --release --locked --quiet -p srcimport -p tfvc-fixture-server
fi
bin=$(realpath "${SRCIMPORT_BIN:-$target/release/srcimport}")
fixture=$(realpath "${FIXTURE_BIN:-$target/release/tfvc-fixture-server}")
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

"$fixture" generate --changesets "$changesets" > "$work/history.json"
"$fixture" --history "$work/history.json" --latency-ms "$latency" > "$work/fixture.out" &
until grep -q "listening on" "$work/fixture.out" 2>/dev/null; do sleep 0.05; done
base=$(sed -n 's/^listening on //p' "$work/fixture.out" | head -1)
start_server "$work"
import=$api/repos/bench/tfvcsync/import
until_complete() {
    until curl -sf -H "$auth" "$import" | grep -q '"status":"complete"'; do sleep 0.02; done
    secs "$1" "$(date +%s.%N)"
}
importing_ms() {
    grep 'stage="importing"' "$work/server.err" | tail -1 | grep -o 'elapsed_ms=[0-9]*' | cut -d= -f2
}
requests() { curl -s "$base/_fixture/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])'; }

t0=$(date +%s.%N)
curl -sf -X PUT -H "$auth" "$import" -d "{\"vcs\":\"tfvc\",\"vcs_url\":\"$base/DefaultCollection\",\"tfvc_project\":\"Bench\"}" >/dev/null
echo "first import of $changesets changesets: $(until_complete "$t0")s (importing $(importing_ms) ms)"
for round in $(seq "$rounds"); do
    python3 - "$work/history.json" "$round" <<'PY'
import json, sys
path, round_ = sys.argv[1], int(sys.argv[2])
history = json.load(open(path))
last = history["changesets"][-1]
history["changesets"].append({
    "id": last["id"] + 1, "author": last["author"], "createdDate": last["createdDate"],
    "comment": f"sync round {round_}",
    "changes": [{"path": f"$/Bench/Main/sync-{round_}.txt", "changeType": "add",
                 "content": f"round {round_}\n"}]})
json.dump(history, open(path, "w"))
PY
    curl -sf -X PUT --data-binary @"$work/history.json" "$base/_fixture/history"
    t0=$(date +%s.%N)
    curl -sf -X POST -H "$auth" "$import/sync" -d '{}' >/dev/null
    echo "sync of one new changeset: $(until_complete "$t0")s (importing $(importing_ms) ms, $(requests) requests)"
done
