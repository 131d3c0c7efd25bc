//! Rewriting trees for large files: each large blob becomes a Git LFS pointer (with a
//! `.gitattributes` rule for exactly those paths, merged into the tree's own) or is left
//! out. Results are memoised per tree id, so each distinct tree is rewritten once.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use srcimport_converters::Cancel;

use super::lfs::{self, LfsStore};
use super::objects::{hex, ObjectReader};
use super::pack::PackWriter;
use super::GitError;

/// What happens to large blobs in the rewritten history.
pub enum LargeFiles<'a> {
    /// There are none (or they stay): trees are reused untouched.
    Keep,
    /// Left out of every tree.
    Drop(HashSet<String>),
    /// Replaced by LFS pointers, the objects stored in `store`.
    Lfs {
        blobs: HashSet<String>,
        store: &'a LfsStore,
    },
}

impl LargeFiles<'_> {
    pub fn is_active(&self) -> bool {
        !matches!(self, LargeFiles::Keep)
    }

    /// What identifies the choice: its kind and the large blobs, sorted.
    pub fn fingerprint_parts(&self) -> (&'static str, Vec<&str>) {
        let kind = match self {
            LargeFiles::Keep => "keep",
            LargeFiles::Drop(_) => "drop",
            LargeFiles::Lfs { .. } => "lfs",
        };
        let mut blobs: Vec<&str> = self
            .blobs()
            .map(|b| b.iter().map(String::as_str).collect())
            .unwrap_or_default();
        blobs.sort_unstable();
        (kind, blobs)
    }

    fn blobs(&self) -> Option<&HashSet<String>> {
        match self {
            LargeFiles::Keep => None,
            LargeFiles::Drop(blobs) | LargeFiles::Lfs { blobs, .. } => Some(blobs),
        }
    }
}

/// One tree entry as stored.
pub(super) struct Entry {
    mode: Vec<u8>,
    pub(super) name: Vec<u8>,
    pub(super) oid: [u8; 20],
}

impl Entry {
    pub(super) fn is_tree(&self) -> bool {
        self.mode == b"40000"
    }

    fn is_file(&self) -> bool {
        self.mode == b"100644" || self.mode == b"100755"
    }
}

pub(super) fn parse_tree(body: &[u8], oid: &str) -> Result<Vec<Entry>, GitError> {
    let malformed = || GitError::Malformed {
        kind: "tree",
        oid: oid.to_owned(),
        detail: "truncated entry".into(),
    };
    let mut entries = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let space = rest.iter().position(|&b| b == b' ').ok_or_else(malformed)?;
        let nul = rest.iter().position(|&b| b == 0).ok_or_else(malformed)?;
        if nul < space || rest.len() < nul + 21 {
            return Err(malformed());
        }
        let mut id = [0u8; 20];
        id.copy_from_slice(&rest[nul + 1..nul + 21]);
        entries.push(Entry {
            mode: rest[..space].to_vec(),
            name: rest[space + 1..nul].to_vec(),
            oid: id,
        });
        rest = &rest[nul + 21..];
    }
    Ok(entries)
}

/// Git's tree order: names compared as bytes, a tree's name as if it ended in `/`.
fn sort_entries(entries: &mut [Entry]) {
    let key = |e: &Entry| {
        let mut k = e.name.clone();
        if e.is_tree() {
            k.push(b'/');
        }
        k
    };
    entries.sort_by_key(key);
}

fn serialize(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in entries {
        out.extend_from_slice(&entry.mode);
        out.push(b' ');
        out.extend_from_slice(&entry.name);
        out.push(0);
        out.extend_from_slice(&entry.oid);
    }
    out
}

/// The `.gitattributes` line that routes `path` through LFS.
fn attributes_line(path: &[u8]) -> Vec<u8> {
    let mut line = b"/".to_vec();
    for &b in path {
        match b {
            b' ' => line.extend_from_slice(b"[[:space:]]"),
            b'*' | b'?' | b'[' | b']' | b'\\' | b'#' | b'!' => {
                line.push(b'\\');
                line.push(b);
            }
            _ => line.push(b),
        }
    }
    line.extend_from_slice(b" filter=lfs diff=lfs merge=lfs -text");
    line
}

/// A tree's entries after rewriting, before they are written.
struct RewrittenTree {
    entries: Vec<Entry>,
    changed: bool,
    /// LFS pointer paths below the tree, relative to it.
    pointer_paths: Vec<Vec<u8>>,
}

pub struct TreeRewriter<'a> {
    git_dir: &'a Path,
    policy: &'a LargeFiles<'a>,
    reader: ObjectReader,
    cancel: &'a Cancel,
    /// Tree id → (new id, LFS pointer paths relative to that tree).
    memo: HashMap<String, (String, Vec<Vec<u8>>)>,
    roots: HashMap<String, String>,
    pointers: HashMap<[u8; 20], [u8; 20]>,
}

impl<'a> TreeRewriter<'a> {
    pub fn new(
        git_dir: &'a Path,
        policy: &'a LargeFiles<'a>,
        cancel: &'a Cancel,
    ) -> Result<Self, GitError> {
        Ok(TreeRewriter {
            git_dir,
            policy,
            reader: ObjectReader::start(git_dir)?,
            cancel,
            memo: HashMap::new(),
            roots: HashMap::new(),
            pointers: HashMap::new(),
        })
    }

    /// The rewritten root tree for `tree` (the same id when nothing changes), with LFS
    /// rules for its pointers merged into its `.gitattributes`.
    pub fn root(&mut self, writer: &mut PackWriter, tree: &str) -> Result<String, GitError> {
        if let Some(done) = self.roots.get(tree) {
            return Ok(done.clone());
        }
        let RewrittenTree {
            mut entries,
            changed,
            pointer_paths,
        } = self.rewritten_entries(writer, tree)?;
        let result = if !pointer_paths.is_empty() {
            self.merge_attributes(writer, &mut entries, &pointer_paths)?;
            writer.write("tree", &serialize(&entries))?
        } else if changed {
            writer.write("tree", &serialize(&entries))?
        } else {
            tree.to_owned()
        };
        self.roots.insert(tree.to_owned(), result.clone());
        Ok(result)
    }

    fn subtree(
        &mut self,
        writer: &mut PackWriter,
        tree: &str,
    ) -> Result<(String, Vec<Vec<u8>>), GitError> {
        if let Some(done) = self.memo.get(tree) {
            return Ok(done.clone());
        }
        let RewrittenTree {
            entries,
            changed,
            pointer_paths,
        } = self.rewritten_entries(writer, tree)?;
        let new_id = if changed {
            writer.write("tree", &serialize(&entries))?
        } else {
            tree.to_owned()
        };
        self.memo
            .insert(tree.to_owned(), (new_id.clone(), pointer_paths.clone()));
        Ok((new_id, pointer_paths))
    }

    /// The entries of `tree` with subtrees rewritten and large blobs replaced or dropped;
    /// whether anything changed; and the pointer paths below `tree`.
    fn rewritten_entries(
        &mut self,
        writer: &mut PackWriter,
        tree: &str,
    ) -> Result<RewrittenTree, GitError> {
        self.cancel.check()?;
        let object = self.reader.read(tree)?;
        let entries = parse_tree(&object.body, tree)?;
        let mut changed = false;
        let mut pointer_paths = Vec::new();
        let mut kept = Vec::with_capacity(entries.len());
        for mut entry in entries {
            let id = hex(&entry.oid);
            if entry.is_tree() {
                let (new_id, inner) = self.subtree(writer, &id)?;
                if new_id != id {
                    entry.oid = object_id(&new_id)?;
                    changed = true;
                }
                for path in inner {
                    pointer_paths.push([entry.name.as_slice(), b"/", &path].concat());
                }
            } else if entry.is_file() && self.policy.blobs().is_some_and(|b| b.contains(&id)) {
                changed = true;
                let LargeFiles::Lfs { store, .. } = self.policy else {
                    continue;
                };
                entry.oid = self.pointer_for(writer, store, entry.oid, &id)?;
                pointer_paths.push(entry.name.clone());
            }
            kept.push(entry);
        }
        Ok(RewrittenTree {
            entries: kept,
            changed,
            pointer_paths,
        })
    }

    fn pointer_for(
        &mut self,
        writer: &mut PackWriter,
        store: &LfsStore,
        blob: [u8; 20],
        blob_hex: &str,
    ) -> Result<[u8; 20], GitError> {
        if let Some(done) = self.pointers.get(&blob) {
            return Ok(*done);
        }
        let (oid, size) = store.store_blob(self.git_dir, blob_hex, self.cancel)?;
        let pointer = object_id(&writer.write("blob", lfs::pointer(&oid, size).as_bytes())?)?;
        self.pointers.insert(blob, pointer);
        Ok(pointer)
    }

    /// Adds LFS rules for `paths` to the root's `.gitattributes`, keeping what it had.
    fn merge_attributes(
        &mut self,
        writer: &mut PackWriter,
        entries: &mut Vec<Entry>,
        paths: &[Vec<u8>],
    ) -> Result<(), GitError> {
        let existing = entries
            .iter()
            .position(|e| e.name == b".gitattributes" && e.is_file());
        let mut text = match existing {
            Some(index) => self.reader.read(&hex(&entries[index].oid))?.body,
            None => Vec::new(),
        };
        let present: HashSet<Vec<u8>> = text.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
        let mut sorted: Vec<&Vec<u8>> = paths.iter().collect();
        sorted.sort();
        sorted.dedup();
        for path in sorted {
            let line = attributes_line(path);
            if !present.contains(&line) {
                if !text.is_empty() && !text.ends_with(b"\n") {
                    text.push(b'\n');
                }
                text.extend_from_slice(&line);
                text.push(b'\n');
            }
        }
        let attributes = object_id(&writer.write("blob", &text)?)?;
        match existing {
            Some(index) => entries[index].oid = attributes,
            None => {
                entries.push(Entry {
                    mode: b"100644".to_vec(),
                    name: b".gitattributes".to_vec(),
                    oid: attributes,
                });
                sort_entries(entries);
            }
        }
        Ok(())
    }
}

/// The 20 raw bytes of a hex object id.
pub(super) fn object_id(text: &str) -> Result<[u8; 20], GitError> {
    srcimport_converters::hex::decode_id(text.as_bytes()).ok_or_else(|| GitError::Malformed {
        kind: "object id",
        oid: text.to_owned(),
        detail: "not 40 hex digits".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_lines_escape_patterns() {
        assert_eq!(
            attributes_line(b"media/big file[1].bin"),
            b"/media/big[[:space:]]file\\[1\\].bin filter=lfs diff=lfs merge=lfs -text".to_vec()
        );
    }

    #[test]
    fn trees_sort_like_git() {
        let entry = |name: &[u8], mode: &[u8]| Entry {
            mode: mode.to_vec(),
            name: name.to_vec(),
            oid: [0; 20],
        };
        let mut entries = vec![
            entry(b"a.txt", b"100644"),
            entry(b"a", b"40000"),
            entry(b".gitattributes", b"100644"),
            entry(b"a-b", b"100644"),
        ];
        sort_entries(&mut entries);
        let names: Vec<_> = entries
            .iter()
            .map(|e| String::from_utf8_lossy(&e.name).into_owned())
            .collect();
        assert_eq!(names, [".gitattributes", "a-b", "a.txt", "a"]);
    }
}
