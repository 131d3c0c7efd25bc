#!/usr/bin/env bash
# Two (or more) srcimport builds on one Subversion input, run alternately so that both see
# the same machine, with each build's median wall time and CPU (BENCHMARKS.md: the figures
# of single changes). Usage:
#   bench/svn-ab.sh SOURCE AUTHORS RUNS BIN...
# SOURCE is a dump path or a repository URL (file://…, svn://…), AUTHORS an authors file,
# e.g. bench/svn-ab.sh file://$PWD/bench/.cache/svn/synth-3000/repo \
#        bench/.cache/svn/synth-authors.txt 7 old/srcimport new/srcimport
set -eu -o pipefail
[ $# -ge 4 ] || { sed -n 2,8p "$0" >&2; exit 2; }
source=$1 authors=$2 runs=$3
shift 3
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 LC_ALL=C.UTF-8
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for _ in $(seq "$runs"); do
    for n in $(seq $#); do
        bin=${!n}
        rm -rf "$work/out.git"
        /usr/bin/time -o "$work/t" -f '%e %U %S' "$bin" convert -q --vcs subversion \
            --authors "$authors" "$source" "$work/out.git" > /dev/null 2>&1 ||
            { echo "build $n ($bin) failed" >&2; exit 1; }
        echo "$n $(cat "$work/t")" >> "$work/times"
    done
done
for n in $(seq $#); do
    awk -v n="$n" '$1 == n { print $2, $3 + $4 }' "$work/times" | sort -n |
        awk -v bin="${!n}" '{ w[NR] = $1; c[NR] = $2; all = all " " $1 }
            END { m = int((NR + 1) / 2); printf "%s: median %.2f s (cpu %.2f s); runs:%s\n", bin, w[m], c[m], all }'
done
