//! Shared helpers for the integration tests: fixture repositories built
//! once with the real `hg` (here) and `svn` ([`svn_oracle`]) CLIs and cached
//! under `fixtures/.cache/`.

#![allow(dead_code)]

pub mod svn_oracle;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// A fixture variant: a name and the `hg init` options that select its
/// store format.
pub struct Variant {
    pub name: &'static str,
    pub init_options: &'static [&'static str],
}

pub const VARIANTS: &[Variant] = &[
    Variant {
        name: "default",
        init_options: &[],
    },
    Variant {
        name: "zlib",
        init_options: &["--config", "format.revlog-compression=zlib"],
    },
    Variant {
        name: "no-share-safe",
        init_options: &["--config", "format.use-share-safe=false"],
    },
    Variant {
        name: "no-generaldelta",
        init_options: &[
            "--config",
            "format.generaldelta=false",
            "--config",
            "format.usegeneraldelta=false",
            "--config",
            "format.sparse-revlog=false",
        ],
    },
    Variant {
        name: "no-dotencode",
        init_options: &["--config", "format.dotencode=false"],
    },
    Variant {
        name: "no-fncache",
        init_options: &["--config", "format.usefncache=false"],
    },
];

/// The directory holding `fixtures/hg`, found by walking up from this
/// crate's manifest directory.
pub fn project_root() -> PathBuf {
    let mut directory = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    loop {
        if directory.join("fixtures/hg").is_dir() {
            return directory;
        }
        assert!(
            directory.pop(),
            "no fixtures/hg above {}",
            env!("CARGO_MANIFEST_DIR")
        );
    }
}

fn fixture_scripts_dir() -> PathBuf {
    project_root().join("fixtures/hg")
}

/// Runs `hg` hermetically in `repo` and returns its standard output.
pub fn hg(repo: &Path, args: &[&str]) -> Vec<u8> {
    let output = Command::new("hg")
        .args(args)
        .current_dir(repo)
        .env("HGRCPATH", "/dev/null")
        .env("HGPLAIN", "1")
        .env("HGENCODING", "utf-8")
        .env("LC_ALL", "C")
        .output()
        .expect("run hg (install mercurial)");
    assert!(
        output.status.success(),
        "hg {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn cache_key(variant: &Variant) -> String {
    let scripts = fixture_scripts_dir();
    let mut key = Vec::new();
    for script in ["make-revlog-fixture.sh", "raw-bytes-commit.py"] {
        key.extend(std::fs::read(scripts.join(script)).expect("read fixture script"));
    }
    key.extend(variant.init_options.join(" ").into_bytes());
    // FNV-1a: enough to notice that a script or the options changed.
    let hash = key.iter().fold(0xcbf2_9ce4_8422_2325u64, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

fn build_fixture(variant: &Variant) -> PathBuf {
    let cache = project_root().join("fixtures/.cache/hg-revlog");
    let target = cache.join(variant.name);
    let stamp = target.join("stamp");
    let key = cache_key(variant);
    if std::fs::read_to_string(&stamp).is_ok_and(|existing| existing == key) {
        return target.join("repo");
    }
    let staging = cache.join(format!("{}.building-{}", variant.name, std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    let status = Command::new("bash")
        .arg(fixture_scripts_dir().join("make-revlog-fixture.sh"))
        .arg(&staging)
        .args(variant.init_options)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run make-revlog-fixture.sh");
    assert!(
        status.success(),
        "fixture script failed for {}",
        variant.name
    );
    std::fs::write(staging.join("stamp"), &key).expect("write stamp");
    let _ = std::fs::remove_dir_all(&target);
    if std::fs::rename(&staging, &target).is_err() {
        // Another test process finished the same fixture first.
        let _ = std::fs::remove_dir_all(&staging);
    }
    target.join("repo")
}

/// The repository of fixture `name`, built on first use.
pub fn fixture(name: &str) -> &'static Path {
    static BUILT: [OnceLock<PathBuf>; 6] = [const { OnceLock::new() }; 6];
    let index = VARIANTS
        .iter()
        .position(|variant| variant.name == name)
        .unwrap_or_else(|| panic!("unknown fixture {name}"));
    BUILT[index].get_or_init(|| build_fixture(&VARIANTS[index]))
}

/// How `hg` shows stored bytes in templates: UTF-8 as is, anything else
/// decoded as Latin-1.
pub fn as_hg_displays(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.iter().map(|&byte| char::from(byte)).collect(),
    }
}

/// Copies a directory tree (regular files and directories only).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create copy target");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let file_type = entry.file_type().expect("file type");
        let destination = to.join(entry.file_name());
        if file_type.is_dir() {
            copy_tree(&entry.path(), &destination);
        } else if file_type.is_file() {
            std::fs::copy(entry.path(), &destination).expect("copy file");
        }
    }
}

/// A fresh scratch directory for one test.
pub fn scratch_dir(name: &str) -> PathBuf {
    let directory = std::env::temp_dir().join(format!("hg-revlog-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&directory);
    std::fs::create_dir_all(&directory).expect("create scratch dir");
    directory
}
