//! Initialising APR and libsvn once per process, for every libsvn reader.

use std::ptr;
use std::sync::OnceLock;

use super::error::SvnFailure;
use super::ffi;
use crate::SourceError;

/// Initialises APR, libsvn's malfunction handling and its DSO loader once per process; the
/// readers add their own layer's initialisation after it.
pub(crate) fn initialize() -> Result<(), SourceError> {
    static INIT: OnceLock<Result<(), String>> = OnceLock::new();
    INIT.get_or_init(|| {
        // SAFETY: runs once; APR is initialised before anything else touches it.
        unsafe {
            let status = ffi::apr_initialize();
            if status != 0 {
                return Err(format!("apr_initialize failed ({status})"));
            }
            // A failed libsvn assertion becomes an error instead of aborting the process.
            ffi::svn_error_set_malfunction_handler(Some(ffi::svn_error_raise_on_malfunction));
            if let Some(failure) = SvnFailure::take(ffi::svn_dso_initialize2()) {
                return Err(failure.message);
            }
        }
        Ok(())
    })
    .clone()
    .map_err(initialisation_error)
}

/// Runs a layer's one-time initialisation `init` (given a global pool that is never
/// destroyed) after [`initialize`], remembering its outcome in `once`.
pub(crate) fn initialize_layer(
    once: &'static OnceLock<Result<(), String>>,
    init: unsafe extern "C" fn(*mut ffi::apr_pool_t) -> *mut ffi::svn_error_t,
) -> Result<(), SourceError> {
    initialize()?;
    once.get_or_init(|| {
        // SAFETY: APR is initialised; the global pool is never destroyed, as layer
        // initialisers require; the error is taken (and cleared).
        unsafe {
            let pool = ffi::svn_pool_create_ex(ptr::null_mut(), ptr::null_mut());
            match SvnFailure::take(init(pool)) {
                Some(failure) => Err(failure.message),
                None => Ok(()),
            }
        }
    })
    .clone()
    .map_err(initialisation_error)
}

fn initialisation_error(detail: String) -> SourceError {
    SourceError::Command {
        command: "libsvn initialisation".into(),
        detail,
    }
}
