//! The private `svnserve -t` a `file://` history is replayed through: libsvn's tunnel
//! callbacks hand `ra_svn` the pipes of a child we start, so the replay's path walks and
//! delta computation run in another process, on another core, while this one converts.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::os::fd::{AsRawFd, RawFd};
use std::process::{Child, Command, Stdio};
use std::ptr;
use std::time::{Duration, Instant};

use crate::process;
use crate::svn::libsvn::error::new_error;
use crate::svn::libsvn::ffi;
use crate::url_policy::file_url_path;

/// The tunnel's name: URLs `svn+srcimport://localhost/PATH`.
pub(super) const SCHEME: &str = "svn+srcimport://";
const NAME: &CStr = c"srcimport";

/// `file:///PATH` (or `file://localhost/PATH`) as a URL of the tunnel.
pub(super) fn url_for(file_url: &str) -> Option<String> {
    file_url_path(file_url).map(|path| format!("{SCHEME}localhost{path}"))
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
    cancel_func: ffi::svn_cancel_func_t,
    cancel_baton: *mut c_void,
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
    let cancelled = || match cancel_func {
        // SAFETY: libsvn's own cancel function and baton; the error it returns is ours.
        Some(cancel) => unsafe {
            let error = cancel(cancel_baton);
            let stop = !error.is_null();
            ffi::svn_error_clear(error);
            stop
        },
        None => false,
    };
    // libsvn would wait for the greeting for ever: a server that never speaks is given up
    // (and the replay runs in process).
    if !speaks_within(from_fd, GREETING_TIMEOUT, cancelled) {
        let _ = child.kill();
        let _ = child.wait();
        return new_error(
            ffi::SVN_ERR_RA_CANNOT_CREATE_TUNNEL,
            c"svnserve did not answer",
        );
    }
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

/// How long `svnserve` may take to greet.
const GREETING_TIMEOUT: Duration = Duration::from_secs(30);

/// Whether `fd` has something to read (or its writer hung up) within `timeout`, looking at
/// `cancelled` every 100 ms. Reads nothing.
fn speaks_within(fd: RawFd, timeout: Duration, cancelled: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        let mut wanted = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one pollfd, alive for the call.
        let ready = unsafe { libc::poll(&mut wanted, 1, 100) };
        if ready > 0 {
            return true;
        }
        let interrupted =
            ready < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted;
        if (ready < 0 && !interrupted) || cancelled() || Instant::now() >= deadline {
            return false;
        }
    }
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
    use std::io::Write;

    #[test]
    fn a_silent_server_is_given_up_and_a_speaking_one_is_not() {
        let (reader, mut writer) = std::io::pipe().expect("pipe");
        let fd = reader.as_raw_fd();
        let started = Instant::now();
        assert!(!speaks_within(fd, Duration::from_millis(300), || false));
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert!(!speaks_within(fd, Duration::from_secs(30), || true));
        writer.write_all(b"( success ").expect("write");
        assert!(speaks_within(fd, Duration::from_secs(30), || false));
        drop(writer);
    }

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
