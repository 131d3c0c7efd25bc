//! An RA session on one repository, reparented to its root: metadata, listings, revision
//! properties. Not `Send`: a session and its pools stay on the thread that opened them.

use std::ffi::{c_void, CStr, CString};
use std::ptr;
use std::sync::OnceLock;

use super::auth::{open_auth_baton, AuthData};
use super::egress::{pin_svn_url, Egress};
use super::tunnel;
use crate::svn::events::{NodeKind, Properties};
use crate::svn::libsvn::error::{cancelled, SvnFailure};
use crate::svn::libsvn::ffi;
use crate::svn::libsvn::init::initialize_layer;
use crate::svn::libsvn::pool::Pool;
use crate::svn::libsvn::props::hash_to_properties;
use crate::svn::libsvn::reader::CancelCheck;
use crate::url_policy::{redact, UrlPolicy};
use crate::{Cancel, Credentials, SourceError};

/// How many redirects (HTTP 301/302 to another repository URL) `open` follows.
const MAX_REDIRECTS: usize = 5;

/// How a session reads a `file://` repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LocalAccess {
    /// In this process, through `ra_local`.
    InProcess,
    /// Through a private `svnserve -t` ([`tunnel`]) when one can start (else in process).
    Svnserve,
}

/// Initialises APR and libsvn's RA layer once per process.
fn initialize() -> Result<(), SourceError> {
    static INIT: OnceLock<Result<(), String>> = OnceLock::new();
    initialize_layer(&INIT, ffi::svn_ra_initialize)
}

unsafe extern "C" fn cancel_callback(baton: *mut c_void) -> *mut ffi::svn_error_t {
    let result = std::panic::catch_unwind(|| {
        // SAFETY: the baton is the session's boxed `CancelCheck`, alive as long as the
        // session's pool.
        let check = unsafe { &*baton.cast::<CancelCheck>() };
        check.is_cancelled()
    });
    match result {
        Ok(false) => ptr::null_mut(),
        _ => cancelled(),
    }
}

/// An open RA session, reparented to the repository root: every path is relative to the root
/// (`""` is the root itself), without a leading slash.
pub struct RaSession {
    // Field order matters: the pool (and the session in it) goes before the batons it uses
    // and the proxy its connections go through.
    pool: Pool<'static>,
    session: *mut ffi::svn_ra_session_t,
    egress: Option<Egress>,
    url: String,
    uuid: String,
    repos_root: String,
    credentials: Option<Credentials>,
    _auth: Option<Box<AuthData>>,
    cancel: Box<CancelCheck>,
}

impl std::fmt::Debug for RaSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RaSession")
            .field("url", &self.url)
            .field("repos_root", &self.repos_root)
            .field("uuid", &self.uuid)
            .finish_non_exhaustive()
    }
}

impl RaSession {
    /// Opens `url` (`file://`, `svn://`, `http(s)://`) with `credentials` (if any), never
    /// prompting and never touching `~/.subversion`. `cancel` stops any call of the session.
    /// Network connections go only where `policy` allows, to the addresses it checked (see
    /// [`super::egress`]).
    pub fn open(
        url: &str,
        credentials: Option<&Credentials>,
        policy: &UrlPolicy,
        cancel: &Cancel,
    ) -> Result<RaSession, SourceError> {
        Self::open_with(
            url,
            credentials,
            policy,
            CancelCheck::new(vec![cancel.clone()]),
            LocalAccess::InProcess,
        )
    }

    /// [`RaSession::open`] with the reader's cancellation check, a `file://` repository read
    /// as `local` says.
    pub(super) fn open_with(
        url: &str,
        credentials: Option<&Credentials>,
        policy: &UrlPolicy,
        cancel: CancelCheck,
        local: LocalAccess,
    ) -> Result<RaSession, SourceError> {
        if cancel.is_cancelled() {
            return Err(SourceError::Cancelled);
        }
        if local == LocalAccess::Svnserve {
            if let Some(tunnel_url) = tunnel::url_for(url) {
                // Any failure here (no svnserve, a repository it cannot open) is the
                // in-process session's to report, in its own words.
                match Self::open_at(url, &tunnel_url, None, None, cancel.clone()) {
                    Ok(session) => return Ok(session),
                    Err(SourceError::Cancelled) => return Err(SourceError::Cancelled),
                    Err(_) => {}
                }
            }
        }
        let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
        let (open_url, egress) = match scheme.as_deref() {
            Some("svn") => (pin_svn_url(url, policy)?, None),
            Some("http" | "https") => {
                policy.check(url)?;
                let egress = Egress::start(policy.clone()).map_err(|e| SourceError::Command {
                    command: "svn egress proxy".into(),
                    detail: e.to_string(),
                })?;
                (url.to_owned(), Some(egress))
            }
            _ => (url.to_owned(), None),
        };
        Self::open_at(url, &open_url, egress, credentials, cancel)
    }

    /// Opens a session on `open_url` (what `url` becomes on the wire: pinned, proxied or
    /// tunnelled), named `url` in messages.
    fn open_at(
        url: &str,
        open_url: &str,
        egress: Option<Egress>,
        credentials: Option<&Credentials>,
        cancel: CancelCheck,
    ) -> Result<RaSession, SourceError> {
        initialize()?;
        let c_url = CString::new(open_url).map_err(|_| SourceError::Refused {
            url: url.to_owned(),
            reason: "the URL contains a NUL byte".into(),
        })?;
        let auth = credentials
            .map(AuthData::new)
            .transpose()
            .map_err(|reason| SourceError::Refused {
                url: url.to_owned(),
                reason: reason.into(),
            })?
            .map(Box::new);
        let cancel = Box::new(cancel);
        let pool = Pool::root();
        let mut session = RaSession {
            pool,
            session: ptr::null_mut(),
            egress,
            url: url.to_owned(),
            uuid: String::new(),
            repos_root: String::new(),
            credentials: credentials.cloned(),
            _auth: auth,
            cancel,
        };
        // SAFETY: the callbacks, auth baton and cancel baton live in the session's pool or in
        // boxes the session owns (dropped after the pool); the URL is canonicalised first as
        // svn_ra_open4 requires; every returned error is taken (and cleared).
        unsafe {
            let pool = session.pool.as_ptr();
            let auth_baton = open_auth_baton(&session.pool, session._auth.as_deref());
            let mut callbacks: *mut ffi::svn_ra_callbacks2_t = ptr::null_mut();
            let error = ffi::svn_ra_create_callbacks(&mut callbacks, pool);
            session.check(error, "svn_ra_create_callbacks")?;
            (*callbacks).auth_baton = auth_baton;
            (*callbacks).cancel_func = Some(cancel_callback);
            let cancel_baton = ptr::from_ref::<CancelCheck>(&session.cancel)
                .cast_mut()
                .cast::<c_void>();

            if open_url.starts_with(tunnel::SCHEME) {
                tunnel::install(callbacks);
            }
            let config = match &session.egress {
                None => ptr::null_mut(),
                Some(egress) => session.proxy_config(egress.port())?,
            };
            let mut target = ffi::svn_uri_canonicalize(c_url.as_ptr(), pool);
            let mut redirects = 0;
            loop {
                let mut corrected: *const std::ffi::c_char = ptr::null();
                let error = ffi::svn_ra_open4(
                    &mut session.session,
                    &mut corrected,
                    target,
                    ptr::null(),
                    callbacks,
                    cancel_baton,
                    config,
                    pool,
                );
                session.check(error, "svn_ra_open4")?;
                if corrected.is_null() {
                    break;
                }
                redirects += 1;
                if redirects > MAX_REDIRECTS {
                    return Err(SourceError::Command {
                        command: "libsvn svn_ra_open4".into(),
                        detail: format!("{url}: too many redirects"),
                    });
                }
                target = corrected;
            }

            let mut root: *const std::ffi::c_char = ptr::null();
            let error = ffi::svn_ra_get_repos_root2(session.session, &mut root, pool);
            session.check(error, "svn_ra_get_repos_root2")?;
            session.repos_root = CStr::from_ptr(root).to_string_lossy().into_owned();
            let error = ffi::svn_ra_reparent(session.session, root, pool);
            session.check(error, "svn_ra_reparent")?;
            let mut uuid: *const std::ffi::c_char = ptr::null();
            let error = ffi::svn_ra_get_uuid2(session.session, &mut uuid, pool);
            session.check(error, "svn_ra_get_uuid2")?;
            session.uuid = CStr::from_ptr(uuid).to_string_lossy().into_owned();
        }
        Ok(session)
    }

    /// A configuration (`servers` category) that sends every DAV connection through the
    /// egress proxy on 127.0.0.1:`port`, allocated in the session's pool.
    ///
    /// # Safety
    /// The session's pool is alive (it is, for as long as `self`).
    unsafe fn proxy_config(&self, port: u16) -> Result<*mut ffi::apr_hash_t, SourceError> {
        let pool = self.pool.as_ptr();
        let mut servers: *mut ffi::svn_config_t = ptr::null_mut();
        // SAFETY: the pool is alive; svn_config_set copies the strings into the config's
        // pool; the hash key is a static string.
        unsafe {
            let error = ffi::svn_config_create2(&mut servers, 0, 0, pool);
            self.check(error, "svn_config_create2")?;
            let port = CString::new(port.to_string()).unwrap_or_default();
            ffi::svn_config_set(
                servers,
                c"global".as_ptr(),
                c"http-proxy-host".as_ptr(),
                c"127.0.0.1".as_ptr(),
            );
            ffi::svn_config_set(
                servers,
                c"global".as_ptr(),
                c"http-proxy-port".as_ptr(),
                port.as_ptr(),
            );
            let config = ffi::apr_hash_make(pool);
            ffi::apr_hash_set(config, c"servers".as_ptr().cast(), -1, servers.cast());
            Ok(config)
        }
    }

    /// Converts (and clears) an svn error returned by `operation`.
    ///
    /// # Safety
    /// `error` is null or an error chain owned by the caller.
    pub(super) unsafe fn check(
        &self,
        error: *mut ffi::svn_error_t,
        operation: &str,
    ) -> Result<(), SourceError> {
        // SAFETY: forwarded from the caller.
        match unsafe { SvnFailure::take(error) } {
            None => Ok(()),
            Some(failure) => match self.egress.as_ref().and_then(Egress::refusal) {
                // libsvn only saw a 403 from the proxy: say what the policy refused.
                Some(reason) => Err(SourceError::Refused {
                    url: redact(&self.url),
                    reason,
                }),
                None => {
                    Err(failure.into_source_error(operation, &self.url, self.credentials.as_ref()))
                }
            },
        }
    }

    pub(super) fn raw(&self) -> *mut ffi::svn_ra_session_t {
        self.session
    }

    pub(super) fn pool(&self) -> &Pool<'static> {
        &self.pool
    }

    pub(super) fn cancel_check(&self) -> &CancelCheck {
        &self.cancel
    }

    /// The URL the session was opened with.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The repository's UUID.
    pub fn uuid(&self) -> String {
        self.uuid.clone()
    }

    /// The repository root URL.
    pub fn repos_root(&self) -> String {
        self.repos_root.clone()
    }

    /// The youngest revision.
    pub fn latest_revision(&self) -> Result<u64, SourceError> {
        let scratch = self.pool.child();
        let mut revision: ffi::svn_revnum_t = -1;
        // SAFETY: a live session, an out pointer and a live scratch pool.
        let error =
            unsafe { ffi::svn_ra_get_latest_revnum(self.session, &mut revision, scratch.as_ptr()) };
        // SAFETY: the error is ours.
        unsafe { self.check(error, "svn_ra_get_latest_revnum") }?;
        u64::try_from(revision).map_err(|_| SourceError::Command {
            command: "libsvn svn_ra_get_latest_revnum".into(),
            detail: format!("{}: invalid revision {revision}", self.url),
        })
    }

    /// The entries of directory `path` at `revision`, sorted by name.
    pub fn list_dir(
        &self,
        path: &str,
        revision: u64,
    ) -> Result<Vec<(String, NodeKind)>, SourceError> {
        let c_path = self.relpath(path)?;
        let revision = self.revnum(revision)?;
        let scratch = self.pool.child();
        let mut dirents: *mut ffi::apr_hash_t = ptr::null_mut();
        let mut entries = Vec::new();
        // SAFETY: a live session; out pointers; results live in `scratch`, read before it
        // is destroyed; the hash maps `const char *` names to `svn_dirent_t *`.
        unsafe {
            let error = ffi::svn_ra_get_dir2(
                self.session,
                &mut dirents,
                ptr::null_mut(),
                ptr::null_mut(),
                c_path.as_ptr(),
                revision,
                ffi::SVN_DIRENT_KIND,
                scratch.as_ptr(),
            );
            self.check(error, "svn_ra_get_dir2")?;
            let mut index = ffi::apr_hash_first(scratch.as_ptr(), dirents);
            while !index.is_null() {
                let mut key: *const c_void = ptr::null();
                let mut value: *mut c_void = ptr::null_mut();
                ffi::apr_hash_this(index, &mut key, ptr::null_mut(), &mut value);
                let name = CStr::from_ptr(key.cast()).to_string_lossy().into_owned();
                let dirent = &*value.cast::<ffi::svn_dirent_t>();
                if let Some(kind) = node_kind(dirent.kind) {
                    entries.push((name, kind));
                }
                index = ffi::apr_hash_next(index);
            }
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(entries)
    }

    /// The kind of `path` at `revision`, `None` when nothing is there.
    pub fn check_path(&self, path: &str, revision: u64) -> Result<Option<NodeKind>, SourceError> {
        let c_path = self.relpath(path)?;
        let revision = self.revnum(revision)?;
        let scratch = self.pool.child();
        let mut kind: ffi::svn_node_kind_t = ffi::svn_node_none;
        // SAFETY: a live session, an out pointer and a live scratch pool.
        let error = unsafe {
            ffi::svn_ra_check_path(
                self.session,
                c_path.as_ptr(),
                revision,
                &mut kind,
                scratch.as_ptr(),
            )
        };
        // SAFETY: the error is ours.
        unsafe { self.check(error, "svn_ra_check_path") }?;
        Ok(node_kind(kind))
    }

    /// The revision properties of `revision`, sorted by name.
    pub fn revision_properties(&self, revision: u64) -> Result<Properties, SourceError> {
        let revision = self.revnum(revision)?;
        let scratch = self.pool.child();
        let mut hash: *mut ffi::apr_hash_t = ptr::null_mut();
        // SAFETY: a live session, an out pointer and a live scratch pool; the hash is read
        // before the pool goes.
        unsafe {
            let error =
                ffi::svn_ra_rev_proplist(self.session, revision, &mut hash, scratch.as_ptr());
            self.check(error, "svn_ra_rev_proplist")?;
            Ok(hash_to_properties(hash, scratch.as_ptr()))
        }
    }

    fn relpath(&self, path: &str) -> Result<CString, SourceError> {
        CString::new(path.trim_matches('/')).map_err(|_| SourceError::Refused {
            url: self.url.clone(),
            reason: "the path contains a NUL byte".into(),
        })
    }

    pub(super) fn revnum(&self, revision: u64) -> Result<ffi::svn_revnum_t, SourceError> {
        ffi::svn_revnum_t::try_from(revision).map_err(|_| SourceError::NotFound {
            url: self.url.clone(),
            reason: format!("no revision {revision}"),
        })
    }
}

fn node_kind(kind: ffi::svn_node_kind_t) -> Option<NodeKind> {
    match kind {
        ffi::svn_node_file => Some(NodeKind::File),
        ffi::svn_node_dir => Some(NodeKind::Dir),
        _ => None,
    }
}
