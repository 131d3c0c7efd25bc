//! Guessing a repository's layout from its top-level directories: standard layout at the
//! root, under one project, several projects to choose from, or one branch.

use std::collections::BTreeSet;

use super::convert::layout::Layout;
use super::dump::NodeKind;
use super::ra::RaSession;
use crate::SourceError;

/// At most this many top-level directories are looked into for a `trunk`.
const PROJECTS_LOOKED_AT: usize = 500;

/// What the directories say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detected {
    One(Layout),
    /// Several top-level directories each hold a trunk: the user picks one.
    Projects(Vec<String>),
}

/// Decides from directory paths of depth one and two (`trunk`, `proj/trunk`).
pub fn from_top_dirs(dirs: &BTreeSet<String>) -> Detected {
    if dirs.contains("trunk") {
        return Detected::One(Layout::standard(""));
    }
    let projects: Vec<String> = dirs
        .iter()
        .filter_map(|d| d.strip_suffix("/trunk"))
        .filter(|p| !p.contains('/'))
        .map(str::to_owned)
        .collect();
    match projects.len() {
        0 => Detected::One(Layout::single_branch("")),
        1 => Detected::One(Layout::standard(&projects[0])),
        _ => Detected::Projects(projects),
    }
}

/// The directories of depth one, and the `trunk`s of depth two, at `revision`: what
/// [`from_top_dirs`] needs, read from a live repository.
pub fn top_dirs(session: &RaSession, revision: u64) -> Result<BTreeSet<String>, SourceError> {
    let top: Vec<String> = session
        .list_dir("", revision)?
        .into_iter()
        .filter(|(_, kind)| *kind == NodeKind::Dir)
        .map(|(name, _)| name)
        .collect();
    let mut dirs: BTreeSet<String> = top.iter().cloned().collect();
    if dirs.contains("trunk") {
        return Ok(dirs);
    }
    for name in top.iter().take(PROJECTS_LOOKED_AT) {
        let has_trunk = session
            .check_path(&format!("{name}/trunk"), revision)?
            .is_some_and(|kind| kind == NodeKind::Dir);
        if has_trunk {
            dirs.insert(format!("{name}/trunk"));
        }
    }
    Ok(dirs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirs(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn layouts_are_told_apart() {
        assert_eq!(
            from_top_dirs(&dirs(&["trunk", "branches"])),
            Detected::One(Layout::standard(""))
        );
        assert_eq!(
            from_top_dirs(&dirs(&["a", "a/trunk", "b", "b/trunk"])),
            Detected::Projects(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            from_top_dirs(&dirs(&["a", "a/trunk"])),
            Detected::One(Layout::standard("a"))
        );
        assert_eq!(
            from_top_dirs(&dirs(&["src", "doc"])),
            Detected::One(Layout::single_branch(""))
        );
    }
}
