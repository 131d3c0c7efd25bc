#!/usr/bin/env bash
# LFS benchmark (BENCHMARKS.md), one run, same input for both tools:
#  - the peers' fixture: COMMITS commits, two files of BIG_MB MiB each written twice
#    (../shared/peers/make-lfs-fixture.sh);
#  - `git lfs migrate import --above=100MiB --everything` on a clone of it, against
#    srcimport's opt_in rewrite (PATCH /import/lfs until complete) of the same history;
#  - wall time and peak RSS (srcimport: the server's VmHWM over the whole run, and the
#    largest child process).
# Then a single 300 MB file through import and opt_in, for peak memory.
# Usage: bench/lfs.sh [COMMITS=200] [BIG_MB=115]
set -eu -o pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. bench/lib.sh
ensure_packages git:git git-lfs:git-lfs
commits=${1:-200}
big_mb=${2:-115}
shared=${SRCIMPORT_SHARED:-$(cd .. && pwd)/shared}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
srcimport_release_bin
now() { date +%s.%N; }

bash "$shared/peers/make-lfs-fixture.sh" "$work/fixture" "$commits" 2 "$big_mb" >/dev/null
git clone -q --bare "$work/fixture" "$work/source.git"

# Peer: git lfs migrate on a fresh clone.
git clone -q "$work/source.git" "$work/peer"
( cd "$work/peer" && git lfs install --local >/dev/null )
t0=$(now)
/usr/bin/time -f "%M" -o "$work/peer.rss" git -C "$work/peer" lfs migrate import --above=100MiB --everything >/dev/null 2>&1
t1=$(now)
peer_time=$(python3 -c "print(f'{$t1-$t0:.2f}')")
peer_rss=$(( $(cat "$work/peer.rss") / 1024 ))

start_server "$work" --allow-local-sources
wait_complete() { until curl -sf -H "$auth" "$api/repos/$1/import" | grep -q '"status":"complete"'; do sleep 0.02; done; }
# Peak RSS (VmHWM) of each descendant process of the server, by command line, in MiB.
watch_children() {
    : > "$work/children.rss"
    while [ ! -f "$work/stop-watch" ]; do
        for pid in $(ps -e -o pid= -o pgid= -o ppid= | awk -v s="$server" '$3==s || $2!=$1 {print $1}'); do
            [ "$pid" = "$server" ] && continue
            if grep -qs "^PPid:" "/proc/$pid/status"; then
                rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null)
                cmd=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | cut -c1-60)
                case "$cmd" in *git*) echo "${rss:-0} $cmd" >> "$work/children.rss" ;; esac
            fi
        done
        sleep 0.05
    done
}

curl -sf -X PUT -H "$auth" "$api/repos/bench/lfs/import" -d "{\"vcs\":\"git\",\"vcs_url\":\"file://$work/source.git\"}" >/dev/null
wait_complete bench/lfs
t0=$(now)
curl -sf -X PATCH -H "$auth" "$api/repos/bench/lfs/import/lfs" -d '{"use_lfs":"opt_in"}' >/dev/null
wait_complete bench/lfs
t1=$(now)
ours_time=$(python3 -c "print(f'{$t1-$t0:.2f}')")
ours_rss=$(( $(awk '/VmHWM/ {print $2}' /proc/$server/status) / 1024 ))

# One 300 MB file: import + opt_in, peak memory of the server and of its git children.
mkdir -p "$work/one" && cd "$work/one" && git init -q -b main . && head -c 314572800 /dev/urandom > big.bin \
    && git add big.bin && git -c user.name=b -c user.email=b@x commit -q -m big && cd - >/dev/null
rm -f "$work/stop-watch"; watch_children & watcher=$!
curl -sf -X PUT -H "$auth" "$api/repos/bench/one/import" -d "{\"vcs\":\"git\",\"vcs_url\":\"file://$work/one\",\"use_lfs\":\"opt_in\"}" >/dev/null
wait_complete bench/one
touch "$work/stop-watch"; wait $watcher
server_rss_300=$(( $(awk '/VmHWM/ {print $2}' /proc/$server/status) / 1024 ))

echo "input: $commits commits, 2 files of $big_mb MiB each written twice"
echo "git lfs migrate import --above=100MiB --everything: ${peer_time}s, peak RSS ${peer_rss} MiB"
echo "srcimport opt_in rewrite (PATCH /import/lfs → complete): ${ours_time}s, server peak RSS ${ours_rss} MiB (whole run)"
echo "ratio (git lfs migrate / srcimport): $(python3 -c "print(f'{$peer_time/$ours_time:.2f}')")x"
echo "300 MB file, import with opt_in: server peak RSS ${server_rss_300} MiB; git processes' peak RSS:"
sort -n -r "$work/children.rss" | awk '!seen[$2 $3 $4 $5]++ {printf "  %5d MiB  %s\n", $1/1024, substr($0, index($0, " ")+1)}' | head -6
