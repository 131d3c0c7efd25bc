#!/usr/bin/env bash
# TFVC benchmark (BENCHMARKS.md): a synthetic history of CHANGESETS changesets
# (`tfvc-fixture-server generate`: Main and Dev, edits/adds/renames/deletes, a merge every
# 50, a label every 500) served by the fixture server with LATENCY_MS of artificial latency
# per request, converted by `srcimport convert` at download parallelism 1 and 8; prints
# changesets per second for each and the speed-up.
# Usage: bench/tfvc.sh [CHANGESETS=5000] [LATENCY_MS=20]
set -eu -o pipefail
cd "$(dirname "$0")/.."
changesets=${1:-5000}
latency=${2:-20}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
cargo build --release --locked --quiet -p srcimport -p tfvc-fixture-server
target=${CARGO_TARGET_DIR:-$PWD/target}
bin=$target/release/srcimport
fixture=$target/release/tfvc-fixture-server
now() { date +%s.%N; }

"$fixture" generate --changesets "$changesets" > "$work/history.json"
for jobs in 1 8; do
    "$fixture" --history "$work/history.json" --latency-ms "$latency" > "$work/fixture.out" &
    server=$!
    until grep -q "listening on" "$work/fixture.out" 2>/dev/null; do sleep 0.05; done
    url="$(sed -n 's/^listening on //p' "$work/fixture.out" | head -1)/DefaultCollection"
    rm -rf "$work/out.git"
    t0=$(now)
    "$bin" convert --vcs tfvc --project Bench --jobs "$jobs" -q "$url" "$work/out.git"
    t1=$(now)
    max=$(curl -s "${url%/DefaultCollection}/_fixture/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["max_concurrent_downloads"])')
    kill "$server"; wait "$server" 2>/dev/null || true
    secs=$(python3 -c "print(f'{$t1-$t0:.1f}')")
    rate=$(python3 -c "print(f'{$changesets/($t1-$t0):.1f}')")
    echo "jobs $jobs: ${secs}s, $rate changesets/s (max concurrent downloads $max)"
    eval "rate_$jobs=$rate"
done
python3 -c "print(f'speed-up 8 vs 1: {$rate_8/$rate_1:.1f}x')"
