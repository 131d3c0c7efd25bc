# Shared helpers for scripts/: installing missing system packages on Debian.
# shellcheck shell=bash

# ensure_packages CMD:PACKAGE ... — installs PACKAGE with apt-get when CMD is missing.
ensure_packages() {
    local missing=()
    local pair
    for pair in "$@"; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "Installing system packages: ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# The system packages srcimport itself runs (git for Git sources and hosting).
ensure_runtime_packages() {
    ensure_packages git:git
}
