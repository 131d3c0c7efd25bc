//! Git smart HTTP for hosted repositories (clone and fetch; pushes are refused).

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;

use super::body::read_capped;
use super::error::ApiError;
use super::{auth, SharedState};
use crate::git::http_backend::{self, CgiRequest};

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
    auth::authorize_git(state, &headers, &repo)?;
    let query = query.unwrap_or_default();
    if query.contains("git-receive-pack") {
        return Err(ApiError::Forbidden(
            "hosted repositories are written by imports only",
        ));
    }
    let body = read_capped(body, MAX_NEGOTIATION_BYTES).await?;
    let path_info = format!(
        "/{}/{}.git/{service_path}",
        repo.owner.to_lowercase(),
        repo.name.to_lowercase()
    );
    let root = state.scheduler.env().repos_root.clone();
    http_backend::serve(CgiRequest {
        project_root: &root,
        path_info: &path_info,
        method: &method,
        query: &query,
        headers: &headers,
        body,
        remote_user: None,
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))
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
    backend(
        &state,
        GitRequest {
            owner,
            repo_segment: repo,
            service_path: "git-upload-pack",
            method: Method::POST,
            query: None,
            headers,
            body,
        },
    )
    .await
}

pub async fn receive_pack() -> ApiError {
    ApiError::Forbidden("hosted repositories are written by imports only")
}
