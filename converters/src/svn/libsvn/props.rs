//! Property lists out of libsvn: `apr_hash_t`s of `svn_string_t`s, and which names to keep.

use std::ffi::{c_void, CStr};
use std::ptr;

use super::ffi;
use crate::svn::events::Properties;

/// True for the properties svnrdump leaves out of a dump: the "entry" props
/// (`svn:entry:committed-rev`, ...) and working-copy props (`svn:wc:*`).
pub(crate) fn is_dropped(name: &[u8]) -> bool {
    name.starts_with(b"svn:entry:") || name.starts_with(b"svn:wc:")
}

/// The bytes of an `svn_string_t`, `None` for a null pointer.
///
/// # Safety
/// `value` is null or a live `svn_string_t`.
pub(crate) unsafe fn string_bytes(value: *const ffi::svn_string_t) -> Option<Vec<u8>> {
    if value.is_null() {
        return None;
    }
    // SAFETY: a live svn_string_t holds `len` bytes at `data` (`data` may be null only
    // when `len` is 0).
    unsafe {
        let value = &*value;
        if value.len == 0 || value.data.is_null() {
            return Some(Vec::new());
        }
        Some(std::slice::from_raw_parts(value.data.cast::<u8>(), value.len).to_vec())
    }
}

/// A C string's bytes.
///
/// # Safety
/// `text` is a live NUL-terminated string.
pub(crate) unsafe fn c_bytes(text: *const std::ffi::c_char) -> Vec<u8> {
    // SAFETY: forwarded from the caller.
    unsafe { CStr::from_ptr(text) }.to_bytes().to_vec()
}

/// A property hash (`const char *` name to `svn_string_t *`) as a list sorted by name.
///
/// # Safety
/// `hash` is null or a live hash of that shape; `pool` is live.
pub(crate) unsafe fn hash_to_properties(
    hash: *mut ffi::apr_hash_t,
    pool: *mut ffi::apr_pool_t,
) -> Properties {
    let mut properties = Properties::new();
    if hash.is_null() {
        return properties;
    }
    // SAFETY: iterating a live hash whose keys are C strings and values svn_string_t.
    unsafe {
        let mut index = ffi::apr_hash_first(pool, hash);
        while !index.is_null() {
            let mut key: *const c_void = ptr::null();
            let mut value: *mut c_void = ptr::null_mut();
            ffi::apr_hash_this(index, &mut key, ptr::null_mut(), &mut value);
            let name = c_bytes(key.cast());
            properties.push((
                name,
                string_bytes(value.cast::<ffi::svn_string_t>().cast_const()),
            ));
            index = ffi::apr_hash_next(index);
        }
    }
    properties.sort();
    properties
}

#[cfg(test)]
mod tests {
    use super::is_dropped;

    #[test]
    fn entry_and_wc_props_are_dropped() {
        assert!(is_dropped(b"svn:entry:committed-rev"));
        assert!(is_dropped(b"svn:wc:ra_dav:version-url"));
        assert!(!is_dropped(b"svn:executable"));
        assert!(!is_dropped(b"user:svn:entry"));
    }
}
