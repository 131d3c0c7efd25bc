//! Source detection: which VCS lives at a URL, and which projects it offers.

use crate::{git, hg, svn, tfvc, url_policy::UrlPolicy, Cancel, Credentials, SourceError};

/// The version control systems srcimport reads, named as the API names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Vcs {
    Subversion,
    Git,
    Mercurial,
    Tfvc,
}

impl Vcs {
    pub const ALL: [Vcs; 4] = [Vcs::Subversion, Vcs::Git, Vcs::Mercurial, Vcs::Tfvc];

    pub fn as_str(self) -> &'static str {
        match self {
            Vcs::Subversion => "subversion",
            Vcs::Git => "git",
            Vcs::Mercurial => "mercurial",
            Vcs::Tfvc => "tfvc",
        }
    }

    pub fn parse(name: &str) -> Option<Vcs> {
        Vcs::ALL.into_iter().find(|vcs| vcs.as_str() == name)
    }
}

/// One importable project offered by a multi-project source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectChoice {
    pub vcs: Vcs,
    pub tfvc_project: Option<String>,
    pub human_name: String,
}

/// What a probe found at a URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Detection {
    Found(Vcs),
    Multiple(Vec<ProjectChoice>),
}

/// Probes `url` for every VCS this build can read.
///
/// Auth failures surface as [`SourceError::AuthRequired`] / [`SourceError::AuthRejected`];
/// a source nobody recognises is [`SourceError::NotFound`].
pub fn detect(
    url: &str,
    credentials: Option<&Credentials>,
    policy: &UrlPolicy,
    cancel: &Cancel,
) -> Result<Detection, SourceError> {
    policy.check(url)?;
    let local = url.strip_prefix("file://").unwrap_or(url);
    if std::path::Path::new(local).join(".hg").is_dir() {
        return Ok(Detection::Found(Vcs::Mercurial));
    }
    if svn::probe::is_local_source(url, policy)? {
        return Ok(Detection::Found(Vcs::Subversion));
    }
    if url.starts_with("svn://") {
        return match svn::probe::is_server(url, credentials, policy, cancel)? {
            true => Ok(Detection::Found(Vcs::Subversion)),
            false => Err(nothing_found(url)),
        };
    }
    let is_http = url.starts_with("http://") || url.starts_with("https://");
    if is_http
        && svn::source::is_dump(url)
        && svn::download::is_remote_dump(url, credentials, policy)?
    {
        return Ok(Detection::Found(Vcs::Subversion));
    }
    match git::probe(url, credentials, policy, cancel) {
        Ok(_) => return Ok(Detection::Found(Vcs::Git)),
        Err(SourceError::NotFound { .. }) => {}
        Err(other) => return Err(other),
    }
    match hg::transport::probe(url, &std::env::temp_dir(), credentials, policy, cancel) {
        Ok(()) => return Ok(Detection::Found(Vcs::Mercurial)),
        Err(SourceError::NotFound { .. }) => {}
        Err(other) => return Err(other),
    }
    // A TFS / Azure DevOps collection answers `_apis/projects` (one request).
    if is_http {
        if let Some(found) = tfvc::probe::detect(url, credentials, policy, cancel)? {
            return Ok(found);
        }
    }
    // Subversion over HTTP (mod_dav_svn) answers neither Git nor Mercurial.
    if is_http && svn::probe::is_server(url, credentials, policy, cancel)? {
        return Ok(Detection::Found(Vcs::Subversion));
    }
    Err(nothing_found(url))
}

fn nothing_found(url: &str) -> SourceError {
    SourceError::NotFound {
        url: url.to_owned(),
        reason: "no supported version control system answered at this URL".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vcs_names_round_trip() {
        for vcs in Vcs::ALL {
            assert_eq!(Vcs::parse(vcs.as_str()), Some(vcs));
        }
        assert_eq!(Vcs::parse("cvs"), None);
    }
}
