//! Large files of an import: the list, the LFS preference (which triggers a remap) and the
//! conversion report.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use serde_json::Value;

use super::authors::{remap, repo_with_import};
use super::body::{read_object, Fields};
use super::error::ApiError;
use super::imports::import_json;
use super::{auth, wire, SharedState};
use crate::store::LfsChoice;

pub async fn large_files(
    State(state): State<SharedState>,
    Path((owner, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    auth::authorize(&state, &headers, &owner, &name)?;
    let repo = repo_with_import(&state, &owner, &name)?;
    let files = state.store.large_files(repo.id)?;
    Ok(Json(files.iter().map(wire::large_file).collect()))
}

pub async fn set_lfs(
    State(state): State<SharedState>,
    Path((owner, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    auth::authorize(&state, &headers, &owner, &name)?;
    let map = read_object(body, state.max_body_bytes, "Import", Some("use_lfs")).await?;
    let fields = Fields {
        resource: "Import",
        map: &map,
    };
    let choice = fields
        .choice("use_lfs", |s| {
            LfsChoice::parse(s).filter(|c| *c != LfsChoice::Undecided)
        })?
        .ok_or(ApiError::invalid(
            "Import",
            "use_lfs",
            "missing_field",
            None,
        ))?;
    let repo = repo_with_import(&state, &owner, &name)?;
    state.store.set_lfs_choice(repo.id, choice)?;
    remap(&state, &repo).await?;
    import_json(&state, &headers, &repo)
}

/// Extension: the conversion report, everything the conversion could not represent or
/// repaired, with revision and path where there are ones.
pub async fn report(
    State(state): State<SharedState>,
    Path((owner, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    auth::authorize(&state, &headers, &owner, &name)?;
    let repo = repo_with_import(&state, &owner, &name)?;
    let import = state.store.import(repo.id)?.ok_or(ApiError::NotFound)?;
    let mut entries: Vec<Value> = state
        .store
        .report(repo.id)?
        .iter()
        .map(wire::report_entry)
        .collect();
    entries.extend(
        state
            .store
            .large_files(repo.id)?
            .iter()
            .map(|file| wire::large_file_entry(file, import.use_lfs)),
    );
    Ok(Json(Value::Array(entries)))
}
