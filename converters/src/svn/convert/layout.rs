//! Which Subversion paths are branches and tags: standard layout, explicit patterns, or the
//! whole repository as one branch.

/// What a branch-like directory becomes in Git.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum RootKind {
    Trunk,
    Branch,
    Tag,
}

/// Where branches and tags live in the repository.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Layout {
    /// The project directory everything else is relative to (`""` for the repository root).
    pub project: String,
    /// Trunk, relative to the project (`""` makes the whole project one branch).
    pub trunk: Option<String>,
    /// Branch patterns: `/`-separated segments where `*` matches one segment. A pattern
    /// without `*` is a container: `branches` means `branches/*`.
    pub branches: Vec<String>,
    pub tags: Vec<String>,
}

/// Where a repository path falls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// Inside (or at) a branch-like root: `root` is the root's repository path, `sub` the
    /// path below it (`""` for the root itself).
    Root {
        root: String,
        kind: RootKind,
        name: String,
        sub: String,
    },
    /// A directory that holds roots (`branches`, `tags`, the project itself).
    Container,
    /// Anything else.
    Outside,
}

impl Layout {
    /// The whole repository (or project) as one branch.
    pub fn single_branch(project: &str) -> Layout {
        Layout {
            project: project.to_owned(),
            trunk: Some(String::new()),
            branches: Vec::new(),
            tags: Vec::new(),
        }
    }

    /// trunk, branches/*, tags/* under `project`.
    pub fn standard(project: &str) -> Layout {
        Layout {
            project: project.to_owned(),
            trunk: Some("trunk".into()),
            branches: vec!["branches".into()],
            tags: vec!["tags".into()],
        }
    }

    /// One line for people: `trunk, branches/*, tags/*` (under the project, if any).
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        match self.trunk.as_deref() {
            Some("") => parts.push("one branch".to_owned()),
            Some(trunk) => parts.push(trunk.to_owned()),
            None => {}
        }
        let star = |p: &String| match p.contains('*') {
            true => p.clone(),
            false => format!("{p}/*"),
        };
        parts.extend(self.branches.iter().map(star));
        parts.extend(self.tags.iter().map(|t| format!("tags: {}", star(t))));
        let text = parts.join(", ");
        match self.project.as_str() {
            "" => text,
            project => format!("{text} under /{project}"),
        }
    }

    /// The patterns as segment lists, ready for many [`CompiledLayout::locate`] calls.
    pub fn compile(&self) -> CompiledLayout {
        let full = |pattern: &str, container: bool| -> Vec<String> {
            let mut segments: Vec<String> = split(&self.project)
                .chain(split(pattern))
                .map(str::to_owned)
                .collect();
            if container && !pattern.contains('*') {
                segments.push("*".into());
            }
            segments
        };
        let mut patterns = Vec::new();
        if let Some(trunk) = &self.trunk {
            patterns.push((RootKind::Trunk, full(trunk, false)));
        }
        patterns.extend(
            self.branches
                .iter()
                .map(|p| (RootKind::Branch, full(p, true))),
        );
        patterns.extend(self.tags.iter().map(|p| (RootKind::Tag, full(p, true))));
        CompiledLayout { patterns }
    }

    /// Where `path` (repository-relative, no leading slash) falls.
    pub fn locate(&self, path: &str) -> Location {
        self.compile().locate(path)
    }
}

/// A [`Layout`] with its patterns split into segments once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledLayout {
    patterns: Vec<(RootKind, Vec<String>)>,
}

impl CompiledLayout {
    /// Where `path` (repository-relative, no leading slash) falls.
    pub fn locate(&self, path: &str) -> Location {
        let segments: Vec<&str> = split(path).collect();
        let mut container = false;
        for (kind, pattern) in &self.patterns {
            let kind = *kind;
            if segments.len() < pattern.len() {
                if matches(&pattern[..segments.len()], &segments) {
                    container = true;
                }
                continue;
            }
            if !matches(pattern, &segments[..pattern.len()]) {
                continue;
            }
            let root = segments[..pattern.len()].join("/");
            let name = match kind {
                RootKind::Trunk => String::new(),
                _ => {
                    // The name is what the pattern's wildcards (and anything after its
                    // first one) matched: `releases/*` gives `1.0` for `releases/1.0`.
                    let first_wild = pattern.iter().position(|s| s == "*").unwrap_or(0);
                    segments[first_wild..pattern.len()].join("/")
                }
            };
            return Location::Root {
                root,
                kind,
                name,
                sub: segments[pattern.len()..].join("/"),
            };
        }
        if container {
            Location::Container
        } else {
            Location::Outside
        }
    }
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

fn matches(pattern: &[String], segments: &[&str]) -> bool {
    pattern.len() == segments.len()
        && pattern
            .iter()
            .zip(segments)
            .all(|(p, s)| p == "*" || p == s)
}

/// Joins a root and a path below it.
pub fn join(root: &str, sub: &str) -> String {
    match (root.is_empty(), sub.is_empty()) {
        (_, true) => root.to_owned(),
        (true, false) => sub.to_owned(),
        (false, false) => format!("{root}/{sub}"),
    }
}

/// `path` relative to `prefix` when it is `prefix` or below it.
pub fn strip_dir<'p>(path: &'p str, prefix: &str) -> Option<&'p str> {
    if prefix.is_empty() {
        return Some(path);
    }
    let rest = path.strip_prefix(prefix)?;
    if rest.is_empty() {
        Some(rest)
    } else {
        rest.strip_prefix('/')
    }
}

/// The parent directory of a path (`""` for a top-level entry).
pub fn parent(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(root: &str, kind: RootKind, name: &str, sub: &str) -> Location {
        Location::Root {
            root: root.into(),
            kind,
            name: name.into(),
            sub: sub.into(),
        }
    }

    #[test]
    fn standard_layout_places_paths() {
        let layout = Layout::standard("");
        assert_eq!(layout.locate(""), Location::Container);
        assert_eq!(
            layout.locate("trunk"),
            root("trunk", RootKind::Trunk, "", "")
        );
        assert_eq!(
            layout.locate("trunk/src/a.c"),
            root("trunk", RootKind::Trunk, "", "src/a.c")
        );
        assert_eq!(layout.locate("branches"), Location::Container);
        assert_eq!(
            layout.locate("branches/f/x"),
            root("branches/f", RootKind::Branch, "f", "x")
        );
        assert_eq!(
            layout.locate("tags/1.0"),
            root("tags/1.0", RootKind::Tag, "1.0", "")
        );
        assert_eq!(layout.locate("README"), Location::Outside);
    }

    #[test]
    fn projects_and_patterns() {
        let mut layout = Layout::standard("alpha");
        layout.branches.push("releases/*".into());
        assert_eq!(layout.locate("alpha"), Location::Container);
        assert_eq!(layout.locate("beta/trunk"), Location::Outside);
        assert_eq!(
            layout.locate("alpha/releases/2.0/a"),
            root("alpha/releases/2.0", RootKind::Branch, "2.0", "a")
        );
        let single = Layout::single_branch("");
        assert_eq!(single.locate("x/y"), root("", RootKind::Trunk, "", "x/y"));
        assert_eq!(single.locate(""), root("", RootKind::Trunk, "", ""));
    }

    #[test]
    fn path_helpers() {
        assert_eq!(join("", "a"), "a");
        assert_eq!(join("a", ""), "a");
        assert_eq!(strip_dir("trunk/a", "trunk"), Some("a"));
        assert_eq!(strip_dir("trunkx", "trunk"), None);
        assert_eq!(strip_dir("trunk", "trunk"), Some(""));
        assert_eq!(parent("a/b/c"), "a/b");
        assert_eq!(parent("a"), "");
    }
}
