//! Finding blobs over the large-file threshold in a raw import, with a ref and path each.

use std::collections::HashMap;
use std::path::Path;

use srcimport_converters::{git as git_source, Cancel};

use super::{for_each_line, run_git, GitError};

/// A large blob, where it was first seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LargeBlob {
    /// The source's ref name, e.g. `refs/heads/main`.
    pub ref_name: String,
    pub path: String,
    pub oid: String,
    pub size: u64,
}

/// Every blob reachable from the raw refs that is larger than `threshold` bytes.
pub fn find(git_dir: &Path, threshold: u64, cancel: &Cancel) -> Result<Vec<LargeBlob>, GitError> {
    let mut sizes: HashMap<String, u64> = HashMap::new();
    for_each_line(
        git_dir,
        &[
            "cat-file",
            "--batch-all-objects",
            "--unordered",
            "--batch-check=%(objecttype) %(objectsize) %(objectname)",
        ],
        cancel,
        |line| {
            let mut parts = line.split(' ');
            if let (Some("blob"), Some(size), Some(oid)) =
                (parts.next(), parts.next(), parts.next())
            {
                if let Ok(size) = size.parse::<u64>() {
                    if size > threshold {
                        sizes.insert(oid.to_owned(), size);
                    }
                }
            }
            true
        },
    )?;
    locate(git_dir, sizes, cancel)
}

/// Where each blob of `sizes` (object id → size) is first seen: on the first raw branch
/// (then tag) that reaches it, under the path the walk meets it at. A converter that
/// already knows its large blobs asks only this; nothing is walked when there are none.
pub fn locate(
    git_dir: &Path,
    mut sizes: HashMap<String, u64>,
    cancel: &Cancel,
) -> Result<Vec<LargeBlob>, GitError> {
    if sizes.is_empty() {
        return Ok(Vec::new());
    }
    let refs = run_git(
        git_dir,
        &[
            "for-each-ref",
            "--format=%(refname)",
            git_source::RAW_NAMESPACE,
        ],
        None,
        cancel,
    )?;
    let mut refs: Vec<String> = String::from_utf8_lossy(&refs)
        .lines()
        .map(str::to_owned)
        .collect();
    // Branches before tags, so a file is reported on a branch when it is on one.
    refs.sort_by_key(|r| !r.contains("/heads/"));
    let mut found = Vec::new();
    for raw_ref in refs {
        if sizes.is_empty() {
            break;
        }
        let ref_name = format!("refs/{}", &raw_ref[git_source::RAW_NAMESPACE.len()..]);
        for_each_line(
            git_dir,
            &["rev-list", "--objects", &raw_ref],
            cancel,
            |line| {
                if let Some((oid, path)) = line.split_once(' ') {
                    if let Some(size) = sizes.remove(oid) {
                        found.push(LargeBlob {
                            ref_name: ref_name.clone(),
                            path: path.to_owned(),
                            oid: oid.to_owned(),
                            size,
                        });
                    }
                }
                !sizes.is_empty()
            },
        )?;
    }
    found.sort_by(|a, b| (&a.ref_name, &a.path).cmp(&(&b.ref_name, &b.path)));
    Ok(found)
}
