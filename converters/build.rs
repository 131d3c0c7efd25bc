//! Generates the libsvn bindings (`svn/libsvn/ffi.rs`) of the RA reader with bindgen
//! and links libsvn and APR.
//!
//! Debian's libsvn `.pc` files have an empty `Version:` field, so include paths come from
//! `pkg-config --cflags-only-I` (with the Debian paths as fallback) and the link flags are
//! written here.

use std::env;
use std::path::PathBuf;
use std::process::Command;

const HEADER: &str = "src/svn/libsvn/wrapper.h";

const FALLBACK_INCLUDES: &[&str] = &["/usr/include/subversion-1", "/usr/include/apr-1.0"];

const LIBRARIES: &[&str] = &[
    "svn_ra-1",
    "svn_delta-1",
    "svn_subr-1",
    "aprutil-1",
    "apr-1",
];

const FUNCTIONS: &[&str] = &[
    "apr_initialize",
    "apr_hash_first",
    "apr_hash_next",
    "apr_hash_this",
    "apr_hash_make",
    "apr_hash_set",
    "apr_pool_destroy",
    "apr_array_make",
    "apr_array_push",
    "apr_palloc",
    "apr_pstrdup",
    "svn_pool_create_ex",
    "svn_dso_initialize2",
    "svn_ra_initialize",
    "svn_ra_create_callbacks",
    "svn_ra_open4",
    "svn_config_create2",
    "svn_config_set",
    "svn_ra_reparent",
    "svn_ra_get_uuid2",
    "svn_ra_get_repos_root2",
    "svn_ra_get_latest_revnum",
    "svn_ra_get_dir2",
    "svn_ra_check_path",
    "svn_ra_rev_proplist",
    "svn_ra_replay_range",
    "svn_auth_open",
    "svn_auth_set_parameter",
    "svn_delta_default_editor",
    "svn_txdelta_to_svndiff3",
    "svn_stream_create",
    "svn_stream_set_write",
    "svn_stream_from_aprfile2",
    "apr_os_file_put",
    "svn_uri_canonicalize",
    "svn_error_create",
    "svn_error_clear",
    "svn_err_best_message",
    "svn_error_set_malfunction_handler",
    "svn_error_raise_on_malfunction",
];

const TYPES: &[&str] = &[
    "svn_delta_editor_t",
    "svn_dirent_t",
    "svn_auth_cred_simple_t",
    "svn_auth_cred_username_t",
    "svn_auth_provider_t",
    "svn_auth_provider_object_t",
    "svn_ra_callbacks2_t",
    "svn_node_kind_t",
    "svn_string_t",
    "svn_errno_t",
];

fn include_dirs() -> Vec<String> {
    let output = Command::new("pkg-config")
        .args(["--cflags-only-I", "libsvn_ra", "libsvn_repos", "apr-1"])
        .output();
    let mut dirs: Vec<String> = match output {
        Ok(output) if output.status.success() => String::from_utf8_lossy(&output.stdout)
            .split_whitespace()
            .filter_map(|flag| flag.strip_prefix("-I"))
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    for fallback in FALLBACK_INCLUDES {
        if !dirs.iter().any(|dir| dir == fallback) {
            dirs.push((*fallback).to_owned());
        }
    }
    dirs
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={HEADER}");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    println!("cargo:rerun-if-env-changed=LIBCLANG_PATH");
    for library in LIBRARIES {
        println!("cargo:rustc-link-lib={library}");
    }

    let mut builder = bindgen::Builder::default()
        .header(HEADER)
        .allowlist_recursively(true)
        .layout_tests(false)
        .derive_debug(false)
        .derive_copy(true)
        .generate_comments(false)
        .prepend_enum_name(false)
        .default_enum_style(bindgen::EnumVariation::Consts);
    for dir in include_dirs() {
        println!("cargo:rerun-if-changed={dir}");
        builder = builder.clang_arg(format!("-I{dir}"));
    }
    for function in FUNCTIONS {
        builder = builder.allowlist_function(function);
    }
    for ty in TYPES {
        builder = builder.allowlist_type(ty);
    }
    builder = builder.allowlist_var("SVN_DIRENT_KIND");
    builder = builder.allowlist_var("APR_FOPEN_(READ|WRITE)");
    let bindings = builder
        .generate()
        .expect("bindgen could not read the libsvn headers: install libsvn-dev, libapr1-dev and libclang-dev");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR is set by cargo"));
    bindings
        .write_to_file(out.join("svn_bindings.rs"))
        .expect("write the libsvn bindings");
}
