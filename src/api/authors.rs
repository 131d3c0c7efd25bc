//! Authors of an import: listing, mapping one, or many at once from an authors file; a
//! change triggers one remap.

use axum::body::Body;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::HeaderMap;
use axum::Json;
use serde_json::Value;

use super::body::{read_capped, read_object, Fields};
use super::error::ApiError;
use super::{auth, wire, SharedState};
use crate::authors_file::{self, AuthorsFormat};
use crate::store::RepoRecord;

#[derive(serde::Deserialize)]
pub struct AuthorsFileQuery {
    format: Option<String>,
}

pub(super) fn repo_with_import(
    state: &SharedState,
    owner: &str,
    name: &str,
) -> Result<RepoRecord, ApiError> {
    let repo = state.repo(owner, name)?;
    state.store.import(repo.id)?.ok_or(ApiError::NotFound)?;
    Ok(repo)
}

pub async fn list(
    State(state): State<SharedState>,
    Path((owner, name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    auth::authorize(&state, &headers, &owner, &name)?;
    let since_param = query
        .as_deref()
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.strip_prefix("since="))
        .next_back();
    let since = match since_param.map(str::trim) {
        None | Some("") => 0,
        Some(text) => text.parse::<i64>().map_err(|_| {
            ApiError::invalid(
                "Author",
                "since",
                "invalid",
                "since must be an author id".to_owned(),
            )
        })?,
    };
    let repo = repo_with_import(&state, &owner, &name)?;
    let base = state.base_url(&headers);
    let urls = wire::Urls {
        base: &base,
        repo: &repo,
    };
    let authors = state.store.authors(repo.id, since)?;
    Ok(Json(
        authors.iter().map(|a| wire::author(&urls, a)).collect(),
    ))
}

/// Re-runs mapping and pushing after a change, superseding a run already mapping.
pub(super) async fn remap(state: &SharedState, repo: &RepoRecord) -> Result<(), ApiError> {
    let _control = state.scheduler.control(repo.id).await;
    let import = state.store.import(repo.id)?.ok_or(ApiError::NotFound)?;
    if matches!(
        import.status,
        crate::store::Status::Complete
            | crate::store::Status::Mapping
            | crate::store::Status::Pushing
    ) {
        state.scheduler.stop(repo.id).await;
        state.store.remap(repo.id)?;
        state.scheduler.enqueue(repo.id);
    }
    Ok(())
}

pub async fn map(
    State(state): State<SharedState>,
    Path((owner, name, author_id)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    auth::authorize(&state, &headers, &owner, &name)?;
    let author_id: i64 = author_id.parse().map_err(|_| ApiError::NotFound)?;
    let map = read_object(body, state.max_body_bytes, "Author", None).await?;
    let fields = Fields {
        resource: "Author",
        map: &map,
    };
    // Unknown fields are ignored: go-github sends the whole author object back.
    let new_name = fields.string("name")?;
    let new_email = fields.string("email")?;
    for (field, value) in [("name", &new_name), ("email", &new_email)] {
        if value
            .as_deref()
            .is_some_and(|v| v.contains(['<', '>', '\n', '\0']))
        {
            return Err(ApiError::invalid(
                "Author",
                field,
                "invalid",
                format!("{field} may not contain <, > or newlines"),
            ));
        }
    }
    let repo = repo_with_import(&state, &owner, &name)?;
    let author = state.store.map_author(
        repo.id,
        author_id,
        new_name.as_deref(),
        new_email.as_deref(),
    )?;
    remap(&state, &repo).await?;
    let base = state.base_url(&headers);
    Ok(Json(wire::author(
        &wire::Urls {
            base: &base,
            repo: &repo,
        },
        &author,
    )))
}

/// Extension: `PUT /import/authors` with an authors file (git-svn, svn-all-fast-export,
/// hg-fast-export, git-tfs or mailmap; `?format=` to name it) maps every author it names in
/// one rewrite. Kept with the import, it also applies to authors seen later (before the
/// first push, or after a restart).
pub async fn upload(
    State(state): State<SharedState>,
    Path((owner, name)): Path<(String, String)>,
    Query(query): Query<AuthorsFileQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    auth::authorize(&state, &headers, &owner, &name)?;
    let bytes = read_capped(body, state.max_body_bytes).await?;
    let invalid = |message: String| ApiError::invalid("Authors", "body", "invalid", message);
    let text = String::from_utf8(bytes.to_vec())
        .map_err(|_| invalid("the authors file is not UTF-8".into()))?;
    let format = match query.format.as_deref() {
        Some(name) => Some(AuthorsFormat::parse(name).ok_or_else(|| {
            ApiError::invalid(
                "Authors",
                "format",
                "invalid",
                format!("unknown authors file format {name:?}"),
            )
        })?),
        None => None,
    };
    let file = authors_file::parse(&text, format).map_err(|e| invalid(e.to_string()))?;
    let repo = repo_with_import(&state, &owner, &name)?;
    let changed = {
        let _control = state.scheduler.control(repo.id).await;
        state
            .store
            .set_authors_file(repo.id, file.format.as_str(), &text)?;
        authors_file::apply_stored(state.store.as_ref(), repo.id)?
    };
    if changed > 0 {
        remap(&state, &repo).await?;
    }
    let base = state.base_url(&headers);
    let urls = wire::Urls {
        base: &base,
        repo: &repo,
    };
    let authors = state.store.authors(repo.id, 0)?;
    Ok(Json(
        authors.iter().map(|a| wire::author(&urls, a)).collect(),
    ))
}
