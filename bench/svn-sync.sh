#!/usr/bin/env bash
# Subversion incremental sync benchmark (BENCHMARKS.md): one new revision picked up after a
# full import of an N-revision repository, through the real server, against the peers'
# incremental modes, in the same run on the same input:
#  - srcimport: `POST /import/sync` of a file:// import and of an svn:// import (svnserve
#    on loopback); its server work is the sum of the stages' `elapsed_ms` in the server's
#    log (importing + mapping + pushing), its wall time is POST → `complete` seen by polling;
#    one author is mapped in each import first, so mapping rewrites commits;
#  - git-svn: `git svn fetch` in a clone of the last few revisions (`-r N-3:HEAD`; a full
#    git-svn clone of 30,000 revisions takes an hour);
#  - svn-all-fast-export: `--resume-from` (the next revision) on the repository its full run
#    wrote (it reads local repositories only).
# Each round commits one revision (a file changed on trunk, with `svnmucc`) and runs the four;
# the figures are the medians over the rounds.
# Inputs: gen-svn-dump.py N loaded into a repository, cached as bench/svn.sh caches it
# (SVN_CACHE, default bench/.cache/svn), copied into the work directory before commits.
# Usage: bench/svn-sync.sh [REVISIONS [ROUNDS]]   (default: 30000 5)
# Environment: SRCIMPORT_BIN=path (skip the build), SVN_CACHE=dir, SVN_SYNC_KEEP=1 (keep
# the work directory, named on stderr).
set -eu -o pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. bench/svn-lib.sh
extra=()
git svn --version >/dev/null 2>&1 || extra+=(git-svn-with-perl-bindings:git-svn)
ensure_packages git:git python3:python3 svn:subversion svnadmin:subversion \
    svnmucc:subversion svnserve:subversion svn-all-fast-export:svn-all-fast-export \
    curl:curl "${extra[@]}"
n=${1:-30000}
rounds=${2:-5}
peers=${SVN_PEERS_DIR:-$PWD/../shared/peers}
cache=${SVN_CACHE:-$PWD/bench/.cache/svn}
work=$(mktemp -d)
[ -z "${SVN_SYNC_KEEP:-}" ] || echo "work directory: $work" >&2
trap 'kill $(jobs -p) 2>/dev/null || true; [ -n "${SVN_SYNC_KEEP:-}" ] || rm -rf "$work"' EXIT
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 LC_ALL=C.UTF-8
srcimport_release_bin
now() { date +%s.%N; }

# ---------- the input: bench/svn.sh's cached repository, copied ----------
synthetic_input "$cache" "$n" "$peers"
d=$cache/synth-$n
cp -a "$d/repo" "$work/repo"
repo=$work/repo
url=file://$repo
echo "== $n revisions (load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2

# ---------- srcimport: the server, a file:// and an svn:// import ----------
start_server "$work" --allow-local-sources
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
svnserve -d --foreground -r "$work" --listen-host 127.0.0.1 --listen-port "$port" &
until svn info "svn://127.0.0.1:$port/repo" >/dev/null 2>&1; do sleep 0.05; done
status() { curl -sf -H "$auth" "$api/repos/$1/import" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])'; }
wait_complete() { # REPO
    local s
    while :; do
        s=$(status "$1")
        case $s in
            complete) return 0 ;;
            error|auth_failed|detection_*) echo "$1 ended in $s" >&2; return 1 ;;
        esac
        sleep 0.01
    done
}
log() { cat "$work/server.out" "$work/server.err"; }
# The stages' elapsed_ms summed over the log lines after line $2 for repo id $1.
server_ms() { # REPO_ID FROM_LINE
    log | tail -n +"$2" | python3 -c '
import re, sys
rid = sys.argv[1]
total = 0
for line in sys.stdin:
    if "stage finished" in line and re.search(r"repo_id=%s\b" % rid, line):
        m = re.search(r"elapsed_ms=(\d+)", line)
        total += int(m.group(1)) if m else 0
print(total)' "$1"
}
declare -A rid
for kind in file svn; do
    case $kind in
        file) src=$url ;;
        svn) src=svn://127.0.0.1:$port/repo ;;
    esac
    t0=$(now)
    curl -sf -X PUT -H "$auth" "$api/repos/bench/$kind/import" \
        -d "{\"vcs\":\"subversion\",\"vcs_url\":\"$src\"}" >/dev/null
    wait_complete "bench/$kind"
    echo "full import ($kind): $(python3 -c "print(f'{$(now)-$t0:.2f}')") s" >&2
    rid[$kind]=$(log | grep "stage finished" | tail -1 | sed -n 's/.*repo_id=\([0-9]*\).*/\1/p')
done

# One author mapped in each (as an authors file would): mapping then rewrites commits, and
# a sync's mapping resumes from the last one.
for kind in file svn; do
    id=$(curl -sf -H "$auth" "$api/repos/bench/$kind/import/authors" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
    curl -sf -X PATCH -H "$auth" "$api/repos/bench/$kind/import/authors/$id" \
        -d '{"name":"Mapped Dev","email":"mapped@example.com"}' >/dev/null
    until [ "$(status "bench/$kind")" = complete ]; do sleep 0.05; done
done

# ---------- git-svn: a clone of the last few revisions ----------
youngest=$(svnlook youngest "$repo")
git svn clone --quiet --stdlayout --prefix=origin/ -r "$((youngest - 3)):HEAD" "$url" \
    "$work/git-svn" > "$work/git-svn.log" 2>&1

# ---------- svn-all-fast-export: a full run to resume from ----------
# The rules run-svn-peers.sh writes.
cat > "$work/standard.rules" <<'EOF'
create repository project
end repository

match /trunk/
  repository project
  branch master
end match

match /branches/([^/]+)/
  repository project
  branch \1
end match

match /tags/([^/]+)/
  repository project
  branch refs/tags/\1
  annotated true
end match

match /
end match
EOF
mkdir -p "$work/safe"
safe() { # extra arguments
    (cd "$work/safe" && svn-all-fast-export --rules "$work/standard.rules" --svn-ignore \
        --empty-dirs --add-metadata "$@" "$repo" >> "$work/safe.log" 2>&1)
}
t0=$(now); safe; echo "full svn-all-fast-export: $(python3 -c "print(f'{$(now)-$t0:.2f}')") s" >&2

# ---------- rounds: one new revision, then each tool picks it up ----------
results=$work/results.tsv # round tool seconds
: > "$results"
printf 'round 0\n' > "$work/content"
for round in $(seq "$rounds"); do
    printf 'round %s\n' "$round" > "$work/content"
    svnmucc -U "$url" --username bench -m "sync round $round" \
        put "$work/content" trunk/sync-bench.txt >/dev/null
    next=$(svnlook youngest "$repo")
    for kind in file svn; do
        from=$(($(log | wc -l) + 1))
        t0=$(now)
        curl -sf -X POST -H "$auth" "$api/repos/bench/$kind/import/sync" -d '{}' >/dev/null
        wait_complete "bench/$kind"
        t1=$(now)
        printf '%s\tsrcimport-%s-wall\t%s\n' "$round" "$kind" "$(python3 -c "print($t1-$t0)")" >> "$results"
        ms=$(server_ms "${rid[$kind]}" "$from")
        printf '%s\tsrcimport-%s\t%s\n' "$round" "$kind" "$(python3 -c "print($ms/1000)")" >> "$results"
    done
    t0=$(now); (cd "$work/git-svn" && git svn fetch --quiet >> "$work/git-svn.log" 2>&1); t1=$(now)
    printf '%s\tgit-svn\t%s\n' "$round" "$(python3 -c "print($t1-$t0)")" >> "$results"
    t0=$(now); safe --resume-from "$next"; t1=$(now)
    printf '%s\tsvn-all-fast-export\t%s\n' "$round" "$(python3 -c "print($t1-$t0)")" >> "$results"
done

# ---------- checks: everyone has the new revision ----------
for kind in file svn; do
    echo "srcimport $kind main: $(git --git-dir="$work/data/repos/bench/$kind.git" log -1 --format=%s main)" >&2
done
echo "git-svn trunk: $(git -C "$work/git-svn" log -1 --format=%s refs/remotes/origin/trunk)" >&2
echo "svn-all-fast-export master: $(git --git-dir="$work/safe/project" log -1 --format=%s master)" >&2

python3 - "$results" <<'EOF'
import sys, statistics, collections
times = collections.defaultdict(list)
for line in open(sys.argv[1]):
    _, tool, seconds = line.split('\t')
    times[tool].append(float(seconds))
med = {tool: statistics.median(v) for tool, v in times.items()}
print("| tool | median | runs | peer / srcimport (file://, svn://) |")
print("|---|---|---|---|")
for tool in ["srcimport-file", "srcimport-svn", "srcimport-file-wall", "srcimport-svn-wall",
             "git-svn", "svn-all-fast-export"]:
    if tool not in med:
        continue
    ratio = ""
    if not tool.startswith("srcimport"):
        ratio = f"{med[tool]/med['srcimport-file']:.2f} / {med[tool]/med['srcimport-svn']:.2f}"
    runs = ", ".join(f"{x:.3f}" for x in times[tool])
    print(f"| {tool} | {med[tool]:.3f} s | {runs} | {ratio} |")
EOF
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
