#!/usr/bin/env bash
# Mercurial benchmark (BENCHMARKS.md): a CHANGESETS-changeset repository (made from the
# synthetic Git history with `hg convert`, as ../shared/peers/README.md describes), converted
# by srcimport (PUT /import from a local path → complete; read in place, no clone) and by Mercurial's own
# `hg fastexport | git fast-import`, in the same run. Wall time and peak RSS.
# Usage: bench/hg.sh [CHANGESETS=2000]
set -eu -o pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_packages git:git hg:mercurial
n=${1:-2000}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 HGRCPATH=/dev/null HGPLAIN=1
cargo build --release --locked --quiet
bin=$PWD/target/release/srcimport

git init -q --bare "$work/src.git"
python3 bench/gen-git-history.py "$n" | git -C "$work/src.git" fast-import --quiet
hg --config extensions.convert= convert -q "$work/src.git" "$work/hg" >/dev/null
count=$(hg -R "$work/hg" log -T x | wc -c)

git init -q --bare "$work/peer.git"
t0=$(date +%s.%N)
/usr/bin/time -f "%M" -o "$work/peer.rss" sh -c "hg -R '$work/hg' --config extensions.fastexport= fastexport | git -C '$work/peer.git' fast-import --quiet"
t1=$(date +%s.%N)
peer=$(python3 -c "print(f'{$t1-$t0:.2f}')")

mkdir -p "$work/data"; echo "BENCHTOKEN admin *" > "$work/data/tokens"
"$bin" serve --data-dir "$work/data" --listen 127.0.0.1:0 --allow-local-sources > "$work/server.out" 2>"$work/server.err" &
server=$!
until grep -q "listening on" "$work/server.out" 2>/dev/null; do sleep 0.05; done
api=$(sed -n 's/.*listening on //p' "$work/server.out")
auth="Authorization: token BENCHTOKEN"
t0=$(date +%s.%N)
curl -sf -X PUT -H "$auth" "$api/repos/bench/hg/import" -d "{\"vcs\":\"mercurial\",\"vcs_url\":\"$work/hg\"}" >/dev/null
until curl -sf -H "$auth" "$api/repos/bench/hg/import" | grep -q '"status":"complete"'; do sleep 0.02; done
t1=$(date +%s.%N)
ours=$(python3 -c "print(f'{$t1-$t0:.2f}')")
rss=$(( $(awk '/VmHWM/ {print $2}' /proc/$server/status) / 1024 ))
echo "changesets: $count"
echo "hg fastexport | git fast-import: ${peer}s, peak RSS $(( $(cat "$work/peer.rss") / 1024 )) MiB"
echo "srcimport (PUT → complete; a local source is read in place): ${ours}s, server peak RSS ${rss} MiB"
grep -o 'stage="[a-z]*" elapsed_ms=[0-9]*' "$work/server.err" | sed 's/^/  /'
echo "ratio (peer / srcimport): $(python3 -c "print(f'{$peer/$ours:.2f}')")x"
