//! Checks of a dump's contents that go beyond syntax: what `svnadmin load` would refuse.

mod properties;
mod tree;

use super::error::DumpError;
use super::record::{NodeAction, NodeHeader, NodeKind, Properties, Record, RevisionRecord};
use properties::check_properties;
use tree::TreeHistory;

/// Follows a dump record by record and rejects contents that `svnadmin load`
/// into an empty repository refuses:
///
/// - `svn:` properties that are not UTF-8 or contain a carriage return,
/// - an `svn:date` that is not `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`,
/// - an `svn:mergeinfo` naming revision 0 or not parsing at all,
/// - revision numbers that do not increase,
/// - nodes changing or deleting a path that does not exist, adding one that
///   already does or whose parent is missing, or copying from a path or
///   revision that does not exist.
///
/// It remembers every path the dump names, with the revisions it existed in;
/// copies are kept as links to their source, so memory grows with the number
/// of paths the dump mentions, not with the size of copied trees or texts.
///
/// A dump that starts after revision 0 of its repository (an incremental or
/// `-r N:M` dump) and copies from revisions it does not contain is rejected:
/// a converter cannot rebuild such copies either.
#[derive(Debug, Default)]
pub struct DumpValidator {
    tree: TreeHistory,
    current_revision: Option<u64>,
    first_revision: Option<u64>,
}

impl DumpValidator {
    /// A validator for a dump loaded into an empty repository.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks any record (texts are not looked at).
    pub fn check<R>(&mut self, record: &Record<'_, R>) -> Result<(), DumpError> {
        match record {
            Record::FormatVersion { .. } | Record::Uuid { .. } => Ok(()),
            Record::Revision(revision) => self.check_revision(revision),
            Record::Node(node) => self.check_node(&node.header, node.properties.as_ref()),
        }
    }

    /// Checks a revision record and makes it the current revision.
    pub fn check_revision(&mut self, revision: &RevisionRecord) -> Result<(), DumpError> {
        if let Some(previous) = self.current_revision {
            if revision.number <= previous {
                return Err(invalid(
                    revision.offset,
                    format!(
                        "revision r{} follows r{previous}: revision numbers must increase",
                        revision.number
                    ),
                ));
            }
        }
        self.first_revision.get_or_insert(revision.number);
        self.current_revision = Some(revision.number);
        check_properties(
            &revision.properties,
            revision.offset,
            &format!("revision r{}", revision.number),
        )
    }

    /// Checks a node record of the current revision and applies it to the tree.
    pub fn check_node(
        &mut self,
        header: &NodeHeader,
        properties: Option<&Properties>,
    ) -> Result<(), DumpError> {
        let offset = header.offset;
        let revision = self
            .current_revision
            .ok_or_else(|| invalid(offset, "node record before any revision record"))?;
        let path = normalize(&header.path);
        let copy_source = header.copy_from.as_ref().map(|c| c.path.as_str());
        for named in std::iter::once(path).chain(copy_source) {
            if named.split('/').any(|c| c == "." || c == "..") {
                return Err(invalid(
                    offset,
                    format!("path '{named}' in r{revision} has a '.' or '..' component"),
                ));
            }
        }
        if let Some(properties) = properties {
            check_properties(properties, offset, &format!("path '{path}' in r{revision}"))?;
        }
        match header.action {
            NodeAction::Change => self.require_existing(path, revision, offset, "change"),
            NodeAction::Delete => {
                self.require_existing(path, revision, offset, "delete")?;
                self.tree.remove_subtree(path, revision);
                Ok(())
            }
            NodeAction::Replace => {
                self.require_existing(path, revision, offset, "replace")?;
                self.tree.remove_subtree(path, revision);
                self.add(header, path, revision)
            }
            NodeAction::Add => {
                if path.is_empty() || self.tree.kind_at(path, revision).is_some() {
                    return Err(invalid(
                        offset,
                        format!("r{revision} adds '{path}', which already exists"),
                    ));
                }
                self.add(header, path, revision)
            }
        }
    }

    fn require_existing(
        &self,
        path: &str,
        revision: u64,
        offset: u64,
        action: &str,
    ) -> Result<(), DumpError> {
        if path.is_empty() || self.tree.kind_at(path, revision).is_some() {
            return Ok(());
        }
        Err(invalid(
            offset,
            format!("r{revision} tries to {action} '{path}', which does not exist"),
        ))
    }

    fn add(&mut self, header: &NodeHeader, path: &str, revision: u64) -> Result<(), DumpError> {
        let offset = header.offset;
        let parent = parent_of(path);
        if !parent.is_empty() {
            match self.tree.kind_at(parent, revision) {
                None => {
                    return Err(invalid(
                        offset,
                        format!(
                            "r{revision} adds '{path}', but its parent '{parent}' does not exist"
                        ),
                    ))
                }
                Some(Some(NodeKind::File)) => {
                    return Err(invalid(
                        offset,
                        format!("r{revision} adds '{path}', but its parent '{parent}' is a file"),
                    ))
                }
                Some(_) => {}
            }
        }
        let Some(copy) = &header.copy_from else {
            self.tree.add(path, header.kind, revision);
            return Ok(());
        };
        let source = normalize(&copy.path);
        if copy.revision >= revision {
            return Err(invalid(
                offset,
                format!(
                    "r{revision} copies '{path}' from r{} which is not an earlier revision",
                    copy.revision
                ),
            ));
        }
        if self.tree.kind_at(source, copy.revision).is_none() {
            let reason = match self.first_revision {
                Some(first) if copy.revision < first => format!(" (the dump starts at r{first})"),
                _ => String::new(),
            };
            return Err(invalid(
                offset,
                format!(
                    "r{revision} copies '{path}' from '{source}'@{}, which does not exist{reason}",
                    copy.revision
                ),
            ));
        }
        self.tree
            .add_copy(path, header.kind, revision, source, copy.revision);
        Ok(())
    }
}

/// A validation error at `offset`.
fn invalid(offset: u64, message: impl Into<String>) -> DumpError {
    DumpError::Invalid {
        offset,
        message: message.into(),
    }
}

/// A path without leading or trailing slashes.
fn normalize(path: &str) -> &str {
    path.trim_matches('/')
}

/// The parent directory of a normalized path (`""` for top-level paths).
fn parent_of(path: &str) -> &str {
    path.rfind('/').map_or("", |slash| &path[..slash])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::svn::dump::record::CopyFrom;

    fn node(
        path: &str,
        action: NodeAction,
        kind: Option<NodeKind>,
        copy_from: Option<(u64, &str)>,
    ) -> NodeHeader {
        NodeHeader {
            path: path.to_string(),
            kind,
            action,
            copy_from: copy_from.map(|(revision, path)| CopyFrom {
                revision,
                path: path.to_string(),
            }),
            text_copy_source: Default::default(),
            text_content: Default::default(),
            text_delta_base: Default::default(),
            text_delta: false,
            prop_delta: false,
            prop_content_length: None,
            text_content_length: None,
            content_length: None,
            other_headers: Vec::new(),
            offset: 42,
        }
    }

    fn revision(number: u64, properties: Properties) -> RevisionRecord {
        RevisionRecord {
            number,
            properties,
            offset: 7,
        }
    }

    #[test]
    fn follows_adds_copies_and_deletes() {
        let mut validator = DumpValidator::new();
        validator.check_revision(&revision(1, vec![])).expect("r1");
        let dir = Some(NodeKind::Dir);
        let file = Some(NodeKind::File);
        validator
            .check_node(&node("trunk", NodeAction::Add, dir, None), None)
            .expect("add trunk");
        validator
            .check_node(&node("trunk/a", NodeAction::Add, file, None), None)
            .expect("add file");
        validator.check_revision(&revision(2, vec![])).expect("r2");
        validator
            .check_node(&node("tag", NodeAction::Add, dir, Some((1, "trunk"))), None)
            .expect("copy");
        validator
            .check_node(&node("trunk", NodeAction::Delete, None, None), None)
            .expect("delete");
        validator
            .check_node(&node("tag/a", NodeAction::Change, file, None), None)
            .expect("copied child");
        let gone = validator.check_node(&node("trunk/a", NodeAction::Change, file, None), None);
        assert_eq!(gone.expect_err("deleted with its parent").offset(), 42);
        validator.check_revision(&revision(3, vec![])).expect("r3");
        validator
            .check_node(&node("old", NodeAction::Add, dir, Some((1, "trunk"))), None)
            .expect("copy from history");
        validator
            .check_node(&node("old/a", NodeAction::Delete, None, None), None)
            .expect("copied from history");
        assert!(validator
            .check_node(&node("x/y", NodeAction::Add, file, None), None)
            .is_err());
        let same_revision = node("new", NodeAction::Add, dir, Some((3, "tag")));
        assert!(validator.check_node(&same_revision, None).is_err());
        let missing_source = node("new", NodeAction::Add, dir, Some((1, "nope")));
        assert!(validator.check_node(&missing_source, None).is_err());
        let under_file = node("tag/a/b", NodeAction::Add, file, None);
        assert!(validator.check_node(&under_file, None).is_err());
    }

    #[test]
    fn rejects_bad_svn_properties() {
        let bad_date = vec![(b"svn:date".to_vec(), Some(b"bad date".to_vec()))];
        assert!(DumpValidator::new()
            .check_revision(&revision(0, bad_date))
            .is_err());
        let good_date = vec![(
            b"svn:date".to_vec(),
            Some(b"2009-03-27T19:25:43.035921Z".to_vec()),
        )];
        assert!(DumpValidator::new()
            .check_revision(&revision(0, good_date))
            .is_ok());
        let crlf = vec![(b"svn:log".to_vec(), Some(b"a\r\n".to_vec()))];
        assert!(DumpValidator::new()
            .check_revision(&revision(0, crlf))
            .is_err());
        let latin1 = vec![(b"svn:author".to_vec(), Some(vec![0xe9]))];
        assert!(matches!(
            DumpValidator::new().check_revision(&revision(0, latin1)),
            Err(DumpError::InvalidUtf8 { offset: 7, .. })
        ));
        let custom = vec![(b"my:prop".to_vec(), Some(b"\r\xff".to_vec()))];
        assert!(DumpValidator::new()
            .check_revision(&revision(0, custom))
            .is_ok());
    }

    #[test]
    fn rejects_decreasing_revisions() {
        let mut validator = DumpValidator::new();
        validator.check_revision(&revision(3, vec![])).expect("r3");
        assert!(validator.check_revision(&revision(3, vec![])).is_err());
    }
}
