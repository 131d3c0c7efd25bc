#!/usr/bin/env bash
# Mercurial benchmark (BENCHMARKS.md): a CHANGESETS-changeset repository (made from the
# synthetic Git history with `hg convert`, as ../shared/peers/README.md describes; cached in
# bench/.cache/hg/CHANGESETS), converted in the same run by:
# - srcimport: PUT /import from a local path → `complete` (read in place, no clone), run
#   before and after the others; the faster run is compared;
# - Mercurial's own `hg fastexport | git fast-import`;
# - with PEERS=1, hg-git and git-remote-hg (and `hg fastexport` again) exactly as
#   ../shared/peers/run-hg-peers.sh runs them (it is called; no author map), only up to
#   PEERS_MAX changesets (default 20000; hg-git is slow).
# Prints wall times, peak RSS (srcimport: the server's VmHWM) and ratios peer / srcimport
# (> 1: srcimport is faster).
# Usage: bench/hg.sh [CHANGESETS...]   (default: 2000)
# Environment: SRCIMPORT_BIN=path (skip the build), PEERS=1, PEERS_MAX, BUILD_ONLY=1 (only
#   build the cached inputs).
set -eu -o pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. bench/lib.sh
ensure_packages git:git hg:mercurial curl:curl
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(2000)
peers_dir=${HG_PEERS_DIR:-$PWD/../shared/peers}
[ -d "$peers_dir" ] || peers_dir=/work/shared/peers
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 HGRCPATH=/dev/null HGPLAIN=1

# The inputs are built once per size and cached (bench/.cache/ is gitignored).
for n in "${sizes[@]}"; do
    hg_repo=$PWD/bench/.cache/hg/$n
    [ -f "$hg_repo/.built" ] && continue
    echo "building a $n-changeset hg repository (once; cached in $hg_repo)" >&2
    rm -rf "$hg_repo" "$hg_repo.git"; mkdir -p "$(dirname "$hg_repo")"
    git init -q --bare "$hg_repo.git"
    python3 bench/gen-git-history.py "$n" | git -C "$hg_repo.git" fast-import --quiet
    hg --config extensions.convert= convert -q "$hg_repo.git" "$hg_repo" >/dev/null
    rm -rf "$hg_repo.git"; touch "$hg_repo/.built"
done
[ "${BUILD_ONLY:-}" = 1 ] && exit 0
if [ "${PEERS:-}" = 1 ]; then
    ensure_packages /usr/share/doc/mercurial-git:mercurial-git git-remote-hg:git-remote-hg
fi
srcimport_release_bin
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/wrap"
for tool in git hg; do
    real=$(command -v "$tool")
    printf '#!/bin/sh\nexec /usr/bin/time -a -o "%s" -f "%%M %%C" "%s" "$@"\n' "$work/peer-rss" "$real" > "$work/wrap/$tool"
    chmod +x "$work/wrap/$tool"
done
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }

# ours HGREPO NAME: one srcimport import; prints "seconds rss_mib importing_ms".
start_server "$work" --allow-local-sources
ours() {
    local t0 t1
    t0=$(date +%s.%N)
    curl -sf -X PUT -H "$auth" "$api/repos/bench/$2/import" -d "{\"vcs\":\"mercurial\",\"vcs_url\":\"$1\"}" >/dev/null
    until curl -sf -H "$auth" "$api/repos/bench/$2/import" | grep -q '"status":"complete"'; do sleep 0.02; done
    t1=$(date +%s.%N)
    local importing
    importing=$(grep "repo_id" "$work/server.err" | grep 'stage="importing"' | tail -1 | grep -o 'elapsed_ms=[0-9]*' | cut -d= -f2)
    echo "$(secs "$t0" "$t1") $(( $(awk '/VmHWM/ {print $2}' /proc/$server/status) / 1024 )) ${importing:-?}"
}

for n in "${sizes[@]}"; do
    hg_repo=$PWD/bench/.cache/hg/$n
    count=$(hg -R "$hg_repo" log -T x | wc -c)
    read -r ours1 rss1 imp1 < <(ours "$hg_repo" "hg$n-a")

    git init -q --bare "$work/peer$n.git"
    t0=$(date +%s.%N)
    /usr/bin/time -f "%M" -o "$work/peer.rss" sh -c "hg -R '$hg_repo' --config extensions.fastexport= fastexport | git -C '$work/peer$n.git' fast-import --quiet"
    t1=$(date +%s.%N)
    fastexport=$(secs "$t0" "$t1")

    peer_lines=""
    if [ "${PEERS:-}" = 1 ] && [ "$n" -le "${PEERS_MAX:-20000}" ]; then
        : > "$work/authors.map"; : > "$work/authors.txt"
        # Every git and hg the peers start runs under /usr/bin/time: a peer's peak RSS is
        # its largest process tree (hg-git: its `hg push`; git-remote-hg: `git clone
        # hg::` with the helper; hg fastexport: the two ends of its pipe).
        : > "$work/peer-rss"
        PATH=$work/wrap:$PATH "$peers_dir/run-hg-peers.sh" "$hg_repo" "$work/authors.map" "$work/authors.txt" "$work/peers$n" >/dev/null 2>&1 || true
        peer_lines=$(cat "$work/peers$n/times.txt")
    fi

    read -r ours2 rss2 imp2 < <(ours "$hg_repo" "hg$n-b")
    best=$ours1; imp=$imp1
    if python3 -c "import sys; sys.exit(0 if $ours2 < $ours1 else 1)"; then best=$ours2; imp=$imp2; fi
    echo "== $n commits in the source (hg log: $count changesets)"
    echo "srcimport (PUT → complete, read in place): ${ours1}s / ${ours2}s (before / after the peers; importing stage ${imp} ms in the faster); server peak RSS ${rss2} MiB"
    echo "hg fastexport | git fast-import: ${fastexport}s, peak RSS $(( $(cat "$work/peer.rss") / 1024 )) MiB; ratio $(ratio "$fastexport" "$best")x"
    if [ -n "$peer_lines" ]; then
        echo "run-hg-peers.sh:"
        while read -r name rc time; do
            t=${time#time=}; t=${t%s}
            case $name in
                hg-git) pattern='extensions.hggit' ;;
                git-remote-hg) pattern='hg::' ;;
                hg-fastexport) pattern='fastexport|fast-import' ;;
                *) pattern='^$' ;;
            esac
            peak=$(grep -E "$pattern" "$work/peer-rss" | awk '$1 > m { m = $1 } END { print int(m / 1024) }')
            echo "  $name $rc ${t}s, peak RSS ${peak} MiB; ratio $(ratio "$t" "$best")x, RSS ratio $(ratio "$peak" "$rss2")x"
        done <<< "$peer_lines"
    fi
done
