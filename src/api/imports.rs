//! `PUT`, `GET`, `PATCH` and `DELETE /repos/{owner}/{repo}/import`.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use srcimport_converters::{Credentials, Vcs};

use super::body::{read_object, Fields};
use super::error::ApiError;
use super::{auth, authors, repos, wire, SharedState};
use crate::git;
use crate::store::{LfsChoice, NewImport, PushTarget, RepoRecord, Stage, SvnOptions, SyncMode};

/// Loads the repository and its import, answering 404 for either missing.
fn import_of(
    state: &SharedState,
    owner: &str,
    name: &str,
) -> Result<(RepoRecord, crate::store::ImportRecord), ApiError> {
    let repo = state.repo(owner, name)?;
    let import = state.store.import(repo.id)?.ok_or(ApiError::NotFound)?;
    Ok((repo, import))
}

pub fn import_json(
    state: &SharedState,
    headers: &HeaderMap,
    repo: &RepoRecord,
) -> Result<Json<serde_json::Value>, ApiError> {
    let import = state.store.import(repo.id)?.ok_or(ApiError::NotFound)?;
    let base = state.base_url(headers);
    Ok(Json(wire::import(
        &wire::Urls { base: &base, repo },
        &import,
        state.default_sync_interval,
    )))
}

/// The Subversion extension fields over `base`: `svn_project`, `svn_trunk`, `svn_branches`,
/// `svn_tags`, `svn_empty_dirs`. GitHub's clients ignore unknown fields, so they are safe.
fn svn_options(fields: &Fields<'_>, base: SvnOptions) -> Result<SvnOptions, ApiError> {
    Ok(SvnOptions {
        project: fields.string("svn_project")?.or(base.project),
        trunk: fields.string("svn_trunk")?.or(base.trunk),
        branches: fields.string_list("svn_branches")?.or(base.branches),
        tags: fields.string_list("svn_tags")?.or(base.tags),
        empty_dirs: fields.boolean("svn_empty_dirs")?.or(base.empty_dirs),
    })
}

/// The project a Subversion choice names: `human_name` is `NAME (/NAME)`.
fn svn_project_of(human_name: &str) -> Option<String> {
    let open = human_name.rfind("(/")?;
    let path = human_name[open + 2..].strip_suffix(')')?;
    Some(path.trim_matches('/').to_owned()).filter(|p| !p.is_empty())
}

fn credentials(fields: &Fields<'_>) -> Result<Option<Credentials>, ApiError> {
    let username = fields.string("vcs_username")?;
    let password = fields.string("vcs_password")?;
    Ok(match (username, password) {
        (None, None) => None,
        (username, password) => Some(Credentials {
            username: username.unwrap_or_default(),
            password: password.unwrap_or_default(),
        }),
    })
}

/// The `sync_interval` extension field: `None` when absent, `Some(0)` for `null` or `0`
/// (no periodic syncs), else a number of seconds no lower than the server's minimum.
fn sync_interval(state: &SharedState, fields: &Fields<'_>) -> Result<Option<i64>, ApiError> {
    let invalid =
        |message: String| ApiError::invalid("Import", "sync_interval", "invalid", message);
    match fields.map.get("sync_interval") {
        None => Ok(None),
        Some(serde_json::Value::Null) => Ok(Some(0)),
        Some(value) => match value.as_i64() {
            Some(0) => Ok(Some(0)),
            Some(seconds) if seconds >= state.min_sync_interval => Ok(Some(seconds)),
            _ => Err(invalid(format!(
                "sync_interval must be a number of seconds of at least {} (or null for none)",
                state.min_sync_interval
            ))),
        },
    }
}

/// The push mirror extension fields (`push_url`, `push_username`, `push_password`) over
/// `base`; each given field replaces its part. The URL goes through the address policy.
fn push_target(
    state: &SharedState,
    fields: &Fields<'_>,
    base: Option<&PushTarget>,
) -> Result<Option<PushTarget>, ApiError> {
    let url = fields.string("push_url")?.map(|u| u.trim().to_owned());
    let username = fields.string("push_username")?;
    let password = fields.string("push_password")?;
    if url.is_none() && username.is_none() && password.is_none() {
        return Ok(base.cloned());
    }
    let Some(url) = url.or_else(|| base.map(|b| b.url.clone())) else {
        return Err(ApiError::invalid(
            "Import",
            "push_url",
            "missing_field",
            "push_username and push_password need a push_url".to_owned(),
        ));
    };
    if url.is_empty() {
        // An empty push_url removes the mirror.
        return Ok(None);
    }
    state
        .scheduler
        .env()
        .url_policy
        .check_shape(&url)
        .map_err(|e| ApiError::invalid("Import", "push_url", "invalid", e.to_string()))?;
    let old = base.and_then(|b| b.credentials.clone());
    let credentials = match (username, password, old) {
        (None, None, old) => old,
        (username, password, old) => Some(srcimport_converters::Credentials {
            username: username
                .or_else(|| old.as_ref().map(|o| o.username.clone()))
                .unwrap_or_default(),
            password: password
                .or_else(|| old.as_ref().map(|o| o.password.clone()))
                .unwrap_or_default(),
        }),
    };
    Ok(Some(PushTarget { url, credentials }))
}

pub async fn start(
    State(state): State<SharedState>,
    Path((owner, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let who = auth::authorize(&state, &headers, &owner, &name)?;
    let map = read_object(body, state.max_body_bytes, "Import", Some("vcs_url")).await?;
    let fields = Fields {
        resource: "Import",
        map: &map,
    };
    let vcs_url = fields.required_string("vcs_url")?.trim().to_owned();
    let new = NewImport {
        vcs: fields.choice("vcs", Vcs::parse)?,
        tfvc_project: fields.string("tfvc_project")?,
        use_lfs: fields
            .choice("use_lfs", LfsChoice::parse)?
            .unwrap_or(state.default_use_lfs),
        large_file_threshold: fields
            .positive_integer("lfs_threshold")?
            .unwrap_or(state.default_large_file_threshold),
        credentials: credentials(&fields)?,
        svn_options: svn_options(&fields, SvnOptions::default())?,
        push: push_target(&state, &fields, None)?,
        started_by: Some(who.login),
        sync_interval: sync_interval(&state, &fields)?,
        vcs_url,
    };
    state
        .scheduler
        .env()
        .url_policy
        .check_shape(&new.vcs_url)
        .map_err(|e| ApiError::invalid("Import", "vcs_url", "invalid", e.to_string()))?;
    let repo = match state.store.find_repo(&owner, &name)? {
        Some(repo) => repo,
        None if state.auto_create_repos => {
            match repos::create_hosted(&state, &owner, &name, true).await {
                Ok(repo) => repo,
                // Another request created it first.
                Err(_) => state.repo(&owner, &name)?,
            }
        }
        None => return Err(ApiError::NotFound),
    };
    let _control = state.scheduler.control(repo.id).await;
    state.store.start_import(repo.id, new)?;
    state.scheduler.enqueue(repo.id);
    let json = import_json(&state, &headers, &repo)?;
    let location = wire::Urls {
        base: &state.base_url(&headers),
        repo: &repo,
    }
    .import();
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], json).into_response())
}

pub async fn status(
    State(state): State<SharedState>,
    Path((owner, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    auth::authorize(&state, &headers, &owner, &name)?;
    let (repo, _) = import_of(&state, &owner, &name)?;
    import_json(&state, &headers, &repo)
}

/// Credentials resume a failed import at its failed step; a project choice resumes
/// detection; no body (or `{}`) restarts from scratch.
pub async fn update(
    State(state): State<SharedState>,
    Path((owner, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<serde_json::Value>, ApiError> {
    auth::authorize(&state, &headers, &owner, &name)?;
    let map = read_object(body, state.max_body_bytes, "Import", None).await?;
    let (repo, before) = import_of(&state, &owner, &name)?;
    let fields = Fields {
        resource: "Import",
        map: &map,
    };
    let credentials = credentials(&fields)?;
    let interval = sync_interval(&state, &fields)?;
    let vcs = fields.choice("vcs", Vcs::parse)?;
    let tfvc_project = fields.string("tfvc_project")?;
    let use_lfs = fields.choice("use_lfs", LfsChoice::parse)?;
    let mut layout = svn_options(&fields, before.svn_options.clone())?;
    let is_svn = vcs.or(before.vcs) == Some(Vcs::Subversion);
    if let Some(project) = fields
        .string("human_name")?
        .filter(|_| is_svn)
        .and_then(|h| svn_project_of(&h))
    {
        layout.project = Some(project);
    }
    let layout_changed = layout != before.svn_options;
    let choosing = vcs.is_some() || tfvc_project.is_some() || layout_changed;
    let push = push_target(&state, &fields, before.push.as_ref())?;
    let push_changed = push != before.push;
    // Any push_* field, changed or not, asks for the push to be retried (not a restart).
    let push_given = ["push_url", "push_username", "push_password"]
        .iter()
        .any(|f| map.contains_key(*f));
    if let Some(interval) = interval {
        state.store.set_sync_interval(repo.id, Some(interval))?;
        // A new interval alone changes when the next sync runs, nothing else.
        if credentials.is_none() && !choosing && !push_given && use_lfs.is_none() {
            return import_json(&state, &headers, &repo);
        }
    }
    if let Some(choice) = use_lfs {
        state.store.set_lfs_choice(repo.id, choice)?;
        if credentials.is_none() && !choosing && !push_given {
            authors::remap(&state, &repo).await?;
            return import_json(&state, &headers, &repo);
        }
    }
    let _control = state.scheduler.control(repo.id).await;
    let import = state.store.import(repo.id)?.ok_or(ApiError::NotFound)?;
    if push_changed {
        state.store.set_push_target(repo.id, push.as_ref())?;
    }
    if credentials.is_none() && !choosing && !push_given {
        state.scheduler.stop(repo.id).await;
        state.store.restart(repo.id)?;
        state.scheduler.enqueue(repo.id);
        return import_json(&state, &headers, &repo);
    }
    if let Some(credentials) = credentials {
        state.store.set_credentials(repo.id, Some(credentials))?;
    }
    if choosing {
        state.store.set_project(repo.id, vcs, tfvc_project)?;
    }
    if layout_changed {
        state.store.set_svn_options(repo.id, &layout)?;
    }
    if import.status.is_failure() {
        let stage = match (choosing, import.failed_step) {
            (true, _) if vcs.is_some() || import.vcs.is_some() => Stage::Importing,
            (true, _) => Stage::Detecting,
            (false, Some(step)) => step,
            (false, None) => Stage::Detecting,
        };
        state.store.resume(repo.id, stage)?;
        state.scheduler.enqueue(repo.id);
    }
    import_json(&state, &headers, &repo)
}

/// `POST /repos/{owner}/{repo}/import/sync` (extension): reads the source again and
/// publishes what is new, from a completed import (or one whose last sync failed). Without
/// `force: true` the published branches must fast-forward and the tags stay, else the
/// import ends in `error` and nothing is published. `vcs_username`/`vcs_password` are for
/// sources that need them (an import forgets them once it has read the source).
pub async fn sync(
    State(state): State<SharedState>,
    Path((owner, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    auth::authorize(&state, &headers, &owner, &name)?;
    let map = read_object(body, state.max_body_bytes, "Import", None).await?;
    let fields = Fields {
        resource: "Import",
        map: &map,
    };
    let mode = match fields.boolean("force")? {
        Some(true) => SyncMode::Force,
        _ => SyncMode::FastForward,
    };
    let credentials = credentials(&fields)?;
    let repo = state.repo(&owner, &name)?;
    let _control = state.scheduler.control(repo.id).await;
    state.store.sync(repo.id, mode)?;
    if credentials.is_some() {
        state.store.set_credentials(repo.id, credentials)?;
    }
    state.scheduler.enqueue(repo.id);
    tracing::info!(repo_id = repo.id, mode = mode.as_str(), "sync started");
    let json = import_json(&state, &headers, &repo)?;
    Ok((StatusCode::ACCEPTED, json).into_response())
}

pub async fn cancel(
    State(state): State<SharedState>,
    Path((owner, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    auth::authorize(&state, &headers, &owner, &name)?;
    let repo = state.repo(&owner, &name)?;
    let _control = state.scheduler.control(repo.id).await;
    state.scheduler.stop(repo.id).await;
    let Some(import) = state.store.import(repo.id)? else {
        return Ok(StatusCode::NO_CONTENT);
    };
    let path = state.scheduler.repo_path(&repo);
    let cleanup = tokio::task::spawn_blocking(move || git::drop_work_refs(&path)).await;
    if let Ok(Err(error)) = cleanup {
        // The import goes regardless; leftover work refs are hidden and replaced next time.
        tracing::warn!(repo_id = repo.id, %error, "cannot remove work refs");
    }
    state.store.delete_import(repo.id)?;
    tracing::info!(
        repo_id = repo.id,
        status = import.status.as_str(),
        "import cancelled"
    );
    Ok(StatusCode::NO_CONTENT)
}
