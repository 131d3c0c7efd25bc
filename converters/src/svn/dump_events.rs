//! Feeding a dump file to a [`RevisionSink`], and a quick first pass over a dump that finds
//! its UUID, its youngest revision and the directories that reveal its layout.

use std::collections::BTreeSet;
use std::io::{BufRead, Read};
use std::ops::RangeInclusive;

use super::dump::{DumpError, DumpReader, DumpValidator, NodeAction, NodeKind, Record};
use super::events::{NodeChange, PropChange, RevisionSink, TextForm};

/// Reads the whole dump into `sink`.
pub fn replay<R: BufRead, S>(input: R, sink: &mut S) -> Result<(), S::Error>
where
    S: RevisionSink,
    S::Error: From<DumpError>,
{
    replay_range(input, 0..=u64::MAX, sink).map(|_| ())
}

/// Where a dump's revision record begins: a later read of that revision and the ones after
/// it starts there ([`replay_from`]) instead of parsing the dump from its beginning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bookmark {
    pub revision: u64,
    pub offset: u64,
    format_version: u32,
}

/// Reads the dump's `revisions` into `sink`; earlier ones are parsed (their texts skipped)
/// and left out, and reading stops after the last. Returns where the revision after the
/// last begins, if the dump has one.
pub fn replay_range<R: BufRead, S>(
    input: R,
    revisions: RangeInclusive<u64>,
    sink: &mut S,
) -> Result<Option<Bookmark>, S::Error>
where
    S: RevisionSink,
    S::Error: From<DumpError>,
{
    replay_records(DumpReader::new(input), revisions, false, sink)
}

/// Reads the revisions from `at` up to `last` into `sink`, from `input` positioned at
/// `at.offset` (a dump that no longer has that revision there is an error). Returns where
/// the revision after `last` begins, as [`replay_range`] does.
pub fn replay_from<R: BufRead, S>(
    input: R,
    at: Bookmark,
    last: u64,
    sink: &mut S,
) -> Result<Option<Bookmark>, S::Error>
where
    S: RevisionSink,
    S::Error: From<DumpError>,
{
    let mut reader = DumpReader::continuing(input, at.format_version, at.offset);
    match reader.next_record() {
        Ok(Some(Record::Revision(revision))) if revision.number == at.revision => {
            if at.revision > last {
                return Ok(Some(at));
            }
            sink.begin_revision(revision.number, &revision.properties)?;
            replay_records(reader, at.revision..=last, true, sink)
        }
        Err(error) => Err(error.into()),
        Ok(_) => Err(DumpError::malformed(
            at.offset,
            format!(
                "r{} no longer starts here: the dump changed while it was read",
                at.revision
            ),
        )
        .into()),
    }
}

/// The records of `reader` into `sink`, for `revisions`; `in_revision` when a revision the
/// sink has begun is still open.
fn replay_records<R: BufRead, S>(
    mut reader: DumpReader<R>,
    revisions: RangeInclusive<u64>,
    mut in_revision: bool,
    sink: &mut S,
) -> Result<Option<Bookmark>, S::Error>
where
    S: RevisionSink,
    S::Error: From<DumpError>,
{
    let mut skipping = false;
    while let Some(record) = reader.next_record()? {
        match record {
            Record::FormatVersion { .. } | Record::Uuid { .. } => {}
            Record::Revision(revision) => {
                if in_revision {
                    sink.end_revision()?;
                }
                if revision.number > *revisions.end() {
                    return Ok(reader.format_version().map(|format_version| Bookmark {
                        revision: revision.number,
                        offset: revision.offset,
                        format_version,
                    }));
                }
                skipping = revision.number < *revisions.start();
                in_revision = !skipping;
                if !skipping {
                    sink.begin_revision(revision.number, &revision.properties)?;
                }
            }
            Record::Node(_) if skipping => {}
            Record::Node(node) => {
                let header = &node.header;
                let props = match (node.properties, header.prop_delta) {
                    (None, _) => PropChange::Unchanged,
                    (Some(list), true) => PropChange::Delta(list),
                    (Some(list), false) => PropChange::Replace(list),
                };
                let change = NodeChange {
                    path: header.path.clone(),
                    kind: header.kind,
                    action: header.action,
                    copy_from: header.copy_from.clone(),
                    props,
                    text: node.text.as_ref().map(|text| {
                        if text.is_delta() {
                            TextForm::Delta
                        } else {
                            TextForm::Full { length: text.len() }
                        }
                    }),
                    offset: Some(header.offset),
                };
                match node.text {
                    Some(mut text) => sink.node(&change, Some(&mut text as &mut dyn Read))?,
                    None => sink.node(&change, None)?,
                }
            }
        }
    }
    if in_revision {
        sink.end_revision()?;
    }
    Ok(None)
}

/// The properties of revision `number` of a dump, if it has that revision.
pub fn revision_properties<R: BufRead>(
    input: R,
    number: u64,
) -> Result<Option<super::dump::Properties>, DumpError> {
    let mut reader = DumpReader::new(input);
    while let Some(record) = reader.next_record()? {
        if let Record::Revision(revision) = record {
            if revision.number == number {
                return Ok(Some(revision.properties));
            }
        }
    }
    Ok(None)
}

/// What a first pass over a dump learns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outline {
    pub uuid: Option<String>,
    /// The first and last revision numbers (a partial dump starts after 0).
    pub first: Option<u64>,
    pub youngest: u64,
    /// Every directory ever added at depth one or two (`trunk`, `proj/trunk`).
    pub top_dirs: BTreeSet<String>,
}

/// Reads a dump's headers, skipping its texts, and checks it the way `svnadmin load` would:
/// a dump that fails here is refused before anything is converted.
pub fn outline<R: BufRead>(input: R) -> Result<Outline, DumpError> {
    let mut reader = DumpReader::new(input);
    let mut validator = DumpValidator::new();
    let mut outline = Outline::default();
    while let Some(record) = reader.next_record()? {
        validator.check(&record)?;
        match record {
            Record::Uuid { uuid, .. } => outline.uuid = Some(uuid),
            Record::Revision(revision) => {
                outline.first.get_or_insert(revision.number);
                outline.youngest = revision.number;
            }
            Record::Node(node) => {
                let header = &node.header;
                let is_dir_add = header.kind == Some(NodeKind::Dir)
                    && matches!(header.action, NodeAction::Add | NodeAction::Replace);
                if is_dir_add && header.path.split('/').count() <= 2 {
                    outline.top_dirs.insert(header.path.clone());
                }
            }
            Record::FormatVersion { .. } => {}
        }
    }
    Ok(outline)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::svn::events::Properties;

    /// The revision numbers a sink is given.
    #[derive(Default)]
    struct Begun(Vec<u64>, usize);

    impl RevisionSink for Begun {
        type Error = DumpError;

        fn begin_revision(&mut self, number: u64, _: &Properties) -> Result<(), DumpError> {
            self.0.push(number);
            Ok(())
        }

        fn node(&mut self, _: &NodeChange, _: Option<&mut dyn Read>) -> Result<(), DumpError> {
            Ok(())
        }

        fn end_revision(&mut self) -> Result<(), DumpError> {
            self.1 += 1;
            Ok(())
        }
    }

    fn dump(revisions: u64) -> Vec<u8> {
        let mut text = String::from("SVN-fs-dump-format-version: 2\n\n");
        for number in 0..=revisions {
            text.push_str(&format!(
                "Revision-number: {number}\nProp-content-length: 10\nContent-length: 10\n\nPROPS-END\n\n"
            ));
        }
        text.into_bytes()
    }

    /// Where revision `number`'s record begins in `dump`.
    fn dump_offset(dump: &[u8], number: u64) -> u64 {
        let header = format!("Revision-number: {number}\n");
        dump.windows(header.len())
            .position(|w| w == header.as_bytes())
            .expect("the revision") as u64
    }

    fn begun(range: RangeInclusive<u64>) -> (Vec<u64>, usize) {
        let mut sink = Begun::default();
        replay_range(&dump(4)[..], range, &mut sink).expect("replays");
        (sink.0, sink.1)
    }

    #[test]
    fn a_read_continues_at_the_bookmark_the_last_one_left() {
        let dump = dump(6);
        let mut first = Begun::default();
        let mark = replay_range(&dump[..], 0..=2, &mut first)
            .expect("replays")
            .expect("r3 follows");
        assert_eq!((first.0, first.1), (vec![0, 1, 2], 3));
        assert_eq!(mark.revision, 3);
        assert!(dump[mark.offset as usize..].starts_with(b"Revision-number: 3\n"));
        let mut rest = Begun::default();
        let end =
            replay_from(&dump[mark.offset as usize..], mark, 4, &mut rest).expect("continues");
        assert_eq!((rest.0, rest.1), (vec![3, 4], 2));
        assert_eq!(end.map(|m| m.revision), Some(5));
        let mut last = Begun::default();
        let end = end.expect("r5 follows");
        let none = replay_from(&dump[end.offset as usize..], end, 9, &mut last).expect("ends");
        assert_eq!((last.0, none), (vec![5, 6], None));
        // A bookmark that no longer fits the dump is refused, not misread: another revision
        // where it points (here r4's record for r3's bookmark), or no record at all.
        let elsewhere = Bookmark {
            offset: mark.offset + 1,
            ..mark
        };
        let moved = Bookmark {
            offset: dump_offset(&dump, 4),
            ..mark
        };
        let error = replay_from(
            &dump[moved.offset as usize..],
            moved,
            4,
            &mut Begun::default(),
        )
        .expect_err("refused");
        assert!(error.to_string().contains("dump changed"), "{error}");
        assert!(replay_from(
            &dump[elsewhere.offset as usize..],
            elsewhere,
            4,
            &mut Begun::default()
        )
        .is_err());
    }

    #[test]
    fn a_range_gives_its_revisions_each_ended() {
        assert_eq!(begun(0..=u64::MAX), (vec![0, 1, 2, 3, 4], 5));
        assert_eq!(begun(2..=3), (vec![2, 3], 2));
        assert_eq!(begun(4..=9), (vec![4], 1));
        assert_eq!(begun(0..=0), (vec![0], 1));
    }
}
