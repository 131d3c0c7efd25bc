//! Outbound address policy: which source URLs srcimport may contact.
//!
//! Applied before any probe or fetch, to every source type (and later to webhook targets).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

use crate::SourceError;

/// What the server operator allows sources to point at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlPolicy {
    /// Local paths and `file://` URLs (off by default on a server: they read its disk).
    pub allow_local_paths: bool,
    /// Loopback and private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, 198.18/15,
    /// fc00::/7).
    pub allow_private_networks: bool,
    /// Local paths that are never sources even when local paths are allowed (the server's
    /// own data directory: other owners' hosted repositories live there).
    pub forbidden_local_roots: Vec<PathBuf>,
}

impl Default for UrlPolicy {
    fn default() -> Self {
        UrlPolicy {
            allow_local_paths: false,
            allow_private_networks: true,
            forbidden_local_roots: Vec::new(),
        }
    }
}

/// The address a checked host name resolved to, so the fetch connects to the address
/// that was checked (no second lookup for DNS rebinding to exploit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PinnedAddress {
    pub host: String,
    pub port: u16,
    pub ip: IpAddr,
}

/// Cloud metadata services outside the link-local range, refused whatever the settings.
const METADATA_ADDRESSES: [IpAddr; 2] = [
    IpAddr::V4(Ipv4Addr::new(100, 100, 100, 200)),
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)),
];

/// A source URL split into the parts the policy looks at.
#[derive(Debug, PartialEq, Eq)]
pub struct ParsedUrl<'a> {
    pub scheme: &'a str,
    pub host: Option<&'a str>,
    pub port: Option<u16>,
    pub has_userinfo: bool,
    pub has_password: bool,
}

const NETWORK_SCHEMES: [&str; 7] = ["http", "https", "git", "ssh", "svn", "svn+ssh", "git+ssh"];

impl UrlPolicy {
    /// Accepts `url` or says why not. Resolves host names, so it may block on DNS; returns
    /// the address to pin the connection to (`None` for a local path).
    pub fn check(&self, url: &str) -> Result<Option<PinnedAddress>, SourceError> {
        let Some((host, port)) = self.check_shape(url)? else {
            return Ok(None);
        };
        let default_port = match url.split_once("://").map(|(scheme, _)| scheme) {
            Some("https") => 443,
            Some("http") => 80,
            Some("git") => 9418,
            Some("svn") => 3690,
            _ => 22,
        };
        let port = if port == 0 { default_port } else { port };
        let bare_host = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<IpAddr> = match (bare_host, port).to_socket_addrs() {
            Ok(addrs) => addrs.map(|a| a.ip()).collect(),
            Err(_) => {
                return Err(SourceError::NotFound {
                    url: redact(url),
                    reason: format!("cannot resolve host {host}"),
                })
            }
        };
        for addr in &addrs {
            if let Some(reason) = self.refusal_for(*addr) {
                return Err(SourceError::Refused {
                    url: redact(url),
                    reason: reason.to_owned(),
                });
            }
        }
        Ok(addrs.first().map(|ip| PinnedAddress {
            host: bare_host.to_owned(),
            port,
            ip: *ip,
        }))
    }

    /// Everything [`check`](Self::check) looks at that needs no DNS: syntax, scheme, embedded
    /// credentials, local paths and literal IP addresses. Returns the host and port to resolve
    /// (`None` for an allowed local path).
    pub fn check_shape<'u>(&self, url: &'u str) -> Result<Option<(&'u str, u16)>, SourceError> {
        let refuse = |reason: &str| SourceError::Refused {
            url: redact(url),
            reason: reason.to_owned(),
        };
        if url.is_empty() || url.starts_with('-') || url.chars().any(|c| c.is_control() || c == ' ')
        {
            return Err(refuse("not a valid URL"));
        }
        let parsed = parse(url).ok_or_else(|| refuse("not a valid URL"))?;
        let userinfo_allowed = matches!(parsed.scheme, "ssh" | "git+ssh" | "svn+ssh");
        if parsed.has_password || (parsed.has_userinfo && !userinfo_allowed) {
            return Err(refuse(
                "credentials must be given as vcs_username/vcs_password, not inside the URL",
            ));
        }
        if parsed.scheme == "file" {
            if !self.allow_local_paths {
                return Err(refuse("local paths are not allowed on this server"));
            }
            let paths = local_paths(url).map_err(refuse)?;
            if paths.iter().any(|path| self.is_forbidden_local(path)) {
                return Err(refuse("that path belongs to this server"));
            }
            return Ok(None);
        }
        if !NETWORK_SCHEMES.contains(&parsed.scheme) {
            return Err(refuse("unsupported URL scheme"));
        }
        let host = parsed.host.ok_or_else(|| refuse("the URL has no host"))?;
        if let Ok(addr) = host.parse::<IpAddr>() {
            if let Some(reason) = self.refusal_for(addr) {
                return Err(refuse(reason));
            }
        }
        Ok(Some((host, parsed.port.unwrap_or(0))))
    }

    fn is_forbidden_local(&self, path: &Path) -> bool {
        let resolved = resolved(path);
        self.forbidden_local_roots.iter().any(|root| {
            let root = root.canonicalize().unwrap_or_else(|_| root.clone());
            resolved.starts_with(root)
        })
    }

    fn refusal_for(&self, addr: IpAddr) -> Option<&'static str> {
        let addr = match addr {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(addr),
            v4 => v4,
        };
        if METADATA_ADDRESSES.contains(&addr) {
            return Some("cloud metadata services are never contacted");
        }
        let (link_local, unspecified_or_multicast, private) = match addr {
            IpAddr::V4(v4) => (
                v4.is_link_local(),
                v4.is_unspecified() || v4.is_multicast() || v4.is_broadcast(),
                v4.is_loopback()
                    || v4.is_private()
                    || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64)
                    || (v4.octets()[0] == 198 && (v4.octets()[1] & 0xfe) == 18),
            ),
            IpAddr::V6(v6) => (
                (v6.segments()[0] & 0xffc0) == 0xfe80,
                v6.is_unspecified() || v6.is_multicast(),
                v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00,
            ),
        };
        if link_local {
            Some("link-local addresses (cloud metadata services) are never contacted")
        } else if unspecified_or_multicast {
            Some("the host resolves to an address that cannot be a source")
        } else if private && !self.allow_private_networks {
            Some("private network addresses are not allowed on this server")
        } else {
            None
        }
    }
}

/// `url` with its user info (user names can be tokens too) replaced by `***`, safe for
/// messages and logs.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://***@{host}{path}"),
        None => url.to_owned(),
    }
}

/// Splits `scheme://[user[:pass]@]host[:port]/...`, scp-like `user@host:path` and local paths.
/// The paths a local source names: as written and with its `%XX` escapes decoded (libsvn
/// decodes a `file://` URL, git and hg take a path as written), from a path or a `file://`
/// URL whose host is empty or `localhost`.
fn local_paths(url: &str) -> Result<Vec<PathBuf>, &'static str> {
    if !url.starts_with("file://") {
        return Ok(vec![PathBuf::from(url)]);
    }
    let path = file_url_path(url).ok_or("a file:// URL names no host but localhost")?;
    let decoded: Vec<u8> = percent_encoding::percent_decode_str(path).collect();
    Ok(vec![
        PathBuf::from(path),
        PathBuf::from(std::ffi::OsString::from_vec(decoded)),
    ])
}

/// The path of a `file://` URL whose host is empty or `localhost`, still `%`-escaped;
/// `None` for another host or another scheme.
pub fn file_url_path(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("file://")?;
    match rest.find('/') {
        Some(0) => Some(rest),
        Some(slash) if rest[..slash].eq_ignore_ascii_case("localhost") => Some(&rest[slash..]),
        _ => None,
    }
}

/// `path` with its longest existing ancestor resolved (symlinks, `..`) and the rest kept: a
/// URL may name a directory inside a repository, which is not on disk.
fn resolved(path: &Path) -> PathBuf {
    let mut existing = path;
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            return rest.iter().rev().fold(real, |acc, part| acc.join(part));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name);
                existing = parent;
            }
            _ => return path.to_owned(),
        }
    }
}

pub fn parse(url: &str) -> Option<ParsedUrl<'_>> {
    if url.starts_with('/') || url.starts_with("./") || url.starts_with("../") {
        return Some(ParsedUrl {
            scheme: "file",
            host: None,
            port: None,
            has_userinfo: false,
            has_password: false,
        });
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return parse_scp_like(url);
    };
    let scheme_ok = !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.');
    if !scheme_ok {
        return None;
    }
    if scheme == "file" {
        return Some(ParsedUrl {
            scheme: "file",
            host: None,
            port: None,
            has_userinfo: false,
            has_password: false,
        });
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((user, host)) => (Some(user), host),
        None => (None, authority),
    };
    let (host, port) = split_host_port(hostport)?;
    Some(ParsedUrl {
        scheme,
        host: Some(host),
        port,
        has_userinfo: userinfo.is_some(),
        has_password: userinfo.is_some_and(|u| u.contains(':')),
    })
}

fn split_host_port(hostport: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = hostport.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        return Some((host, port));
    }
    match hostport.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() => Some((host, Some(port.parse().ok()?))),
        Some((host, _)) => Some((host, None)),
        None => Some((hostport, None)),
    }
    .filter(|(host, _)| !host.is_empty())
}

fn parse_scp_like(url: &str) -> Option<ParsedUrl<'_>> {
    if url.contains("::") {
        // `ext::cmd`, `fd::3`: git remote helpers, never sources.
        return None;
    }
    let (userhost, _path) = url.split_once(':')?;
    let host = userhost.rsplit_once('@').map_or(userhost, |(_, h)| h);
    if host.is_empty() || host.contains('/') {
        return None;
    }
    Some(ParsedUrl {
        scheme: "ssh",
        host: Some(host),
        port: None,
        has_userinfo: userhost.contains('@'),
        has_password: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict() -> UrlPolicy {
        UrlPolicy {
            allow_local_paths: false,
            allow_private_networks: false,
            forbidden_local_roots: Vec::new(),
        }
    }

    #[test]
    fn every_spelling_of_a_forbidden_local_path_is_refused() {
        let dir = std::env::temp_dir().join(format!("srcimport-policy-{}", std::process::id()));
        let data = dir.join("data");
        std::fs::create_dir_all(data.join("repos")).expect("dirs");
        std::fs::create_dir_all(dir.join("sources")).expect("dirs");
        let policy = UrlPolicy {
            allow_local_paths: true,
            allow_private_networks: false,
            forbidden_local_roots: vec![data.clone()],
        };
        let root = dir.display().to_string();
        for url in [
            format!("{root}/data/repos/a.git"),
            format!("file://{root}/data/repos/a.git"),
            format!("file://localhost{root}/data/repos/a.git"),
            format!("file://LOCALHOST{root}/data/repos"),
            format!("file://{root}/d%61ta/repos/a.git"),
            format!("file://{root}/sources/../data/repos/missing/trunk"),
            format!("{root}/sources/../data"),
        ] {
            assert!(
                matches!(policy.check_shape(&url), Err(SourceError::Refused { .. })),
                "{url} passed"
            );
        }
        assert!(matches!(
            policy.check_shape(&format!("file://elsewhere{root}/sources")),
            Err(SourceError::Refused { .. })
        ));
        for url in [
            format!("{root}/sources"),
            format!("file://{root}/sources/repo/trunk"),
            format!("file://localhost{root}/sources"),
            format!("file://{root}/d%61tabase"),
        ] {
            assert!(policy.check_shape(&url).is_ok(), "{url} refused");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn parses_the_usual_shapes() {
        let p = parse("https://user@example.com:8443/x.git").expect("parses");
        assert_eq!(
            (p.scheme, p.host, p.port, p.has_password),
            ("https", Some("example.com"), Some(8443), false)
        );
        let p = parse("http://[::1]:80/r").expect("parses");
        assert_eq!((p.host, p.port), (Some("::1"), Some(80)));
        let p = parse("git@example.com:org/repo.git").expect("parses");
        assert_eq!((p.scheme, p.host), ("ssh", Some("example.com")));
        assert_eq!(parse("/srv/repo").map(|p| p.scheme), Some("file"));
        assert!(
            parse("https://u:secret@example.com/r")
                .expect("parses")
                .has_password
        );
    }

    #[test]
    fn refuses_hostile_urls() {
        let policy = UrlPolicy::default();
        for url in [
            "ext::sh -c touch% /tmp/pwned",
            "-uhello",
            "http://169.254.169.254/latest/meta-data",
            "http://[fe80::1]/x",
            "http://0.0.0.0/x",
            "file:///etc",
            "/etc/passwd",
            "https://u:p@127.0.0.1/x",
            "gopher://127.0.0.1/x",
            "https://ghp_secret@example.com/x.git",
            "ext::sh",
            "fd::3",
            "http://100.100.100.200/latest",
            "http://[fd00:ec2::254]/latest",
        ] {
            assert!(policy.check(url).is_err(), "{url} should be refused");
        }
        assert!(strict().check("http://127.0.0.1:9/x").is_err());
        assert!(strict().check("http://10.1.2.3/x").is_err());
        assert!(strict().check("http://100.64.1.1/x").is_err());
        assert!(UrlPolicy::default().check("ssh://git@127.0.0.1/x").is_ok());
        assert!(policy.check("http://127.0.0.1:9/x").is_ok());
    }
}
