//! A local repository opened through libsvn_repos: its filesystem, identity, youngest
//! revision, revision properties and revision roots. Not `Send`: it stays on the thread
//! that opened it.

use std::ffi::{c_char, CStr, CString};
use std::ptr;
use std::sync::OnceLock;

use crate::svn::events::Properties;
use crate::svn::libsvn::error::SvnFailure;
use crate::svn::libsvn::ffi;
use crate::svn::libsvn::init::initialize_layer;
use crate::svn::libsvn::pool::Pool;
use crate::svn::libsvn::props::hash_to_properties;
use crate::SourceError;

/// Initialises libsvn_fs once per process (before threads race to load its back ends).
fn initialize() -> Result<(), SourceError> {
    static INIT: OnceLock<Result<(), String>> = OnceLock::new();
    initialize_layer(&INIT, ffi::svn_fs_initialize)
}

/// How the filesystem is opened, as `svnadmin dump` opens it: text deltas and full texts
/// cached, and FSFS format 7's block reads (a revision file's items are read and cached a
/// block at a time instead of one open and read each).
const FS_CONFIG: &[(&CStr, &CStr)] = &[
    (c"fsfs-cache-deltas", c"1"),
    (c"fsfs-cache-fulltexts", c"1"),
    (c"fsfs-cache-revprops", c"2"),
    (c"fsfs-cache-nodeprops", c"1"),
    (c"fsfs-block-read", c"1"),
];

/// [`FS_CONFIG`] as the hash `svn_repos_open3` takes, allocated in `pool`.
fn fs_config(pool: &Pool) -> *mut ffi::apr_hash_t {
    // SAFETY: a live pool; keys and values are static C strings, which outlive it.
    unsafe {
        let hash = ffi::apr_hash_make(pool.as_ptr());
        for (key, value) in FS_CONFIG {
            let length = ffi::apr_ssize_t::try_from(key.to_bytes().len()).unwrap_or(-1);
            ffi::apr_hash_set(hash, key.as_ptr().cast(), length, value.as_ptr().cast());
        }
        hash
    }
}

/// An open repository. The filesystem lives in the repository's pool, dropped with it.
pub struct Repository {
    pool: Pool<'static>,
    fs: *mut ffi::svn_fs_t,
    url: String,
    uuid: String,
}

impl std::fmt::Debug for Repository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repository")
            .field("url", &self.url)
            .field("uuid", &self.uuid)
            .finish_non_exhaustive()
    }
}

/// A revision root, allocated in a pool the caller keeps alive while using it.
#[derive(Clone, Copy)]
pub(super) struct Root(pub(super) *mut ffi::svn_fs_root_t);

impl Repository {
    /// Opens the repository a `file://` URL names (the URL may name a path inside it).
    pub fn open(url: &str) -> Result<Repository, SourceError> {
        initialize()?;
        let not_found = |reason: String| SourceError::NotFound {
            url: url.to_owned(),
            reason,
        };
        if !crate::svn::source::is_local_repository(url) {
            return Err(not_found("not a file:// URL of a local repository".into()));
        }
        let c_url = CString::new(url).map_err(|_| SourceError::Refused {
            url: url.to_owned(),
            reason: "the URL contains a NUL byte".into(),
        })?;
        let mut repository = Repository {
            pool: Pool::root(),
            fs: ptr::null_mut(),
            url: url.to_owned(),
            uuid: String::new(),
        };
        let scratch = repository.pool.child();
        // SAFETY: the URL is canonicalised first, as svn_uri_get_dirent_from_file_url
        // requires; results live in the repository's pool (the repository and its fs) or
        // in `scratch` (paths, read before it goes); every error is taken and cleared.
        unsafe {
            let canonical = ffi::svn_uri_canonicalize(c_url.as_ptr(), scratch.as_ptr());
            let mut dirent: *const c_char = ptr::null();
            let error =
                ffi::svn_uri_get_dirent_from_file_url(&mut dirent, canonical, scratch.as_ptr());
            repository.check(error, "svn_uri_get_dirent_from_file_url")?;
            let root = ffi::svn_repos_find_root_path(dirent, scratch.as_ptr());
            if root.is_null() {
                let path = CStr::from_ptr(dirent).to_string_lossy();
                return Err(not_found(format!(
                    "no Subversion repository found at {path} (nor in a directory above it)"
                )));
            }
            let mut repos: *mut ffi::svn_repos_t = ptr::null_mut();
            let config = fs_config(&repository.pool);
            let error = ffi::svn_repos_open3(
                &mut repos,
                root,
                config,
                repository.pool.as_ptr(),
                scratch.as_ptr(),
            );
            repository.check(error, "svn_repos_open3")?;
            repository.fs = ffi::svn_repos_fs(repos);
            let mut uuid: *const c_char = ptr::null();
            let error = ffi::svn_fs_get_uuid(repository.fs, &mut uuid, scratch.as_ptr());
            repository.check(error, "svn_fs_get_uuid")?;
            repository.uuid = CStr::from_ptr(uuid).to_string_lossy().into_owned();
        }
        drop(scratch);
        Ok(repository)
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
            Some(failure) => Err(failure.into_source_error(operation, &self.url, None)),
        }
    }

    pub(super) fn pool(&self) -> &Pool<'static> {
        &self.pool
    }

    /// The URL the repository was opened with.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The repository's UUID.
    pub fn uuid(&self) -> &str {
        &self.uuid
    }

    /// The youngest revision.
    pub fn youngest(&self) -> Result<u64, SourceError> {
        let scratch = self.pool.child();
        let mut revision: ffi::svn_revnum_t = -1;
        // SAFETY: a live fs, an out pointer and a live scratch pool.
        let error = unsafe { ffi::svn_fs_youngest_rev(&mut revision, self.fs, scratch.as_ptr()) };
        // SAFETY: the error is ours.
        unsafe { self.check(error, "svn_fs_youngest_rev") }?;
        u64::try_from(revision).map_err(|_| SourceError::Command {
            command: "libsvn svn_fs_youngest_rev".into(),
            detail: format!("{}: invalid revision {revision}", self.url),
        })
    }

    pub(super) fn revnum(&self, revision: u64) -> Result<ffi::svn_revnum_t, SourceError> {
        ffi::svn_revnum_t::try_from(revision).map_err(|_| SourceError::NotFound {
            url: self.url.clone(),
            reason: format!("no revision {revision}"),
        })
    }

    /// The revision properties of `revision`, sorted by name.
    pub fn revision_properties(&self, revision: u64) -> Result<Properties, SourceError> {
        let revision = self.revnum(revision)?;
        let scratch = self.pool.child();
        let mut hash: *mut ffi::apr_hash_t = ptr::null_mut();
        // SAFETY: a live fs, an out pointer and a live scratch pool; the hash is read
        // before the pool goes.
        unsafe {
            let error = ffi::svn_fs_revision_proplist2(
                &mut hash,
                self.fs,
                revision,
                0,
                scratch.as_ptr(),
                scratch.as_ptr(),
            );
            self.check(error, "svn_fs_revision_proplist2")?;
            Ok(hash_to_properties(hash, scratch.as_ptr()))
        }
    }

    /// The root of `revision`, allocated in `pool`.
    pub(super) fn revision_root(&self, revision: u64, pool: &Pool) -> Result<Root, SourceError> {
        let revision = self.revnum(revision)?;
        let mut root: *mut ffi::svn_fs_root_t = ptr::null_mut();
        // SAFETY: a live fs, an out pointer and a live pool that receives the root.
        let error =
            unsafe { ffi::svn_fs_revision_root(&mut root, self.fs, revision, pool.as_ptr()) };
        // SAFETY: the error is ours.
        unsafe { self.check(error, "svn_fs_revision_root") }?;
        Ok(Root(root))
    }
}
