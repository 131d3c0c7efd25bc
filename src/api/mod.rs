//! The HTTP face: GitHub's Source Imports API, the repository endpoints clients need around
//! it, and Git smart HTTP for hosted repositories.
//!
//! Invariant: only this module knows HTTP and JSON.

mod auth;
mod authors;
mod body;
pub mod error;
mod git_http;
mod hooks;
mod imports;
mod large_files;
mod lfs_http;
mod repos;
pub mod webhooks;
pub mod wire;

use std::sync::Arc;

use axum::http::{header, HeaderMap};
use axum::routing::{get, patch, post, put};
use axum::Router;

use crate::jobs::Scheduler;
use crate::store::{JobStore, RepoRecord};
use crate::tokens::Tokens;

use error::ApiError;

/// Shared by every handler.
pub struct AppState {
    pub store: Arc<dyn JobStore>,
    pub scheduler: Scheduler,
    pub tokens: Tokens,
    pub base_url: Option<String>,
    pub max_body_bytes: usize,
    pub auto_create_repos: bool,
    pub default_large_file_threshold: i64,
    pub default_use_lfs: crate::store::LfsChoice,
    pub webhooks: webhooks::Settings,
    /// The server's `--sync-interval` (seconds), for imports that set none.
    pub default_sync_interval: Option<i64>,
    /// The shortest `sync_interval` a client may ask for (seconds).
    pub min_sync_interval: i64,
}

pub type SharedState = Arc<AppState>;

impl AppState {
    /// The base URL for `url` fields: configured, or this request's own host.
    fn base_url(&self, headers: &HeaderMap) -> String {
        if let Some(base) = &self.base_url {
            return base.trim_end_matches('/').to_owned();
        }
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| h.bytes().all(|b| b.is_ascii_graphic()))
            .unwrap_or("localhost");
        format!("http://{host}")
    }

    fn repo(&self, owner: &str, name: &str) -> Result<RepoRecord, ApiError> {
        self.store.find_repo(owner, name)?.ok_or(ApiError::NotFound)
    }

    /// The repository a Git URL names: `/{owner}/{repo}` or `/{owner}/{repo}.git`.
    fn hosted_repo(&self, owner: &str, segment: &str) -> Result<RepoRecord, ApiError> {
        let name = segment.strip_suffix(".git").unwrap_or(segment);
        if !crate::names::valid_owner(owner) || !crate::names::valid_repo(name) {
            return Err(ApiError::NotFound);
        }
        self.repo(owner, name)
    }
}

pub fn router(state: SharedState) -> Router {
    Router::new()
        .route("/repos/{owner}/{repo}", get(repos::get_repo))
        .route("/user/repos", post(repos::create_user_repo))
        .route("/orgs/{org}/repos", post(repos::create_org_repo))
        .route(
            "/repos/{owner}/{repo}/import",
            put(imports::start)
                .get(imports::status)
                .patch(imports::update)
                .delete(imports::cancel),
        )
        .route("/repos/{owner}/{repo}/import/sync", post(imports::sync))
        .route(
            "/repos/{owner}/{repo}/hooks",
            post(hooks::create).get(hooks::list),
        )
        .route(
            "/repos/{owner}/{repo}/hooks/{hook_id}",
            get(hooks::get_one).patch(hooks::edit).delete(hooks::delete),
        )
        .route(
            "/repos/{owner}/{repo}/hooks/{hook_id}/config",
            get(hooks::config).patch(hooks::edit_config),
        )
        .route(
            "/repos/{owner}/{repo}/hooks/{hook_id}/pings",
            post(hooks::ping),
        )
        .route(
            "/repos/{owner}/{repo}/hooks/{hook_id}/deliveries/{delivery_id}",
            get(hooks::delivery),
        )
        .route(
            "/repos/{owner}/{repo}/hooks/{hook_id}/deliveries/{delivery_id}/attempts",
            post(hooks::redeliver),
        )
        .route(
            "/repos/{owner}/{repo}/hooks/{hook_id}/deliveries",
            get(hooks::deliveries),
        )
        .route(
            "/repos/{owner}/{repo}/import/authors",
            get(authors::list).put(authors::upload),
        )
        .route(
            "/repos/{owner}/{repo}/import/authors/{author_id}",
            patch(authors::map),
        )
        .route(
            "/repos/{owner}/{repo}/import/report",
            get(large_files::report),
        )
        .route(
            "/repos/{owner}/{repo}/import/large_files",
            get(large_files::large_files),
        )
        .route(
            "/repos/{owner}/{repo}/import/lfs",
            patch(large_files::set_lfs),
        )
        .route("/{owner}/{repo}/info/refs", get(git_http::info_refs))
        .route(
            "/{owner}/{repo}/git-upload-pack",
            post(git_http::upload_pack),
        )
        .route(
            "/{owner}/{repo}/git-receive-pack",
            post(git_http::receive_pack),
        )
        .route(
            "/{owner}/{repo}/info/lfs/objects/batch",
            post(lfs_http::batch),
        )
        .route(
            "/{owner}/{repo}/info/lfs/objects/{oid}",
            get(lfs_http::download).put(lfs_http::upload),
        )
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(axum::middleware::from_fn(run_to_completion))
        .with_state(state)
}

/// Runs every state-changing request in a task of its own: a client that disconnects
/// mid-request cannot cut a stop → store change → enqueue sequence short and strand an
/// import in a running status with no worker.
async fn run_to_completion(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    ) {
        return next.run(request).await;
    }
    match tokio::spawn(next.run(request)).await {
        Ok(response) => response,
        Err(e) => ApiError::Internal(format!("request task failed: {e}")).into_response(),
    }
}
