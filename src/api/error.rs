//! The one place errors become HTTP responses, in GitHub's error shapes.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::store::StoreError;

const DOCS: &str = "https://docs.github.com/rest/migrations/source-imports";

/// One field-level problem in a 422.
#[derive(Debug)]
pub struct FieldError {
    pub resource: &'static str,
    pub field: String,
    pub code: &'static str,
    pub message: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("bad credentials")]
    BadCredentials,
    /// Git over HTTP: ask the client for credentials.
    #[error("authentication required")]
    GitAuthRequired,
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// The repository is busy (an import runs).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("invalid JSON")]
    BadJson,
    #[error("body is not a JSON object")]
    NotAnObject,
    #[error("request body too large")]
    TooLarge,
    #[error("validation failed: {0:?}")]
    Validation(FieldError),
    #[error("internal: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn invalid(
        resource: &'static str,
        field: &str,
        code: &'static str,
        message: impl Into<Option<String>>,
    ) -> Self {
        ApiError::Validation(FieldError {
            resource,
            field: field.to_owned(),
            code,
            message: message.into(),
        })
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NoImport | StoreError::NoAuthor(_) => ApiError::NotFound,
            StoreError::ImportRunning => ApiError::invalid(
                "Import",
                "base",
                "custom",
                "An import is already in progress for this repository".to_owned(),
            ),
            StoreError::RepoExists { .. } => ApiError::invalid(
                "Repository",
                "name",
                "custom",
                "name already exists on this account".to_owned(),
            ),
            StoreError::Conflict { actual, wanted } => ApiError::invalid(
                "Import",
                "status",
                "custom",
                format!("the import is {actual}; cannot {wanted} now"),
            ),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match &self {
            ApiError::BadCredentials => (
                StatusCode::UNAUTHORIZED,
                json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}),
            ),
            ApiError::GitAuthRequired => {
                let mut response =
                    (StatusCode::UNAUTHORIZED, "authentication required\n").into_response();
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"srcimport\""),
                );
                return response;
            }
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                json!({"message": "Not Found", "documentation_url": DOCS}),
            ),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                json!({"message": "Method Not Allowed", "documentation_url": DOCS}),
            ),
            ApiError::Forbidden(why) => (
                StatusCode::FORBIDDEN,
                json!({"message": why, "documentation_url": DOCS}),
            ),
            ApiError::Conflict(why) => (
                StatusCode::CONFLICT,
                json!({"message": why, "documentation_url": DOCS}),
            ),
            ApiError::BadJson => (
                StatusCode::BAD_REQUEST,
                json!({"message": "Problems parsing JSON", "documentation_url": DOCS}),
            ),
            ApiError::NotAnObject => (
                StatusCode::BAD_REQUEST,
                json!({"message": "Body should be a JSON object", "documentation_url": DOCS}),
            ),
            ApiError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({"message": "Request body is too large", "documentation_url": DOCS}),
            ),
            ApiError::Validation(field) => {
                let mut error =
                    json!({"resource": field.resource, "field": field.field, "code": field.code});
                if let Some(message) = &field.message {
                    error["message"] = json!(message);
                }
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    json!({"message": "Validation Failed", "errors": [error], "documentation_url": DOCS}),
                )
            }
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"message": "Server Error", "documentation_url": DOCS}),
                )
            }
        };
        (status, Json(body)).into_response()
    }
}
