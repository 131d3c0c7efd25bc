# Shared by the bench scripts (sourced from the repository root).

# Sets `bin` to SRCIMPORT_BIN, else to a release build of this tree.
srcimport_release_bin() {
    if [ -n "${SRCIMPORT_BIN:-}" ]; then
        bin=$(realpath "$SRCIMPORT_BIN")
    else
        cargo build --release --locked --quiet
        bin=$(realpath "${CARGO_TARGET_DIR:-target}")/release/srcimport
    fi
}

# start_server WORK [SERVE FLAGS...]: `$bin serve` on loopback with WORK/data as its data
# directory and one token, BENCHTOKEN; sets `server` (its pid), `api` and `auth`. Its
# output goes to WORK/server.out and WORK/server.err.
start_server() {
    local work=$1
    shift
    mkdir -p "$work/data"
    echo "BENCHTOKEN admin *" > "$work/data/tokens"
    "$bin" serve --data-dir "$work/data" --listen 127.0.0.1:0 "$@" \
        > "$work/server.out" 2> "$work/server.err" &
    server=$!
    until grep -q "listening on" "$work/server.out" 2>/dev/null; do sleep 0.05; done
    api=$(sed -n 's/.*listening on //p' "$work/server.out")
    auth="Authorization: token BENCHTOKEN"
}

# secs T0 T1: the seconds from T0 to T1, with two decimals.
secs() { python3 -c "print(f'{$2-$1:.2f}')"; }
