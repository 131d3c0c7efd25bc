//! Who is calling: tokens from `Authorization: token|Bearer|Basic`, and owner rights.

use axum::http::{header, HeaderMap};
use base64::Engine;

use super::error::ApiError;
use super::AppState;
use crate::names;
use crate::store::RepoRecord;
use crate::tokens::Principal;

/// The token carried by a request, in any of the forms clients send.
pub fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    let rest = rest.trim();
    match scheme.to_ascii_lowercase().as_str() {
        "token" | "bearer" => Some(rest.to_owned()),
        "basic" => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest)
                .ok()?;
            let text = String::from_utf8(decoded).ok()?;
            let (_user, password) = text.split_once(':')?;
            Some(password.to_owned())
        }
        _ => None,
    }
}

/// The authenticated caller, or 401 "Bad credentials".
pub fn principal(state: &AppState, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let token = bearer_token(headers).ok_or(ApiError::BadCredentials)?;
    state
        .tokens
        .authenticate(&token)
        .cloned()
        .ok_or(ApiError::BadCredentials)
}

/// Authenticates and checks the caller may act for `owner` (404 otherwise, as GitHub hides
/// what a token cannot see); also validates both names.
pub fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    owner: &str,
    repo: &str,
) -> Result<Principal, ApiError> {
    let who = principal(state, headers)?;
    if !names::valid_owner(owner) || !names::valid_repo(repo) || !who.may_act_for(owner) {
        return Err(ApiError::NotFound);
    }
    Ok(who)
}

/// Git over HTTP: public repositories are open; private ones need a token with rights.
pub fn authorize_git(
    state: &AppState,
    headers: &HeaderMap,
    repo: &RepoRecord,
) -> Result<(), ApiError> {
    if !repo.private {
        return Ok(());
    }
    let token = bearer_token(headers).ok_or(ApiError::GitAuthRequired)?;
    match state.tokens.authenticate(&token) {
        Some(who) if who.may_act_for(&repo.owner) => Ok(()),
        Some(_) => Err(ApiError::NotFound),
        None => Err(ApiError::GitAuthRequired),
    }
}

/// Writing (pushes, LFS uploads): always a token with rights on the owner. A token without
/// them gets 403 for a public repository (as GitHub answers) and 404 for a private one.
pub fn authorize_git_write(
    state: &AppState,
    headers: &HeaderMap,
    repo: &RepoRecord,
) -> Result<Principal, ApiError> {
    let token = bearer_token(headers).ok_or(ApiError::GitAuthRequired)?;
    match state.tokens.authenticate(&token) {
        Some(who) if who.may_act_for(&repo.owner) => Ok(who.clone()),
        Some(_) if repo.private => Err(ApiError::NotFound),
        Some(_) => Err(ApiError::Forbidden(
            "Permission denied: this token may not write to the repository",
        )),
        None => Err(ApiError::GitAuthRequired),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn reads_every_token_form() {
        for (value, expected) in [
            ("token abc", Some("abc")),
            ("Bearer abc", Some("abc")),
            ("Basic eDphYmM=", Some("abc")),
            ("Digest abc", None),
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, HeaderValue::from_static(value));
            assert_eq!(bearer_token(&headers).as_deref(), expected, "{value}");
        }
    }
}
