//! The replay editor: an `svn_delta_editor_t` whose `extern "C"` callbacks feed the drive
//! into [`ReplayState`], never letting a panic unwind into libsvn.

use std::collections::HashMap;
use std::ffi::{c_char, c_void};
use std::io::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use super::nodes::{relpath, Baton, DirState, FileState, ReplayState};
use super::session::RaSession;
use super::spool::Spool;
use crate::svn::events::{NodeAction, NodeChange, NodeKind, PropChange, Properties};
use crate::svn::libsvn::error::cancelled;
use crate::svn::libsvn::ffi;
use crate::svn::libsvn::props::{c_bytes, hash_to_properties, is_dropped, string_bytes};
use crate::svn::libsvn::reader::{send, Event, EventSender};
use crate::SourceError;

/// Runs a callback body on the state: checks for cancellation first, turns a failure or a
/// panic into `SVN_ERR_CANCELLED` (keeping the real failure in the state), and never lets a
/// panic unwind into libsvn.
fn guard(
    state: *mut ReplayState,
    body: impl FnOnce(&mut ReplayState) -> Result<(), SourceError>,
) -> *mut ffi::svn_error_t {
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `state` is the boxed state of the running drive; callbacks run one at a
        // time on the drive's thread, so this is the only reference.
        let state = unsafe { &mut *state };
        if state.cancel.is_cancelled() {
            return Err(SourceError::Cancelled);
        }
        body(state)
    }));
    let failure = match result {
        Ok(Ok(())) => return ptr::null_mut(),
        Ok(Err(failure)) => failure,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|text| (*text).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            SourceError::Command {
                command: "libsvn replay editor".into(),
                detail: format!("panicked: {message}"),
            }
        }
    };
    // SAFETY: as above; the body's borrow has ended.
    let state = unsafe { &mut *state };
    state.failure.get_or_insert(failure);
    cancelled()
}

/// The state and node id behind a baton.
///
/// # Safety
/// `baton` is a `Baton` made by `ReplayState::baton`.
unsafe fn parts(baton: *mut c_void) -> (*mut ReplayState, usize) {
    // SAFETY: forwarded from the caller.
    let baton = unsafe { *baton.cast::<Baton>() };
    (baton.state, baton.id)
}

unsafe extern "C" fn open_root(
    edit_baton: *mut c_void,
    _base_revision: ffi::svn_revnum_t,
    result_pool: *mut ffi::apr_pool_t,
    root_baton: *mut *mut c_void,
) -> *mut ffi::svn_error_t {
    guard(edit_baton.cast(), |state| {
        let dir = DirState {
            path: String::new(),
            action: NodeAction::Change,
            copy_from: None,
            props: Properties::new(),
            pending: true,
        };
        state.add_dir(dir, result_pool, root_baton);
        Ok(())
    })
}

unsafe extern "C" fn delete_entry(
    path: *const c_char,
    _revision: ffi::svn_revnum_t,
    parent_baton: *mut c_void,
    _scratch_pool: *mut ffi::apr_pool_t,
) -> *mut ffi::svn_error_t {
    // SAFETY: libsvn hands back the baton we made.
    let (state, parent) = unsafe { parts(parent_baton) };
    guard(state, |state| {
        state.flush_dir(parent)?;
        let node = NodeChange {
            // SAFETY: libsvn passes a live path.
            path: unsafe { relpath(path) },
            kind: None,
            action: NodeAction::Delete,
            copy_from: None,
            props: PropChange::Unchanged,
            text: None,
            offset: None,
        };
        state.emit(node)
    })
}

/// What adding or opening a directory or file has in common: the parent's pending node is
/// written out, then the child starts (an add when `copy` is given, with its copy source
/// if any; a change otherwise).
///
/// # Safety
/// The arguments are those libsvn passes to the editor callbacks.
unsafe fn begin_child(
    parent_baton: *mut c_void,
    path: *const c_char,
    copy: Option<(*const c_char, ffi::svn_revnum_t)>,
    kind: NodeKind,
    result_pool: *mut ffi::apr_pool_t,
    child_baton: *mut *mut c_void,
) -> *mut ffi::svn_error_t {
    // SAFETY: libsvn hands back the baton we made.
    let (state, parent) = unsafe { parts(parent_baton) };
    guard(state, |state| {
        state.flush_dir(parent)?;
        // SAFETY: libsvn passes a live path.
        let path = unsafe { relpath(path) };
        let (copy_from, action) = match copy {
            // SAFETY: libsvn passes a null or live copy source path.
            Some((from, revision)) => (
                unsafe { state.copy_source(from, revision) }?,
                NodeAction::Add,
            ),
            None => (None, NodeAction::Change),
        };
        let props = Properties::new();
        match kind {
            NodeKind::Dir => {
                let dir = DirState {
                    path,
                    copy_from,
                    action,
                    props,
                    pending: true,
                };
                state.add_dir(dir, result_pool, child_baton);
            }
            NodeKind::File => {
                let file = FileState {
                    path,
                    copy_from,
                    action,
                    props,
                    text: None,
                };
                state.add_file(file, result_pool, child_baton);
            }
        }
        Ok(())
    })
}

unsafe extern "C" fn add_directory(
    path: *const c_char,
    parent_baton: *mut c_void,
    copyfrom_path: *const c_char,
    copyfrom_revision: ffi::svn_revnum_t,
    result_pool: *mut ffi::apr_pool_t,
    child_baton: *mut *mut c_void,
) -> *mut ffi::svn_error_t {
    // SAFETY: the arguments are libsvn's, passed through unchanged.
    unsafe {
        begin_child(
            parent_baton,
            path,
            Some((copyfrom_path, copyfrom_revision)),
            NodeKind::Dir,
            result_pool,
            child_baton,
        )
    }
}

unsafe extern "C" fn open_directory(
    path: *const c_char,
    parent_baton: *mut c_void,
    _base_revision: ffi::svn_revnum_t,
    result_pool: *mut ffi::apr_pool_t,
    child_baton: *mut *mut c_void,
) -> *mut ffi::svn_error_t {
    // SAFETY: the arguments are libsvn's, passed through unchanged.
    unsafe {
        begin_child(
            parent_baton,
            path,
            None,
            NodeKind::Dir,
            result_pool,
            child_baton,
        )
    }
}

/// A property change as a `(name, value)` entry, `None` for a dropped property.
///
/// # Safety
/// `name` is a live C string, `value` null or a live `svn_string_t`.
unsafe fn property(
    name: *const c_char,
    value: *const ffi::svn_string_t,
) -> Option<(Vec<u8>, Option<Vec<u8>>)> {
    // SAFETY: forwarded from the caller.
    let name = unsafe { c_bytes(name) };
    if is_dropped(&name) {
        return None;
    }
    // SAFETY: forwarded from the caller.
    Some((name, unsafe { string_bytes(value) }))
}

unsafe extern "C" fn change_dir_prop(
    dir_baton: *mut c_void,
    name: *const c_char,
    value: *const ffi::svn_string_t,
    _scratch_pool: *mut ffi::apr_pool_t,
) -> *mut ffi::svn_error_t {
    // SAFETY: libsvn hands back the baton we made.
    let (state, id) = unsafe { parts(dir_baton) };
    guard(state, |state| {
        // SAFETY: libsvn passes a live name and a null or live value.
        if let Some(entry) = unsafe { property(name, value) } {
            if let Some(dir) = state.dirs.get_mut(&id) {
                dir.props.push(entry);
            }
        }
        Ok(())
    })
}

unsafe extern "C" fn close_directory(
    dir_baton: *mut c_void,
    _scratch_pool: *mut ffi::apr_pool_t,
) -> *mut ffi::svn_error_t {
    // SAFETY: libsvn hands back the baton we made.
    let (state, id) = unsafe { parts(dir_baton) };
    guard(state, |state| state.close_dir(id))
}

unsafe extern "C" fn add_file(
    path: *const c_char,
    parent_baton: *mut c_void,
    copyfrom_path: *const c_char,
    copyfrom_revision: ffi::svn_revnum_t,
    result_pool: *mut ffi::apr_pool_t,
    file_baton: *mut *mut c_void,
) -> *mut ffi::svn_error_t {
    // SAFETY: the arguments are libsvn's, passed through unchanged.
    unsafe {
        begin_child(
            parent_baton,
            path,
            Some((copyfrom_path, copyfrom_revision)),
            NodeKind::File,
            result_pool,
            file_baton,
        )
    }
}

unsafe extern "C" fn open_file(
    path: *const c_char,
    parent_baton: *mut c_void,
    _base_revision: ffi::svn_revnum_t,
    result_pool: *mut ffi::apr_pool_t,
    file_baton: *mut *mut c_void,
) -> *mut ffi::svn_error_t {
    // SAFETY: the arguments are libsvn's, passed through unchanged.
    unsafe {
        begin_child(
            parent_baton,
            path,
            None,
            NodeKind::File,
            result_pool,
            file_baton,
        )
    }
}

/// The write function of a file's svndiff stream: appends to the file's spool.
unsafe extern "C" fn write_delta(
    baton: *mut c_void,
    data: *const c_char,
    len: *mut ffi::apr_size_t,
) -> *mut ffi::svn_error_t {
    // SAFETY: the stream baton is the file's baton.
    let (state, id) = unsafe { parts(baton) };
    guard(state, |state| {
        // SAFETY: libsvn passes `*len` readable bytes at `data`.
        let bytes = unsafe {
            if *len == 0 {
                &[][..]
            } else {
                std::slice::from_raw_parts(data.cast::<u8>(), *len)
            }
        };
        if let Some(spool) = state.files.get_mut(&id).and_then(|file| file.text.as_mut()) {
            spool
                .write_all(bytes)
                .map_err(|source| SourceError::io(std::env::temp_dir(), source))?;
        }
        Ok(())
    })
}

unsafe extern "C" fn apply_textdelta(
    file_baton: *mut c_void,
    _base_checksum: *const c_char,
    result_pool: *mut ffi::apr_pool_t,
    handler: *mut ffi::svn_txdelta_window_handler_t,
    handler_baton: *mut *mut c_void,
) -> *mut ffi::svn_error_t {
    // SAFETY: libsvn hands back the baton we made.
    let (state, id) = unsafe { parts(file_baton) };
    guard(state, |state| {
        if let Some(file) = state.files.get_mut(&id) {
            file.text = Some(Spool::default());
        }
        // SAFETY: the stream and the svndiff encoder live in `result_pool`, which libsvn
        // keeps until the file is closed; the stream's baton is the file's baton (same pool).
        unsafe {
            let stream = ffi::svn_stream_create(file_baton, result_pool);
            ffi::svn_stream_set_write(stream, Some(write_delta));
            ffi::svn_txdelta_to_svndiff3(handler, handler_baton, stream, 0, 0, result_pool);
        }
        Ok(())
    })
}

unsafe extern "C" fn change_file_prop(
    file_baton: *mut c_void,
    name: *const c_char,
    value: *const ffi::svn_string_t,
    _scratch_pool: *mut ffi::apr_pool_t,
) -> *mut ffi::svn_error_t {
    // SAFETY: libsvn hands back the baton we made.
    let (state, id) = unsafe { parts(file_baton) };
    guard(state, |state| {
        // SAFETY: libsvn passes a live name and a null or live value.
        if let Some(entry) = unsafe { property(name, value) } {
            if let Some(file) = state.files.get_mut(&id) {
                file.props.push(entry);
            }
        }
        Ok(())
    })
}

unsafe extern "C" fn close_file(
    file_baton: *mut c_void,
    _text_checksum: *const c_char,
    _scratch_pool: *mut ffi::apr_pool_t,
) -> *mut ffi::svn_error_t {
    // SAFETY: libsvn hands back the baton we made.
    let (state, id) = unsafe { parts(file_baton) };
    guard(state, |state| state.close_file(id))
}

unsafe extern "C" fn revision_start(
    revision: ffi::svn_revnum_t,
    replay_baton: *mut c_void,
    editor: *mut *const ffi::svn_delta_editor_t,
    edit_baton: *mut *mut c_void,
    rev_props: *mut ffi::apr_hash_t,
    pool: *mut ffi::apr_pool_t,
) -> *mut ffi::svn_error_t {
    guard(replay_baton.cast(), |state| {
        state.dirs.clear();
        state.files.clear();
        // SAFETY: libsvn passes a live revprop hash and pool.
        let properties = unsafe { hash_to_properties(rev_props, pool) };
        send(
            &state.out,
            Event::Begin {
                revision: revision as u64,
                properties,
            },
        )
        .map_err(|_| SourceError::Cancelled)?;
        // SAFETY: libsvn passes valid out pointers; the editor lives in the replay's pool.
        unsafe {
            *editor = state.editor;
            *edit_baton = replay_baton;
        }
        Ok(())
    })
}

unsafe extern "C" fn revision_finish(
    _revision: ffi::svn_revnum_t,
    replay_baton: *mut c_void,
    _editor: *const ffi::svn_delta_editor_t,
    _edit_baton: *mut c_void,
    _rev_props: *mut ffi::apr_hash_t,
    _pool: *mut ffi::apr_pool_t,
) -> *mut ffi::svn_error_t {
    guard(replay_baton.cast(), |state| {
        state.dirs.clear();
        state.files.clear();
        send(&state.out, Event::End).map_err(|_| SourceError::Cancelled)
    })
}

/// Replays revisions `start..=end` (`start` at least 1) of `session` (opened at the
/// repository root), sending `Begin`, nodes and `End` for each revision to `out`.
pub(super) fn replay_range(
    session: &RaSession,
    start: u64,
    end: u64,
    out: EventSender,
) -> Result<(), SourceError> {
    let first = session.revnum(start)?;
    let last = session.revnum(end)?;
    let pool = session.pool().child();
    // SAFETY: the default editor is allocated in `pool`, which outlives the drive; its
    // callbacks are replaced with ours, all of which match the struct's signatures.
    let editor = unsafe {
        let editor = ffi::svn_delta_default_editor(pool.as_ptr());
        (*editor).open_root = Some(open_root);
        (*editor).delete_entry = Some(delete_entry);
        (*editor).add_directory = Some(add_directory);
        (*editor).open_directory = Some(open_directory);
        (*editor).change_dir_prop = Some(change_dir_prop);
        (*editor).close_directory = Some(close_directory);
        (*editor).add_file = Some(add_file);
        (*editor).open_file = Some(open_file);
        (*editor).apply_textdelta = Some(apply_textdelta);
        (*editor).change_file_prop = Some(change_file_prop);
        (*editor).close_file = Some(close_file);
        editor.cast_const()
    };
    let mut state = Box::new(ReplayState {
        out,
        cancel: session.cancel_check().clone(),
        repos_root: session.repos_root(),
        editor,
        failure: None,
        dirs: HashMap::new(),
        files: HashMap::new(),
        next_id: 0,
    });
    let baton = ptr::from_mut::<ReplayState>(&mut state).cast::<c_void>();
    // SAFETY: a live session opened at the repository root; the state outlives the call and
    // is only touched through `baton` until it returns; low water mark 0 keeps every copy
    // source, and deltas are asked for.
    let error = unsafe {
        ffi::svn_ra_replay_range(
            session.raw(),
            first,
            last,
            0,
            1,
            Some(revision_start),
            Some(revision_finish),
            baton,
            pool.as_ptr(),
        )
    };
    // SAFETY: the error is ours.
    let result = unsafe { session.check(error, "svn_ra_replay_range") };
    if let Some(failure) = state.failure.take() {
        return Err(failure);
    }
    result
}
