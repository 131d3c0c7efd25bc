# Shared by bench/svn.sh and bench/svn-sync.sh (sourced, from the repository root).

. bench/lib.sh

# synthetic_input CACHE N PEERS: makes CACHE/synth-N/{synth.dump,repo} from
# PEERS/gen-svn-dump.py N, loaded with `svnadmin load` (once: a finished input has repo/).
synthetic_input() {
    local d=$1/synth-$2
    [ -d "$d/repo" ] && return 0
    echo "generating and loading $2 synthetic revisions (once; cached in $d)" >&2
    rm -rf "$d"; mkdir -p "$d"
    python3 "$3/gen-svn-dump.py" "$2" > "$d/synth.dump.tmp"
    mv "$d/synth.dump.tmp" "$d/synth.dump"
    svnadmin create "$d/repo.tmp"
    svnadmin load -q --no-flush-to-disk "$d/repo.tmp" < "$d/synth.dump"
    mv "$d/repo.tmp" "$d/repo"
}
