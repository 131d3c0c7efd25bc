//! The private `svnserve -t` a `file://` history is replayed through: libsvn's tunnel
//! callbacks hand `ra_svn` the pipes of a child we start, so the replay's path walks and
//! delta computation run in another process, on another core, while this one converts.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::os::fd::AsRawFd;
use std::process::{Child, Command, Stdio};
use std::ptr;

use crate::process;
use crate::svn::libsvn::error::new_error;
use crate::svn::libsvn::ffi;

/// The tunnel's name: URLs `svn+srcimport://localhost/PATH`.
pub(super) const SCHEME: &str = "svn+srcimport://";
const NAME: &CStr = c"srcimport";

/// `file:///PATH` (or `file://localhost/PATH`) as a URL of the tunnel.
pub(super) fn url_for(file_url: &str) -> Option<String> {
    let rest = file_url.strip_prefix("file://")?;
    let path = rest.strip_prefix("localhost").unwrap_or(rest);
    path.starts_with('/')
        .then(|| format!("{SCHEME}localhost{path}"))
}

/// Sets `callbacks` to open the tunnel.
///
/// # Safety
/// `callbacks` points at live callbacks (from `svn_ra_create_callbacks`).
pub(super) unsafe fn install(callbacks: *mut ffi::svn_ra_callbacks2_t) {
    // SAFETY: forwarded from the caller; the functions need no baton.
    unsafe {
        (*callbacks).check_tunnel_func = Some(is_ours);
        (*callbacks).open_tunnel_func = Some(open);
        (*callbacks).tunnel_baton = ptr::null_mut();
    }
}

unsafe extern "C" fn is_ours(_baton: *mut c_void, name: *const c_char) -> ffi::svn_boolean_t {
    // SAFETY: libsvn passes the tunnel name as a NUL-terminated string.
    let ours = !name.is_null() && unsafe { CStr::from_ptr(name) } == NAME;
    ffi::svn_boolean_t::from(ours)
}

/// The running server; closing the tunnel closes its pipes and reaps it at once (libsvn's
/// own tunnels are killed on pool cleanup and waited for in 47 ms steps).
struct Server(Child);

/// A read-only server that ignores the repository's `svnserve.conf` (no password or authz
/// file applies to the server's own read of a local path); `--block-read` for format 7+
/// repositories, as `svnadmin dump` reads them.
fn start_server() -> std::io::Result<Child> {
    let mut command = Command::new("svnserve");
    command
        .args(["-t", "--read-only", "--config-file", "/dev/null"])
        // A pipe to this process: compressing the deltas would only cost CPU.
        .args(["--compression", "0"])
        .args(["--block-read", "yes"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    // Bound to us by its pipes: it ends on EOF if we die.
    process::group(&mut command);
    command.spawn()
}

#[allow(clippy::too_many_arguments)] // the callback's C signature
unsafe extern "C" fn open(
    request: *mut *mut ffi::svn_stream_t,
    response: *mut *mut ffi::svn_stream_t,
    close_func: *mut ffi::svn_ra_close_tunnel_func_t,
    close_baton: *mut *mut c_void,
    _tunnel_baton: *mut c_void,
    _tunnel_name: *const c_char,
    _user: *const c_char,
    _hostname: *const c_char,
    _port: c_int,
    _cancel_func: ffi::svn_cancel_func_t,
    _cancel_baton: *mut c_void,
    pool: *mut ffi::apr_pool_t,
) -> *mut ffi::svn_error_t {
    let started = std::panic::catch_unwind(start_server);
    let Ok(Ok(mut child)) = started else {
        return new_error(
            ffi::SVN_ERR_RA_CANNOT_CREATE_TUNNEL,
            c"cannot start svnserve",
        );
    };
    let (Some(to_server), Some(from_server)) = (child.stdin.as_ref(), child.stdout.as_ref()) else {
        let _ = child.kill();
        let _ = child.wait();
        return new_error(
            ffi::SVN_ERR_RA_CANNOT_CREATE_TUNNEL,
            c"svnserve has no pipes",
        );
    };
    let mut to_fd = to_server.as_raw_fd();
    let mut from_fd = from_server.as_raw_fd();
    // SAFETY: the out pointers are libsvn's; the apr files borrow descriptors the `Server`
    // owns until libsvn calls `close` (apr_os_file_put registers no cleanup, and the
    // streams disown their files), and live in `pool`, which libsvn keeps for the session.
    unsafe {
        let mut to_file: *mut ffi::apr_file_t = ptr::null_mut();
        let mut from_file: *mut ffi::apr_file_t = ptr::null_mut();
        ffi::apr_os_file_put(&mut to_file, &mut to_fd, ffi::APR_FOPEN_WRITE as i32, pool);
        ffi::apr_os_file_put(
            &mut from_file,
            &mut from_fd,
            ffi::APR_FOPEN_READ as i32,
            pool,
        );
        *request = ffi::svn_stream_from_aprfile2(to_file, 1, pool);
        *response = ffi::svn_stream_from_aprfile2(from_file, 1, pool);
        *close_func = Some(close);
        *close_baton = Box::into_raw(Box::new(Server(child))).cast();
    }
    ptr::null_mut()
}

unsafe extern "C" fn close(close_baton: *mut c_void, _tunnel_baton: *mut c_void) {
    // SAFETY: the baton is the `Server` `open` boxed, and libsvn closes a tunnel once.
    let Server(mut child) = *unsafe { Box::from_raw(close_baton.cast::<Server>()) };
    drop(child.stdin.take());
    drop(child.stdout.take());
    let _ = std::panic::catch_unwind(move || {
        // Read-only, nothing to flush: no need to wait for it to notice the EOF.
        let _ = child.kill();
        let _ = child.wait();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_urls_become_tunnel_urls() {
        assert_eq!(
            url_for("file:///srv/svn/repo").as_deref(),
            Some("svn+srcimport://localhost/srv/svn/repo")
        );
        assert_eq!(
            url_for("file://localhost/srv/repo%20x").as_deref(),
            Some("svn+srcimport://localhost/srv/repo%20x")
        );
        assert_eq!(url_for("file://otherhost/srv/repo"), None);
        assert_eq!(url_for("svn://host/repo"), None);
    }
}
