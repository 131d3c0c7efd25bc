//! Feeding a converter's stream into `git fast-import` in a hosted repository: the raw refs
//! are replaced by what the stream writes, and annotated tags are made from its marks (in
//! one packfile). One module per source: `mercurial.rs`, `subversion.rs`, `tfvc.rs`, each
//! resuming from its converter's checkpoint when it can.

mod mercurial;
mod subversion;
mod tfvc;

pub use mercurial::import_mercurial;
pub use subversion::{
    import_subversion, subversion_import_from, subversion_refs, subversion_refs_intact,
    SubversionImport, SvnHistory, SvnTarget,
};
pub use tfvc::import_tfvc;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::process::{ChildStdin, ChildStdout, Stdio};

use srcimport_converters::fast_export::{MarkIds, TagToWrite};
use srcimport_converters::{git as git_source, process, Cancel, SourceError};

use super::large_files::LargeBlob;
use super::objects::hash_object;
use super::pack::PackWriter;
use super::publish::PUBLISHED_NAMESPACES;
use super::refs::{delete_refs, refs_under, set_listed_refs};
use super::{run_git, GitError, RAW_NOTES_NAMESPACE};

/// Refs commits are written through while a stream runs; deleted once it is done.
const WORK_NAMESPACE: &str = "refs/srcimport/work/";

/// The two ends of a running fast-import: its command stream and its cat-blob answers.
pub type Commands = BufWriter<ChildStdin>;
pub type Answers = BufReader<ChildStdout>;

fn io_error(error: GitError) -> std::io::Error {
    std::io::Error::other(error.to_string())
}

/// glibc allocator settings for fast-import. It sets up a zlib stream (over 256 KiB) for
/// every object it writes; with glibc's defaults that memory is returned to the system
/// and faulted back in, zeroed, each time, which made most of its run time (0.93 s → 0.20 s
/// for 2,000 commits). Keeping up to 8 MiB of freed heap and serving allocations up to
/// 1 MiB from it ends that; memory stays bounded. Settings already in the environment win;
/// other allocators ignore the variable.
fn malloc_tunables() -> String {
    const OURS: &str = "glibc.malloc.mmap_threshold=1048576:glibc.malloc.trim_threshold=8388608";
    match std::env::var("GLIBC_TUNABLES") {
        Ok(theirs) if !theirs.is_empty() => format!("{OURS}:{theirs}"),
        _ => OURS.to_owned(),
    }
}

/// Where a stream's refs go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefTarget {
    /// The raw namespace of a hosted repository, which mapping rewrites and pushing
    /// publishes.
    Raw,
    /// The published names (`refs/heads/*`, `refs/tags/*`, `refs/notes/*`, `refs/svn/*`)
    /// of a new repository that keeps the history as the stream writes it.
    Published,
}

impl RefTarget {
    /// What branches and tags are named under: `{prefix}heads/main`, `{prefix}tags/v1`.
    pub fn prefix(self) -> &'static str {
        match self {
            RefTarget::Raw => git_source::RAW_NAMESPACE,
            RefTarget::Published => "refs/",
        }
    }

    /// What notes refs are named under.
    pub fn notes_prefix(self) -> &'static str {
        match self {
            RefTarget::Raw => RAW_NOTES_NAMESPACE,
            RefTarget::Published => "refs/notes/",
        }
    }

    /// The namespaces of the refs a stream writes, besides its notes.
    fn namespaces(self) -> Vec<&'static str> {
        match self {
            RefTarget::Raw => vec![git_source::RAW_NAMESPACE],
            RefTarget::Published => PUBLISHED_NAMESPACES
                .into_iter()
                .filter(|namespace| *namespace != self.notes_prefix())
                .collect(),
        }
    }
}

/// How a stream refers to the objects of earlier runs' marks.
pub(super) enum EarlierMarks<'a> {
    /// Imported (`--import-marks`): `:mark id` lines.
    Imported(Vec<u8>),
    /// Named by object id in the stream (fast-import then holds only its own objects);
    /// their ids come from here.
    Named(&'a MarkIds),
}

/// The marks an earlier run wrote (`(mark, object id)`), imported.
fn import_marks_of(known: &[(u64, &str)]) -> EarlierMarks<'static> {
    EarlierMarks::Imported(
        known
            .iter()
            .flat_map(|(mark, oid)| format!(":{mark} {oid}\n").into_bytes())
            .collect(),
    )
}

/// Which refs a stream writes: those under `target`, all of them (the old ones are cleared
/// first), or, with `kept` (a stream that continues an earlier one), only those that
/// change; the old refs are kept and afterwards those `kept` does not name (nor a tag) are
/// deleted.
struct StreamRefs<'k, T> {
    target: RefTarget,
    kept: Option<&'k KeptRefs<T>>,
}

/// The refs a continued stream keeps, given its result.
type KeptRefs<T> = dyn Fn(&T) -> HashSet<String>;

impl<T> StreamRefs<'_, T> {
    /// Every raw ref, written afresh.
    fn all_raw() -> Self {
        StreamRefs {
            target: RefTarget::Raw,
            kept: None,
        }
    }
}

/// Runs `produce` against a fresh `git fast-import` in `git_dir` (after clearing the refs
/// it will recreate, unless `refs` keeps them). Afterwards writes `tags(result)` as
/// annotated tags and removes the work refs. Nothing is written to any ref unless the whole
/// stream succeeds. Returns the result and the object ids of the tags' marks and of
/// `wanted(result)` (those this run gave: earlier ones named by id are `earlier`'s).
fn run<T, E>(
    git_dir: &Path,
    refs: StreamRefs<'_, T>,
    earlier: EarlierMarks<'_>,
    cancel: &Cancel,
    produce: impl FnOnce(&mut Commands, &mut Answers) -> Result<T, E>,
    tags: impl Fn(&T) -> &[TagToWrite],
    wanted: impl FnOnce(&T) -> Vec<u64>,
) -> Result<(T, MarkIds), E>
where
    E: From<std::io::Error> + From<SourceError>,
{
    let StreamRefs { target, kept } = refs;
    // The stream recreates every ref it writes; ones the source lost must not linger.
    let mut stale = vec![WORK_NAMESPACE];
    if kept.is_none() {
        stale.extend(target.namespaces());
        stale.push(target.notes_prefix());
    }
    delete_refs(git_dir, &stale, cancel).map_err(io_error)?;
    let marks = git_dir.join("srcimport-fast-import.marks");
    let imported = git_dir.join("srcimport-fast-import.import-marks");
    let mut cmd = git_source::command(Some(git_dir));
    cmd.args([
        "-c",
        "core.bigFileThreshold=32m",
        // A small import stays one pack: unpacking it into loose objects costs a process
        // and a file per object.
        "-c",
        "fastimport.unpackLimit=0",
        // fast-import reads back trees, scattered, from the packs it and earlier runs
        // wrote: smaller windows than other commands get (`git::command`), 1 MiB at most.
        "-c",
        "core.packedGitWindowSize=64k",
        "-c",
        "core.packedGitLimit=1m",
        // Earlier runs' objects are named by id: without this, each id is also looked up
        // as a ref name (a stat of several ref paths each), to warn of ambiguity.
        "-c",
        "core.warnAmbiguousRefs=false",
        "fast-import",
        "--quiet",
        "--force",
        "--done",
        "--cat-blob-fd=1",
    ])
    .arg(format!("--export-marks={}", marks.display()))
    .args(match &earlier {
        EarlierMarks::Imported(content) if !content.is_empty() => {
            std::fs::write(&imported, content)?;
            Some(format!("--import-marks={}", imported.display()))
        }
        _ => None,
    })
    .env("GLIBC_TUNABLES", malloc_tunables())
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    process::group(&mut cmd);
    let mut child = cmd.spawn()?;
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe).into());
    };
    let mut stderr = child.stderr.take();
    let stderr_reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(pipe) = stderr.as_mut() {
            let _ = std::io::Read::read_to_string(pipe, &mut text);
        }
        text
    });
    let mut commands = BufWriter::with_capacity(1 << 20, stdin);
    let mut answers = BufReader::with_capacity(1 << 16, stdout);
    let produced = produce(&mut commands, &mut answers).and_then(|result| {
        commands.write_all(b"done\n")?;
        commands.flush()?;
        Ok(result)
    });
    drop(commands);
    drop(answers);
    if produced.is_err() {
        process::kill_group(&mut child);
    }
    let status = child.wait()?;
    let _ = std::fs::remove_file(&imported);
    let errors = stderr_reader.join().unwrap_or_default();
    if produced.is_err() && !errors.trim().is_empty() {
        tracing::warn!(stderr = %process::last_lines(&errors), "git fast-import stopped");
    }
    let result = produced?;
    if !status.success() {
        return Err(SourceError::Command {
            command: "git fast-import".into(),
            detail: process::last_lines(&errors),
        }
        .into());
    }
    // The marks file lists every object written: only the wanted lines are kept.
    let mut wanted: HashSet<u64> = wanted(&result).into_iter().collect();
    wanted.extend(tags(&result).iter().map(|tag| tag.mark));
    // Marks of earlier runs the stream named by id are not in this run's marks file.
    let named = match &earlier {
        EarlierMarks::Named(ids) => Some(*ids),
        EarlierMarks::Imported(_) => None,
    };
    if let Some(ids) = named {
        wanted.retain(|mark| !ids.contains(*mark));
    }
    let mut commit_of = MarkIds::default();
    for line in BufReader::new(std::fs::File::open(&marks)?).lines() {
        let line = line?;
        let parsed = line
            .strip_prefix(':')
            .and_then(|l| l.split_once(' '))
            .and_then(|(mark, oid)| Some((mark.parse::<u64>().ok()?, oid)));
        if let Some((mark, oid)) = parsed.filter(|(mark, _)| wanted.contains(mark)) {
            if !commit_of.insert(mark, oid) {
                let detail = format!("git fast-import gave :{mark} {oid:?}, not an object id");
                return Err(std::io::Error::other(detail).into());
            }
        }
    }
    let _ = std::fs::remove_file(&marks);
    let _ = std::fs::remove_file(&imported);
    // The tags go into one packfile together (one process, however many tags); a tag
    // already there (a sync's unchanged tags) is not written again.
    // One listing serves the tags and the transaction below: the work refs, and the
    // target's refs when a stream continued an earlier one (a full import cleared them
    // before it started, so its tags are all new and nothing else there is pruned).
    let tags_namespace = format!("{}tags/", target.prefix());
    let mut listed_namespaces = vec![WORK_NAMESPACE];
    if kept.is_some() {
        listed_namespaces.extend(target.namespaces());
    }
    let listed = refs_under(git_dir, &listed_namespaces, cancel).map_err(io_error)?;
    let existing: HashSet<&str> = listed
        .iter()
        .filter(|(_, name)| name.starts_with(&tags_namespace))
        .map(|(oid, _)| oid.as_str())
        .collect();
    let mut updates = Vec::new();
    let mut pack: Option<PackWriter> = None;
    for tag in tags(&result) {
        let commit = commit_of
            .get(tag.mark)
            .or_else(|| named.and_then(|ids| ids.get(tag.mark)));
        let Some(commit) = commit else {
            continue;
        };
        let mut message = tag.message.clone();
        if !message.is_empty() && !message.ends_with('\n') {
            message.push('\n');
        }
        let body = format!(
            "object {commit}\ntype commit\ntag {}\ntagger {}\n\n{message}",
            tag.git_name, tag.tagger
        );
        let mut tag_id = hash_object("tag", body.as_bytes());
        if !existing.contains(tag_id.as_str()) {
            let writer = match &mut pack {
                Some(writer) => writer,
                None => pack.insert(PackWriter::create(git_dir).map_err(io_error)?),
            };
            tag_id = writer.write("tag", body.as_bytes()).map_err(io_error)?;
        }
        let name = format!("{tags_namespace}{}", tag.git_name);
        updates.push((name, tag_id));
    }
    if let Some(writer) = pack {
        writer.finish(cancel).map_err(io_error)?;
    }
    // The tags, the raw refs a continued stream dropped, and the work refs, at once.
    let keep = kept.map(|kept| kept(&result));
    let prune = |name: &str| {
        name.starts_with(WORK_NAMESPACE) || keep.as_ref().is_some_and(|keep| !keep.contains(name))
    };
    set_listed_refs(git_dir, &listed, &updates, prune, cancel).map_err(io_error)?;
    Ok((result, commit_of))
}

/// A converter's large blobs with the object ids fast-import gave their marks.
fn with_ids(
    blobs: &[srcimport_converters::fast_export::LargeBlob],
    id_of: impl Fn(u64) -> Option<String>,
) -> Vec<LargeBlob> {
    blobs
        .iter()
        .filter_map(|blob| {
            Some(LargeBlob {
                ref_name: blob.ref_name.clone(),
                path: blob.path.clone(),
                oid: id_of(blob.mark)?,
                size: blob.size,
            })
        })
        .collect()
}

/// Whether every one of `objects` is in the repository.
fn all_present<'a>(
    git_dir: &Path,
    objects: impl Iterator<Item = &'a str>,
    cancel: &Cancel,
) -> std::io::Result<bool> {
    let mut input = Vec::new();
    for oid in objects {
        input.extend_from_slice(oid.as_bytes());
        input.push(b'\n');
    }
    if input.is_empty() {
        return Ok(true);
    }
    let answers =
        run_git(git_dir, &["cat-file", "--batch-check"], Some(input), cancel).map_err(io_error)?;
    Ok(!answers
        .split(|&b| b == b'\n')
        .any(|line| line.ends_with(b" missing")))
}
