//! The replay editor's state: the directories and files the drive has open, and how they
//! become [`NodeChange`]s (the way `svnrdump dump` writes nodes) on the reader's channel.

use std::collections::HashMap;
use std::ffi::{c_char, c_void, CStr};
use std::mem::{size_of, take};
use std::ptr;

use super::spool::{send_spool, Spool, SpoolError};
use crate::svn::events::{
    CopyFrom, NodeAction, NodeChange, NodeKind, PropChange, Properties, TextForm,
};
use crate::svn::libsvn::ffi;
use crate::svn::libsvn::reader::{send, CancelCheck, Event, EventSender};
use crate::SourceError;

/// A directory opened or added by the drive.
pub(super) struct DirState {
    pub(super) path: String,
    pub(super) action: NodeAction,
    pub(super) copy_from: Option<CopyFrom>,
    pub(super) props: Properties,
    /// An added directory's node is not written yet: it waits for its properties until its
    /// first child (or its close).
    pub(super) pending: bool,
}

/// A file opened or added by the drive, buffered until `close_file`.
pub(super) struct FileState {
    pub(super) path: String,
    pub(super) action: NodeAction,
    pub(super) copy_from: Option<CopyFrom>,
    pub(super) props: Properties,
    pub(super) text: Option<Spool>,
}

/// Everything the callbacks share; `replay_baton` and edit baton of the drive.
pub(super) struct ReplayState {
    pub(super) out: EventSender,
    pub(super) cancel: CancelCheck,
    pub(super) repos_root: String,
    pub(super) editor: *const ffi::svn_delta_editor_t,
    /// The first Rust-side failure; the drive is stopped with `SVN_ERR_CANCELLED` and this is
    /// reported instead.
    pub(super) failure: Option<SourceError>,
    pub(super) dirs: HashMap<usize, DirState>,
    pub(super) files: HashMap<usize, FileState>,
    pub(super) next_id: usize,
}

/// A directory or file baton (and the stream baton of a file's delta), allocated in the
/// pool libsvn gives for the node.
#[derive(Clone, Copy)]
#[repr(C)]
pub(super) struct Baton {
    pub(super) state: *mut ReplayState,
    pub(super) id: usize,
}

impl ReplayState {
    pub(super) fn emit(&mut self, node: NodeChange) -> Result<(), SourceError> {
        send(&self.out, Event::Node(node)).map_err(|_| SourceError::Cancelled)
    }

    fn next_id(&mut self) -> usize {
        self.next_id += 1;
        self.next_id
    }

    /// Allocates a baton for node `id` in `pool`.
    ///
    /// # Safety
    /// `pool` is live; `self` is the state the drive was given.
    unsafe fn baton(&mut self, id: usize, pool: *mut ffi::apr_pool_t) -> *mut c_void {
        let baton = Baton {
            state: ptr::from_mut(self),
            id,
        };
        // SAFETY: apr_palloc returns memory suitably aligned for any type, owned by `pool`;
        // `Baton` is plain data with no destructor.
        unsafe {
            let memory = ffi::apr_palloc(pool, size_of::<Baton>()).cast::<Baton>();
            memory.write(baton);
            memory.cast()
        }
    }

    pub(super) fn add_dir(
        &mut self,
        dir: DirState,
        pool: *mut ffi::apr_pool_t,
        out: *mut *mut c_void,
    ) {
        let id = self.next_id();
        self.dirs.insert(id, dir);
        // SAFETY: `pool` and `out` come from libsvn for this call.
        unsafe { *out = self.baton(id, pool) };
    }

    pub(super) fn add_file(
        &mut self,
        file: FileState,
        pool: *mut ffi::apr_pool_t,
        out: *mut *mut c_void,
    ) {
        let id = self.next_id();
        self.files.insert(id, file);
        // SAFETY: `pool` and `out` come from libsvn for this call.
        unsafe { *out = self.baton(id, pool) };
    }

    /// Writes an added directory's node before its first child (with the properties set so
    /// far). An opened directory waits for its close, as svnrdump does.
    pub(super) fn flush_dir(&mut self, id: usize) -> Result<(), SourceError> {
        let Some(dir) = self.dirs.get_mut(&id) else {
            return Ok(());
        };
        if !dir.pending || dir.action != NodeAction::Add {
            return Ok(());
        }
        dir.pending = false;
        let node = dir_node(
            dir.path.clone(),
            dir.action,
            dir.copy_from.clone(),
            take(&mut dir.props),
        );
        self.emit(node)
    }

    /// Writes what is left of a directory: a pending added directory, or the property
    /// changes of an opened one (or of an added one, after its children).
    pub(super) fn close_dir(&mut self, id: usize) -> Result<(), SourceError> {
        self.flush_dir(id)?;
        if let Some(dir) = self.dirs.remove(&id) {
            if !dir.props.is_empty() {
                self.emit(dir_node(dir.path, NodeAction::Change, None, dir.props))?;
            }
        }
        Ok(())
    }

    pub(super) fn close_file(&mut self, id: usize) -> Result<(), SourceError> {
        let Some(file) = self.files.remove(&id) else {
            return Ok(());
        };
        let node = NodeChange {
            path: file.path,
            kind: Some(NodeKind::File),
            action: file.action,
            copy_from: file.copy_from,
            props: prop_change(file.props),
            text: file.text.as_ref().map(|_| TextForm::Delta),
            offset: None,
        };
        self.emit(node)?;
        if let Some(text) = file.text {
            send_spool(text, &self.out).map_err(|error| match error {
                SpoolError::Disconnected => SourceError::Cancelled,
                SpoolError::Io(source) => SourceError::io(std::env::temp_dir(), source),
            })?;
        }
        Ok(())
    }

    /// The repository path of a copy source given as a path (`/trunk/a`) or a URL.
    ///
    /// # Safety
    /// `path` is null or a live C string.
    pub(super) unsafe fn copy_source(
        &self,
        path: *const c_char,
        revision: ffi::svn_revnum_t,
    ) -> Result<Option<CopyFrom>, SourceError> {
        if path.is_null() || revision < 0 {
            return Ok(None);
        }
        // SAFETY: forwarded from the caller.
        let raw = unsafe { CStr::from_ptr(path) }
            .to_string_lossy()
            .into_owned();
        let path = if raw.contains("://") {
            let Some(rest) = raw.strip_prefix(self.repos_root.as_str()) else {
                return Err(SourceError::Command {
                    command: "libsvn svn_ra_replay_range".into(),
                    detail: format!("copy source {raw} is outside {}", self.repos_root),
                });
            };
            percent_decode(rest)
        } else {
            raw
        };
        Ok(Some(CopyFrom {
            revision: revision as u64,
            path: path.trim_matches('/').to_owned(),
        }))
    }
}

fn prop_change(props: Properties) -> PropChange {
    if props.is_empty() {
        PropChange::Unchanged
    } else {
        PropChange::Delta(props)
    }
}

fn dir_node(
    path: String,
    action: NodeAction,
    copy_from: Option<CopyFrom>,
    props: Properties,
) -> NodeChange {
    NodeChange {
        path,
        kind: Some(NodeKind::Dir),
        action,
        copy_from,
        props: prop_change(props),
        text: None,
        offset: None,
    }
}

/// Decodes `%XX` escapes of a URL path.
fn percent_decode(text: &str) -> String {
    fn hex(byte: u8) -> Option<u8> {
        char::from(byte).to_digit(16).map(|digit| digit as u8)
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' && index + 2 < bytes.len() {
            if let (Some(high), Some(low)) = (hex(bytes[index + 1]), hex(bytes[index + 2])) {
                out.push(high << 4 | low);
                index += 3;
                continue;
            }
        }
        out.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A repository path from the drive, without leading or trailing slashes.
///
/// # Safety
/// `path` is a live C string.
pub(super) unsafe fn relpath(path: *const c_char) -> String {
    // SAFETY: forwarded from the caller.
    let path = unsafe { CStr::from_ptr(path) }.to_string_lossy();
    path.trim_matches('/').to_owned()
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn percent_decode_handles_escapes_and_stray_percent_signs() {
        assert_eq!(percent_decode("/trunk/a%20b.txt"), "/trunk/a b.txt");
        assert_eq!(percent_decode("/%C3%A9t%C3%A9"), "/été");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
