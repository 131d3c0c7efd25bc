//! The TFVC fixture server (`fixtures/tfvc-server`, the project's one stand-in) for tests:
//! built once per test process, started on 127.0.0.1 with an OS-chosen port, killed on
//! drop; plus an oracle reading what the server says a path holds at a changeset.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use serde_json::Value;
use sha1::{Digest, Sha1};

/// The workspace root (the directory holding `fixtures/tfvc`).
pub fn workspace_root() -> PathBuf {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    while !dir.join("fixtures/tfvc").is_dir() {
        assert!(dir.pop(), "no fixtures/tfvc above the manifest");
    }
    dir
}

/// A history from `fixtures/tfvc/NAME.json`.
pub fn history(name: &str) -> Value {
    let path = workspace_root().join(format!("fixtures/tfvc/{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture history")).expect("JSON")
}

/// The fixture server binary, built (or found up to date) once per process.
fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        // The test runs from <target>/<profile>/deps/; the server lands in <target>/debug.
        let exe = std::env::current_exe().expect("test executable");
        let target = exe
            .ancestors()
            .nth(3)
            .expect("target directory above the test executable")
            .to_owned();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args([
                "build",
                "--quiet",
                "-p",
                "tfvc-fixture-server",
                "--target-dir",
            ])
            .arg(&target)
            .current_dir(workspace_root())
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building tfvc-fixture-server");
        target.join("debug/tfvc-fixture-server")
    })
}

/// A synthetic history from `tfvc-fixture-server generate` (project `Bench`: Main and
/// Dev, edits/adds/renames/deletes, merges, labels).
pub fn generated(changesets: u32, label_every: u32) -> Value {
    let out = Command::new(binary())
        .args(["generate", "--changesets", &changesets.to_string()])
        .args(["--label-every", &label_every.to_string()])
        .output()
        .expect("generate runs");
    assert!(out.status.success(), "generate");
    serde_json::from_slice(&out.stdout).expect("generated JSON")
}

/// A running fixture server, killed on drop.
pub struct Fixture {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The collection URL.
    pub collection: String,
    _dir: tempfile::TempDir,
}

impl Fixture {
    /// Serves `history` with extra command-line `args` (`--latency-ms`, `--pat`, ...).
    pub fn start(history: &Value, args: &[&str]) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("history.json");
        std::fs::write(&path, serde_json::to_vec(history).expect("JSON")).expect("history file");
        let mut child = Command::new(binary())
            .arg("--history")
            .arg(&path)
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("fixture server starts");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut stderr = child.stderr.take().expect("stderr");
        let Some(Ok(first)) = lines.next() else {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
            panic!("the fixture server did not start: {text}");
        };
        std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
        let base = first
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .trim()
            .to_owned();
        std::thread::spawn(move || for _ in lines {});
        let collection_name = history["collection"]
            .as_str()
            .unwrap_or("DefaultCollection");
        Fixture {
            child,
            collection: format!("{base}/{collection_name}"),
            base,
            _dir: dir,
        }
    }

    /// Serves `history` from now on (`PUT /_fixture/history`).
    pub fn replace_history(&self, history: &Value) {
        let answer = ureq::put(&format!("{}/_fixture/history", self.base))
            .send_string(&history.to_string())
            .expect("the fixture takes the new history");
        assert_eq!(answer.status(), 204);
    }

    /// `/_fixture/stats`.
    pub fn stats(&self) -> Value {
        ureq::get(&format!("{}/_fixture/stats", self.base))
            .call()
            .expect("stats")
            .into_json()
            .expect("stats JSON")
    }

    /// Every file below `path` at `changeset` (paths relative to `path`) with its Git blob
    /// id, as the server lists and serves them; `auth` is a Basic header value if needed.
    pub fn files_at(
        &self,
        project: &str,
        path: &str,
        changeset: u64,
        auth: Option<&str>,
    ) -> BTreeMap<String, String> {
        let get = |url: &str| {
            let mut request = ureq::get(url);
            if let Some(auth) = auth {
                request = request.set("Authorization", auth);
            }
            request.call().unwrap_or_else(|e| panic!("{url}: {e}"))
        };
        let items_url = format!("{}/{project}/_apis/tfvc/items", self.collection);
        let listing: Value = get(&format!(
            "{items_url}?scopePath={}&recursionLevel=Full&versionDescriptor.version={changeset}&versionDescriptor.versionType=changeset",
            encode(path)
        ))
        .into_json()
        .expect("listing");
        let mut files = BTreeMap::new();
        for item in listing["value"].as_array().expect("value") {
            if item["isFolder"].as_bool().unwrap_or(false) {
                continue;
            }
            let item_path = item["path"].as_str().expect("path");
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(
                &mut get(&format!(
                    "{items_url}?path={}&versionDescriptor.version={changeset}&versionDescriptor.versionType=changeset&download=true",
                    encode(item_path)
                ))
                .into_reader(),
                &mut bytes,
            )
            .expect("content");
            let rel = item_path[path.len() + 1..].to_owned();
            files.insert(rel, blob_id(&bytes));
        }
        files
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Git's blob id of `bytes`.
pub fn blob_id(bytes: &[u8]) -> String {
    let mut hasher = Sha1::new();
    hasher.update(format!("blob {}\0", bytes.len()).as_bytes());
    hasher.update(bytes);
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Percent-encodes a query value.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' | b'$' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Every file of a Git tree-ish with its blob id (`git ls-tree -r`).
pub fn git_files(git_dir: &Path, treeish: &str) -> BTreeMap<String, String> {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(git_dir)
        .args(["-c", "core.quotePath=false", "ls-tree", "-r", "-z", treeish])
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "ls-tree {treeish}");
    out.stdout
        .split(|b| *b == 0)
        .filter(|r| !r.is_empty())
        .map(|record| {
            let text = String::from_utf8_lossy(record);
            let (meta, path) = text.split_once('\t').expect("ls-tree record");
            let oid = meta.split(' ').nth(2).expect("oid").to_owned();
            (path.to_owned(), oid)
        })
        .collect()
}
