//! The oracle for the Subversion fixtures of `fixtures/svn`: builds a fixture once per
//! test process (cached under `fixtures/.cache/svn/`), reads trees from `svn export` and
//! from Git, and checks a converted bare Git repository against a fixture's `expect.tsv`
//! (format: `fixtures/svn/README.md`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::project_root;

/// A tree: path (`/`-separated, relative) to Git mode and content. Symlinks are
/// `0o120000` with their target as content; empty directories do not appear.
pub type Tree = BTreeMap<String, (u32, Vec<u8>)>;

pub const MODE_FILE: u32 = 0o100644;
pub const MODE_EXECUTABLE: u32 = 0o100755;
pub const MODE_SYMLINK: u32 = 0o120000;
pub const MODE_GITLINK: u32 = 0o160000;

/// The placeholder files a converter may add; ignored on the Git side unless the
/// Subversion side has the same file.
const PLACEHOLDERS: [&str; 2] = [".gitignore", ".gitkeep"];

/// An SVN path at a revision, written `PATH@REV` (`trunk@12`, `branches/bad name@48`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SvnAt {
    /// Relative to the repository root, no leading slash.
    pub path: String,
    pub revision: u32,
}

impl SvnAt {
    /// The path as the `svn-path:` line of a note shows it: with a leading slash.
    pub fn note_path(&self) -> String {
        format!("/{}", self.path)
    }
}

/// One assertion of an `expect.tsv` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expectation {
    /// `tree GIT_REF SVN_PATH@REV`
    Tree { git_ref: String, svn: SvnAt },
    /// `tree-at BRANCH REV SVN_PATH@REV`
    TreeAt {
        branch: String,
        revision: u32,
        svn: SvnAt,
    },
    /// `ref REFNAME exists|absent`
    Ref { name: String, exists: bool },
    /// `tag-type TAG annotated|lightweight`
    TagType { tag: String, annotated: bool },
    /// `tag-target TAG SVN_PATH@REV`: the tag peels to the commit made for SVN_PATH at
    /// (or last before) REV.
    TagTarget { tag: String, svn: SvnAt },
    /// `parents-at BRANCH REV N`
    ParentsAt {
        branch: String,
        revision: u32,
        count: usize,
    },
    /// `merge-parent-at BRANCH REV SVN_PATH@REV2`: the second parent is the commit made
    /// for SVN_PATH at (or last before) REV2.
    MergeParentAt {
        branch: String,
        revision: u32,
        parent: SvnAt,
    },
    /// `mode GIT_REF PATH MODE`
    Mode {
        git_ref: String,
        path: String,
        mode: u32,
    },
    /// `mode-at BRANCH REV PATH MODE`
    ModeAt {
        branch: String,
        revision: u32,
        path: String,
        mode: u32,
    },
    /// `gitignore GIT_REF PATH CONTENT` (CONTENT with `\n`, `\t`, `\\` escapes)
    Gitignore {
        git_ref: String,
        path: String,
        content: Vec<u8>,
    },
    /// `author-at BRANCH REV NAME <EMAIL>` (`UUID` stands for the repository UUID)
    AuthorAt {
        branch: String,
        revision: u32,
        ident: String,
    },
    /// `message-at BRANCH REV MESSAGE` (escapes as for gitignore; compared without
    /// trailing newlines)
    MessageAt {
        branch: String,
        revision: u32,
        message: String,
    },
    /// `ancestor GIT_REF SVN_PATH@REV yes|no`: the commit made for SVN_PATH at (or last
    /// before) REV is (or is not) GIT_REF's tip or one of its ancestors.
    Ancestor {
        git_ref: String,
        svn: SvnAt,
        expected: bool,
    },
    /// `report KIND REV PATH`: checked by [`check_report`], not by [`check_expectations`].
    Report {
        kind: String,
        revision: u32,
        path: String,
    },
}

/// A parsed line: its 1-based line number and assertion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub number: usize,
    pub expectation: Expectation,
}

/// What a conversion reported: the fields of the project's `ReportEntry`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reported {
    pub kind: String,
    pub revision: Option<String>,
    pub path: Option<String>,
}

/// The Git branch's SVN path as notes show it: `main` is `/trunk`, any other name
/// `/branches/NAME`.
pub fn branch_note_path(branch: &str) -> String {
    if branch == "main" {
        "/trunk".to_owned()
    } else {
        format!("/branches/{branch}")
    }
}

fn cache_key(script_path: &Path) -> String {
    let mut key = Vec::new();
    for path in [
        script_path.to_path_buf(),
        script_path.with_file_name("lib.sh"),
    ] {
        key.extend(
            std::fs::read(&path)
                .unwrap_or_else(|error| panic!("read fixture script {}: {error}", path.display())),
        );
    }
    // FNV-1a: enough to notice that a script changed.
    let hash = key.iter().fold(0xcbf2_9ce4_8422_2325u64, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

fn build_uncached(script: &str) -> PathBuf {
    let script_path = project_root().join("fixtures/svn").join(script);
    let name = script.trim_end_matches(".sh");
    let cache = project_root().join("fixtures/.cache/svn");
    let target = cache.join(name);
    let stamp = target.join("stamp");
    let key = cache_key(&script_path);
    if std::fs::read_to_string(&stamp).is_ok_and(|existing| existing == key) {
        return target;
    }
    let staging = cache.join(format!("{name}.building-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    let output = Command::new("bash")
        .arg(&script_path)
        .arg(&staging)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("run {}: {error}", script_path.display()));
    assert!(
        output.status.success(),
        "fixture script {script} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::write(staging.join("stamp"), &key).expect("write stamp");
    let _ = std::fs::remove_dir_all(&target);
    if std::fs::rename(&staging, &target).is_err() {
        // Another test process finished the same fixture first.
        let _ = std::fs::remove_dir_all(&staging);
    }
    target
}

/// Runs `fixtures/svn/SCRIPT` (e.g. `"features.sh"`) once per test process and returns
/// its output directory (`repo`, `repo.dump`, `repo.deltas.dump`, maybe `expect.tsv`).
/// The result is cached in `fixtures/.cache/svn/NAME`, keyed by a hash of the script and
/// `lib.sh`, so a changed script is rebuilt.
pub fn build_fixture(script: &str) -> PathBuf {
    static BUILT: Mutex<BTreeMap<String, PathBuf>> = Mutex::new(BTreeMap::new());
    let mut built = BUILT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    built
        .entry(script.to_owned())
        .or_insert_with(|| build_uncached(script))
        .clone()
}

/// A `file://` URL for `PATH@REV` in the repository at `repo_dir`, percent-encoding
/// everything but unreserved characters and `/` (so an `@` in a path is no peg).
pub fn svn_url(repo_dir: &Path, at: &SvnAt) -> String {
    let mut url = String::from("file://");
    let full = repo_dir.join(&at.path);
    for &byte in full.as_os_str().as_bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            url.push(char::from(byte));
        } else {
            url.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("{url}@{}", at.revision)
}

fn scratch(tag: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let directory = std::env::temp_dir().join(format!(
        "svn-oracle-{tag}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&directory);
    directory
}

fn walk(root: &Path, relative: &str, tree: &mut Tree) -> Result<(), String> {
    let directory = if relative.is_empty() {
        root.to_path_buf()
    } else {
        root.join(relative)
    };
    let entries = std::fs::read_dir(&directory)
        .map_err(|error| format!("read {}: {error}", directory.display()))?;
    for entry in entries {
        let entry = entry.map_err(|error| format!("read {}: {error}", directory.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = if relative.is_empty() {
            name
        } else {
            format!("{relative}/{name}")
        };
        let full = root.join(&path);
        let metadata = std::fs::symlink_metadata(&full)
            .map_err(|error| format!("stat {}: {error}", full.display()))?;
        if metadata.file_type().is_symlink() {
            let target = std::fs::read_link(&full)
                .map_err(|error| format!("readlink {}: {error}", full.display()))?;
            tree.insert(path, (MODE_SYMLINK, target.as_os_str().as_bytes().to_vec()));
        } else if metadata.is_dir() {
            walk(root, &path, tree)?;
        } else {
            let content = std::fs::read(&full)
                .map_err(|error| format!("read {}: {error}", full.display()))?;
            let mode = if metadata.permissions().mode() & 0o100 != 0 {
                MODE_EXECUTABLE
            } else {
                MODE_FILE
            };
            tree.insert(path, (mode, content));
        }
    }
    Ok(())
}

/// [`svn_tree`], returning an error instead of panicking.
pub fn try_svn_tree(url: &str) -> Result<Tree, String> {
    let directory = scratch("export");
    let output = Command::new("svn")
        .args([
            "export",
            "-q",
            "--non-interactive",
            "--ignore-externals",
            "--force",
        ])
        .arg(url)
        .arg(&directory)
        .env("LC_ALL", "C.UTF-8")
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("run svn export (install subversion): {error}"))?;
    let result = if output.status.success() {
        let mut tree = Tree::new();
        walk(&directory, "", &mut tree).map(|()| tree)
    } else {
        Err(format!(
            "svn export {url}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    };
    let _ = std::fs::remove_dir_all(&directory);
    result
}

/// The tree `svn export --ignore-externals URL` gives, for a URL with a peg revision
/// (`file:///…/trunk@12`): contents, exec bit, symlinks; empty directories dropped.
pub fn svn_tree(url: &str) -> Tree {
    try_svn_tree(url).unwrap_or_else(|error| panic!("{error}"))
}

fn git(git_dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let output = Command::new("git")
        .arg("--git-dir")
        .arg(git_dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("run git: {error}"))?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(format!(
            "git {args:?}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

fn git_text(git_dir: &Path, args: &[&str]) -> Result<String, String> {
    git(git_dir, args).map(|bytes| String::from_utf8_lossy(&bytes).trim_end().to_owned())
}

/// The contents of the given objects, read through one `git cat-file --batch`.
fn read_objects(git_dir: &Path, ids: &[String]) -> Result<Vec<Vec<u8>>, String> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut child = Command::new("git")
        .arg("--git-dir")
        .arg(git_dir)
        .args(["cat-file", "--batch"])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|error| format!("run git cat-file: {error}"))?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let request: Vec<u8> = ids
        .iter()
        .flat_map(|id| format!("{id}\n").into_bytes())
        .collect();
    let writer = std::thread::spawn(move || stdin.write_all(&request));
    let mut reader = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut contents = Vec::with_capacity(ids.len());
    for id in ids {
        let mut header = String::new();
        reader
            .read_line(&mut header)
            .map_err(|error| format!("read git cat-file: {error}"))?;
        let size: usize = header
            .split_whitespace()
            .nth(2)
            .and_then(|size| size.parse().ok())
            .ok_or_else(|| format!("git cat-file --batch, object {id}: {}", header.trim()))?;
        let mut content = vec![0; size + 1];
        reader
            .read_exact(&mut content)
            .map_err(|error| format!("read git cat-file: {error}"))?;
        content.pop();
        contents.push(content);
    }
    drop(reader);
    let _ = writer.join();
    let _ = child.wait();
    Ok(contents)
}

/// [`git_tree`], returning an error instead of panicking.
pub fn try_git_tree(git_dir: &Path, rev: &str) -> Result<Tree, String> {
    let listing = git(git_dir, &["ls-tree", "-r", "-z", "--full-tree", rev, "--"])?;
    let mut entries = Vec::new();
    for record in listing.split(|&byte| byte == 0).filter(|r| !r.is_empty()) {
        let record = String::from_utf8_lossy(record);
        let (meta, path) = record
            .split_once('\t')
            .ok_or_else(|| format!("git ls-tree: {record}"))?;
        let fields: Vec<&str> = meta.split(' ').collect();
        let [mode, kind, id] = fields[..] else {
            return Err(format!("git ls-tree: {record}"));
        };
        let mode = u32::from_str_radix(mode, 8).map_err(|_| format!("git ls-tree: {record}"))?;
        entries.push((path.to_owned(), mode, kind == "blob", id.to_owned()));
    }
    let blob_ids: Vec<String> = entries
        .iter()
        .filter(|entry| entry.2)
        .map(|entry| entry.3.clone())
        .collect();
    let mut blobs = read_objects(git_dir, &blob_ids)?.into_iter();
    let mut tree = Tree::new();
    for (path, mode, is_blob, id) in entries {
        let content = if is_blob {
            blobs.next().expect("one content per blob")
        } else {
            id.into_bytes()
        };
        tree.insert(path, (mode, content));
    }
    Ok(tree)
}

/// The tree of `rev` (a ref, commit, tag or tree) in the Git repository `git_dir`, from
/// `git ls-tree -r -z` and `git cat-file --batch`; gitlinks get their commit id as content.
pub fn git_tree(git_dir: &Path, rev: &str) -> Tree {
    try_git_tree(git_dir, rev).unwrap_or_else(|error| panic!("{error}"))
}

fn is_placeholder(path: &str) -> bool {
    PLACEHOLDERS.contains(&path.rsplit('/').next().unwrap_or(path))
}

fn describe(entry: &(u32, Vec<u8>)) -> String {
    let preview: String = String::from_utf8_lossy(&entry.1).chars().take(40).collect();
    format!("{:o} {} bytes {preview:?}", entry.0, entry.1.len())
}

/// The differences between an `svn export` tree and a Git tree, ignoring Git-side
/// `.gitignore`/`.gitkeep` files the Subversion side does not have. Empty when equal.
pub fn compare_trees(svn: &Tree, git: &Tree) -> Vec<String> {
    let mut differences = Vec::new();
    for (path, entry) in svn {
        match git.get(path) {
            None => differences.push(format!("missing in git: {path}")),
            Some(other) if other != entry => differences.push(format!(
                "{path}: svn {} but git {}",
                describe(entry),
                describe(other)
            )),
            Some(_) => {}
        }
    }
    for path in git.keys() {
        if !svn.contains_key(path) && !is_placeholder(path) {
            differences.push(format!("only in git: {path}"));
        }
    }
    differences
}

fn unescape(field: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buffer = [0; 4];
            out.extend(c.encode_utf8(&mut buffer).as_bytes());
            continue;
        }
        match chars.next() {
            Some('n') => out.push(b'\n'),
            Some('t') => out.push(b'\t'),
            Some('\\') => out.push(b'\\'),
            other => return Err(format!("bad escape \\{}", other.unwrap_or(' '))),
        }
    }
    Ok(out)
}

fn parse_revision(field: &str) -> Result<u32, String> {
    field
        .parse()
        .map_err(|_| format!("not a revision number: {field:?}"))
}

fn parse_svn_at(field: &str) -> Result<SvnAt, String> {
    let (path, revision) = field
        .rsplit_once('@')
        .ok_or_else(|| format!("not PATH@REV: {field:?}"))?;
    Ok(SvnAt {
        path: path.trim_matches('/').to_owned(),
        revision: parse_revision(revision)?,
    })
}

fn parse_mode(field: &str) -> Result<u32, String> {
    match field {
        "100644" | "100755" | "120000" | "160000" => {
            Ok(u32::from_str_radix(field, 8).expect("an octal literal"))
        }
        _ => Err(format!("not a Git file mode: {field:?}")),
    }
}

fn parse_line(fields: &[&str]) -> Result<Expectation, String> {
    let owned = |index: usize| fields[index].to_owned();
    let want = |count: usize| {
        if fields.len() == count {
            Ok(())
        } else {
            Err(format!(
                "{} takes {} fields, found {}",
                fields[0],
                count - 1,
                fields.len() - 1
            ))
        }
    };
    let expectation = match fields[0] {
        "tree" => {
            want(3)?;
            Expectation::Tree {
                git_ref: owned(1),
                svn: parse_svn_at(fields[2])?,
            }
        }
        "tree-at" => {
            want(4)?;
            Expectation::TreeAt {
                branch: owned(1),
                revision: parse_revision(fields[2])?,
                svn: parse_svn_at(fields[3])?,
            }
        }
        "ref" => {
            want(3)?;
            let exists = match fields[2] {
                "exists" => true,
                "absent" => false,
                other => return Err(format!("ref wants exists or absent, not {other:?}")),
            };
            Expectation::Ref {
                name: owned(1),
                exists,
            }
        }
        "tag-type" => {
            want(3)?;
            let annotated = match fields[2] {
                "annotated" => true,
                "lightweight" => false,
                other => {
                    return Err(format!(
                        "tag-type wants annotated or lightweight, not {other:?}"
                    ))
                }
            };
            Expectation::TagType {
                tag: owned(1),
                annotated,
            }
        }
        "tag-target" => {
            want(3)?;
            Expectation::TagTarget {
                tag: owned(1),
                svn: parse_svn_at(fields[2])?,
            }
        }
        "parents-at" => {
            want(4)?;
            Expectation::ParentsAt {
                branch: owned(1),
                revision: parse_revision(fields[2])?,
                count: fields[3]
                    .parse()
                    .map_err(|_| format!("not a parent count: {:?}", fields[3]))?,
            }
        }
        "merge-parent-at" => {
            want(4)?;
            Expectation::MergeParentAt {
                branch: owned(1),
                revision: parse_revision(fields[2])?,
                parent: parse_svn_at(fields[3])?,
            }
        }
        "mode" => {
            want(4)?;
            Expectation::Mode {
                git_ref: owned(1),
                path: owned(2),
                mode: parse_mode(fields[3])?,
            }
        }
        "mode-at" => {
            want(5)?;
            Expectation::ModeAt {
                branch: owned(1),
                revision: parse_revision(fields[2])?,
                path: owned(3),
                mode: parse_mode(fields[4])?,
            }
        }
        "gitignore" => {
            want(4)?;
            Expectation::Gitignore {
                git_ref: owned(1),
                path: owned(2),
                content: unescape(fields[3])?,
            }
        }
        "author-at" => {
            want(4)?;
            Expectation::AuthorAt {
                branch: owned(1),
                revision: parse_revision(fields[2])?,
                ident: owned(3),
            }
        }
        "message-at" => {
            want(4)?;
            let message = unescape(fields[3])?;
            Expectation::MessageAt {
                branch: owned(1),
                revision: parse_revision(fields[2])?,
                message: String::from_utf8(message).expect("unescaped UTF-8 stays UTF-8"),
            }
        }
        "ancestor" => {
            want(4)?;
            let expected = match fields[3] {
                "yes" => true,
                "no" => false,
                other => return Err(format!("ancestor wants yes or no, not {other:?}")),
            };
            Expectation::Ancestor {
                git_ref: owned(1),
                svn: parse_svn_at(fields[2])?,
                expected,
            }
        }
        "report" => {
            want(4)?;
            Expectation::Report {
                kind: owned(1),
                revision: parse_revision(fields[2])?,
                path: owned(3),
            }
        }
        other => return Err(format!("unknown kind {other:?}")),
    };
    Ok(expectation)
}

/// Parses an `expect.tsv` text: tab-separated fields, `#` comments and blank lines
/// skipped. Every bad line is an error (`line N: …`).
pub fn parse_expectations(text: &str) -> Result<Vec<Line>, Vec<String>> {
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() || raw.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = raw.split('\t').collect();
        match parse_line(&fields) {
            Ok(expectation) => lines.push(Line {
                number: index + 1,
                expectation,
            }),
            Err(error) => errors.push(format!("line {}: {error}", index + 1)),
        }
    }
    if errors.is_empty() {
        Ok(lines)
    } else {
        Err(errors)
    }
}

/// Reads and parses an `expect.tsv` file.
pub fn read_expectations(expect_tsv: &Path) -> Result<Vec<Line>, Vec<String>> {
    let text = std::fs::read_to_string(expect_tsv)
        .map_err(|error| vec![format!("read {}: {error}", expect_tsv.display())])?;
    parse_expectations(&text)
}

/// The commits `refs/notes/svn` annotates, by SVN path and revision, from notes holding
/// `svn-revision: N` and `svn-path: /PATH` lines.
#[derive(Debug, Default)]
pub struct NoteIndex {
    by_path: BTreeMap<String, BTreeMap<u32, String>>,
}

impl NoteIndex {
    /// Reads every note of `refs/notes/svn` (an empty index when the ref is missing).
    pub fn read(git_dir: &Path) -> Result<NoteIndex, String> {
        let mut index = NoteIndex::default();
        let Ok(listing) = git_text(git_dir, &["notes", "--ref=refs/notes/svn", "list"]) else {
            return Ok(index);
        };
        let pairs: Vec<(String, String)> = listing
            .lines()
            .filter_map(|line| line.split_once(' '))
            .map(|(note, commit)| (note.to_owned(), commit.to_owned()))
            .collect();
        let notes: Vec<String> = pairs.iter().map(|pair| pair.0.clone()).collect();
        let texts = read_objects(git_dir, &notes)?;
        for ((_, commit), text) in pairs.into_iter().zip(texts) {
            let text = String::from_utf8_lossy(&text);
            let field = |name: &str| {
                text.lines()
                    .filter_map(|line| line.trim().strip_prefix(name))
                    .map(|value| value.trim().to_owned())
                    .collect::<Vec<_>>()
            };
            let revisions: Vec<u32> = field("svn-revision:")
                .iter()
                .filter_map(|value| value.parse().ok())
                .collect();
            for path in field("svn-path:") {
                let path = format!("/{}", path.trim_matches('/'));
                for &revision in &revisions {
                    index
                        .by_path
                        .entry(path.clone())
                        .or_default()
                        .insert(revision, commit.clone());
                }
            }
        }
        Ok(index)
    }

    /// The commit made for `path` (`/trunk`) at exactly `revision`.
    pub fn at(&self, path: &str, revision: u32) -> Option<&str> {
        self.by_path.get(path)?.get(&revision).map(String::as_str)
    }

    /// The commit made for `path` at `revision` or, failing that, the last one before.
    pub fn at_or_before(&self, path: &str, revision: u32) -> Option<&str> {
        self.by_path
            .get(path)?
            .range(..=revision)
            .next_back()
            .map(|(_, commit)| commit.as_str())
    }
}

struct Checker<'a> {
    repo_dir: &'a Path,
    git_dir: &'a Path,
    uuid: String,
    notes: NoteIndex,
    refs: BTreeSet<String>,
    trees: HashMap<String, Result<Tree, String>>,
}

impl Checker<'_> {
    fn commit_at(&self, branch: &str, revision: u32) -> Result<String, String> {
        let path = branch_note_path(branch);
        self.notes
            .at(&path, revision)
            .map(str::to_owned)
            .ok_or_else(|| format!("no commit noted svn-revision: {revision}, svn-path: {path}"))
    }

    fn commit_at_or_before(&self, at: &SvnAt) -> Result<String, String> {
        self.notes
            .at_or_before(&at.note_path(), at.revision)
            .map(str::to_owned)
            .ok_or_else(|| {
                format!(
                    "no commit noted for {} at or before r{}",
                    at.note_path(),
                    at.revision
                )
            })
    }

    /// Fails with "REF is missing" for a `refs/…` name the repository lacks.
    fn require_ref(&self, rev: &str) -> Result<(), String> {
        if rev.starts_with("refs/") && !self.refs.contains(rev) {
            return Err(format!("{rev} is missing"));
        }
        Ok(())
    }

    fn tree(&mut self, rev: &str) -> Result<&Tree, String> {
        self.require_ref(rev)?;
        let git_dir = self.git_dir;
        self.trees
            .entry(rev.to_owned())
            .or_insert_with(|| try_git_tree(git_dir, rev))
            .as_ref()
            .map_err(Clone::clone)
    }

    fn compare(&mut self, rev: &str, svn: &SvnAt) -> Result<(), String> {
        let expected = try_svn_tree(&svn_url(self.repo_dir, svn))?;
        let differences = compare_trees(&expected, self.tree(rev)?);
        if differences.is_empty() {
            return Ok(());
        }
        let shown: Vec<&str> = differences.iter().take(8).map(String::as_str).collect();
        Err(format!(
            "tree differs from {}@{} ({} differences): {}",
            svn.path,
            svn.revision,
            differences.len(),
            shown.join("; ")
        ))
    }

    fn mode(&mut self, rev: &str, path: &str, mode: u32) -> Result<(), String> {
        match self.tree(rev)?.get(path) {
            Some((actual, _)) if *actual == mode => Ok(()),
            Some((actual, _)) => Err(format!("{path} has mode {actual:o}, not {mode:o}")),
            None => Err(format!("{path} is missing")),
        }
    }

    fn check(&mut self, expectation: &Expectation) -> Result<(), String> {
        match expectation {
            Expectation::Tree { git_ref, svn } => self.compare(git_ref, svn),
            Expectation::TreeAt {
                branch,
                revision,
                svn,
            } => {
                let commit = self.commit_at(branch, *revision)?;
                self.compare(&commit, svn)
            }
            Expectation::Ref { name, exists } => match (self.refs.contains(name), exists) {
                (true, false) => Err(format!("{name} exists")),
                (false, true) => Err(format!("{name} is missing")),
                _ => Ok(()),
            },
            Expectation::TagType { tag, annotated } => {
                let kind = git_text(
                    self.git_dir,
                    &["cat-file", "-t", &format!("refs/tags/{tag}")],
                )?;
                match (kind == "tag", annotated) {
                    (true, false) => Err(format!("tag {tag} is annotated")),
                    (false, true) => Err(format!("tag {tag} is not annotated ({kind})")),
                    _ => Ok(()),
                }
            }
            Expectation::TagTarget { tag, svn } => {
                let target = git_text(
                    self.git_dir,
                    &["rev-parse", &format!("refs/tags/{tag}^{{commit}}")],
                )?;
                let wanted = self.commit_at_or_before(svn)?;
                if target == wanted {
                    Ok(())
                } else {
                    Err(format!(
                        "tag {tag} points at {target}, not {wanted} ({}@{})",
                        svn.path, svn.revision
                    ))
                }
            }
            Expectation::ParentsAt {
                branch,
                revision,
                count,
            } => {
                let commit = self.commit_at(branch, *revision)?;
                let parents = git_text(self.git_dir, &["log", "-1", "--format=%P", &commit])?;
                let actual = parents.split_whitespace().count();
                if actual == *count {
                    Ok(())
                } else {
                    Err(format!("{commit} has {actual} parents, not {count}"))
                }
            }
            Expectation::MergeParentAt {
                branch,
                revision,
                parent,
            } => {
                let commit = self.commit_at(branch, *revision)?;
                let parents = git_text(self.git_dir, &["log", "-1", "--format=%P", &commit])?;
                let wanted = self.commit_at_or_before(parent)?;
                match parents.split_whitespace().nth(1) {
                    Some(second) if second == wanted => Ok(()),
                    Some(second) => Err(format!(
                        "second parent of {commit} is {second}, not {wanted} ({}@{})",
                        parent.path, parent.revision
                    )),
                    None => Err(format!("{commit} has no second parent")),
                }
            }
            Expectation::Mode {
                git_ref,
                path,
                mode,
            } => self.mode(git_ref, path, *mode),
            Expectation::ModeAt {
                branch,
                revision,
                path,
                mode,
            } => {
                let commit = self.commit_at(branch, *revision)?;
                self.mode(&commit, path, *mode)
            }
            Expectation::Gitignore {
                git_ref,
                path,
                content,
            } => match self.tree(git_ref)?.get(path) {
                Some((_, actual)) if actual == content => Ok(()),
                Some((_, actual)) => Err(format!(
                    "{path} holds {:?}, not {:?}",
                    String::from_utf8_lossy(actual),
                    String::from_utf8_lossy(content)
                )),
                None => Err(format!("{path} is missing")),
            },
            Expectation::AuthorAt {
                branch,
                revision,
                ident,
            } => {
                let commit = self.commit_at(branch, *revision)?;
                let actual = git_text(self.git_dir, &["log", "-1", "--format=%an <%ae>", &commit])?;
                let wanted = ident.replace("UUID", &self.uuid);
                if actual == wanted {
                    Ok(())
                } else {
                    Err(format!("author of {commit} is {actual:?}, not {wanted:?}"))
                }
            }
            Expectation::MessageAt {
                branch,
                revision,
                message,
            } => {
                let commit = self.commit_at(branch, *revision)?;
                let actual = git_text(self.git_dir, &["log", "-1", "--format=%B", &commit])?;
                if actual.trim_end_matches('\n') == message.trim_end_matches('\n') {
                    Ok(())
                } else {
                    Err(format!(
                        "message of {commit} is {actual:?}, not {message:?}"
                    ))
                }
            }
            Expectation::Ancestor {
                git_ref,
                svn,
                expected,
            } => {
                self.require_ref(git_ref)?;
                let commit = self.commit_at_or_before(svn)?;
                let status = Command::new("git")
                    .arg("--git-dir")
                    .arg(self.git_dir)
                    .args(["merge-base", "--is-ancestor", &commit, git_ref])
                    .env("GIT_CONFIG_NOSYSTEM", "1")
                    .env("GIT_CONFIG_GLOBAL", "/dev/null")
                    .status()
                    .map_err(|error| format!("run git merge-base: {error}"))?;
                let actual = match status.code() {
                    Some(0) => true,
                    Some(1) => false,
                    _ => {
                        return Err(format!(
                            "git merge-base --is-ancestor {commit} {git_ref} failed"
                        ))
                    }
                };
                match (actual, expected) {
                    (false, true) => Err(format!(
                        "{commit} ({}@{}) is not in the history of {git_ref}",
                        svn.path, svn.revision
                    )),
                    (true, false) => Err(format!(
                        "{commit} ({}@{}) is in the history of {git_ref}",
                        svn.path, svn.revision
                    )),
                    _ => Ok(()),
                }
            }
            Expectation::Report { .. } => Ok(()),
        }
    }
}

/// The repository UUID, from `svnlook uuid`.
pub fn repository_uuid(repo_dir: &Path) -> Result<String, String> {
    let output = Command::new("svnlook")
        .arg("uuid")
        .arg(repo_dir)
        .output()
        .map_err(|error| format!("run svnlook (install subversion): {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "svnlook uuid {}: {}",
            repo_dir.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Checks parsed lines against the converted Git repository `git_dir` of the Subversion
/// repository `repo_dir`. Returns one message per failed line (`line N: …`).
pub fn check_lines(repo_dir: &Path, git_dir: &Path, lines: &[Line]) -> Vec<String> {
    let setup = || -> Result<Checker<'_>, String> {
        let refs = git_text(git_dir, &["for-each-ref", "--format=%(refname)"])?
            .lines()
            .map(str::to_owned)
            .collect();
        Ok(Checker {
            repo_dir,
            git_dir,
            uuid: repository_uuid(repo_dir)?,
            notes: NoteIndex::read(git_dir)?,
            refs,
            trees: HashMap::new(),
        })
    };
    let mut checker = match setup() {
        Ok(checker) => checker,
        Err(error) => return vec![error],
    };
    lines
        .iter()
        .filter_map(|line| {
            checker
                .check(&line.expectation)
                .err()
                .map(|error| format!("line {}: {error}", line.number))
        })
        .collect()
}

/// Checks every line of `expect_tsv` but the `report` ones (see [`check_report`])
/// against the converted bare Git repository `git_dir` of the Subversion repository
/// `repo_dir`. Returns the failures, one per line, so a test can print them all.
pub fn check_expectations(repo_dir: &Path, git_dir: &Path, expect_tsv: &Path) -> Vec<String> {
    match read_expectations(expect_tsv) {
        Ok(lines) => check_lines(repo_dir, git_dir, &lines),
        Err(errors) => errors,
    }
}

/// Checks the `report` lines of `expect_tsv` against the entries a conversion reported:
/// each needs an entry of that kind, revision (`37` or `r37`) and path (leading slash
/// optional). Returns the failures.
pub fn check_report(expect_tsv: &Path, reported: &[Reported]) -> Vec<String> {
    let lines = match read_expectations(expect_tsv) {
        Ok(lines) => lines,
        Err(errors) => return errors,
    };
    let normal_path = |path: &str| path.trim_matches('/').to_owned();
    lines
        .iter()
        .filter_map(|line| {
            let Expectation::Report {
                kind,
                revision,
                path,
            } = &line.expectation
            else {
                return None;
            };
            let found = reported.iter().any(|entry| {
                entry.kind == *kind
                    && entry
                        .revision
                        .as_deref()
                        .is_some_and(|r| r.trim_start_matches('r') == revision.to_string())
                    && entry
                        .path
                        .as_deref()
                        .is_some_and(|p| normal_path(p) == normal_path(path))
            });
            (!found).then(|| {
                format!(
                    "line {}: no {kind} report entry for r{revision} {path}",
                    line.number
                )
            })
        })
        .collect()
}
