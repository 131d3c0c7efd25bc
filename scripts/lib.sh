# Shared helpers for scripts/: installing missing system packages on Debian.
# shellcheck shell=bash

# ensure_packages CHECK:PACKAGE ... — installs PACKAGE with apt-get when CHECK is missing.
# CHECK is a command name, or an absolute path (a glob) to a file the package provides.
ensure_packages() {
    local missing=()
    local pair check
    for pair in "$@"; do
        check=${pair%%:*}
        if [[ $check == /* ]]; then
            compgen -G "$check" >/dev/null || missing+=("${pair#*:}")
        else
            command -v "$check" >/dev/null 2>&1 || missing+=("${pair#*:}")
        fi
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
    # svnserve: a file:// Subversion history is replayed through a private one (in process,
    # slower, without it).
    ensure_packages git:git svnserve:subversion
}

# What building needs: libsvn and APR headers for the Subversion reader's bindings, and
# libclang for bindgen, which generates them.
ensure_build_packages() {
    ensure_packages /usr/include/subversion-1/svn_ra.h:libsvn-dev \
        /usr/include/apr-1.0/apr.h:libapr1-dev \
        "/usr/lib/llvm-*/lib/libclang*.so*:libclang-dev" clang:clang
}
