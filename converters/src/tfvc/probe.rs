//! Recognising a TFVC collection (it answers `_apis/projects`), the project a URL names,
//! and which projects hold TFVC content.

use std::time::Duration;

use serde::Deserialize;

use super::client::{Client, ClientOptions};
use super::model::{ChangesetRef, Envelope, Project};
use super::TfvcError;
use crate::url_policy::UrlPolicy;
use crate::{Cancel, Credentials, Detection, ProjectChoice, SourceError, Vcs};

/// `_apis/projects`, with both envelope fields required: any other JSON is not a
/// collection.
#[derive(Deserialize)]
struct ProjectList {
    #[allow(dead_code)]
    count: u64,
    value: Vec<Project>,
}

/// A collection and the project the URL named, if it named one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub collection: String,
    pub project: Option<String>,
    /// Every project of the collection.
    pub projects: Vec<String>,
}

fn probe_options() -> ClientOptions {
    ClientOptions {
        page_size: 200,
        max_attempts: 3,
        base_delay: Duration::from_millis(200),
        max_delay: Duration::from_secs(10),
        timeout: Duration::from_secs(60),
    }
}

/// The projects of the collection at `collection`, or `None` when it is no collection.
fn projects(
    collection: &str,
    credentials: Option<&Credentials>,
    policy: &UrlPolicy,
    cancel: &Cancel,
) -> Result<Option<Vec<String>>, TfvcError> {
    let client = Client::new(collection, credentials, policy, probe_options(), cancel)?;
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    let mut skip = 0;
    loop {
        let mut query = vec![("$top", "200".to_owned())];
        match &token {
            Some(t) => query.push(("continuationToken", t.clone())),
            None if skip > 0 => query.push(("$skip", skip.to_string())),
            None => {}
        }
        let (list, next) = match client.get_json_token::<ProjectList>("_apis/projects", &query) {
            Ok(answer) => answer,
            Err(TfvcError::Source(source)) => return Err(source.into()),
            Err(_) if names.is_empty() => return Ok(None),
            Err(other) => return Err(other),
        };
        let got = list.value.len();
        names.extend(list.value.into_iter().map(|p| p.name));
        match next {
            Some(next) if got > 0 => token = Some(next),
            None if token.is_none() && got >= 200 => skip += got,
            _ => return Ok(Some(names)),
        }
    }
}

/// Where `url` points: a collection (`None` project) or `{collection}/{project}`.
/// `Ok(None)` when it is neither.
pub fn locate(
    url: &str,
    credentials: Option<&Credentials>,
    policy: &UrlPolicy,
    cancel: &Cancel,
) -> Result<Option<Located>, TfvcError> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Ok(None);
    }
    let url = url.trim_end_matches('/');
    if let Some(names) = projects(url, credentials, policy, cancel)? {
        return Ok(Some(Located {
            collection: url.to_owned(),
            project: None,
            projects: names,
        }));
    }
    let Some((parent, last)) = url.rsplit_once('/') else {
        return Ok(None);
    };
    if !parent.contains("://") || parent.ends_with('/') || parent.ends_with(':') {
        return Ok(None);
    }
    let wanted = percent_decode(last);
    let Some(names) = projects(parent, credentials, policy, cancel)? else {
        return Ok(None);
    };
    Ok(names
        .iter()
        .find(|n| n.eq_ignore_ascii_case(&wanted))
        .cloned()
        .map(|project| Located {
            collection: parent.to_owned(),
            project: Some(project),
            projects: names,
        }))
}

/// Does `project` hold TFVC content (any changeset under `$/project`)?
pub fn has_tfvc(client: &Client, project: &str) -> Result<bool, TfvcError> {
    let path = format!(
        "{}/_apis/tfvc/changesets",
        super::client::encode(project).replace('/', "%2F")
    );
    let answer = client.get_json::<Envelope<ChangesetRef>>(
        &path,
        &[
            ("searchCriteria.itemPath", format!("$/{project}")),
            ("$top", "1".into()),
        ],
    );
    match answer {
        Ok(list) => Ok(!list.value.is_empty()),
        Err(TfvcError::Source(source)) => Err(source.into()),
        Err(TfvcError::Http { status: 404, .. }) => Ok(false),
        Err(other) => Err(other),
    }
}

/// Detection for TFVC: `Ok(None)` when `url` is no collection (nor project in one).
pub fn detect(
    url: &str,
    credentials: Option<&Credentials>,
    policy: &UrlPolicy,
    cancel: &Cancel,
) -> Result<Option<Detection>, SourceError> {
    let Some(located) = locate(url, credentials, policy, cancel)? else {
        return Ok(None);
    };
    if located.project.is_some() {
        return Ok(Some(Detection::Found(Vcs::Tfvc)));
    }
    let tfvc = tfvc_projects(&located, credentials, policy, cancel)?;
    match tfvc.len() {
        0 => Err(SourceError::NotFound {
            url: url.to_owned(),
            reason: "a TFS/Azure DevOps collection with no TFVC project".into(),
        }),
        1 => Ok(Some(Detection::Found(Vcs::Tfvc))),
        _ => Ok(Some(Detection::Multiple(
            tfvc.into_iter()
                .map(|name| ProjectChoice {
                    vcs: Vcs::Tfvc,
                    tfvc_project: Some(name.clone()),
                    human_name: name,
                })
                .collect(),
        ))),
    }
}

/// The projects of a located collection that hold TFVC content.
pub fn tfvc_projects(
    located: &Located,
    credentials: Option<&Credentials>,
    policy: &UrlPolicy,
    cancel: &Cancel,
) -> Result<Vec<String>, TfvcError> {
    let client = Client::new(
        &located.collection,
        credentials,
        policy,
        probe_options(),
        cancel,
    )?;
    let mut found = Vec::new();
    for name in &located.projects {
        if has_tfvc(&client, name)? {
            found.push(name.clone());
        }
    }
    Ok(found)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_segments_decode() {
        assert_eq!(percent_decode("My%20Project"), "My Project");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
