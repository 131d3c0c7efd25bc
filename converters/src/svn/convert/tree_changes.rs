//! How node changes reach the tracked roots: deletions, additions (copies included) and
//! changes, roots beginning and ending their lives.

use std::collections::BTreeMap;
use std::io::{BufRead, Read, Write};

use super::*;

impl<W: Write, R: BufRead> Converter<'_, W, R> {
    pub(super) fn delete(&mut self, path: &str) -> Result<(), ConvertError> {
        let revision = self.revision();
        // Roots at or below the path end their lives.
        let ended: Vec<String> = history::under(&self.entities, path)
            .filter(|(_, e)| e.alive().is_some())
            .map(|(root, _)| root.clone())
            .collect();
        for root in &ended {
            if let Some(life) = self.entities.get_mut(root).and_then(Entity::alive_mut) {
                life.deleted = Some(revision);
            }
            let pending = self.pending(&Key::Root(root.clone()));
            pending.ops.clear();
            pending.merges.clear();
        }
        self.modes.clear_under(path, revision);
        self.eols.clear_under(path, revision);
        self.texts.forget_under(path);
        self.ignores.clear_under(path, revision);
        self.mergeinfo.clear_under(path, revision);
        if ended.iter().any(|root| root == path) {
            return Ok(());
        }
        let Some((key, sub)) = self.place(path, None)? else {
            // A container: whatever the outside held below it goes too.
            if self.outside.alive().is_some() {
                let pending = self.pending(&Key::Outside);
                pending.ops.push(Op::Delete(path.to_owned()));
                pending.gone.push(path.to_owned());
            }
            return Ok(());
        };
        if self.entity(&key).and_then(Entity::alive).is_none() {
            return Err(self.invalid(path, "deleted, but its branch does not exist"));
        }
        let pending = self.pending(&key);
        pending.ops.push(Op::Delete(sub.clone()));
        pending.emptied.insert(parent(&sub).to_owned());
        pending.gone.push(sub);
        Ok(())
    }

    pub(super) fn add(
        &mut self,
        node: &NodeChange,
        text: Option<&mut dyn Read>,
    ) -> Result<(), ConvertError> {
        let kind = node
            .kind
            .ok_or_else(|| self.invalid(&node.path, "added without a node kind"))?;
        let Some((key, sub)) = self.place(&node.path, Some(kind))? else {
            if let Some(copy) = &node.copy_from {
                self.copy_container(&copy.path, copy.revision, &node.path)?;
            }
            return Ok(());
        };
        if let (Key::Root(root), true) = (&key, sub.is_empty()) {
            let copy = node
                .copy_from
                .as_ref()
                .map(|c| (c.path.as_str(), c.revision));
            self.start_life(root, copy)?;
            return self.dir_props(&node.path, &key, &sub, &node.props);
        }
        if self.entity(&key).and_then(Entity::alive).is_none() {
            return Err(self.invalid(&node.path, "added inside a branch that does not exist"));
        }
        let revision = self.revision();
        let mut source = None;
        let mut grafts = Vec::new();
        if let Some(copy) = &node.copy_from {
            source = self.entry_at(&copy.path, copy.revision)?;
            if kind == NodeKind::Dir {
                grafts = self.roots_below(&copy.path, copy.revision)?;
            }
            if source.is_none() && grafts.is_empty() {
                self.report(
                    "copy_source_missing",
                    Some(&node.path),
                    format!(
                        "copied from /{}@{}, which the conversion does not hold",
                        copy.path, copy.revision
                    ),
                );
            }
            self.texts.forget_under(&node.path);
            self.modes
                .copy_under(&copy.path, copy.revision, &node.path, revision);
            self.eols
                .copy_under(&copy.path, copy.revision, &node.path, revision);
            self.ignores
                .copy_under(&copy.path, copy.revision, &node.path, revision);
            self.mergeinfo
                .copy_under(&copy.path, copy.revision, &node.path, revision);
            let current = self.current.as_mut().expect("inside a revision");
            current
                .copies
                .push((node.path.clone(), copy.path.clone(), copy.revision));
        }
        let keep = join(parent(&sub), PLACEHOLDER);
        let pending = self.pending(&key);
        pending.gone.retain(|g| g != &sub);
        pending.ops.push(Op::Delete(keep));
        match kind {
            NodeKind::Dir => {
                match source.filter(Entry::is_tree) {
                    Some(entry) => self.pending(&key).ops.push(Op::Modify {
                        mode: MODE_TREE,
                        dataref: entry.oid,
                        path: sub.clone(),
                    }),
                    None if !grafts.is_empty() => {}
                    None if self.options.empty_dirs => {
                        let dataref = self.empty_blob()?;
                        self.pending(&key).ops.push(Op::Modify {
                            mode: MODE_FILE,
                            dataref,
                            path: join(&sub, PLACEHOLDER),
                        });
                    }
                    None => {}
                }
                for (below, tree) in grafts {
                    self.pending(&key).ops.push(Op::Modify {
                        mode: MODE_TREE,
                        dataref: tree,
                        path: join(&sub, &below),
                    });
                }
                self.dir_props(&node.path, &key, &sub, &node.props)
            }
            NodeKind::File => self.file(node, &key, &sub, source, text),
        }
    }

    pub(super) fn change(
        &mut self,
        node: &NodeChange,
        text: Option<&mut dyn Read>,
    ) -> Result<(), ConvertError> {
        let Some((key, sub)) = self.place(&node.path, node.kind)? else {
            self.report_props(&node.path, &node.props, &[]);
            return Ok(());
        };
        self.pending(&key).touched = true;
        if self.entity(&key).and_then(Entity::alive).is_none() {
            return Err(self.invalid(&node.path, "changed, but its branch does not exist"));
        }
        let is_file = node.kind == Some(NodeKind::File) || node.text.is_some();
        if is_file {
            self.file(node, &key, &sub, None, text)
        } else {
            self.dir_props(&node.path, &key, &sub, &node.props)
        }
    }

    /// A root begins a life: empty, or as a copy of another root or a directory.
    pub(super) fn start_life(
        &mut self,
        root: &str,
        copy: Option<(&str, u64)>,
    ) -> Result<(), ConvertError> {
        let revision = self.revision();
        let Location::Root { kind, name, .. } = self.layout.locate(root) else {
            return Err(self.invalid(root, "not a branch root"));
        };
        if self.entities.get(root).and_then(Entity::alive).is_some() {
            return Err(self.invalid(root, "added, but it already exists"));
        }
        let mut origin = None;
        let mut tree = None;
        let mut merged_upto = BTreeMap::new();
        if let Some((src, src_rev)) = copy {
            let from_root = match self.layout.locate(src) {
                Location::Root { root: src_root, .. } => self
                    .entities
                    .get(&src_root)
                    .and_then(|e| e.life_at(src_rev))
                    .is_some(),
                _ => false,
            };
            match self.source(src, src_rev) {
                Some((mark, sub)) => {
                    if from_root {
                        origin = Some(mark);
                        if let Location::Root { root: src_root, .. } = self.layout.locate(src) {
                            merged_upto.insert(src_root, src_rev);
                        }
                    }
                    if !(from_root && sub.is_empty()) {
                        match self.fi.ls(Some(&self.fi.dataref(mark)), &sub)? {
                            Some(entry) if entry.is_tree() => tree = Some(entry.oid),
                            _ => self.report(
                                "copy_source_missing",
                                Some(root),
                                format!("copied from /{src}@{src_rev}, which is not a directory"),
                            ),
                        }
                    }
                }
                None => self.report(
                    "copy_source_missing",
                    Some(root),
                    format!("copied from /{src}@{src_rev}, which the conversion does not hold"),
                ),
            }
            self.texts.forget_under(root);
            self.modes.copy_under(src, src_rev, root, revision);
            self.eols.copy_under(src, src_rev, root, revision);
            self.ignores.copy_under(src, src_rev, root, revision);
            self.mergeinfo.copy_under(src, src_rev, root, revision);
            let current = self.current.as_mut().expect("inside a revision");
            current
                .copies
                .push((root.to_owned(), src.to_owned(), src_rev));
        }
        let work_ref = self.new_work_ref();
        let creation = self
            .current
            .as_ref()
            .expect("inside a revision")
            .info
            .clone();
        let entity = self
            .entities
            .entry(root.to_owned())
            .or_insert_with(|| Entity::new(EntityKind::Root(kind), &name));
        entity.lives.push(Life {
            work_ref,
            created: revision,
            deleted: None,
            origin,
            commits: Vec::new(),
            creation,
            merged_upto,
        });
        let pending = self.pending(&Key::Root(root.to_owned()));
        pending.new_life = true;
        if let Some(oid) = tree {
            pending.ops.push(Op::Modify {
                mode: MODE_TREE,
                dataref: oid,
                path: String::new(),
            });
        }
        Ok(())
    }

    /// A directory holding roots was copied: each root below it starts a life at the copy.
    pub(super) fn copy_container(
        &mut self,
        src: &str,
        src_rev: u64,
        dest: &str,
    ) -> Result<(), ConvertError> {
        let roots: Vec<String> = history::under(&self.entities, src)
            .filter(|(_, e)| e.life_at(src_rev).is_some())
            .map(|(root, _)| root.clone())
            .collect();
        for root in roots {
            let target = join(dest, layout::strip_dir(&root, src).unwrap_or_default());
            match self.layout.locate(&target) {
                Location::Root { sub, .. } if sub.is_empty() => {
                    self.start_life(&target, Some((&root, src_rev)))?;
                }
                _ => self.report(
                    "copy_outside_layout",
                    Some(&target),
                    format!("copy of /{root}@{src_rev} lands outside the branch layout"),
                ),
            }
        }
        // What the container held besides its roots (a `branches/README`) comes along too.
        let outside = self.outside.life_at(src_rev).and_then(|l| l.at(src_rev));
        if let Some(mark) = outside {
            if let Some(entry) = self.fi.ls(Some(&self.fi.dataref(mark)), src)? {
                let revision = self.revision();
                self.ensure_outside();
                self.texts.forget_under(dest);
                self.modes.copy_under(src, src_rev, dest, revision);
                self.eols.copy_under(src, src_rev, dest, revision);
                self.ignores.copy_under(src, src_rev, dest, revision);
                let current = self.current.as_mut().expect("inside a revision");
                current
                    .copies
                    .push((dest.to_owned(), src.to_owned(), src_rev));
                self.pending(&Key::Outside).ops.push(Op::Modify {
                    mode: entry.mode,
                    dataref: entry.oid,
                    path: dest.to_owned(),
                });
            }
        }
        Ok(())
    }
}
