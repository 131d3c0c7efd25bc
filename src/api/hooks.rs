//! Repository webhooks in GitHub's shapes: `POST`/`GET /repos/{owner}/{repo}/hooks`,
//! `GET`/`PATCH`/`DELETE .../hooks/{id}`, its `config`, `POST .../pings`, and the delivery
//! log with redelivery (`.../deliveries[/{delivery_id}[/attempts]]`).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{Map, Value};

use super::body::{read_object, Fields};
use super::error::ApiError;
use super::{auth, webhooks, wire, SharedState};
use crate::store::{DeliveryRecord, HookRecord, HookSettings, RepoRecord};

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

/// A new hook before its body is read: GitHub's defaults (`events: ["push"]`,
/// `content_type: form`, `active: true`); the URL is required.
fn defaults() -> HookSettings {
    HookSettings {
        url: String::new(),
        content_type: "form".into(),
        secret: None,
        insecure_ssl: "0".into(),
        events: vec!["push".into()],
        active: true,
    }
}

/// Applies a hook body (create or edit) to `hook`: `name`, `config`, `events`,
/// `add_events`, `remove_events`, `active`. A creation must carry `config`.
fn apply_body(
    map: &Map<String, Value>,
    hook: &mut HookSettings,
    creating: bool,
) -> Result<(), ApiError> {
    let fields = Fields {
        resource: "Hook",
        map,
    };
    if let Some(name) = fields.string("name")? {
        if name != "web" {
            return Err(invalid("name", "name must be \"web\""));
        }
    }
    match map.get("config") {
        Some(Value::Object(config)) => apply_config(config, hook)?,
        None | Some(Value::Null) if creating => {
            return Err(ApiError::invalid("Hook", "config", "missing_field", None))
        }
        None | Some(Value::Null) => {}
        Some(_) => return Err(invalid("config", "config must be an object")),
    }
    if let Some(events) = fields.string_list("events")? {
        hook.events = events;
    }
    for added in fields.string_list("add_events")?.unwrap_or_default() {
        if !hook.events.contains(&added) {
            hook.events.push(added);
        }
    }
    if let Some(removed) = fields.string_list("remove_events")? {
        hook.events.retain(|e| !removed.contains(e));
    }
    if hook.events.is_empty() || !hook.events.iter().all(|e| webhooks::valid_event(e)) {
        return Err(invalid("events", "events must name webhook events"));
    }
    if let Some(active) = fields.boolean("active")? {
        hook.active = active;
    }
    Ok(())
}

/// Applies a hook's `config` object (`url`, `content_type`, `secret`, `insecure_ssl`) to
/// `hook`; what it leaves out stays. An empty `secret` removes the secret.
fn apply_config(config: &Map<String, Value>, hook: &mut HookSettings) -> Result<(), ApiError> {
    let fields = Fields {
        resource: "Hook",
        map: config,
    };
    if let Some(url) = fields.string("url")? {
        hook.url = url.trim().to_owned();
    }
    if hook.url.is_empty() {
        return Err(invalid("config.url", "Config must contain URL."));
    }
    if !(hook.url.starts_with("http://") || hook.url.starts_with("https://")) {
        return Err(invalid("config.url", "the URL must be http:// or https://"));
    }
    if let Some(content_type) = fields.string("content_type")? {
        if content_type != "json" && content_type != "form" {
            return Err(invalid(
                "config.content_type",
                "content_type must be json or form",
            ));
        }
        hook.content_type = content_type;
    }
    match config.get("insecure_ssl") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if s == "0" || s == "1" => hook.insecure_ssl = s.clone(),
        Some(Value::Number(n)) if n.as_i64() == Some(0) || n.as_i64() == Some(1) => {
            hook.insecure_ssl = n.to_string();
        }
        Some(_) => {
            return Err(invalid(
                "config.insecure_ssl",
                "insecure_ssl must be 0 or 1",
            ))
        }
    }
    if let Some(secret) = fields.string("secret")? {
        hook.secret = Some(secret).filter(|s| !s.is_empty());
    }
    Ok(())
}

/// Checks the hook's URL against the outbound address policy (it may wait on DNS).
async fn check_url(state: &SharedState, url: &str) -> Result<(), ApiError> {
    let policy = state.scheduler.env().url_policy.clone();
    let checked = url.to_owned();
    tokio::task::spawn_blocking(move || policy.check(&checked))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| invalid("config.url", e.to_string()))?;
    Ok(())
}

pub async fn create(
    State(state): State<SharedState>,
    Path((owner, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let who = auth::authorize(&state, &headers, &owner, &name)?;
    let repo = state.repo(&owner, &name)?;
    let map = read_object(body, state.max_body_bytes, "Hook", Some("config")).await?;
    let mut new = defaults();
    apply_body(&map, &mut new, true)?;
    check_url(&state, &new.url).await?;
    let hook = state.store.create_hook(repo.id, &new)?;
    tracing::info!(repo_id = repo.id, hook_id = hook.id, "webhook created");
    let base = state.base_url(&headers);
    let urls = wire::Urls {
        base: &base,
        repo: &repo,
    };
    // GitHub pings every new hook.
    webhooks::ping(&state, &urls, &hook, &who.login)?;
    let json = wire::hook(&urls, &hook);
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
    Ok(shown(&state, &headers, &repo, &hook))
}

/// A hook as the API shows it.
fn shown(
    state: &SharedState,
    headers: &HeaderMap,
    repo: &RepoRecord,
    hook: &HookRecord,
) -> Json<Value> {
    let base = state.base_url(headers);
    Json(wire::hook(&wire::Urls { base: &base, repo }, hook))
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

/// `PATCH /repos/{owner}/{repo}/hooks/{id}`: edits a hook (`config` keys left out stay).
pub async fn edit(
    State(state): State<SharedState>,
    Path((owner, name, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let (repo, saved) = edit_with(&state, &headers, (&owner, &name, &id), body, |map, hook| {
        apply_body(map, hook, false)
    })
    .await?;
    Ok(shown(&state, &headers, &repo, &saved))
}

/// `GET /repos/{owner}/{repo}/hooks/{id}/config`.
pub async fn config(
    State(state): State<SharedState>,
    Path((owner, name, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let repo = repo_of(&state, &headers, &owner, &name)?;
    Ok(Json(wire::hook_config(&hook_of(&state, &repo, &id)?)))
}

/// `PATCH /repos/{owner}/{repo}/hooks/{id}/config`: the body is the config object itself.
pub async fn edit_config(
    State(state): State<SharedState>,
    Path((owner, name, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let (_, saved) = edit_with(&state, &headers, (&owner, &name, &id), body, apply_config).await?;
    Ok(Json(wire::hook_config(&saved)))
}

/// Reads an edit body, applies it with `apply` to the hook's current settings, checks a
/// changed URL against the address policy and stores the result.
async fn edit_with(
    state: &SharedState,
    headers: &HeaderMap,
    (owner, name, id): (&str, &str, &str),
    body: Body,
    apply: impl FnOnce(&Map<String, Value>, &mut HookSettings) -> Result<(), ApiError>,
) -> Result<(RepoRecord, HookRecord), ApiError> {
    let repo = repo_of(state, headers, owner, name)?;
    let hook = hook_of(state, &repo, id)?;
    let map = read_object(body, state.max_body_bytes, "Hook", None).await?;
    let mut edited = hook.settings.clone();
    apply(&map, &mut edited)?;
    if edited.url != hook.settings.url {
        check_url(state, &edited.url).await?;
    }
    let saved = state
        .store
        .update_hook(repo.id, hook.id, &edited)?
        .ok_or(ApiError::NotFound)?;
    tracing::info!(repo_id = repo.id, hook_id = saved.id, "webhook edited");
    Ok((repo, saved))
}

/// `POST /repos/{owner}/{repo}/hooks/{id}/pings`: queues a `ping` delivery; 204.
pub async fn ping(
    State(state): State<SharedState>,
    Path((owner, name, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let who = auth::authorize(&state, &headers, &owner, &name)?;
    let repo = state.repo(&owner, &name)?;
    let hook = hook_of(&state, &repo, &id)?;
    let base = state.base_url(&headers);
    let urls = wire::Urls {
        base: &base,
        repo: &repo,
    };
    webhooks::ping(&state, &urls, &hook, &who.login)?;
    Ok(StatusCode::NO_CONTENT)
}

fn delivery_of(
    state: &SharedState,
    repo: &RepoRecord,
    hook: &HookRecord,
    id: &str,
) -> Result<DeliveryRecord, ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    state
        .store
        .delivery(repo.id, hook.id, id)?
        .ok_or(ApiError::NotFound)
}

/// `GET /repos/{owner}/{repo}/hooks/{id}/deliveries/{delivery_id}`: one delivery with
/// its request.
pub async fn delivery(
    State(state): State<SharedState>,
    Path((owner, name, id, delivery_id)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let repo = repo_of(&state, &headers, &owner, &name)?;
    let hook = hook_of(&state, &repo, &id)?;
    let delivery = delivery_of(&state, &repo, &hook, &delivery_id)?;
    let sent = webhooks::request_headers(&delivery);
    Ok(Json(wire::delivery_detail(&delivery, &sent)))
}

/// `POST /repos/{owner}/{repo}/hooks/{id}/deliveries/{delivery_id}/attempts`: delivers
/// the same payload again, under the same GUID, to the hook as configured now; 202.
pub async fn redeliver(
    State(state): State<SharedState>,
    Path((owner, name, id, delivery_id)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let repo = repo_of(&state, &headers, &owner, &name)?;
    let hook = hook_of(&state, &repo, &id)?;
    let earlier = delivery_of(&state, &repo, &hook, &delivery_id)?;
    webhooks::redeliver(&state, &hook, &earlier)?;
    tracing::info!(
        repo_id = repo.id,
        hook_id = hook.id,
        delivery_id = earlier.id,
        "webhook redelivery queued"
    );
    Ok((StatusCode::ACCEPTED, Json(serde_json::json!({}))))
}
