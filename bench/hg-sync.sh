#!/usr/bin/env bash
# Mercurial sync benchmark (BENCHMARKS.md): a copy of the CHANGESETS-changeset repository
# bench/hg.sh caches (bench/.cache/hg/CHANGESETS; built by `BUILD_ONLY=1 bench/hg.sh N`) is
# imported from its local path (read in place), then ROUNDS times: one changeset is
# committed to it and `POST /import/sync` runs to `complete`. Prints the first import's
# time and each sync's time and importing stage.
# Usage: bench/hg-sync.sh [CHANGESETS]   (default: 20000)
# Environment: SRCIMPORT_BIN=path (skip the build), ROUNDS (default 3).
set -eu -o pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. bench/lib.sh
ensure_packages git:git hg:mercurial curl:curl
n=${1:-20000}
rounds=${ROUNDS:-3}
cached=$PWD/bench/.cache/hg/$n
[ -f "$cached/.built" ] || { echo "no $cached: run BUILD_ONLY=1 bench/hg.sh $n" >&2; exit 1; }
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 HGRCPATH=/dev/null HGPLAIN=1
srcimport_release_bin
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
cp -a "$cached" "$work/src"
hg -R "$work/src" update -q tip

start_server "$work" --allow-local-sources
import=$api/repos/bench/hgsync/import
# until_complete T0: waits for `complete` (newer than the last one); prints seconds since T0.
until_complete() {
    until curl -sf -H "$auth" "$import" | grep -q '"status":"complete"'; do sleep 0.02; done
    secs "$1" "$(date +%s.%N)"
}
importing_ms() {
    grep 'stage="importing"' "$work/server.err" | tail -1 | grep -o 'elapsed_ms=[0-9]*' | cut -d= -f2
}

t0=$(date +%s.%N)
curl -sf -X PUT -H "$auth" "$import" -d "{\"vcs\":\"mercurial\",\"vcs_url\":\"$work/src\"}" >/dev/null
echo "first import of $n changesets: $(until_complete "$t0")s (importing $(importing_ms) ms)"
for round in $(seq "$rounds"); do
    echo "round $round" >> "$work/src/synced.txt"
    hg -R "$work/src" commit -q -A -u "Bench <bench@example.com>" -d "1700000000 0" -m "sync round $round"
    t0=$(date +%s.%N)
    curl -sf -X POST -H "$auth" "$import/sync" -d '{}' >/dev/null
    # The sync moves the import out of `complete` before answering 202.
    echo "sync of one new changeset: $(until_complete "$t0")s (importing $(importing_ms) ms)"
done
