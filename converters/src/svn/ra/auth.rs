//! Non-interactive authentication: our own auth providers hand out the given [`Credentials`]
//! once (a rejected password fails instead of being retried), and nothing is read from or
//! written to `~/.subversion` (no disk-cache or prompt providers, which look there).

use std::ffi::{c_char, c_void, CString};
use std::mem::size_of;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use crate::svn::libsvn::error::new_error;
use crate::svn::libsvn::ffi;
use crate::svn::libsvn::pool::Pool;
use crate::Credentials;

/// The username and password the providers hand out; boxed and owned by the session, whose
/// pool holds the providers pointing at it.
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
/// are given, a username provider (which gives nothing without credentials), and the
/// parameters that keep libsvn non-interactive and away from the disk cache.
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
    // SAFETY: every pointer handed to libsvn lives in `pool` or (for `baton`) outlives it;
    // the credential kinds, parameter names and values are static strings (libsvn keeps the
    // pointers).
    unsafe {
        let providers = ffi::apr_array_make(
            pool.as_ptr(),
            2,
            size_of::<*mut ffi::svn_auth_provider_object_t>() as i32,
        );
        if data.is_some() {
            let provider = new_provider(pool, c"svn.simple", Some(simple_first), baton);
            *ffi::apr_array_push(providers).cast::<*mut ffi::svn_auth_provider_object_t>() =
                provider;
        }
        let provider = new_provider(pool, c"svn.username", Some(username_first), baton);
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

type FirstCredentials = unsafe extern "C" fn(
    *mut *mut c_void,
    *mut *mut c_void,
    *mut c_void,
    *mut ffi::apr_hash_t,
    *const c_char,
    *mut ffi::apr_pool_t,
) -> *mut ffi::svn_error_t;

/// A provider object (and its vtable) in `pool` for credentials of `kind`.
///
/// # Safety
/// `pool` is live; `baton` is null or an `AuthData` outliving `pool`.
unsafe fn new_provider(
    pool: &Pool<'_>,
    kind: &'static std::ffi::CStr,
    first: Option<FirstCredentials>,
    baton: *mut c_void,
) -> *mut ffi::svn_auth_provider_object_t {
    // SAFETY: apr_palloc returns pool memory aligned for any type; both structs are plain
    // C data, fully written before libsvn sees them.
    unsafe {
        let vtable = ffi::apr_palloc(pool.as_ptr(), size_of::<ffi::svn_auth_provider_t>())
            .cast::<ffi::svn_auth_provider_t>();
        vtable.write(ffi::svn_auth_provider_t {
            cred_kind: kind.as_ptr(),
            first_credentials: first,
            next_credentials: Some(no_more_credentials),
            save_credentials: Some(never_save),
        });
        let object = ffi::apr_palloc(pool.as_ptr(), size_of::<ffi::svn_auth_provider_object_t>())
            .cast::<ffi::svn_auth_provider_object_t>();
        object.write(ffi::svn_auth_provider_object_t {
            vtable,
            provider_baton: baton,
        });
        object
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

/// Runs a provider body without letting a panic unwind into libsvn.
fn guarded(body: impl FnOnce()) -> *mut ffi::svn_error_t {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(()) => ptr::null_mut(),
        Err(_) => new_error(ffi::SVN_ERR_AUTHN_FAILED, c"credential provider panicked"),
    }
}

/// The simple provider's first (and only) credentials: the configured username and password.
unsafe extern "C" fn simple_first(
    credentials: *mut *mut c_void,
    iter_baton: *mut *mut c_void,
    provider_baton: *mut c_void,
    _parameters: *mut ffi::apr_hash_t,
    _realm: *const c_char,
    pool: *mut ffi::apr_pool_t,
) -> *mut ffi::svn_error_t {
    guarded(|| {
        // SAFETY: libsvn passes valid out pointers and a live pool; the baton is null or the
        // session's `AuthData`, alive as long as the session pool; the credentials are
        // allocated in `pool` as libsvn expects.
        unsafe {
            *iter_baton = ptr::null_mut();
            *credentials = ptr::null_mut();
            if provider_baton.is_null() {
                return;
            }
            let data = &*provider_baton.cast::<AuthData>();
            let out = ffi::apr_palloc(pool, size_of::<ffi::svn_auth_cred_simple_t>())
                .cast::<ffi::svn_auth_cred_simple_t>();
            out.write(ffi::svn_auth_cred_simple_t {
                username: pool_string(pool, &data.username),
                password: pool_string(pool, &data.password),
                may_save: 0,
            });
            *credentials = out.cast();
        }
    })
}

/// The username provider's only credentials: the configured username, or none.
unsafe extern "C" fn username_first(
    credentials: *mut *mut c_void,
    iter_baton: *mut *mut c_void,
    provider_baton: *mut c_void,
    _parameters: *mut ffi::apr_hash_t,
    _realm: *const c_char,
    pool: *mut ffi::apr_pool_t,
) -> *mut ffi::svn_error_t {
    guarded(|| {
        // SAFETY: as in `simple_first`.
        unsafe {
            *iter_baton = ptr::null_mut();
            *credentials = ptr::null_mut();
            if provider_baton.is_null() {
                return;
            }
            let data = &*provider_baton.cast::<AuthData>();
            let out = ffi::apr_palloc(pool, size_of::<ffi::svn_auth_cred_username_t>())
                .cast::<ffi::svn_auth_cred_username_t>();
            out.write(ffi::svn_auth_cred_username_t {
                username: pool_string(pool, &data.username),
                may_save: 0,
            });
            *credentials = out.cast();
        }
    })
}

/// After a rejection there is nothing else to try: the attempt fails instead of looping.
unsafe extern "C" fn no_more_credentials(
    credentials: *mut *mut c_void,
    _iter_baton: *mut c_void,
    _provider_baton: *mut c_void,
    _parameters: *mut ffi::apr_hash_t,
    _realm: *const c_char,
    _pool: *mut ffi::apr_pool_t,
) -> *mut ffi::svn_error_t {
    // SAFETY: libsvn passes a valid out pointer.
    guarded(|| unsafe { *credentials = ptr::null_mut() })
}

/// Credentials are never stored.
unsafe extern "C" fn never_save(
    saved: *mut ffi::svn_boolean_t,
    _credentials: *mut c_void,
    _provider_baton: *mut c_void,
    _parameters: *mut ffi::apr_hash_t,
    _realm: *const c_char,
    _pool: *mut ffi::apr_pool_t,
) -> *mut ffi::svn_error_t {
    // SAFETY: libsvn passes a valid out pointer.
    guarded(|| unsafe { *saved = 0 })
}
