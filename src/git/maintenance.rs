//! Keeping a hosted repository's packs few: every sync (and every 14,336 objects a rewrite
//! writes) adds a pack and automatic gc is off, so once packs pile up they are combined
//! geometrically, which rewrites only the small ones, never the whole history at once.

use std::path::Path;

use srcimport_converters::Cancel;

use super::{run_git, GitError};

/// More packs than this and [`combine_packs`] repacks. A geometric repack leaves about one
/// pack per doubling of size, well under this for any history.
pub const MOST_PACKS: usize = 32;

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

/// Combines `git_dir`'s packs when it holds more than [`MOST_PACKS`]: packs are merged
/// until each is at least twice the size of all smaller ones together (`git repack
/// --geometric=2`), loose objects included; unreachable objects stay. Returns whether it
/// repacked.
pub fn combine_packs(git_dir: &Path, cancel: &Cancel) -> Result<bool, GitError> {
    if pack_count(git_dir) <= MOST_PACKS {
        return Ok(false);
    }
    run_git(
        git_dir,
        &[
            // Delta search memory stays bounded whatever the objects' sizes.
            "-c",
            "pack.windowMemory=64m",
            "-c",
            "pack.threads=1",
            "repack",
            "-d",
            "-l",
            "-q",
            "--geometric=2",
        ],
        None,
        cancel,
    )?;
    Ok(true)
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
    fn many_packs_are_combined_and_every_object_stays() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = dir.path().join("r.git");
        crate::git::init_hosted(&repo).expect("init");
        let ids = packs_of_one_blob(&repo, MOST_PACKS + 8);
        assert_eq!(pack_count(&repo), MOST_PACKS + 8);
        assert!(combine_packs(&repo, &Cancel::new()).expect("repacks"));
        assert!(pack_count(&repo) < MOST_PACKS / 2, "{}", pack_count(&repo));
        let mut reader = ObjectReader::start(&repo).expect("reader");
        for (n, id) in ids.iter().enumerate() {
            let object = reader.read(id).expect("still there");
            assert_eq!(object.body, format!("blob {n}\n").into_bytes());
        }
    }

    #[test]
    fn a_few_packs_are_left_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = dir.path().join("r.git");
        crate::git::init_hosted(&repo).expect("init");
        packs_of_one_blob(&repo, 3);
        assert!(!combine_packs(&repo, &Cancel::new()).expect("checks"));
        assert_eq!(pack_count(&repo), 3);
    }
}
