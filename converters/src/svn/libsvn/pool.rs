//! APR pools with Rust ownership: a pool is destroyed when dropped, never before its children.

use std::marker::PhantomData;
use std::ptr::{self, NonNull};

use super::ffi;

/// An APR pool. `'parent` ties a subpool to its parent, so the borrow checker keeps a
/// subpool from outliving the pool that would free it.
pub(crate) struct Pool<'parent> {
    raw: NonNull<ffi::apr_pool_t>,
    _parent: PhantomData<&'parent Pool<'parent>>,
}

impl Pool<'static> {
    /// A new root pool (with its own allocator).
    pub(crate) fn root() -> Self {
        // SAFETY: APR is initialised (see `libsvn::initialize`) before any pool is made;
        // null parent and allocator ask for a root pool with a fresh allocator.
        let raw = unsafe { ffi::svn_pool_create_ex(ptr::null_mut(), ptr::null_mut()) };
        Pool {
            raw: NonNull::new(raw).expect("svn_pool_create_ex aborts rather than failing"),
            _parent: PhantomData,
        }
    }
}

impl<'parent> Pool<'parent> {
    /// A subpool, destroyed when dropped (or with this pool).
    pub(crate) fn child(&self) -> Pool<'_> {
        // SAFETY: `self.raw` is a live pool; the subpool is tied to its lifetime.
        let raw = unsafe { ffi::svn_pool_create_ex(self.raw.as_ptr(), ptr::null_mut()) };
        Pool {
            raw: NonNull::new(raw).expect("svn_pool_create_ex aborts rather than failing"),
            _parent: PhantomData,
        }
    }

    pub(crate) fn as_ptr(&self) -> *mut ffi::apr_pool_t {
        self.raw.as_ptr()
    }
}

impl Drop for Pool<'_> {
    fn drop(&mut self) {
        // SAFETY: the pool is live and owned by this value; its subpools (if any are still
        // alive, which the lifetimes prevent) would be destroyed with it.
        unsafe { ffi::apr_pool_destroy(self.raw.as_ptr()) }
    }
}
