//! srcimport: a self-hosted, wire-compatible GitHub Source Imports API that converts
//! Subversion, Mercurial, TFVC and Git repositories into Git.

pub mod api;
pub mod authors_file;
pub mod cli;
pub mod clock;
pub mod config;
pub mod git;
pub mod jobs;
pub mod names;
pub mod pipeline;
pub mod server;
pub mod store;
pub mod tokens;

/// Version and build information, from `build.rs`.
pub const BUILD_INFO: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("SRCIMPORT_BUILD_TARGET"),
    ", ",
    env!("SRCIMPORT_BUILD_PROFILE"),
    ")"
);
