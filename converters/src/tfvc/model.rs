//! The REST API's JSON shapes (as Microsoft documents them: `{count, value}` envelopes,
//! camelCase fields), only the fields srcimport reads.

use serde::Deserialize;

/// `{count, value}`: every list the API returns.
#[derive(Debug, Deserialize)]
pub struct Envelope<T> {
    #[serde(default = "Vec::new")]
    pub value: Vec<T>,
}

/// `TeamProjectReference`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    #[serde(default)]
    pub id: String,
    pub name: String,
}

/// `IdentityRef`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct IdentityRef {
    pub display_name: Option<String>,
    pub unique_name: Option<String>,
}

/// `TfvcChangesetRef` (and the fields of `TfvcChangeset` read here).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangesetRef {
    pub changeset_id: u64,
    pub author: Option<IdentityRef>,
    pub checked_in_by: Option<IdentityRef>,
    pub created_date: Option<String>,
    pub comment: Option<String>,
    #[serde(default)]
    pub comment_truncated: bool,
}

/// `TfvcItem`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    pub version: Option<u64>,
    pub path: String,
    #[serde(default)]
    pub is_folder: bool,
    pub size: Option<u64>,
    /// Base64 MD5 of a file's content.
    pub hash_value: Option<String>,
}

/// `TfvcMergeSource`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MergeSource {
    pub server_item: String,
    pub version_from: Option<u64>,
    pub version_to: Option<u64>,
    #[serde(default)]
    pub is_rename: bool,
}

/// `TfvcChange`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub item: Item,
    pub change_type: String,
    pub source_server_item: Option<String>,
    #[serde(default)]
    pub merge_sources: Vec<MergeSource>,
}

/// `TfvcBranch` (with `children` when asked for).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Branch {
    pub path: String,
    pub parent: Option<ShallowBranchRef>,
    #[serde(default)]
    pub is_deleted: bool,
    #[serde(default)]
    pub children: Vec<Branch>,
}

/// `TfvcShallowBranchRef`.
#[derive(Debug, Clone, Deserialize)]
pub struct ShallowBranchRef {
    pub path: String,
}

/// `TfvcLabelRef`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelRef {
    pub id: u64,
    pub name: String,
    pub description: Option<String>,
    pub label_scope: Option<String>,
    pub modified_date: Option<String>,
    pub owner: Option<IdentityRef>,
}

/// `VersionControlChangeType` flags, parsed from the comma-joined string.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChangeType(u32);

impl ChangeType {
    pub const ADD: u32 = 1;
    pub const EDIT: u32 = 2;
    pub const ENCODING: u32 = 4;
    pub const RENAME: u32 = 8;
    pub const DELETE: u32 = 16;
    pub const UNDELETE: u32 = 32;
    pub const BRANCH: u32 = 64;
    pub const MERGE: u32 = 128;
    pub const LOCK: u32 = 256;
    pub const ROLLBACK: u32 = 512;
    pub const SOURCE_RENAME: u32 = 1024;
    pub const TARGET_RENAME: u32 = 2048;
    pub const PROPERTY: u32 = 4096;

    /// Parses `"add, edit, encoding"` (any order, any case); unknown flags are ignored.
    pub fn parse(text: &str) -> ChangeType {
        let mut bits = 0;
        for flag in text.split(',') {
            bits |= match flag.trim().to_ascii_lowercase().as_str() {
                "add" => Self::ADD,
                "edit" => Self::EDIT,
                "encoding" => Self::ENCODING,
                "rename" => Self::RENAME,
                "delete" => Self::DELETE,
                "undelete" => Self::UNDELETE,
                "branch" => Self::BRANCH,
                "merge" => Self::MERGE,
                "lock" => Self::LOCK,
                "rollback" => Self::ROLLBACK,
                "sourcerename" => Self::SOURCE_RENAME,
                "targetrename" => Self::TARGET_RENAME,
                "property" => Self::PROPERTY,
                _ => 0,
            };
        }
        ChangeType(bits)
    }

    pub fn has(self, flag: u32) -> bool {
        self.0 & flag != 0
    }
}

impl Change {
    pub fn kind(&self) -> ChangeType {
        ChangeType::parse(&self.change_type)
    }

    /// The old path of a rename: `sourceServerItem`, else the renaming merge source.
    pub fn rename_source(&self) -> Option<&str> {
        self.source_server_item.as_deref().or(self
            .merge_sources
            .iter()
            .find(|m| m.is_rename)
            .map(|m| m.server_item.as_str()))
    }

    /// Where a branch (or merge) took this item from, and at which changeset.
    pub fn branch_source(&self, changeset: u64) -> Option<(&str, u64)> {
        match self.merge_sources.iter().find(|m| !m.is_rename) {
            Some(m) => Some((
                m.server_item.as_str(),
                m.version_to.unwrap_or(changeset.saturating_sub(1)),
            )),
            None => self
                .source_server_item
                .as_deref()
                .map(|s| (s, changeset.saturating_sub(1))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_types_parse_as_sets() {
        let t = ChangeType::parse("Edit, merge");
        assert!(t.has(ChangeType::EDIT) && t.has(ChangeType::MERGE));
        assert!(!t.has(ChangeType::ADD));
        assert!(ChangeType::parse("sourceRename").has(ChangeType::SOURCE_RENAME));
    }

    #[test]
    fn documented_shapes_deserialize() {
        let text = r#"{"count":1,"value":[{"item":{"version":5,"size":3,"hashValue":"x","path":"$/P/a.txt","url":"u"},
            "changeType":"branch, merge","mergeSources":[{"serverItem":"$/P/Main/a.txt","versionFrom":1,"versionTo":4,"isRename":false}]}]}"#;
        let changes: Envelope<Change> = serde_json::from_str(text).unwrap();
        let change = &changes.value[0];
        assert_eq!(change.branch_source(5), Some(("$/P/Main/a.txt", 4)));
        assert!(change.kind().has(ChangeType::BRANCH));
    }
}
