//! Flat manifests: the file list of a changeset with each file's node and
//! flags, one `path\0hex-node[flag]\n` line per file, sorted by path.

use super::error::{Result, RevlogError};
use super::node::Node;
use super::revlog::{Revision, Revlog};

/// The kind of a manifest entry, from its flag character.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFlag {
    /// No flag: a regular file.
    Regular,
    /// `x`: an executable file.
    Executable,
    /// `l`: a symbolic link whose target is the file content.
    Symlink,
}

/// One file of a manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestEntry {
    pub path: Vec<u8>,
    /// The filelog node of this file's content.
    pub node: Node,
    pub flag: FileFlag,
}

/// A parsed manifest, entries in the stored (sorted) order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    pub entries: Vec<ManifestEntry>,
}

impl Manifest {
    /// The entry for `path`, found by binary search.
    pub fn get(&self, path: &[u8]) -> Option<&ManifestEntry> {
        self.entries
            .binary_search_by(|entry| entry.path.as_slice().cmp(path))
            .ok()
            .map(|index| &self.entries[index])
    }
}

/// The manifest revlog.
#[derive(Debug)]
pub struct ManifestLog {
    revlog: Revlog,
}

impl ManifestLog {
    pub(crate) fn new(revlog: Revlog) -> ManifestLog {
        ManifestLog { revlog }
    }

    /// The underlying revlog.
    pub fn revlog(&self) -> &Revlog {
        &self.revlog
    }

    /// The manifest named by `node` (the null node is the empty manifest).
    pub fn manifest(&self, node: &Node) -> Result<Manifest> {
        if node.is_null() {
            return Ok(Manifest::default());
        }
        self.manifest_at(self.revlog.revision_of(node)?)
    }

    /// The manifest at manifest revision `revision`.
    pub fn manifest_at(&self, revision: Revision) -> Result<Manifest> {
        let text = self.revlog.revision_text(revision)?;
        parse_manifest(&text).map_err(|reason| RevlogError::CorruptManifest {
            path: self.revlog.index_path().to_path_buf(),
            revision,
            reason,
        })
    }
}

fn parse_manifest(text: &[u8]) -> std::result::Result<Manifest, String> {
    let Some(body) = text.strip_suffix(b"\n") else {
        return if text.is_empty() {
            Ok(Manifest::default())
        } else {
            Err("manifest does not end with a newline".to_owned())
        };
    };
    let mut entries: Vec<ManifestEntry> = Vec::new();
    for (line_number, line) in body.split(|&b| b == b'\n').enumerate() {
        let line_error = |what: &str| format!("line {}: {what}", line_number + 1);
        let nul = line
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| line_error("no NUL after the path"))?;
        let (path, rest) = (&line[..nul], &line[nul + 1..]);
        if path.is_empty() {
            return Err(line_error("empty path"));
        }
        let (hex, flag) = rest
            .split_at_checked(40)
            .ok_or_else(|| line_error("node is not 40 hex digits"))?;
        let node = Node::from_hex(hex).ok_or_else(|| line_error("node is not 40 hex digits"))?;
        let flag = match flag {
            b"" => FileFlag::Regular,
            b"x" => FileFlag::Executable,
            b"l" => FileFlag::Symlink,
            other => {
                return Err(line_error(&format!(
                    "unknown flag {:?}",
                    String::from_utf8_lossy(other)
                )));
            }
        };
        if entries
            .last()
            .is_some_and(|previous| previous.path.as_slice() >= path)
        {
            return Err(line_error("paths are not sorted"));
        }
        entries.push(ManifestEntry {
            path: path.to_vec(),
            node,
            flag,
        });
    }
    Ok(Manifest { entries })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NODE: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn parses_flags() {
        let text = format!("README\0{NODE}\nlink\0{NODE}l\nrun.sh\0{NODE}x\n");
        let manifest = parse_manifest(text.as_bytes()).expect("valid manifest");
        let flags: Vec<FileFlag> = manifest.entries.iter().map(|entry| entry.flag).collect();
        assert_eq!(
            flags,
            [FileFlag::Regular, FileFlag::Symlink, FileFlag::Executable]
        );
        assert_eq!(
            manifest.get(b"link").map(|entry| entry.flag),
            Some(FileFlag::Symlink)
        );
        assert!(manifest.get(b"missing").is_none());
        assert!(parse_manifest(b"").expect("empty").entries.is_empty());
    }

    #[test]
    fn rejects_malformed_lines() {
        for text in [
            format!("a\0{NODE}t\n"),
            format!("a\0{NODE}"),
            "a\x00123\n".to_owned(),
            format!("a{NODE}\n"),
            format!("b\0{NODE}\na\0{NODE}\n"),
            format!("\0{NODE}\n"),
        ] {
            assert!(parse_manifest(text.as_bytes()).is_err(), "{text:?}");
        }
    }
}
