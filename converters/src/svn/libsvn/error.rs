//! Turning `svn_error_t` chains into [`SourceError`]s (and clearing them), and back.

use std::ffi::{c_char, CStr};

use super::ffi;
use crate::{Credentials, SourceError};

/// An svn error chain, read and cleared.
#[derive(Debug, Clone)]
pub(crate) struct SvnFailure {
    /// The `apr_err` codes of the chain, outermost first.
    pub(crate) codes: Vec<i32>,
    /// The messages of the chain, `E170001: ...; E215000: ...`.
    pub(crate) message: String,
}

impl SvnFailure {
    /// Reads the chain of `error` and clears it; `None` for `SVN_NO_ERROR`.
    ///
    /// # Safety
    /// `error` is null or an error chain owned by the caller, not used afterwards.
    pub(crate) unsafe fn take(error: *mut ffi::svn_error_t) -> Option<SvnFailure> {
        if error.is_null() {
            return None;
        }
        let mut codes = Vec::new();
        let mut messages: Vec<String> = Vec::new();
        let mut buffer = [0 as c_char; 512];
        let mut link = error;
        while !link.is_null() {
            // SAFETY: `link` is a live link of the chain the caller handed over; the
            // buffer outlives the returned pointer's use.
            let (code, message, child) = unsafe {
                let code = (*link).apr_err;
                let text = ffi::svn_err_best_message(link, buffer.as_mut_ptr(), buffer.len());
                let message = if text.is_null() {
                    String::new()
                } else {
                    CStr::from_ptr(text).to_string_lossy().into_owned()
                };
                (code, message, (*link).child)
            };
            let line = format!("E{code}: {message}");
            if messages.last() != Some(&line) {
                messages.push(line);
            }
            codes.push(code);
            link = child;
        }
        // SAFETY: the chain is owned by us and no pointer into it is kept.
        unsafe { ffi::svn_error_clear(error) };
        Some(SvnFailure {
            codes,
            message: messages.join("; "),
        })
    }

    fn has(&self, wanted: &[ffi::svn_errno_t]) -> bool {
        self.codes
            .iter()
            .any(|&code| u32::try_from(code).is_ok_and(|code| wanted.contains(&code)))
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.has(&[ffi::SVN_ERR_CANCELLED])
    }

    pub(crate) fn is_auth(&self) -> bool {
        // SVN_ERR_AUTHN_*: the authentication category, 215000..220000.
        let authn = |code: &i32| (215_000..220_000).contains(code);
        self.codes.iter().any(authn)
            || self.has(&[
                ffi::SVN_ERR_RA_NOT_AUTHORIZED,
                ffi::SVN_ERR_RA_DAV_FORBIDDEN,
                ffi::SVN_ERR_AUTHZ_ROOT_UNREADABLE,
                ffi::SVN_ERR_AUTHZ_UNREADABLE,
                ffi::SVN_ERR_AUTHZ_PARTIALLY_READABLE,
            ])
    }

    pub(crate) fn is_not_found(&self) -> bool {
        // mod_dav_svn answers a missing repository with ENOENT (APR error 2) under
        // "Unable to connect to a repository".
        let missing_over_dav = self.has(&[ffi::SVN_ERR_RA_CANNOT_CREATE_SESSION])
            && self.codes.contains(&libc::ENOENT);
        missing_over_dav
            || self.has(&[
                ffi::SVN_ERR_RA_LOCAL_REPOS_NOT_FOUND,
                ffi::SVN_ERR_RA_LOCAL_REPOS_OPEN_FAILED,
                ffi::SVN_ERR_RA_SVN_REPOS_NOT_FOUND,
                ffi::SVN_ERR_RA_DAV_PATH_NOT_FOUND,
                ffi::SVN_ERR_RA_ILLEGAL_URL,
            ])
    }

    /// The [`SourceError`] for this failure of `operation` on `url`.
    pub(crate) fn into_source_error(
        self,
        operation: &str,
        url: &str,
        credentials: Option<&Credentials>,
    ) -> SourceError {
        if self.is_cancelled() {
            SourceError::Cancelled
        } else if self.is_auth() {
            SourceError::auth(url, credentials)
        } else if self.is_not_found() {
            SourceError::NotFound {
                url: url.to_owned(),
                reason: format!("no Subversion repository found ({})", self.message),
            }
        } else {
            SourceError::Command {
                command: format!("libsvn {operation}"),
                detail: format!("{url}: {}", self.message),
            }
        }
    }
}

/// A new `svn_error_t` with `code` and `message`, for returning from a callback.
pub(crate) fn new_error(code: ffi::svn_errno_t, message: &CStr) -> *mut ffi::svn_error_t {
    // SAFETY: svn_error_create copies the message into the error's own pool; a null child
    // is allowed.
    unsafe {
        ffi::svn_error_create(
            code as ffi::apr_status_t,
            std::ptr::null_mut(),
            message.as_ptr(),
        )
    }
}

/// The error a callback returns when the drive must stop (cancelled, or a Rust-side failure
/// kept aside to be reported instead).
pub(crate) fn cancelled() -> *mut ffi::svn_error_t {
    new_error(ffi::SVN_ERR_CANCELLED, c"cancelled")
}
