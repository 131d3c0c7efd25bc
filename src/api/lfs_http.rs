//! The Git LFS batch API for hosted repositories, with basic-transfer downloads and
//! uploads (sha256 verified, written atomically).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tokio_util::io::ReaderStream;

use super::body::{parse_object, read_capped};
use super::error::ApiError;
use super::{auth, SharedState};
use crate::git::lfs::{valid_oid, LfsStore};
use crate::git::objects::hex;
use crate::store::RepoRecord;

const LFS_JSON: &str = "application/vnd.git-lfs+json";

fn lfs_response(status: StatusCode, body: Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(LFS_JSON));
    response
}

fn store(state: &SharedState, repo: &RepoRecord) -> LfsStore {
    LfsStore::for_repo(&state.scheduler.repo_path(repo))
}

pub async fn batch(
    State(state): State<SharedState>,
    Path((owner, segment)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let repo = state.hosted_repo(&owner, &segment)?;
    let bytes = read_capped(body, state.max_body_bytes).await?;
    let request = parse_object(&bytes)?.ok_or(ApiError::BadJson)?;
    let operation = request
        .get("operation")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match operation {
        "download" => auth::authorize_git(&state, &headers, &repo)?,
        "upload" => {
            auth::authorize_git_write(&state, &headers, &repo)?;
        }
        _ => {
            return Ok(lfs_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"message": "operation must be download or upload"}),
            ))
        }
    }
    let objects = request
        .get("objects")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let store = store(&state, &repo);
    let href_base = format!(
        "{}/{}/{}.git/info/lfs/objects",
        state.base_url(&headers),
        repo.owner,
        repo.name
    );
    let mut action_header = serde_json::Map::new();
    if let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        action_header.insert("Authorization".into(), json!(value));
    }
    let answers: Vec<Value> = objects
        .iter()
        .map(|object| {
            let oid = object.get("oid").and_then(Value::as_str).unwrap_or_default();
            let size = object.get("size").and_then(Value::as_u64).unwrap_or(0);
            if !valid_oid(oid) {
                return json!({"oid": oid, "size": size, "error": {"code": 422, "message": "invalid object id"}});
            }
            let action = json!({"href": format!("{href_base}/{oid}"), "header": action_header, "expires_in": 3600});
            match (operation, store.contains(oid)) {
                ("download", true) => json!({"oid": oid, "size": size, "authenticated": true, "actions": {"download": action}}),
                ("download", false) => json!({"oid": oid, "size": size, "error": {"code": 404, "message": "Object does not exist"}}),
                // Already stored: nothing to upload.
                (_, true) => json!({"oid": oid, "size": size}),
                (_, false) => json!({"oid": oid, "size": size, "authenticated": true, "actions": {"upload": action}}),
            }
        })
        .collect();
    Ok(lfs_response(
        StatusCode::OK,
        json!({"transfer": "basic", "objects": answers, "hash_algo": "sha256"}),
    ))
}

pub async fn download(
    State(state): State<SharedState>,
    Path((owner, segment, oid)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let repo = state.hosted_repo(&owner, &segment)?;
    auth::authorize_git(&state, &headers, &repo)?;
    let store = store(&state, &repo);
    if !store.contains(&oid) {
        return Ok(lfs_response(
            StatusCode::NOT_FOUND,
            json!({"message": "Object does not exist"}),
        ));
    }
    let path = store.object_path(&oid);
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|e| ApiError::Internal(format!("{}: {e}", path.display())))?;
    let length = file
        .metadata()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .len();
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (header::CONTENT_LENGTH, length.to_string()),
        ],
        Body::from_stream(ReaderStream::with_capacity(file, 1 << 16)),
    )
        .into_response())
}

pub async fn upload(
    State(state): State<SharedState>,
    Path((owner, segment, oid)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let repo = state.hosted_repo(&owner, &segment)?;
    auth::authorize_git_write(&state, &headers, &repo)?;
    if !valid_oid(&oid) {
        return Ok(lfs_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"message": "invalid object id"}),
        ));
    }
    let store = store(&state, &repo);
    let temp = store
        .temp_path()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let written = receive(body, &temp).await;
    let outcome = match written {
        Ok(actual) if actual == oid => store
            .commit_temp(&temp, &oid)
            .map(|()| lfs_response(StatusCode::OK, json!({})))
            .map_err(|e| ApiError::Internal(e.to_string())),
        Ok(actual) => Ok(lfs_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"message": format!("content hashes to sha256:{actual}, not {oid}")}),
        )),
        Err(e) => Err(ApiError::Internal(e.to_string())),
    };
    let _ = tokio::fs::remove_file(&temp).await;
    outcome
}

/// Streams `body` into `temp`, fsyncs it, and returns its sha256.
async fn receive(mut body: Body, temp: &std::path::Path) -> std::io::Result<String> {
    let mut file = tokio::fs::File::create(temp).await?;
    let mut hasher = Sha256::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(std::io::Error::other)?;
        if let Ok(data) = frame.into_data() {
            hasher.update(&data);
            file.write_all(&data).await?;
        }
    }
    file.sync_all().await?;
    Ok(hex(&hasher.finalize()))
}
