//! Non-interactive authentication: credentials come only from [`Credentials`], nothing is read
//! from or written to `~/.subversion`, and a rejected password fails instead of retrying.

use std::ffi::{c_char, c_void, CString};
use std::mem::size_of;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use super::error::new_error;
use super::ffi;
use super::pool::Pool;
use crate::Credentials;

/// The username and password handed to libsvn's prompt providers; boxed and owned by the
/// session, whose pool holds the providers pointing at it.
pub(super) struct AuthData {
    username: CString,
    password: CString,
}

impl AuthData {
    pub(super) fn new(credentials: &Credentials) -> Result<Self, &'static str> {
        let invalid = || "credentials must not contain NUL bytes";
        Ok(AuthData {
            username: CString::new(credentials.username.as_str()).map_err(|_| invalid())?,
            password: CString::new(credentials.password.as_str()).map_err(|_| invalid())?,
        })
    }
}

/// Builds the auth baton in `pool`: a simple (username/password) provider when credentials
/// are given, a username provider, and the parameters that keep libsvn non-interactive and
/// away from the disk cache.
///
/// # Safety
/// `data` (when given) must outlive `pool`.
pub(super) unsafe fn open_auth_baton(
    pool: &Pool<'_>,
    data: Option<&AuthData>,
) -> *mut ffi::svn_auth_baton_t {
    let baton = data.map_or(ptr::null_mut(), |data| {
        ptr::from_ref(data).cast_mut().cast::<c_void>()
    });
    // SAFETY: every pointer handed to libsvn lives in `pool` or (for `baton`) outlives it,
    // and the parameter names and values are static strings (libsvn keeps the pointers).
    unsafe {
        let providers = ffi::apr_array_make(
            pool.as_ptr(),
            2,
            size_of::<*mut ffi::svn_auth_provider_object_t>() as i32,
        );
        if data.is_some() {
            let mut provider: *mut ffi::svn_auth_provider_object_t = ptr::null_mut();
            // Retry limit 0: a rejected password is not asked for again.
            ffi::svn_auth_get_simple_prompt_provider(
                &mut provider,
                Some(simple_prompt),
                baton,
                0,
                pool.as_ptr(),
            );
            *ffi::apr_array_push(providers).cast::<*mut ffi::svn_auth_provider_object_t>() =
                provider;
        }
        let mut provider: *mut ffi::svn_auth_provider_object_t = ptr::null_mut();
        ffi::svn_auth_get_username_prompt_provider(
            &mut provider,
            Some(username_prompt),
            baton,
            0,
            pool.as_ptr(),
        );
        *ffi::apr_array_push(providers).cast::<*mut ffi::svn_auth_provider_object_t>() = provider;

        let mut auth_baton: *mut ffi::svn_auth_baton_t = ptr::null_mut();
        ffi::svn_auth_open(&mut auth_baton, providers, pool.as_ptr());
        let yes = c"yes".as_ptr().cast::<c_void>();
        for name in [
            c"svn:auth:non-interactive",
            c"svn:auth:no-auth-cache",
            c"svn:auth:dont-store-passwords",
        ] {
            ffi::svn_auth_set_parameter(auth_baton, name.as_ptr(), yes);
        }
        auth_baton
    }
}

/// Copies `value` into `pool`.
///
/// # Safety
/// `pool` is a live pool.
unsafe fn pool_string(pool: *mut ffi::apr_pool_t, value: &CString) -> *const c_char {
    // SAFETY: apr_pstrdup copies the NUL-terminated string into the live pool.
    unsafe { ffi::apr_pstrdup(pool, value.as_ptr()) }
}

/// The simple prompt: hands out the configured username and password once.
unsafe extern "C" fn simple_prompt(
    cred: *mut *mut ffi::svn_auth_cred_simple_t,
    baton: *mut c_void,
    _realm: *const c_char,
    _username: *const c_char,
    _may_save: ffi::svn_boolean_t,
    pool: *mut ffi::apr_pool_t,
) -> *mut ffi::svn_error_t {
    let result = catch_unwind(AssertUnwindSafe(|| {
        if baton.is_null() {
            // SAFETY: libsvn passes a valid out pointer.
            unsafe { *cred = ptr::null_mut() };
            return;
        }
        // SAFETY: the baton is the session's `AuthData`, alive as long as the session pool;
        // the credential is allocated in (and owned by) `pool` as libsvn expects.
        unsafe {
            let data = &*baton.cast::<AuthData>();
            let out = ffi::apr_palloc(pool, size_of::<ffi::svn_auth_cred_simple_t>())
                .cast::<ffi::svn_auth_cred_simple_t>();
            out.write(ffi::svn_auth_cred_simple_t {
                username: pool_string(pool, &data.username),
                password: pool_string(pool, &data.password),
                may_save: 0,
            });
            *cred = out;
        }
    }));
    match result {
        Ok(()) => ptr::null_mut(),
        Err(_) => new_error(ffi::SVN_ERR_AUTHN_FAILED, c"credential callback panicked"),
    }
}

/// The username prompt: the configured username, or none.
unsafe extern "C" fn username_prompt(
    cred: *mut *mut ffi::svn_auth_cred_username_t,
    baton: *mut c_void,
    _realm: *const c_char,
    _may_save: ffi::svn_boolean_t,
    pool: *mut ffi::apr_pool_t,
) -> *mut ffi::svn_error_t {
    let result = catch_unwind(AssertUnwindSafe(|| {
        if baton.is_null() {
            // SAFETY: libsvn passes a valid out pointer.
            unsafe { *cred = ptr::null_mut() };
            return;
        }
        // SAFETY: as in `simple_prompt`.
        unsafe {
            let data = &*baton.cast::<AuthData>();
            let out = ffi::apr_palloc(pool, size_of::<ffi::svn_auth_cred_username_t>())
                .cast::<ffi::svn_auth_cred_username_t>();
            out.write(ffi::svn_auth_cred_username_t {
                username: pool_string(pool, &data.username),
                may_save: 0,
            });
            *cred = out;
        }
    }));
    match result {
        Ok(()) => ptr::null_mut(),
        Err(_) => new_error(ffi::SVN_ERR_AUTHN_FAILED, c"credential callback panicked"),
    }
}
