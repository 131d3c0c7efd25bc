//! Directory properties: ignores as `.gitignore`, `svn:mergeinfo` as merge parents, and
//! the report of what Git cannot hold.

use std::io::{BufRead, Write};

use super::*;

/// How much of a branch a mergeinfo change merged.
pub(super) enum Merged {
    /// The branch has no commits of its own in the range.
    Nothing,
    /// All of it, up to this commit.
    Whole(u64),
    Part,
}

/// `svn:ignore` and `svn:global-ignores` of one directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct Ignores {
    ignore: Option<Vec<u8>>,
    global: Option<Vec<u8>>,
}

impl Ignores {
    pub(super) fn is_empty(&self) -> bool {
        self.ignore.is_none() && self.global.is_none()
    }

    /// The `.gitignore` text: global patterns as written (they apply at any depth), then
    /// `svn:ignore` patterns anchored with `/` (they apply to the directory itself only).
    pub(super) fn render(&self) -> Vec<u8> {
        let mut text = Vec::new();
        let lines = |value: &Option<Vec<u8>>| -> Vec<Vec<u8>> {
            value
                .as_deref()
                .unwrap_or_default()
                .split(|&b| b == b'\n')
                .map(|l| l.trim_ascii().to_vec())
                .filter(|l| !l.is_empty())
                .collect()
        };
        for line in lines(&self.global) {
            text.extend_from_slice(&line);
            text.push(b'\n');
        }
        for line in lines(&self.ignore) {
            text.push(b'/');
            text.extend_from_slice(&line);
            text.push(b'\n');
        }
        text
    }
}

/// How many (property, path) pairs are remembered as already reported.
const REPORTED_PATHS_REMEMBERED: usize = 100_000;

impl<W: Write, R: BufRead> Converter<'_, W, R> {
    /// Directory properties: ignores become `.gitignore`, mergeinfo on a root may become
    /// merge parents, the rest is reported.
    pub(super) fn dir_props(
        &mut self,
        path: &str,
        key: &Key,
        sub: &str,
        props: &PropChange,
    ) -> Result<(), ConvertError> {
        const HANDLED: [&[u8]; 3] = [b"svn:ignore", b"svn:global-ignores", b"svn:mergeinfo"];
        let revision = self.revision();
        let changes = prop_changes(props, &HANDLED);
        self.report_props(path, props, &HANDLED);
        let mut ignores = self.ignores.current(path).cloned().unwrap_or_default();
        let before = ignores.clone();
        for (name, value) in changes {
            match name.as_slice() {
                b"svn:ignore" => ignores.ignore = value,
                b"svn:global-ignores" => ignores.global = value,
                b"svn:mergeinfo" => {
                    let old = self.mergeinfo.current(path).cloned().unwrap_or_default();
                    let new = value
                        .map(|v| String::from_utf8_lossy(&v).into_owned())
                        .unwrap_or_default();
                    if let (Key::Root(root), true) = (key, sub.is_empty()) {
                        self.merges(root, &old, &new);
                    } else if !new.is_empty() && new != old {
                        self.report(
                            "partial_merge",
                            Some(path),
                            format!("merge recorded below a branch root: {}", new.trim()),
                        );
                    }
                    self.mergeinfo
                        .set(path, revision, (!new.is_empty()).then_some(new));
                }
                _ => {}
            }
        }
        if ignores != before {
            self.ignores.set(
                path,
                revision,
                (!ignores.is_empty()).then(|| ignores.clone()),
            );
            let file = join(sub, ".gitignore");
            let op = if ignores.is_empty() {
                Op::Delete(file)
            } else {
                let text = ignores.render();
                let mark = self.fi.blob_bytes(&text)?;
                Op::Modify {
                    mode: MODE_FILE,
                    dataref: format!(":{mark}"),
                    path: file,
                }
            };
            self.pending(key).ops.push(op);
        }
        Ok(())
    }

    /// Reports properties Git cannot hold.
    pub(super) fn report_props(&mut self, path: &str, props: &PropChange, handled: &[&[u8]]) {
        const SILENT: [&[u8]; 2] = [b"svn:mime-type", b"svn:entry:committed-rev"];
        let list = match props {
            PropChange::Unchanged => return,
            PropChange::Replace(list) | PropChange::Delta(list) => list,
        };
        for (name, value) in list {
            let Some(value) = value else { continue };
            if handled.contains(&name.as_slice()) || SILENT.contains(&name.as_slice()) {
                continue;
            }
            let name = String::from_utf8_lossy(name).into_owned();
            // Each property is reported once per path (the set stops growing at a bound;
            // the report itself is capped per kind).
            let key = (name.clone(), path.to_owned());
            if self.reported.contains(&key) {
                continue;
            }
            if self.reported.len() < REPORTED_PATHS_REMEMBERED {
                self.reported.insert(key);
            }
            let kind = if name == "svn:externals" {
                "svn_externals"
            } else {
                "svn_property"
            };
            let value = String::from_utf8_lossy(value);
            let value = value.trim();
            self.report(kind, Some(path), format!("{name} = {value}"));
        }
    }

    /// Turns grown mergeinfo on `root` into merge parents where a branch was merged whole.
    pub(super) fn merges(&mut self, root: &str, old: &str, new: &str) {
        let revision = self.revision();
        let born_now = self
            .entities
            .get(root)
            .and_then(Entity::alive)
            .is_some_and(|life| life.created == revision);
        if born_now {
            // A new branch inherits its source's mergeinfo; that merges nothing.
            return;
        }
        for (source, ranges) in mergeinfo::grown(old, new) {
            let Some(max) = ranges.max() else { continue };
            let merged_root = match self.layout.locate(&source) {
                Location::Root { root: src, sub, .. } if sub.is_empty() && src != root => Some(src),
                _ => None,
            };
            let upto = merged_root.as_ref().and_then(|src| {
                let life = self.entities.get(root)?.alive()?;
                life.merged_upto.get(src).copied()
            });
            let candidate = merged_root.as_ref().and_then(|src| {
                let life = self
                    .entities
                    .get(src)?
                    .life_at(max.min(revision.saturating_sub(1)))?;
                let after = upto.unwrap_or(life.created).max(life.created);
                let own: Vec<u64> = life
                    .commits
                    .iter()
                    .map(|(r, _)| *r)
                    .filter(|r| *r > after && *r <= max)
                    .collect();
                if own.is_empty() {
                    return Some(Merged::Nothing);
                }
                let whole = !ranges.partial && own.iter().all(|r| ranges.contains(*r));
                match (whole, life.at(max)) {
                    (true, Some(mark)) => Some(Merged::Whole(mark)),
                    _ => Some(Merged::Part),
                }
            });
            match (merged_root, candidate) {
                (Some(_), Some(Merged::Nothing)) => {}
                (Some(src), Some(Merged::Whole(mark))) => {
                    let life = self.entities.get_mut(root).and_then(Entity::alive_mut);
                    let Some(life) = life else { continue };
                    if life.tip() == Some(mark) {
                        continue;
                    }
                    life.merged_upto.insert(src, max);
                    self.pending(&Key::Root(root.to_owned())).merges.push(mark);
                }
                _ => self.report(
                    "partial_merge",
                    Some(root),
                    format!(
                        "merged part of /{source} (r{}); not recorded as a merge parent",
                        ranges
                            .ranges
                            .iter()
                            .map(|(a, b)| if a == b {
                                a.to_string()
                            } else {
                                format!("{a}-{b}")
                            })
                            .collect::<Vec<_>>()
                            .join(",")
                    ),
                ),
            }
        }
    }
}
