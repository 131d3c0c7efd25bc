//! Integration tests: the real server binary against real Git sources on loopback.

mod api_errors;
mod authors_upload;
mod cli;
mod crash_resume;
mod git_import;
mod hardening;
mod lfs;
mod mercurial;
mod push_mirror;
mod push_target;
mod python_client;
mod subversion;
mod support;
mod svn_resume;
mod sync;
mod tfvc;
mod webhooks;
