//! One revision's changed paths as [`NodeChange`]s, shaped as `svnadmin dump` writes them:
//! a plain add with its full property list (and text), a copy or a change with its
//! properties only when they differ from its base (the copy source, a path inside a
//! directory copied in the same revision, or the path one revision earlier) and its full
//! text only when that differs; a replacement as one `Replace`; a deletion without a kind;
//! an opened directory only when its properties were touched.

use std::ffi::CString;
use std::ptr;

/// `svn_fs_props_different` and `svn_fs_contents_different` share this signature.
type Compare = unsafe extern "C" fn(
    *mut ffi::svn_boolean_t,
    *mut ffi::svn_fs_root_t,
    *const std::os::raw::c_char,
    *mut ffi::svn_fs_root_t,
    *const std::os::raw::c_char,
    *mut ffi::apr_pool_t,
) -> *mut ffi::svn_error_t;

use super::changes::{node_kind, Change, ChangeKind};
use super::repos::{Repository, Root};
use crate::svn::convert::layout::{join, strip_dir};
use crate::svn::events::{CopyFrom, NodeAction, NodeChange, NodeKind, PropChange, TextForm};
use crate::svn::libsvn::ffi;
use crate::svn::libsvn::pool::Pool;
use crate::svn::libsvn::props::hash_to_properties;
use crate::svn::libsvn::reader::{send, CancelCheck, Event, EventSender, CHUNK};
use crate::SourceError;

/// A path of revision root `root`.
#[derive(Clone, Copy)]
struct At<'p> {
    root: Root,
    path: &'p CString,
}

/// Reads the nodes of one revision to the channel.
pub(super) struct RevisionNodes<'r> {
    pub(super) repository: &'r Repository,
    pub(super) revision: u64,
    /// The revision's root.
    pub(super) root: Root,
    /// The previous revision's root.
    pub(super) previous: Root,
    /// Where the revision's copies (adds and replacements with history) come from.
    pub(super) copies: Vec<(String, CopyFrom)>,
    pub(super) check: &'r CancelCheck,
    pub(super) out: &'r EventSender,
}

/// An fs path (`/trunk/a`) as a C string.
fn fs_path(repository: &Repository, path: &str) -> Result<CString, SourceError> {
    CString::new(format!("/{path}")).map_err(|_| SourceError::Command {
        command: "libsvn svn_fs_paths_changed3".into(),
        detail: format!("{}: a path contains a NUL byte", repository.url()),
    })
}

impl RevisionNodes<'_> {
    /// Sends the node of `change` (none for an opened directory whose properties were not
    /// touched); `pool` is for this change alone.
    pub(super) fn send_change(&self, change: &Change, pool: &Pool) -> Result<(), SourceError> {
        self.check.check()?;
        let path = fs_path(self.repository, &change.path)?;
        let here = At {
            root: self.root,
            path: &path,
        };
        let mut node = NodeChange {
            path: change.path.clone(),
            kind: None,
            action: NodeAction::Delete,
            copy_from: None,
            props: PropChange::Unchanged,
            text: None,
            offset: None,
        };
        if change.change == ChangeKind::Delete {
            return self.send(node);
        }
        let kind = match change.kind {
            Some(kind) => kind,
            None => self.kind(here, pool)?,
        };
        node.kind = Some(kind);
        let base_path;
        let base = match change.change {
            ChangeKind::Modify => {
                // An opened directory is written only when its properties were touched.
                if kind == NodeKind::Dir && !change.prop_mod {
                    return Ok(());
                }
                node.action = NodeAction::Change;
                let (root, path) = self.base_of(&change.path, pool)?;
                base_path = fs_path(self.repository, &path)?;
                Some(At {
                    root,
                    path: &base_path,
                })
            }
            // An add or a replacement (deletions were sent above).
            _ => {
                node.action = match change.change {
                    ChangeKind::Add => NodeAction::Add,
                    _ => NodeAction::Replace,
                };
                node.copy_from = change.copy_from.clone();
                match &node.copy_from {
                    Some(copy) => {
                        base_path = fs_path(self.repository, &copy.path)?;
                        let root = self.repository.revision_root(copy.revision, pool)?;
                        Some(At {
                            root,
                            path: &base_path,
                        })
                    }
                    None => None,
                }
            }
        };
        let props_differ = match base {
            None => true,
            Some(base) => change.prop_mod && self.props_different(base, here, pool)?,
        };
        if props_differ {
            node.props = PropChange::Replace(self.proplist(here, pool)?);
        }
        let text_differs = kind == NodeKind::File
            && match base {
                None => true,
                Some(base) => change.text_mod && self.contents_different(base, here, pool)?,
            };
        if !text_differs {
            return self.send(node);
        }
        self.send_with_text(node, here, pool)
    }

    fn send(&self, node: NodeChange) -> Result<(), SourceError> {
        Ok(send(self.out, Event::Node(node))?)
    }

    /// Where a changed path's previous state is: inside the nearest directory copied in this
    /// revision, at its source; otherwise the same path one revision earlier.
    fn base_of(&self, path: &str, pool: &Pool) -> Result<(Root, String), SourceError> {
        let copied = self
            .copies
            .iter()
            .filter_map(|(dest, copy)| Some((dest.len(), strip_dir(path, dest)?, copy)))
            .max_by_key(|(depth, _, _)| *depth);
        match copied {
            Some((_, rest, copy)) => {
                let root = self.repository.revision_root(copy.revision, pool)?;
                Ok((root, join(&copy.path, rest)))
            }
            None => Ok((self.previous, path.to_owned())),
        }
    }

    fn kind(&self, at: At, pool: &Pool) -> Result<NodeKind, SourceError> {
        let mut kind: ffi::svn_node_kind_t = ffi::svn_node_none;
        // SAFETY: a live root and path, an out pointer and a live pool.
        let error = unsafe {
            ffi::svn_fs_check_path(&mut kind, at.root.0, at.path.as_ptr(), pool.as_ptr())
        };
        // SAFETY: the error is ours.
        unsafe { self.repository.check(error, "svn_fs_check_path") }?;
        node_kind(kind).ok_or_else(|| SourceError::Command {
            command: "libsvn svn_fs_check_path".into(),
            detail: format!(
                "{}: r{} {} is changed but missing",
                self.repository.url(),
                self.revision,
                at.path.to_string_lossy()
            ),
        })
    }

    fn props_different(&self, a: At, b: At, pool: &Pool) -> Result<bool, SourceError> {
        self.differ(
            ffi::svn_fs_props_different,
            "svn_fs_props_different",
            a,
            b,
            pool,
        )
    }

    fn contents_different(&self, a: At, b: At, pool: &Pool) -> Result<bool, SourceError> {
        self.differ(
            ffi::svn_fs_contents_different,
            "svn_fs_contents_different",
            a,
            b,
            pool,
        )
    }

    /// Asks libsvn's `compare` (props or contents) whether two nodes differ.
    fn differ(
        &self,
        compare: Compare,
        name: &str,
        a: At,
        b: At,
        pool: &Pool,
    ) -> Result<bool, SourceError> {
        let mut different: ffi::svn_boolean_t = 0;
        // SAFETY: live roots and paths (of files, for contents), an out pointer and a live
        // pool.
        let error = unsafe {
            compare(
                &mut different,
                a.root.0,
                a.path.as_ptr(),
                b.root.0,
                b.path.as_ptr(),
                pool.as_ptr(),
            )
        };
        // SAFETY: the error is ours.
        unsafe { self.repository.check(error, name) }?;
        Ok(different != 0)
    }

    fn proplist(&self, at: At, pool: &Pool) -> Result<crate::svn::events::Properties, SourceError> {
        let mut hash: *mut ffi::apr_hash_t = ptr::null_mut();
        // SAFETY: a live root and path, an out pointer and a live pool; the hash is read
        // before the pool is cleared.
        unsafe {
            let error =
                ffi::svn_fs_node_proplist(&mut hash, at.root.0, at.path.as_ptr(), pool.as_ptr());
            self.repository.check(error, "svn_fs_node_proplist")?;
            Ok(hash_to_properties(hash, pool.as_ptr()))
        }
    }

    /// Sends `node` with the full text of the file at `at`, streamed in chunks.
    fn send_with_text(&self, mut node: NodeChange, at: At, pool: &Pool) -> Result<(), SourceError> {
        let mut length: ffi::svn_filesize_t = 0;
        let mut stream: *mut ffi::svn_stream_t = ptr::null_mut();
        // SAFETY: a live root and path of a file, out pointers and a live pool, which
        // holds the stream while it is read below.
        unsafe {
            let error =
                ffi::svn_fs_file_length(&mut length, at.root.0, at.path.as_ptr(), pool.as_ptr());
            self.repository.check(error, "svn_fs_file_length")?;
            let error =
                ffi::svn_fs_file_contents(&mut stream, at.root.0, at.path.as_ptr(), pool.as_ptr());
            self.repository.check(error, "svn_fs_file_contents")?;
        }
        let length = u64::try_from(length).unwrap_or(0);
        node.text = Some(TextForm::Full { length });
        self.send(node)?;
        let mut remaining = length;
        while remaining > 0 {
            self.check.check()?;
            let wanted = usize::try_from(remaining).unwrap_or(CHUNK).min(CHUNK);
            let mut chunk = vec![0u8; wanted];
            let mut read: ffi::apr_size_t = wanted;
            // SAFETY: a live stream; `chunk` has room for `read` bytes.
            let error =
                unsafe { ffi::svn_stream_read_full(stream, chunk.as_mut_ptr().cast(), &mut read) };
            // SAFETY: the error is ours.
            unsafe { self.repository.check(error, "svn_stream_read_full") }?;
            if read == 0 {
                return Err(SourceError::Command {
                    command: "libsvn svn_fs_file_contents".into(),
                    detail: format!(
                        "{}: r{} {}: the text ends {remaining} bytes short of its length",
                        self.repository.url(),
                        self.revision,
                        at.path.to_string_lossy()
                    ),
                });
            }
            chunk.truncate(read);
            remaining -= read as u64;
            send(self.out, Event::Chunk(chunk))?;
        }
        Ok(send(self.out, Event::TextEnd)?)
    }
}
