//! Repository webhooks: `POST`/`GET /repos/{owner}/{repo}/hooks`, `GET`/`DELETE
//! /repos/{owner}/{repo}/hooks/{id}` and the delivery log `GET .../hooks/{id}/deliveries`,
//! in GitHub's shapes.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{Map, Value};

use super::body::{read_object, Fields};
use super::error::ApiError;
use super::{auth, webhooks, wire, SharedState};
use crate::store::{HookRecord, NewHook, RepoRecord};

fn repo_of(
    state: &SharedState,
    headers: &HeaderMap,
    owner: &str,
    name: &str,
) -> Result<RepoRecord, ApiError> {
    auth::authorize(state, headers, owner, name)?;
    state.repo(owner, name)
}

fn hook_of(state: &SharedState, repo: &RepoRecord, id: &str) -> Result<HookRecord, ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    state.store.hook(repo.id, id)?.ok_or(ApiError::NotFound)
}

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::invalid("Hook", field, "custom", message.into())
}

/// Reads and checks a hook creation body (GitHub's defaults: `events: ["push"]`,
/// `content_type: form`, `active: true`).
async fn new_hook(state: &SharedState, map: &Map<String, Value>) -> Result<NewHook, ApiError> {
    let fields = Fields {
        resource: "Hook",
        map,
    };
    if let Some(name) = fields.string("name")? {
        if name != "web" {
            return Err(invalid("name", "name must be \"web\""));
        }
    }
    let config = match map.get("config") {
        Some(Value::Object(config)) => config,
        None | Some(Value::Null) => {
            return Err(ApiError::invalid("Hook", "config", "missing_field", None))
        }
        Some(_) => return Err(invalid("config", "config must be an object")),
    };
    let config_fields = Fields {
        resource: "Hook",
        map: config,
    };
    let url = match config_fields.string("url")? {
        Some(url) if !url.trim().is_empty() => url.trim().to_owned(),
        _ => return Err(invalid("config.url", "Config must contain URL.")),
    };
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(invalid("config.url", "the URL must be http:// or https://"));
    }
    let content_type = config_fields
        .string("content_type")?
        .unwrap_or_else(|| "form".into());
    if content_type != "json" && content_type != "form" {
        return Err(invalid(
            "config.content_type",
            "content_type must be json or form",
        ));
    }
    let insecure_ssl = match config.get("insecure_ssl") {
        None | Some(Value::Null) => "0".to_owned(),
        Some(Value::String(s)) if s == "0" || s == "1" => s.clone(),
        Some(Value::Number(n)) if n.as_i64() == Some(0) || n.as_i64() == Some(1) => n.to_string(),
        Some(_) => {
            return Err(invalid(
                "config.insecure_ssl",
                "insecure_ssl must be 0 or 1",
            ))
        }
    };
    let secret = config_fields.string("secret")?.filter(|s| !s.is_empty());
    let events = fields
        .string_list("events")?
        .unwrap_or_else(|| vec!["push".into()]);
    if events.is_empty() || !events.iter().all(|e| webhooks::valid_event(e)) {
        return Err(invalid("events", "events must name webhook events"));
    }
    // Last: it may wait on DNS.
    let policy = state.scheduler.env().url_policy.clone();
    let checked = url.clone();
    tokio::task::spawn_blocking(move || policy.check(&checked))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| invalid("config.url", e.to_string()))?;
    Ok(NewHook {
        url,
        content_type,
        secret,
        insecure_ssl,
        events,
        active: fields.boolean("active")?.unwrap_or(true),
    })
}

pub async fn create(
    State(state): State<SharedState>,
    Path((owner, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let repo = repo_of(&state, &headers, &owner, &name)?;
    let map = read_object(body, state.max_body_bytes, "Hook", Some("config")).await?;
    let new = new_hook(&state, &map).await?;
    let hook = state.store.create_hook(repo.id, &new)?;
    tracing::info!(repo_id = repo.id, hook_id = hook.id, "webhook created");
    let base = state.base_url(&headers);
    let json = wire::hook(
        &wire::Urls {
            base: &base,
            repo: &repo,
        },
        &hook,
    );
    let location = json["url"].as_str().unwrap_or_default().to_owned();
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(json),
    )
        .into_response())
}

pub async fn list(
    State(state): State<SharedState>,
    Path((owner, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let repo = repo_of(&state, &headers, &owner, &name)?;
    let base = state.base_url(&headers);
    let urls = wire::Urls {
        base: &base,
        repo: &repo,
    };
    let hooks = state.store.hooks(repo.id)?;
    Ok(Json(hooks.iter().map(|h| wire::hook(&urls, h)).collect()))
}

pub async fn get_one(
    State(state): State<SharedState>,
    Path((owner, name, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let repo = repo_of(&state, &headers, &owner, &name)?;
    let hook = hook_of(&state, &repo, &id)?;
    let base = state.base_url(&headers);
    Ok(Json(wire::hook(
        &wire::Urls {
            base: &base,
            repo: &repo,
        },
        &hook,
    )))
}

pub async fn delete(
    State(state): State<SharedState>,
    Path((owner, name, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let repo = repo_of(&state, &headers, &owner, &name)?;
    let hook = hook_of(&state, &repo, &id)?;
    if !state.store.delete_hook(repo.id, hook.id)? {
        return Err(ApiError::NotFound);
    }
    tracing::info!(repo_id = repo.id, hook_id = hook.id, "webhook deleted");
    Ok(StatusCode::NO_CONTENT)
}

pub async fn deliveries(
    State(state): State<SharedState>,
    Path((owner, name, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let repo = repo_of(&state, &headers, &owner, &name)?;
    let hook = hook_of(&state, &repo, &id)?;
    let list = state.store.deliveries(repo.id, hook.id)?;
    Ok(Json(list.iter().map(wire::delivery).collect()))
}
