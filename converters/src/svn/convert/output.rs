//! Writing commits, notes and refs once a revision (or the whole history) is read.

use std::io::{BufRead, Write};

use super::*;

/// Which published ref shows a root last.
enum Shown {
    Head(String),
    Tag(String),
    /// Under `refs/`: a deleted branch or tag.
    Hidden(String),
}

impl<W: Write, R: BufRead> Converter<'_, W, R> {
    pub(super) fn commit_pending(&mut self) -> Result<(), ConvertError> {
        let current = self.current.as_mut().expect("inside a revision");
        let (number, info) = (current.number, current.info.clone());
        let pending = std::mem::take(&mut current.pending);
        for (key, work) in pending {
            let Some(life) = self.entity(&key).and_then(Entity::alive) else {
                continue;
            };
            let is_tag = matches!(
                self.entity(&key).map(|e| e.kind),
                Some(EntityKind::Root(RootKind::Tag))
            );
            let clean_copy = work.new_life && work.ops.is_empty() && work.merges.is_empty();
            if clean_copy && is_tag && life.origin.is_some() {
                continue;
            }
            if !work.new_life && !work.touched && work.ops.is_empty() && work.merges.is_empty() {
                continue;
            }
            // The placeholder's blob must exist before the commit starts (no blob command
            // may come inside one).
            let keep = match self.options.empty_dirs && !work.emptied.is_empty() {
                true => Some(self.empty_blob()?),
                false => None,
            };
            let Some(life) = self.entity(&key).and_then(Entity::alive) else {
                continue;
            };
            let work_ref = life.work_ref.clone();
            let first = life.commits.is_empty();
            let origin = life.origin;
            let tip = life.tip();
            // A life an earlier session committed to: its tip is not on the work ref in this
            // session's fast-import.
            let earlier_tip = match self.session_refs.insert(work_ref.clone()) {
                true if !first => tip,
                _ => None,
            };
            // Where the commit starts from (none, its origin's or an earlier session's
            // tip) and what it merges, named before the stream is borrowed.
            let from = match (first, origin) {
                (true, Some(origin)) => Some(origin),
                _ => earlier_tip,
            }
            .map(|mark| self.fi.dataref(mark));
            let merges: Vec<String> = work.merges.iter().map(|m| self.fi.dataref(*m)).collect();
            let mark = self.fi.mark();
            let signature = self.signature(&info);
            let out = self.fi.out();
            if first && origin.is_none() {
                writeln!(out, "reset {work_ref}")?;
            }
            write!(
                out,
                "commit {work_ref}\nmark :{mark}\nauthor {signature}\ncommitter {signature}\ndata {}\n",
                info.message.len()
            )?;
            out.write_all(&info.message)?;
            out.write_all(b"\n")?;
            if let Some(from) = from {
                writeln!(out, "from {from}")?;
            }
            for merge in merges {
                writeln!(out, "merge {merge}")?;
            }
            for op in &work.ops {
                op.write_to(out)?;
            }
            if let Some(keep) = keep {
                for dir in &work.emptied {
                    let deleted = work.gone.iter().any(|g| history::is_under(dir, g));
                    if dir.is_empty() || deleted {
                        continue;
                    }
                    if self.fi.ls(None, dir)?.is_none() {
                        writeln!(
                            self.fi.out(),
                            "M 100644 {keep} {}",
                            quote(&join(dir, PLACEHOLDER))
                        )?;
                    }
                }
            }
            self.fi.out().write_all(b"\n")?;
            if let Some(life) = self.entity_mut(&key).and_then(Entity::alive_mut) {
                life.commits.push((number, mark));
            }
            self.summary.commits += 1;
            self.last_time = self.last_time.max(info.time);
            self.notes.push((mark, number, key.clone()));
            self.summary
                .users
                .entry(info.identity.clone())
                .or_insert_with(|| revprops::remote_id(&info.user, &self.options.uuid));
        }
        if self.notes.len() >= NOTES_BATCH {
            let mark = self.flush_notes()?;
            self.notes_base = mark;
        }
        Ok(())
    }

    /// Commits the waiting notes; returns the notes commit's mark, if there was one.
    pub(super) fn flush_notes(&mut self) -> Result<Option<u64>, ConvertError> {
        if self.notes.is_empty() {
            return Ok(None);
        }
        let uuid = &self.options.uuid;
        let notes = std::mem::take(&mut self.notes)
            .into_iter()
            .map(|(mark, revision, key)| {
                let (path, scope) = match &key {
                    Key::Root(root) => (root.as_str(), ""),
                    Key::Outside => ("", "svn-scope: outside the branch layout\n"),
                };
                let text = format!(
                    "svn-revision: {revision}\nsvn-path: /{path}\nsvn-uuid: {uuid}\n{scope}"
                );
                (mark, text)
            });
        // The session's first notes commit continues an earlier session's notes.
        let from = match std::mem::replace(&mut self.notes_written, true) {
            false => self.notes_base,
            true => None,
        };
        let mark = self.fi.notes_commit(
            &self.options.notes_ref,
            from,
            self.last_time,
            "Subversion revisions\n",
            notes,
        )?;
        Ok(Some(mark))
    }

    /// Ends the stream: the final notes, and every branch ref. Returns what was done; the
    /// annotated tags are the caller's to write.
    pub fn finish(self) -> Result<(ConvertSummary, W), ConvertError> {
        let (summary, _, out) = self.finish_with_state()?;
        Ok((summary, out))
    }

    /// [`Converter::finish`], also returning the state a later session resumes from (see
    /// [`checkpoint`]).
    pub fn finish_with_state(
        mut self,
    ) -> Result<(ConvertSummary, checkpoint::State, W), ConvertError> {
        let mut state = self.state();
        self.flush_notes()?;
        let prefix = self.options.ref_prefix.clone();
        let mut heads: Vec<(String, u64)> = Vec::new();
        let mut tags: Vec<(String, u64, RevisionInfo)> = Vec::new();
        let mut hidden: Vec<(String, u64)> = Vec::new();
        // The ref that shows each root last (its last life), for the large-file list.
        let mut shown_by: BTreeMap<String, Shown> = BTreeMap::new();
        for (root, entity) in &self.entities {
            let EntityKind::Root(kind) = entity.kind else {
                continue;
            };
            for life in &entity.lives {
                let Some(tip) = life.tip() else { continue };
                let name = match kind {
                    RootKind::Trunk => self.options.trunk_branch.clone(),
                    _ => entity.name.clone(),
                };
                let shown = match (kind, life.deleted) {
                    (RootKind::Tag, None) => {
                        if let Some(root) = life.root() {
                            tags.push((name.clone(), root, life.creation.clone()));
                        }
                        if life.changed_after_creation() {
                            heads.push((format!("tags/{name}"), tip));
                        }
                        Shown::Tag(name)
                    }
                    (_, Some(deleted)) => {
                        let what = if kind == RootKind::Tag {
                            "tags"
                        } else {
                            "branches"
                        };
                        // A deleted trunk keeps its Subversion name: `main` may be a
                        // deleted branch too.
                        let svn_name = match kind {
                            RootKind::Trunk => root.rsplit('/').next().unwrap_or(root),
                            _ => entity.name.as_str(),
                        };
                        let name = format!("{what}/{svn_name}@{}", deleted.saturating_sub(1));
                        hidden.push((name.clone(), tip));
                        Shown::Hidden(name)
                    }
                    (_, None) => {
                        heads.push((name.clone(), tip));
                        Shown::Head(name)
                    }
                };
                shown_by.insert(root.clone(), shown);
            }
        }
        let (hidden_names, hidden_renames) =
            refnames::assign(&hidden.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>());
        let mut hidden: Vec<(String, u64)> = hidden
            .into_iter()
            .map(|(name, tip)| (format!("svn/deleted/{}", hidden_names[&name]), tip))
            .collect();
        if let Some(tip) = self.outside.lives.last().and_then(Life::tip) {
            hidden.push(("svn/unbranched".into(), tip));
        }
        let (head_names, head_renames) =
            refnames::assign(&heads.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>());
        let (tag_names, tag_renames) =
            refnames::assign(&tags.iter().map(|(n, _, _)| n.clone()).collect::<Vec<_>>());
        for (from, to) in head_renames {
            self.report_final(
                "branch_renamed",
                format!("branch {from:?} is {to:?} in Git"),
            );
        }
        for (from, to) in tag_renames {
            self.report_final("tag_renamed", format!("tag {from:?} is {to:?} in Git"));
        }
        for (from, to) in hidden_renames {
            self.report_final(
                "deleted_ref_renamed",
                format!("deleted {from:?} is refs/svn/deleted/{to} in Git"),
            );
        }
        let refs = heads
            .iter()
            .map(|(name, mark)| (format!("{prefix}heads/{}", head_names[name]), *mark))
            .chain(
                hidden
                    .iter()
                    .map(|(name, mark)| (format!("{prefix}{name}"), *mark)),
            );
        for (name, mark) in refs {
            // A ref an earlier session left at the same commit is not written again.
            if self.previous_refs.get(&name) != Some(&mark) {
                let from = self.fi.dataref(mark);
                writeln!(self.fi.out(), "reset {name}\nfrom {from}\n")?;
            }
            self.summary.refs.insert(name, mark);
        }
        let large = std::mem::take(&mut self.large);
        for (path, mark, size) in large {
            let (ref_name, path) = match self.layout.locate(&path) {
                Location::Root { root, sub, .. } => match shown_by.get(&root) {
                    Some(Shown::Head(name)) => {
                        (format!("refs/heads/{}", head_names[name.as_str()]), sub)
                    }
                    Some(Shown::Tag(name)) => {
                        (format!("refs/tags/{}", tag_names[name.as_str()]), sub)
                    }
                    Some(Shown::Hidden(name)) => (
                        format!("refs/svn/deleted/{}", hidden_names[name.as_str()]),
                        sub,
                    ),
                    None => ("refs/svn/unbranched".to_owned(), path),
                },
                _ => ("refs/svn/unbranched".to_owned(), path),
            };
            self.summary.large_blobs.push(LargeBlob {
                ref_name,
                path,
                mark,
                size,
            });
        }
        for (name, mark, info) in tags {
            let tagger = self.signature(&info);
            self.summary.tags.push(TagToWrite {
                git_name: tag_names[&name].clone(),
                mark,
                tagger,
                message: String::from_utf8_lossy(&info.message).into_owned(),
            });
        }
        for (kind, count) in &self.report_counts {
            if *count > REPORT_CAP {
                self.summary.report.push(ReportItem {
                    kind: kind.clone(),
                    revision: None,
                    path: None,
                    detail: format!("{} more not listed", count - REPORT_CAP),
                });
            }
        }
        state.texts = std::mem::take(&mut self.texts);
        Ok((self.summary, state, self.fi.into_inner()))
    }

    pub(super) fn report_final(&mut self, kind: &str, detail: String) {
        self.summary.report.push(ReportItem {
            kind: kind.to_owned(),
            revision: None,
            path: None,
            detail,
        });
    }
}
