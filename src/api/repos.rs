//! Repository endpoints real clients call around the import API.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;

use super::body::{read_object, Fields};
use super::error::ApiError;
use super::{auth, wire, SharedState};
use crate::{git, names};

pub async fn get_repo(
    State(state): State<SharedState>,
    Path((owner, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    auth::authorize(&state, &headers, &owner, &name)?;
    let repo = state.repo(&owner, &name)?;
    let base = state.base_url(&headers);
    Ok(Json(wire::repository(&wire::Urls {
        base: &base,
        repo: &repo,
    })))
}

pub async fn create_user_repo(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Body,
) -> Result<impl IntoResponse, ApiError> {
    let who = auth::principal(&state, &headers)?;
    create(&state, &headers, &who.login, body).await
}

pub async fn create_org_repo(
    State(state): State<SharedState>,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<impl IntoResponse, ApiError> {
    let who = auth::principal(&state, &headers)?;
    if !names::valid_owner(&org) || !who.may_act_for(&org) {
        return Err(ApiError::NotFound);
    }
    create(&state, &headers, &org, body).await
}

async fn create(
    state: &SharedState,
    headers: &HeaderMap,
    owner: &str,
    body: Body,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let map = read_object(body, state.max_body_bytes, "Repository", None).await?;
    let fields = Fields {
        resource: "Repository",
        map: &map,
    };
    let name = fields.required_string("name")?;
    if !names::valid_repo(&name) {
        return Err(ApiError::invalid(
            "Repository",
            "name",
            "invalid",
            "name may contain only letters, digits, '.', '_' and '-'".to_owned(),
        ));
    }
    let private = fields.boolean("private")?.unwrap_or(false);
    let repo = create_hosted(state, owner, &name, private).await?;
    let base = state.base_url(headers);
    Ok((
        StatusCode::CREATED,
        Json(wire::repository(&wire::Urls {
            base: &base,
            repo: &repo,
        })),
    ))
}

/// Creates the record and the bare repository on disk.
pub async fn create_hosted(
    state: &SharedState,
    owner: &str,
    name: &str,
    private: bool,
) -> Result<crate::store::RepoRecord, ApiError> {
    let repo = state.store.create_repo(owner, name, private)?;
    let path = state.scheduler.repo_path(&repo);
    tokio::task::spawn_blocking(move || git::init_hosted(&path))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(repo)
}
