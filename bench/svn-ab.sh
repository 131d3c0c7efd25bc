#!/usr/bin/env bash
# Two (or more) srcimport builds on one Subversion input, run alternately so that both see
# the same machine, with each build's median wall time (milliseconds) and CPU
# (BENCHMARKS.md: the figures of single changes, and the fixture back to back). Usage:
#   bench/svn-ab.sh SOURCE AUTHORS RUNS BIN...
# SOURCE is a dump path or a repository URL (file://…, svn://…), AUTHORS an authors file,
# e.g. bench/svn-ab.sh file://$PWD/bench/.cache/svn/synth-3000/repo \
#        bench/.cache/svn/synth-authors.txt 7 old/srcimport new/srcimport
# With SAE_REPO=PATH (a local repository: svn-all-fast-export reads nothing else), each
# round also runs svn-all-fast-export on it as ../shared/peers/run-svn-peers.sh does
# (standard rules, the same options), e.g. the feature fixture against
# SAE_REPO=bench/.cache/svn/fixture/repo.
set -eu -o pipefail
[ $# -ge 4 ] || { sed -n 2,12p "$0" >&2; exit 2; }
source=$1 authors=$(realpath "$2") runs=$3
shift 3
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 LC_ALL=C.UTF-8
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
contenders=("$@")
if [ -n "${SAE_REPO:-}" ]; then
    sae_repo=$(realpath "$SAE_REPO")
    # The rules run-svn-peers.sh writes (it prints them into its output directory).
    sed -n "/^cat > \"\$OUT\/standard.rules\" <<'EOF'$/,/^EOF$/p" \
        "$(dirname "$0")/../../shared/peers/run-svn-peers.sh" | sed '1d;$d' > "$work/standard.rules"
    [ -s "$work/standard.rules" ] || { echo "no rules in run-svn-peers.sh" >&2; exit 1; }
    contenders+=(svn-all-fast-export)
fi
# One timed run of contender $1; appends "n wall-ms cpu-s" to the times.
run_one() {
    local n=$1 bin=${contenders[$1 - 1]} start end
    rm -rf "$work/out.git" "$work/safe"
    start=$(date +%s%N)
    if [ "$bin" = svn-all-fast-export ]; then
        mkdir "$work/safe"
        (cd "$work/safe" && /usr/bin/time -o "$work/t" -f '%U %S' svn-all-fast-export \
            --identity-map "$authors" --rules "$work/standard.rules" --svn-ignore \
            --empty-dirs --add-metadata --stats "$sae_repo" > "$work/sae.log" 2>&1)
    else
        /usr/bin/time -o "$work/t" -f '%U %S' "$bin" convert -q --vcs subversion \
            --authors "$authors" "$source" "$work/out.git" > /dev/null 2>&1
    fi || { echo "$bin failed" >&2; exit 1; }
    end=$(date +%s%N)
    echo "$n $(((end - start) / 1000000)) $(cat "$work/t")" >> "$work/times"
}
for _ in $(seq "$runs"); do
    for n in $(seq ${#contenders[@]}); do
        run_one "$n"
    done
done
for n in $(seq ${#contenders[@]}); do
    awk -v n="$n" '$1 == n { print $2, $3 + $4 }' "$work/times" | sort -n |
        awk -v bin="${contenders[$n - 1]}" '{ w[NR] = $1; c[NR] = $2; all = all " " $1 }
            END { m = int((NR + 1) / 2); printf "%s: median %d ms (cpu %.2f s); runs:%s\n", bin, w[m], c[m], all }'
done
