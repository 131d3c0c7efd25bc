//! Git smart HTTP for hosted repositories: clone and fetch, and pushes from a token with
//! write rights while no import runs (a hosted repository can be another server's push
//! mirror).

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;

use super::body::read_capped;
use super::error::ApiError;
use super::{auth, SharedState};
use crate::git::http_backend::{self, CgiRequest};
use crate::git::HIDDEN_NAMESPACE;

/// Largest upload-pack request (the client's wants and haves).
const MAX_NEGOTIATION_BYTES: usize = 64 * 1024 * 1024;

/// One smart-HTTP request for `/{owner}/{repo}/{service_path}`.
struct GitRequest {
    owner: String,
    repo_segment: String,
    service_path: &'static str,
    method: Method,
    query: Option<String>,
    headers: HeaderMap,
    body: Body,
}

async fn backend(state: &SharedState, request: GitRequest) -> Result<Response, ApiError> {
    let GitRequest {
        owner,
        repo_segment,
        service_path,
        method,
        query,
        headers,
        body,
    } = request;
    let repo = state.hosted_repo(&owner, &repo_segment)?;
    let query = query.unwrap_or_default();
    let pushing = service_path == "git-receive-pack"
        || query.split('&').any(|p| p == "service=git-receive-pack");
    let path_info = format!(
        "/{}/{}.git/{service_path}",
        repo.owner.to_lowercase(),
        repo.name.to_lowercase()
    );
    let root = state.scheduler.env().repos_root.clone();
    let request = |body, remote_user, config, hold| CgiRequest {
        project_root: &root,
        path_info: &path_info,
        method: &method,
        query: &query,
        headers: &headers,
        body,
        remote_user,
        config,
        hold,
    };
    let served = if pushing {
        let who = auth::authorize_git_write(state, &headers, &repo)?;
        // Held until the push has ended: no import starts meanwhile.
        let control = state.scheduler.control(repo.id).await;
        if let Some(import) = state.store.import(repo.id)? {
            if import.status.is_running() {
                return Err(ApiError::Conflict(
                    "an import is running for this repository; push when it has ended",
                ));
            }
        }
        // GitHub's rule: one push carries at most the push size limit (2 GiB by default);
        // git refuses a bigger pack itself, keeping none of it.
        let max_input = state.scheduler.env().push_size_limit.to_string();
        let config = [
            ("http.receivepack", "true"),
            ("receive.hideRefs", HIDDEN_NAMESPACE),
            ("receive.maxInputSize", max_input.as_str()),
        ];
        let hold: Box<dyn Send + Sync> = if service_path == "git-receive-pack" {
            Box::new(AfterPush {
                control: Some(control),
                git_dir: state.scheduler.repo_path(&repo),
                repo_id: repo.id,
                store: std::sync::Arc::clone(&state.store),
            })
        } else {
            Box::new(control)
        };
        http_backend::serve(request(body, Some(who.login.as_str()), &config, Some(hold))).await
    } else {
        auth::authorize_git(state, &headers, &repo)?;
        let body = read_capped(body, MAX_NEGOTIATION_BYTES).await?;
        http_backend::serve(request(Body::from(body), None, &[], None)).await
    };
    served.map_err(|e| ApiError::Internal(e.to_string()))
}

/// Held by a push's response until it has ended: then the default branch is settled (a
/// first push names it) and the control lock let go.
struct AfterPush {
    control: Option<tokio::sync::OwnedMutexGuard<()>>,
    git_dir: std::path::PathBuf,
    repo_id: i64,
    store: std::sync::Arc<dyn crate::store::JobStore>,
}

impl Drop for AfterPush {
    fn drop(&mut self) {
        let control = self.control.take();
        let git_dir = std::mem::take(&mut self.git_dir);
        let (repo_id, store) = (self.repo_id, std::sync::Arc::clone(&self.store));
        let settle = move || {
            let cancel = srcimport_converters::Cancel::new();
            match crate::git::publish::settle_head(&git_dir, &cancel) {
                Ok(Some(branch)) => {
                    if let Err(error) = store.set_default_branch(repo_id, &branch) {
                        tracing::warn!(repo_id, %error, "cannot record the default branch");
                    }
                }
                Ok(None) => {}
                Err(error) => tracing::warn!(repo_id, %error, "cannot settle HEAD after a push"),
            }
            drop(control);
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn_blocking(settle);
            }
            Err(_) => settle(),
        }
    }
}

pub async fn info_refs(
    State(state): State<SharedState>,
    Path((owner, repo)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    backend(
        &state,
        GitRequest {
            owner,
            repo_segment: repo,
            service_path: "info/refs",
            method: Method::GET,
            query,
            headers,
            body: Body::empty(),
        },
    )
    .await
}

pub async fn upload_pack(
    State(state): State<SharedState>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    service(state, owner, repo, "git-upload-pack", headers, body).await
}

pub async fn receive_pack(
    State(state): State<SharedState>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    service(state, owner, repo, "git-receive-pack", headers, body).await
}

async fn service(
    state: SharedState,
    owner: String,
    repo_segment: String,
    service_path: &'static str,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    backend(
        &state,
        GitRequest {
            owner,
            repo_segment,
            service_path,
            method: Method::POST,
            query: None,
            headers,
            body,
        },
    )
    .await
}
