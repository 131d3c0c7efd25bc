//! Keeping object lookups fast in a repository of many packs: every sync (and every 14,336
//! objects a rewrite writes) adds a pack and automatic gc is off, so once packs pile up
//! they get a multi-pack index, one index over all of them. Nothing is repacked: a repack
//! holds every object it rewrites in memory (233 MiB for the 249,000 objects of 30,000
//! revisions), the index about 40 bytes an object.

use std::path::Path;

use srcimport_converters::Cancel;

use super::{run_git, GitError};

/// More packs than this and [`index_packs`] writes the multi-pack index.
pub const MOST_PACKS: usize = 32;

/// The multi-pack index's file, beside the packs.
const MULTI_PACK_INDEX: &str = "objects/pack/multi-pack-index";

/// The packs in `git_dir`.
pub fn pack_count(git_dir: &Path) -> usize {
    std::fs::read_dir(git_dir.join("objects/pack"))
        .map(|entries| {
            entries
                .flatten()
                .filter(|entry| entry.file_name().to_string_lossy().ends_with(".pack"))
                .count()
        })
        .unwrap_or(0)
}

/// Writes (or rewrites, covering new packs) `git_dir`'s multi-pack index when it holds
/// more than [`MOST_PACKS`] packs. Returns whether it did.
pub fn index_packs(git_dir: &Path, cancel: &Cancel) -> Result<bool, GitError> {
    if pack_count(git_dir) <= MOST_PACKS {
        return Ok(false);
    }
    run_git(git_dir, &["multi-pack-index", "write"], None, cancel)?;
    Ok(true)
}

/// Whether `git_dir` has a multi-pack index.
pub fn has_multi_pack_index(git_dir: &Path) -> bool {
    git_dir.join(MULTI_PACK_INDEX).is_file()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::objects::ObjectReader;
    use crate::git::pack::PackWriter;

    /// `count` packs of one blob each; their ids.
    fn packs_of_one_blob(repo: &Path, count: usize) -> Vec<String> {
        (0..count)
            .map(|n| {
                let mut pack = PackWriter::create(repo).expect("creates");
                let id = pack
                    .write("blob", format!("blob {n}\n").as_bytes())
                    .expect("writes");
                pack.finish(&Cancel::new()).expect("finishes");
                id
            })
            .collect()
    }

    #[test]
    fn many_packs_get_one_index_over_all_of_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = dir.path().join("r.git");
        crate::git::init_hosted(&repo).expect("init");
        let ids = packs_of_one_blob(&repo, MOST_PACKS + 8);
        assert!(index_packs(&repo, &Cancel::new()).expect("indexes"));
        assert!(has_multi_pack_index(&repo));
        run_git(&repo, &["multi-pack-index", "verify"], None, &Cancel::new())
            .expect("a valid index");
        let listed =
            run_git(&repo, &["count-objects", "-v"], None, &Cancel::new()).expect("counts");
        assert!(
            String::from_utf8_lossy(&listed).contains(&format!("packs: {}", MOST_PACKS + 8)),
            "no pack was removed"
        );
        // A pack written afterwards is found too, and a second write covers it.
        let later = packs_of_one_blob(&repo, 1);
        assert!(index_packs(&repo, &Cancel::new()).expect("indexes again"));
        let mut reader = ObjectReader::start(&repo).expect("reader");
        for (n, id) in ids.iter().enumerate() {
            let object = reader.read(id).expect("still there");
            assert_eq!(object.body, format!("blob {n}\n").into_bytes());
        }
        assert_eq!(reader.read(&later[0]).expect("found").body, b"blob 0\n");
    }

    #[test]
    fn a_few_packs_are_left_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = dir.path().join("r.git");
        crate::git::init_hosted(&repo).expect("init");
        packs_of_one_blob(&repo, 3);
        assert!(!index_packs(&repo, &Cancel::new()).expect("checks"));
        assert!(!has_multi_pack_index(&repo));
    }
}
