# Shared by bench/svn.sh and bench/svn-sync.sh (sourced, from the repository root).

# Sets `bin` to SRCIMPORT_BIN, else to a release build of this tree.
srcimport_release_bin() {
    if [ -n "${SRCIMPORT_BIN:-}" ]; then
        bin=$(realpath "$SRCIMPORT_BIN")
    else
        cargo build --release --locked --quiet
        bin=$(realpath "${CARGO_TARGET_DIR:-target}")/release/srcimport
    fi
}

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
