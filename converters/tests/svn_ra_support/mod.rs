//! Helpers for the RA reader tests: the test repository, a model sink that rebuilds every
//! file text and property, a dump-to-sink adapter, svn CLI oracles and an svnserve guard.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Cursor, Read};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use srcimport_converters::svn::dump::{apply_svndiff, DumpReader, Record};
use srcimport_converters::svn::events::{
    NodeAction, NodeChange, NodeKind, PropChange, Properties, RevisionSink, TextForm,
};

/// Runs a svn CLI tool (never touching `~/.subversion`) and returns its stdout.
pub fn run(tool: &str, args: &[&str]) -> Vec<u8> {
    let mut command = Command::new(tool);
    command.env("LC_ALL", "C.UTF-8");
    if tool == "svn" {
        command.arg("--config-dir").arg(work_dir().join("config"));
        command.arg("--non-interactive");
    }
    let output = command
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("{tool} not runnable (install subversion): {error}"));
    assert!(
        output.status.success(),
        "{tool} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Where the test repository is made: once per version of `make-repo.sh`, shared by the
/// test processes (built under a temporary name, then renamed into place).
fn work_dir() -> &'static Path {
    static WORK: OnceLock<PathBuf> = OnceLock::new();
    WORK.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/svn-ra/make-repo.sh");
        let text = std::fs::read(&script).expect("read make-repo.sh");
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        std::hash::Hash::hash(&text, &mut hasher);
        let key = std::hash::Hasher::finish(&hasher);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("svn-ra-{key:016x}"));
        if dir.join("repo").is_dir() {
            return dir;
        }
        let building = dir.with_extension(format!("building-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&building);
        let status = Command::new("sh")
            .arg(&script)
            .arg(&building)
            .stdout(Stdio::null())
            .status()
            .expect("run make-repo.sh (needs the subversion package)");
        assert!(status.success(), "make-repo.sh failed");
        if std::fs::rename(&building, &dir).is_err() {
            // Another test process finished first.
            let _ = std::fs::remove_dir_all(&building);
            assert!(
                dir.join("repo").is_dir(),
                "no test repository at {}",
                dir.display()
            );
        }
        dir
    })
}

/// The test repository's directory.
pub fn repository() -> PathBuf {
    work_dir().join("repo")
}

pub fn file_url() -> String {
    format!("file://{}", repository().display())
}

/// One node as compared between readers: path, action, kind and copy source.
pub type NodeKey = (String, NodeAction, Option<NodeKind>, Option<(u64, String)>);

/// The tree the model holds at a point in time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    pub files: BTreeMap<String, Vec<u8>>,
    pub dirs: BTreeSet<String>,
    pub props: BTreeMap<String, BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl Tree {
    fn remove(&mut self, path: &str) {
        let inside = |key: &str| key == path || key.starts_with(&format!("{path}/"));
        self.files.retain(|key, _| !inside(key));
        self.dirs.retain(|key| !inside(key));
        self.props.retain(|key, _| !inside(key));
    }

    fn copy(&mut self, source: &Tree, from: &str, to: &str) {
        let map = |key: &str| -> Option<String> {
            if key == from {
                Some(to.to_owned())
            } else {
                key.strip_prefix(&format!("{from}/"))
                    .map(|rest| format!("{to}/{rest}"))
            }
        };
        for (key, text) in &source.files {
            if let Some(target) = map(key) {
                self.files.insert(target, text.clone());
            }
        }
        for key in &source.dirs {
            if let Some(target) = map(key) {
                self.dirs.insert(target);
            }
        }
        for (key, props) in &source.props {
            if let Some(target) = map(key) {
                self.props.insert(target, props.clone());
            }
        }
    }
}

/// A sink that rebuilds the repository: every file text (applying deltas), every property,
/// and a snapshot per revision (for copy sources).
#[derive(Debug, Default)]
pub struct ModelSink {
    pub revisions: Vec<(u64, Properties)>,
    /// Per revision, its nodes (a `Replace` counted as `Delete` then `Add`).
    pub nodes: BTreeMap<u64, Vec<NodeKey>>,
    pub tree: Tree,
    pub snapshots: BTreeMap<u64, Tree>,
    pub delta_texts: usize,
    pub full_texts: usize,
    current: Option<u64>,
}

impl RevisionSink for ModelSink {
    type Error = String;

    fn begin_revision(&mut self, number: u64, properties: &Properties) -> Result<(), String> {
        if self.current.is_some() {
            return Err(format!("r{number} begins inside another revision"));
        }
        let mut properties = properties.clone();
        properties.sort();
        self.revisions.push((number, properties));
        self.nodes.entry(number).or_default();
        self.current = Some(number);
        Ok(())
    }

    fn node(&mut self, node: &NodeChange, text: Option<&mut dyn Read>) -> Result<(), String> {
        let revision = self.current.ok_or("node outside a revision")?;
        if node.text.is_some() != text.is_some() {
            return Err(format!("{}: text and text form disagree", node.path));
        }
        let copy = node
            .copy_from
            .as_ref()
            .map(|copy| (copy.revision, copy.path.clone()));
        let nodes = self.nodes.entry(revision).or_default();
        if node.action == NodeAction::Replace {
            nodes.push((node.path.clone(), NodeAction::Delete, None, None));
            nodes.push((node.path.clone(), NodeAction::Add, node.kind, copy));
        } else {
            nodes.push((node.path.clone(), node.action, node.kind, copy));
        }
        let path = node.path.as_str();
        if matches!(node.action, NodeAction::Delete | NodeAction::Replace) {
            self.tree.remove(path);
        }
        if node.action == NodeAction::Delete {
            return Ok(());
        }
        if let Some(copy) = &node.copy_from {
            let source = self
                .snapshots
                .get(&copy.revision)
                .ok_or_else(|| format!("{path}: copy from unknown r{}", copy.revision))?
                .clone();
            self.tree.copy(&source, &copy.path, path);
        } else if matches!(node.action, NodeAction::Add | NodeAction::Replace) {
            match node.kind {
                Some(NodeKind::Dir) => {
                    self.tree.dirs.insert(path.to_owned());
                }
                Some(NodeKind::File) => {
                    self.tree.files.insert(path.to_owned(), Vec::new());
                }
                None => return Err(format!("{path}: add without a kind")),
            }
        }
        match &node.props {
            PropChange::Unchanged => {}
            PropChange::Replace(list) => {
                let props = self.tree.props.entry(path.to_owned()).or_default();
                props.clear();
                apply_props(props, list);
            }
            PropChange::Delta(list) => {
                apply_props(self.tree.props.entry(path.to_owned()).or_default(), list);
            }
        }
        if self.tree.props.get(path).is_some_and(BTreeMap::is_empty) {
            self.tree.props.remove(path);
        }
        if let (Some(form), Some(text)) = (node.text, text) {
            let mut out = Vec::new();
            match form {
                TextForm::Delta => {
                    self.delta_texts += 1;
                    let base = self.tree.files.get(path).cloned().unwrap_or_default();
                    apply_svndiff(BufReader::new(text), Cursor::new(base), &mut out)
                        .map_err(|error| format!("{path} in r{revision}: {error}"))?;
                }
                TextForm::Full { length } => {
                    self.full_texts += 1;
                    text.read_to_end(&mut out)
                        .map_err(|error| error.to_string())?;
                    if out.len() as u64 != length {
                        return Err(format!("{path}: text length"));
                    }
                }
            }
            self.tree.files.insert(path.to_owned(), out);
        }
        Ok(())
    }

    fn end_revision(&mut self) -> Result<(), String> {
        let revision = self.current.take().ok_or("end outside a revision")?;
        self.snapshots.insert(revision, self.tree.clone());
        Ok(())
    }
}

fn apply_props(props: &mut BTreeMap<Vec<u8>, Vec<u8>>, list: &Properties) {
    for (name, value) in list {
        match value {
            Some(value) => {
                props.insert(name.clone(), value.clone());
            }
            None => {
                props.remove(name);
            }
        }
    }
}

/// Feeds a dump (`svnadmin dump` / `svnrdump dump` output) into a sink, as the RA reader
/// would.
pub fn dump_into_sink(input: impl BufRead, sink: &mut ModelSink) -> Result<(), String> {
    let mut reader = DumpReader::new(input);
    let mut open = false;
    while let Some(record) = reader.next_record().map_err(|error| error.to_string())? {
        match record {
            Record::FormatVersion { .. } | Record::Uuid { .. } => {}
            Record::Revision(revision) => {
                if open {
                    sink.end_revision()?;
                }
                sink.begin_revision(revision.number, &revision.properties)?;
                open = true;
            }
            Record::Node(mut node) => {
                let header = &node.header;
                let props = match node.properties.take() {
                    None => PropChange::Unchanged,
                    Some(list) if header.prop_delta => PropChange::Delta(list),
                    Some(list) => PropChange::Replace(list),
                };
                let text_form = node.text.as_ref().map(|text| {
                    if header.text_delta {
                        TextForm::Delta
                    } else {
                        TextForm::Full { length: text.len() }
                    }
                });
                let change = NodeChange {
                    path: header.path.trim_matches('/').to_owned(),
                    kind: header.kind,
                    action: header.action,
                    copy_from: header.copy_from.clone().map(|mut copy| {
                        copy.path = copy.path.trim_matches('/').to_owned();
                        copy
                    }),
                    props,
                    text: text_form,
                    offset: Some(header.offset),
                };
                match node.text.as_mut() {
                    Some(text) => sink.node(&change, Some(text))?,
                    None => sink.node(&change, None)?,
                }
            }
        }
    }
    if open {
        sink.end_revision()?;
    }
    Ok(())
}

/// Compares the nodes of two readers revision by revision: the same non-delete nodes in the
/// same order, and the same deletions (svnrdump writes a directory's deletions when it
/// closes the directory, the editor drives them where they happen).
pub fn assert_same_nodes(ours: &ModelSink, theirs: &ModelSink, what: &str) {
    let revisions = |sink: &ModelSink| sink.nodes.keys().copied().collect::<Vec<_>>();
    assert_eq!(revisions(ours), revisions(theirs), "{what}: revisions");
    for (revision, our_nodes) in &ours.nodes {
        let their_nodes = &theirs.nodes[revision];
        let split = |nodes: &Vec<NodeKey>| {
            let (mut deletes, others): (Vec<NodeKey>, Vec<NodeKey>) = nodes
                .iter()
                .cloned()
                .partition(|node| node.1 == NodeAction::Delete);
            deletes.sort_by(|a, b| a.0.cmp(&b.0));
            (deletes, others)
        };
        assert_eq!(
            split(our_nodes),
            split(their_nodes),
            "{what}: nodes of r{revision}\nours:   {our_nodes:?}\ntheirs: {their_nodes:?}"
        );
    }
}

/// Every file at HEAD with its text, as `svn ls -R` and `svn cat` give them.
pub fn svn_cat_all(url: &str) -> BTreeMap<String, Vec<u8>> {
    let listing = String::from_utf8(run("svn", &["ls", "-R", url])).expect("utf-8 listing");
    listing
        .lines()
        .filter(|line| !line.ends_with('/'))
        .map(|path| {
            let text = run("svn", &["cat", &format!("{url}/{}", uri_encode(path))]);
            (path.to_owned(), text)
        })
        .collect()
}

/// Escapes a repository path for a URL (everything but unreserved characters and `/`).
fn uri_encode(path: &str) -> String {
    path.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

/// `(revision, author, message)` of every revision, from `svn log --xml`.
pub fn svn_log(url: &str) -> Vec<(u64, Option<String>, Option<String>)> {
    let xml = String::from_utf8(run("svn", &["log", "--xml", "-r", "0:HEAD", url])).unwrap();
    let element = |entry: &str, name: &str| {
        let start = entry.find(&format!("<{name}>"))? + name.len() + 2;
        let end = entry[start..].find(&format!("</{name}>"))? + start;
        Some(entry[start..end].to_owned())
    };
    xml.split("<logentry")
        .skip(1)
        .map(|entry| {
            let start = entry.find("revision=\"").unwrap() + 10;
            let end = entry[start..].find('"').unwrap() + start;
            (
                entry[start..end].parse().unwrap(),
                element(entry, "author"),
                element(entry, "msg"),
            )
        })
        .collect()
}

/// An `svnserve -d` on 127.0.0.1 serving the test repository's parent directory with
/// password authentication, killed on drop.
pub struct Svnserve {
    child: Child,
    pub port: u16,
    _config: tempfile::TempDir,
}

pub const USER: &str = "reader";
pub const PASSWORD: &str = "s3cret-pass";

impl Svnserve {
    pub fn start() -> Svnserve {
        let root = work_dir().to_path_buf();
        let mut config_dir = tempfile::tempdir().unwrap();
        let passwd = config_dir.path().join("passwd");
        std::fs::write(&passwd, format!("[users]\n{USER} = {PASSWORD}\n")).unwrap();
        let config = config_dir.path().join("svnserve.conf");
        std::fs::write(
            &config,
            format!(
                "[general]\nanon-access = none\nauth-access = write\npassword-db = {}\nrealm = srcimport-test\n",
                passwd.display()
            ),
        )
        .unwrap();
        for _attempt in 0..10 {
            let port = {
                let listener = TcpListener::bind("127.0.0.1:0").unwrap();
                listener.local_addr().unwrap().port()
            };
            let child = Command::new("svnserve")
                .args([
                    "-d",
                    "--foreground",
                    "--listen-host",
                    "127.0.0.1",
                    "--listen-port",
                ])
                .arg(port.to_string())
                .arg("-r")
                .arg(&root)
                .arg("--config-file")
                .arg(&config)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start svnserve (install subversion)");
            let mut server = Svnserve {
                child,
                port,
                _config: config_dir,
            };
            if wait_until_listening(&mut server.child, port) {
                return server;
            }
            config_dir = std::mem::replace(&mut server._config, tempfile::tempdir().unwrap());
        }
        panic!("svnserve did not start on any port");
    }

    pub fn url(&self) -> String {
        format!("svn://127.0.0.1:{}/repo", self.port)
    }
}

impl Drop for Svnserve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Apache httpd with mod_dav_svn serving the test repository's directory over http with
/// Basic authentication (single process, `-X`), killed on drop. `None` when Apache or
/// mod_dav_svn is not installed.
pub struct Apache {
    child: Child,
    pub port: u16,
    _config: tempfile::TempDir,
}

const APACHE: &str = "/usr/sbin/apache2";
const APACHE_MODULES: &str = "/usr/lib/apache2/modules";

impl Apache {
    pub fn start() -> Option<Apache> {
        if !Path::new(APACHE).exists() || !Path::new(APACHE_MODULES).join("mod_dav_svn.so").exists()
        {
            return None;
        }
        let root = work_dir().to_path_buf();
        for _attempt in 0..10 {
            let config_dir = tempfile::tempdir().unwrap();
            let dir = config_dir.path();
            let passwd = dir.join("passwd");
            let hash = run("htpasswd", &["-nbB", USER, PASSWORD]);
            std::fs::write(&passwd, hash).unwrap();
            let port = {
                let listener = TcpListener::bind("127.0.0.1:0").unwrap();
                listener.local_addr().unwrap().port()
            };
            let modules = [
                ("mpm_event_module", "mod_mpm_event.so"),
                ("authn_core_module", "mod_authn_core.so"),
                ("authn_file_module", "mod_authn_file.so"),
                ("authz_core_module", "mod_authz_core.so"),
                ("authz_user_module", "mod_authz_user.so"),
                ("auth_basic_module", "mod_auth_basic.so"),
                ("dav_module", "mod_dav.so"),
                ("dav_svn_module", "mod_dav_svn.so"),
            ]
            .iter()
            .map(|(name, file)| format!("LoadModule {name} {APACHE_MODULES}/{file}\n"))
            .collect::<String>();
            let config = format!(
                "ServerRoot {dir}\nDefaultRuntimeDir {dir}\nPidFile {dir}/httpd.pid\n\
                 Listen 127.0.0.1:{port}\nServerName 127.0.0.1\nErrorLog {dir}/error.log\n\
                 Mutex file:{dir}\n{modules}\
                 <Location /svn>\n  DAV svn\n  SVNParentPath {root}\n  AuthType Basic\n\
                 AuthName \"srcimport test\"\n  AuthUserFile {passwd}\n  Require valid-user\n\
                 </Location>\n",
                dir = dir.display(),
                root = root.display(),
                passwd = passwd.display(),
            );
            let config_file = dir.join("httpd.conf");
            std::fs::write(&config_file, config).unwrap();
            let child = Command::new(APACHE)
                .arg("-X")
                .arg("-f")
                .arg(&config_file)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start apache2");
            let mut server = Apache {
                child,
                port,
                _config: config_dir,
            };
            if wait_until_listening(&mut server.child, port) {
                return Some(server);
            }
        }
        panic!("apache2 did not start on any port");
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/svn/repo", self.port)
    }
}

impl Drop for Apache {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls until a server accepts connections on `port`; false if it exited (port taken).
fn wait_until_listening(child: &mut Child, port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        // A readiness poll, not a timing assumption: retried until the port answers.
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("the server did not listen on port {port} within 20 s");
}
