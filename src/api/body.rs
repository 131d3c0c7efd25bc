//! Request bodies: size-capped reading and field-by-field JSON validation that yields
//! GitHub-shaped 400/413/422 errors instead of framework rejections.

use axum::body::{Body, Bytes};
use http_body_util::BodyExt;
use serde_json::{Map, Value};

use super::error::ApiError;

/// How much of an oversized body is read and discarded so the client, still sending, gets
/// to see the 413 instead of a reset connection.
const DRAIN_LIMIT: usize = 64 * 1024 * 1024;

/// Reads the whole body, refusing more than `limit` bytes.
pub async fn read_capped(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let mut body = body;
    let mut kept = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return Err(ApiError::BadJson);
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len());
        if seen > DRAIN_LIMIT {
            break;
        }
        if seen <= limit {
            kept.extend_from_slice(&data);
        }
    }
    if seen > limit {
        return Err(ApiError::TooLarge);
    }
    Ok(Bytes::from(kept))
}

/// Reads a size-capped body that must be a JSON object. An empty body is an empty object,
/// or a 422 naming `required` when the request needs that field.
pub async fn read_object(
    body: Body,
    limit: usize,
    resource: &'static str,
    required: Option<&str>,
) -> Result<Map<String, Value>, ApiError> {
    let bytes = read_capped(body, limit).await?;
    match (parse_object(&bytes)?, required) {
        (Some(map), _) => Ok(map),
        (None, Some(field)) => Err(ApiError::invalid(resource, field, "missing_field", None)),
        (None, None) => Ok(Map::new()),
    }
}

/// A JSON object body; `None` for an empty (or whitespace-only) body.
pub fn parse_object(bytes: &[u8]) -> Result<Option<Map<String, Value>>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(Some(map)),
        Ok(Value::Null) => Ok(None),
        Ok(_) => Err(ApiError::NotAnObject),
        Err(_) => Err(ApiError::BadJson),
    }
}

/// Typed access to an object's fields, naming the resource in errors.
pub struct Fields<'a> {
    pub resource: &'static str,
    pub map: &'a Map<String, Value>,
}

impl Fields<'_> {
    /// An optional string field; `null` counts as absent.
    pub fn string(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::invalid(
                self.resource,
                name,
                "invalid",
                format!("{name} must be a string"),
            )),
        }
    }

    /// An optional list of strings; `null` counts as absent.
    pub fn string_list(&self, name: &str) -> Result<Option<Vec<String>>, ApiError> {
        let invalid = || {
            ApiError::invalid(
                self.resource,
                name,
                "invalid",
                format!("{name} must be an array of strings"),
            )
        };
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| item.as_str().map(str::to_owned).ok_or_else(invalid))
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(invalid()),
        }
    }

    pub fn required_string(&self, name: &str) -> Result<String, ApiError> {
        match self.string(name)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            _ => Err(ApiError::invalid(
                self.resource,
                name,
                "missing_field",
                None,
            )),
        }
    }

    /// An optional integer of at least 1.
    pub fn positive_integer(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => value.as_i64().filter(|n| *n > 0).map(Some).ok_or_else(|| {
                ApiError::invalid(
                    self.resource,
                    name,
                    "invalid",
                    format!("{name} must be a positive integer"),
                )
            }),
        }
    }

    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::invalid(
                self.resource,
                name,
                "invalid",
                format!("{name} must be a boolean"),
            )),
        }
    }

    /// An optional string that must parse with `parse`.
    pub fn choice<T>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, ApiError> {
        match self.string(name)? {
            None => Ok(None),
            Some(text) => parse(&text).map(Some).ok_or_else(|| {
                ApiError::invalid(
                    self.resource,
                    name,
                    "invalid",
                    format!("{text:?} is not a valid {name}"),
                )
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_bodies() {
        assert!(parse_object(b"").expect("empty").is_none());
        assert!(parse_object(b" \n").expect("blank").is_none());
        assert!(parse_object(b"{}").expect("object").is_some());
        assert!(matches!(parse_object(b"{"), Err(ApiError::BadJson)));
        assert!(matches!(parse_object(b"[1]"), Err(ApiError::NotAnObject)));
    }

    #[test]
    fn wrong_types_are_field_errors() {
        let map = serde_json::json!({"vcs_url": 3, "vcs": "svn"});
        let fields = Fields {
            resource: "Import",
            map: map.as_object().expect("object"),
        };
        assert!(
            matches!(fields.required_string("vcs_url"), Err(ApiError::Validation(f)) if f.field == "vcs_url")
        );
        assert!(fields.choice("vcs", |_| None::<()>).is_err());
        assert!(
            matches!(fields.required_string("missing"), Err(ApiError::Validation(f)) if f.code == "missing_field")
        );
    }
}
