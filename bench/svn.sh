#!/usr/bin/env bash
# Subversion benchmark (BENCHMARKS.md): `srcimport convert --vcs subversion DUMP OUT.git`
# against the Debian-packaged peers, in the same run, on the same input:
# reposurgeon (reads the dump), svn-all-fast-export with the standard rules (reads the
# repository), and git-svn (file:// URL; only for inputs of at most GITSVN_MAX revisions,
# it converts about 9 revisions a second). The peers run exactly as
# ../shared/peers/run-svn-peers.sh runs them (it is called). srcimport runs right before and
# right after them; the faster of its two runs is the one compared.
# Inputs: the 14-revision feature fixture (make-svn-fixture.sh) and synthetic dumps of N
# revisions (gen-svn-dump.py), each loaded into a repository, cached in bench/.cache/svn/.
# Prints wall time and peak RSS (largest process of each tool's tree, /usr/bin/time %M),
# the ratios peer/srcimport, srcimport's memory growth, commit/ref counts of every result,
# and a split of srcimport's CPU and memory between itself and the `git` it runs.
# Usage: bench/svn.sh [REVISIONS...]   (default: 3000 30000)
# Environment: SRCIMPORT_BIN=path (skip the build), GITSVN_MAX (default 1000),
#   SKIP_GITSVN=1, SRCIMPORT_SVN_URL_MODE=1 (also convert the live repositories),
#   SVN_BENCH_KEEP=1 (keep the work directory, named on stderr),
#   SVNSERVE_OPTIONS (svnserve's cache options; default "--block-read yes", as an admin
#   serving a format 7+ repository would set it and as `svnadmin dump` reads one).
set -eu -o pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. bench/svn-lib.sh
# Git built from source may ship git-svn without Subversion's Perl bindings; the Debian
# package brings them. /usr/bin/time is a keyword's name to `command -v`, hence the checks.
extra=()
git svn --version >/dev/null 2>&1 || extra+=(git-svn-with-perl-bindings:git-svn)
[ -x /usr/bin/time ] || extra+=(usr-bin-time:time)
ensure_packages git:git python3:python3 svn:subversion svnadmin:subversion \
    svnserve:subversion svn-all-fast-export:svn-all-fast-export reposurgeon:reposurgeon \
    "${extra[@]}"
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(3000 30000)
gitsvn_max=${GITSVN_MAX:-1000}
peers=${SVN_PEERS_DIR:-$PWD/../shared/peers}
cache=$PWD/bench/.cache/svn
mkdir -p "$cache"
work=$(mktemp -d)
[ -z "${SVN_BENCH_KEEP:-}" ] || echo "work directory: $work" >&2
trap 'kill $(jobs -p) 2>/dev/null || true; [ -n "${SVN_BENCH_KEEP:-}" ] || rm -rf "$work"' EXIT
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 LC_ALL=C.UTF-8
srcimport_release_bin
real_git=$(command -v git)

# ---------- inputs (cached: a finished input is a directory with repo/ in it) ----------
if [ ! -d "$cache/fixture/repo" ]; then
    echo "building the feature fixture" >&2
    rm -rf "$cache/fixture.tmp" "$cache/fixture"
    "$peers/make-svn-fixture.sh" "$cache/fixture.tmp" >/dev/null
    mv "$cache/fixture.tmp" "$cache/fixture"
fi
printf '%s = %s <%s@example.com>\n' alice Alice alice bob Bob bob carol Carol carol \
    dave Dave dave erin Erin erin > "$cache/synth-authors.txt"
for n in "${sizes[@]}"; do
    synthetic_input "$cache" "$n" "$peers"
done
inputs=("fixture:$cache/fixture/repo:$cache/fixture/fixture.dump:$cache/fixture/authors.txt")
for n in "${sizes[@]}"; do
    inputs+=("synth-$n:$cache/synth-$n/repo:$cache/synth-$n/synth.dump:$cache/synth-authors.txt")
done

# ---------- measuring ----------
results=$work/results.tsv   # input tool rc wall rss(MiB) main-commits all-commits branches tags
: > "$results"
# counts GITDIR MAINBRANCH -> "main-commits all-commits branches tags"
counts() {
    local g=$1
    [ -d "$g/.git" ] && g=$g/.git
    [ -d "$g" ] || { echo "- - - -"; return; }
    echo "$(git --git-dir="$g" rev-list --count "$2" 2>/dev/null || echo -)" \
        "$(git --git-dir="$g" rev-list --all --count 2>/dev/null || echo -)" \
        "$(git --git-dir="$g" for-each-ref refs/heads | wc -l)" \
        "$(git --git-dir="$g" for-each-ref refs/tags | wc -l)"
}
warm() { # REPO DUMP
    cat "$2" > /dev/null
    find "$1" -type f -exec cat {} + > /dev/null
}
# srcimport_run INPUT TOOLNAME SOURCE AUTHORS OUT
srcimport_run() {
    local rc=0 w m
    rm -rf "$5"
    /usr/bin/time -o "$work/t" -f '%e %M' "$bin" convert -q --vcs subversion \
        --authors "$4" "$3" "$5" > "$work/$1.$2.log" 2>&1 || rc=$?
    read -r w m < <(tail -1 "$work/t")
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$rc" "$w" "$((m / 1024))" \
        "$(counts "$5" main | tr ' ' '\t')" >> "$results"
    return "$rc"
}

for spec in "${inputs[@]}"; do
    IFS=: read -r name repo dump authors <<< "$spec"
    revs=$(svnlook youngest "$repo")
    skip_gitsvn=${SKIP_GITSVN:-}
    [ "$name" = fixture ] || [ "$revs" -le "$gitsvn_max" ] || skip_gitsvn=1
    echo "== $name ($revs revisions; load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    warm "$repo" "$dump"
    srcimport_run "$name" "srcimport#1" "$dump" "$authors" "$work/$name-srcimport.git" || true
    # gc.autoDetach=false: git-svn's `git gc --auto` runs inside its own timing instead of
    # in the background during the next tool's.
    # From the work directory: reposurgeon leaves scratch directories in its cwd.
    (cd "$work" && GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=gc.autoDetach GIT_CONFIG_VALUE_0=false \
        SKIP_GITSVN=$skip_gitsvn "$peers/run-svn-peers.sh" "$repo" "$authors" \
        "$work/peers-$name" "$dump" > "$work/peers-$name.log" 2>&1) || true
    warm "$repo" "$dump"
    srcimport_run "$name" "srcimport#2" "$dump" "$authors" "$work/$name-srcimport.git" || true
    while read -r tool rc wall rss _; do
        case $tool in
            git-svn) dir=git-svn ;;
            svn-all-fast-export) dir=safe/project ;;
            reposurgeon) dir=reposurgeon ;;
            *) continue ;;
        esac
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$tool" "${rc#rc=}" \
            "$(echo "${wall#wall=}" | tr -d s)" "$(echo "${rss#maxrss=}" | tr -d MB)" \
            "$(counts "$work/peers-$name/$dir" master | tr ' ' '\t')" >> "$results"
    done < "$work/peers-$name/times.txt"
    echo "$name $revs $(cut -d' ' -f1-3 /proc/loadavg)" >> "$work/loads"
    # git-svn leaves a detached `git gc --auto` behind: let it finish before measuring on.
    for _ in $(seq 600); do [ -e "$work/peers-$name/git-svn/.git/gc.pid" ] || break; sleep 0.5; done
    # Results are not kept (disk); the logs are, until the end of the run.
    rm -rf "$work/peers-$name/git-svn" "$work/peers-$name/safe" "$work/peers-$name/reposurgeon" || true
done

# ---------- live repositories (file://, svn://): the reader is being added ----------
# SRCIMPORT_SVN_URL_MODE=1: the same conversion from the repository instead of its dump.
# Guarded: a build without the reader prints "not available in this build".
if [ -n "${SRCIMPORT_SVN_URL_MODE:-}" ]; then
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    for spec in "${inputs[@]}"; do
        IFS=: read -r name repo dump authors <<< "$spec"
        # shellcheck disable=SC2086 # options, split on purpose
        svnserve -d --foreground -r "$(dirname "$repo")" --listen-host 127.0.0.1 \
            --listen-port "$port" ${SVNSERVE_OPTIONS---block-read yes} &
        served=$!
        tries=0
        until svn info "svn://127.0.0.1:$port/repo" >/dev/null 2>&1; do
            tries=$((tries + 1)); [ $tries -lt 200 ] || { echo "svnserve did not start" >&2; break; }
            sleep 0.05
        done
        for url in "file://$repo" "svn://127.0.0.1:$port/repo"; do
            tool="srcimport-${url%%:*}"
            warm "$repo" "$dump"
            if ! srcimport_run "$name" "$tool" "$url" "$authors" "$work/$name-url.git"; then
                echo "$name, $tool: not available in this build: $(grep -m1 . "$work/$name.$tool.log")" >&2
            fi
        done
        kill "$served"; wait "$served" 2>/dev/null || true
    done
fi

# ---------- where srcimport's time goes (a separate run on each synthetic input) ----------
# Every `git` srcimport starts runs under /usr/bin/time (a wrapper first on PATH), and
# srcimport's own peak RSS is read from /proc while it runs.
mkdir -p "$work/wrap"
cat > "$work/wrap/git" <<EOF
#!/bin/sh
exec /usr/bin/time -a -o "$work/git-times" -f '%U %S %M %e %C' "$real_git" "\$@"
EOF
chmod +x "$work/wrap/git"
# profile_run NAME SOURCE AUTHORS REPO DUMP: one conversion with every git timed and
# srcimport's own peak RSS sampled; appends to profile.txt and own-rss.
profile_run() {
    local name=$1 source=$2 authors=$3 repo=$4 dump=$5 timer own h e u s m
    : > "$work/git-times"
    rm -rf "$work/profile.git"
    warm "$repo" "$dump"
    PATH=$work/wrap:$PATH /usr/bin/time -o "$work/t" -f '%e %U %S %M' "$bin" convert -q \
        --vcs subversion --authors "$authors" "$source" "$work/profile.git" > /dev/null 2>&1 &
    timer=$!
    own=0
    while kill -0 "$timer" 2>/dev/null; do
        for p in $(pgrep -P "$timer"); do
            h=$(awk '/VmHWM/ {print $2}' "/proc/$p/status" 2>/dev/null || true)
            [ -n "$h" ] && [ "$h" -gt "$own" ] && own=$h
        done
        sleep 0.05
    done
    wait "$timer" || true
    read -r e u s m < "$work/t"
    echo "$name $((own / 1024)) $((m / 1024))" >> "$work/own-rss"
    awk -v name="$name" -v e="$e" -v u="$u" -v s="$s" -v own="$own" '
        $1 ~ /^[0-9.]+$/ && NF >= 6 {
            k = ""
            for (i = 6; i <= NF && k == ""; i++)
                if ($i == "--git-dir" || $i == "-c" || $i == "-C") i++
                else if ($i !~ /^-/) k = $i
            gu[k] += $1; gs[k] += $2; if ($3 > gm[k]) gm[k] = $3; ge[k] += $4; n[k]++
            tu += $1; ts += $2 }
        END {
            printf "%s: wall %.2f s; user+sys of everything %.2f s (user %.2f, sys %.2f)\n", name, e, u + s, u, s
            printf "  %-22s user %5.2f s, sys %5.2f s, peak RSS %4d MiB (sampled)\n", "srcimport itself:", u - tu, s - ts, own / 1024
            for (k in n) printf "  %-22s user %5.2f s, sys %5.2f s, peak RSS %4d MiB, wall %5.2f s, %d run(s)\n", "git " k ":", gu[k], gs[k], gm[k] / 1024, ge[k], n[k]
        }' "$work/git-times" >> "$work/profile.txt"
}
for spec in "${inputs[@]}"; do
    IFS=: read -r name repo dump authors <<< "$spec"
    [ "$name" = fixture ] && continue
    profile_run "$name" "$dump" "$authors" "$repo" "$dump"
    # With the live repositories, file:// too (its replay runs in a private svnserve).
    [ -z "${SRCIMPORT_SVN_URL_MODE:-}" ] ||
        profile_run "$name-file" "file://$repo" "$authors" "$repo" "$dump"
done

# ---------- report ----------
echo
echo "load average during the runs (1, 5, 15 min):"
sed 's/^/  /' "$work/loads"
echo
python3 - "$results" "${sizes[@]}" <<'EOF'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
sizes = sys.argv[2:]
def num(x):
    try: return float(x)
    except ValueError: return None
best = {}  # input -> the faster srcimport run
for r in rows:
    if r[1].startswith("srcimport#") and r[2] == "0":
        b = best.get(r[0])
        if b is None or num(r[3]) < num(b[3]): best[r[0]] = r
head = ("input", "tool", "wall s", "max RSS MiB", "peer/srcimport", "main|master", "all commits", "branches", "tags")
print("| " + " | ".join(head) + " |"); print("|" + "---|" * len(head))
for inp in dict.fromkeys(r[0] for r in rows):
    runs = [r for r in rows if r[0] == inp and r[1].startswith("srcimport#")]
    ours = best.get(inp)
    for r in rows:
        if r[0] != inp: continue
        tool, rc, wall = r[1], r[2], r[3]
        if tool.startswith("srcimport#"):
            if r is not ours: continue
            tool = "srcimport (runs: " + ", ".join(x[3] + " s" for x in runs) + ")"
            ratio = "1"
        elif rc != "0":
            ratio = "FAILED rc=" + rc
        elif ours and num(ours[3]) and num(wall) is not None:
            ratio = "%.2f" % (num(wall) / num(ours[3]))
        else:
            ratio = "-"
        if rc != "0" and r[1].startswith("srcimport"): ratio = "FAILED rc=" + rc
        if rc == "4" and r[1].startswith("srcimport-"): ratio = "not available in this build"
        print("| " + " | ".join([inp, tool, wall, r[4], ratio] + r[5:9]) + " |")
    if ours is None:
        print("| %s | srcimport | FAILED | | | | | | |" % inp)
synth = [("synth-" + n, n) for n in sizes if "synth-" + n in best]
if len(synth) >= 2:
    large = max(synth, key=lambda x: int(x[1]))
    b = num(best[large[0]][4])
    print()
    for small in sorted(synth, key=lambda x: int(x[1]))[:-1]:
        a = num(best[small[0]][4])
        print("srcimport memory ratio RSS(%s)/RSS(%s) = %d/%d MiB = %.2f (goal <= 1.5 for 30000/3000)" % (large[1], small[1], b, a, b / a if a else 0))
EOF
echo
echo "where srcimport's time goes (separate runs, every git it starts timed):"
cat "$work/profile.txt" 2>/dev/null || true
# The same memory ratio for srcimport's own process (without the git it runs).
for reader in dump file; do
    suffix=$([ $reader = file ] && echo "-file" || true)
    grep -E "^synth-[0-9]+$suffix " "$work/own-rss" 2>/dev/null | sed "s/$suffix / /" |
        sort -t- -k2 -n | awk -v reader="$reader" '{ n[NR] = $1; o[NR] = $2 } END {
        for (i = 1; i < NR; i++) printf "srcimport process alone (%s): RSS(%s)/RSS(%s) = %d/%d MiB = %.2f\n", reader, substr(n[NR], 7), substr(n[i], 7), o[NR], o[i], (o[i] ? o[NR] / o[i] : 0) }'
done
# A failed conversion shows the end of its log.
while IFS=$'\t' read -r name tool rc _; do
    [ "$rc" = 0 ] && continue
    case $tool in
        srcimport-*) [ "$rc" = 4 ] && continue ;;  # said above: not available in this build
    esac
    case $tool in
        srcimport*) log=$work/$name.$tool.log ;;
        svn-all-fast-export) log=$work/peers-$name/safe.log ;;
        *) log=$work/peers-$name/$tool.log ;;
    esac
    echo "--- $name, $tool failed (rc=$rc); end of its log:"
    tail -5 "$log" 2>/dev/null | sed 's/^/  /'
done < "$results"
