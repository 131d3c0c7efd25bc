#!/usr/bin/env bash
# Benchmarks for the server spine (BENCHMARKS.md), all in one run on the same input:
#  1. import of a generated N-commit Git repository served by `git daemon`, against
#     `git clone --mirror` of the same source;
#  2. one author remap, against `git filter-repo --mailmap` on a mirror clone;
#  3. 200 concurrent pollers on GET /import (wrk) while two imports run.
# Usage: bench/spine.sh [COMMITS]   (default 20000). Needs a release build.
set -eu -o pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. bench/lib.sh
ensure_packages git:git git-filter-repo:git-filter-repo wrk:wrk
commits=${1:-20000}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
srcimport_release_bin
now() { date +%s.%N; }
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }

git init -q --bare "$work/src/big.git"
python3 bench/gen-git-history.py "$commits" | git -C "$work/src/big.git" fast-import --quiet
git -C "$work/src/big.git" repack -adq
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
git daemon --export-all --base-path="$work/src" --listen=127.0.0.1 --port="$port" --reuseaddr &
until git ls-remote "git://127.0.0.1:$port/big.git" HEAD >/dev/null 2>&1; do sleep 0.1; done
url="git://127.0.0.1:$port/big.git"

t0=$(now); git clone -q --mirror "$url" "$work/mirror.git"; t1=$(now)
clone=$(python3 -c "print($t1-$t0)")

start_server "$work"
wait_complete() { # REPO
    until curl -sf -H "$auth" "$api/repos/$1/import" | grep -q '"status":"complete"'; do sleep 0.02; done
}
t0=$(now)
curl -sf -X PUT -H "$auth" "$api/repos/bench/big/import" -d "{\"vcs\":\"git\",\"vcs_url\":\"$url\"}" >/dev/null
wait_complete bench/big; t1=$(now)
import=$(python3 -c "print($t1-$t0)")

author_id=$(curl -sf -H "$auth" "$api/repos/bench/big/import/authors" | python3 -c 'import json,sys; print([a["id"] for a in json.load(sys.stdin) if a["remote_name"]=="Dev 00"][0])')
t0=$(now)
curl -sf -X PATCH -H "$auth" "$api/repos/bench/big/import/authors/$author_id" -d '{"name":"Mapped Dev","email":"mapped@example.com"}' >/dev/null
until curl -sf -H "$auth" "$api/repos/bench/big/import" | grep -q '"status":"mapping"\|"status":"pushing"'; do
    curl -sf -H "$auth" "$api/repos/bench/big/import" | grep -q '"status":"complete"' && break; done
wait_complete bench/big; t1=$(now)
remap=$(python3 -c "print($t1-$t0)")

printf 'Mapped Dev <mapped@example.com> Dev 00 <dev00@example.com>\n' > "$work/mailmap"
t0=$(now); git -C "$work/mirror.git" filter-repo --quiet --force --mailmap "$work/mailmap"; t1=$(now)
filter_repo=$(python3 -c "print($t1-$t0)")

for r in a b; do
    curl -sf -X PUT -H "$auth" "$api/repos/bench/$r/import" -d "{\"vcs\":\"git\",\"vcs_url\":\"$url\"}" >/dev/null
done
# Keep two imports running for the whole load window: restart each one as it completes.
(end=$(( $(date +%s) + 22 )); restarts=0
 while [ "$(date +%s)" -lt "$end" ]; do
    for r in a b; do
        if curl -sf -H "$auth" "$api/repos/bench/$r/import" | grep -q '"status":"complete"'; then
            curl -sf -X PATCH -H "$auth" "$api/repos/bench/$r/import" >/dev/null; restarts=$((restarts + 1))
        fi
    done
    sleep 0.05
 done; echo "$restarts" > "$work/restarts") &
cargo bench --quiet --locked --bench pollers -- "$api" BENCHTOKEN bench/a 200 10 100 > "$work/pollers.txt"
wrk -t2 -c200 -d10s --latency -H "$auth" "$api/repos/bench/a/import" > "$work/wrk.txt"
wait %3 2>/dev/null || true
while [ ! -f "$work/restarts" ]; do sleep 0.1; done

echo "commits: $commits"
echo "git clone --mirror:        ${clone}s"
echo "srcimport import:          ${import}s   ratio $(ratio "$import" "$clone")x clone"
echo "git filter-repo --mailmap: ${filter_repo}s"
echo "srcimport remap:           ${remap}s   filter-repo/srcimport $(ratio "$filter_repo" "$remap")x"
echo "load while two imports ran ($(cat "$work/restarts") import restarts during the window):"
echo "  paced: $(cat "$work/pollers.txt")"
echo "  saturating (wrk -c200, closed loop):"
grep -E "50%|99%|Requests/sec|requests in|Non-2xx|Socket errors" "$work/wrk.txt" | sed 's/^/    /'
