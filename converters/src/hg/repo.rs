//! Opening a repository: requirements, store location, the three revlog kinds.

use std::path::{Path, PathBuf};

use super::changelog::Changelog;
use super::error::{Result, RevlogError};
use super::filelog::Filelog;
use super::manifest::ManifestLog;
use super::requirements::Requirements;
use super::revlog::Revlog;
use super::store_path::{filelog_store_path, RevlogFile, StoreLayout};

/// A Mercurial repository opened for reading.
#[derive(Debug)]
pub struct Repository {
    root: PathBuf,
    store: PathBuf,
    requirements: Requirements,
    changelog: Changelog,
    manifest_log: ManifestLog,
}

impl Repository {
    /// Opens the repository whose working copy root is `root` (the
    /// directory holding `.hg`), checking its requirements.
    pub fn open(root: impl AsRef<Path>) -> Result<Repository> {
        let root = root.as_ref().to_path_buf();
        let dot_hg = root.join(".hg");
        if !dot_hg.is_dir() {
            return Err(RevlogError::NotARepository { path: root });
        }
        let requires_path = dot_hg.join("requires");
        let mut requirements =
            Requirements::parse(&requires_path, &read_optional(&requires_path)?)?;
        let shared_dot_hg = shared_source(&dot_hg, &requirements)?;
        let store_parent = shared_dot_hg.as_deref().unwrap_or(&dot_hg);
        let store = if requirements.contains("store") || requirements.contains("share-safe") {
            store_parent.join("store")
        } else {
            store_parent.to_path_buf()
        };
        if requirements.contains("share-safe") {
            let store_requires = store.join("requires");
            requirements.extend(Requirements::parse(
                &store_requires,
                &read_optional(&store_requires)?,
            )?);
        }
        if !requirements.contains("revlogv1") {
            return Err(RevlogError::MissingRequirement {
                path: requires_path,
                requirement: "revlogv1".to_owned(),
            });
        }
        let changelog = Changelog::new(Revlog::open_or_empty(store.join("00changelog.i"))?);
        let manifest_log = ManifestLog::new(Revlog::open_or_empty(store.join("00manifest.i"))?);
        Ok(Repository {
            root,
            store,
            requirements,
            changelog,
            manifest_log,
        })
    }

    /// The working copy root given to [`Repository::open`].
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory holding the revlogs.
    pub fn store_path(&self) -> &Path {
        &self.store
    }

    pub fn requirements(&self) -> &Requirements {
        &self.requirements
    }

    pub fn changelog(&self) -> &Changelog {
        &self.changelog
    }

    pub fn manifest_log(&self) -> &ManifestLog {
        &self.manifest_log
    }

    /// How filelogs are named in this store.
    pub fn store_layout(&self) -> StoreLayout {
        self.requirements.store_layout()
    }

    /// Opens the filelog of the tracked path `tracked_path` (bytes, `/`
    /// separated, as in manifests).
    pub fn filelog(&self, tracked_path: &[u8]) -> Result<Filelog> {
        let layout = self.store_layout();
        let index = self.store_file(&filelog_store_path(layout, tracked_path, RevlogFile::Index));
        let data = self.store_file(&filelog_store_path(layout, tracked_path, RevlogFile::Data));
        Ok(Filelog::new(
            tracked_path.to_vec(),
            Revlog::open_with_data_path(index, data)?,
        ))
    }

    fn store_file(&self, relative: &[u8]) -> PathBuf {
        let mut path = self.store.clone();
        for component in relative.split(|&b| b == b'/') {
            path.push(path_component(component));
        }
        path
    }
}

#[cfg(unix)]
fn path_component(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

#[cfg(not(unix))]
fn path_component(bytes: &[u8]) -> PathBuf {
    // Store names are ASCII once encoded, except in the basic layout.
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}

/// Reads a file that may be absent (an absent `requires` means none).
fn read_optional(path: &Path) -> Result<Vec<u8>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(bytes),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(error) => Err(RevlogError::io(path, error)),
    }
}

/// For a shared repository, the `.hg` directory of the share source.
fn shared_source(dot_hg: &Path, requirements: &Requirements) -> Result<Option<PathBuf>> {
    if !requirements.contains("shared") && !requirements.contains("relshared") {
        return Ok(None);
    }
    let shared_path_file = dot_hg.join("sharedpath");
    let contents = std::fs::read(&shared_path_file)
        .map_err(|error| RevlogError::io(&shared_path_file, error))?;
    let text = String::from_utf8_lossy(&contents);
    let target = PathBuf::from(text.trim_end_matches(['\n', '\r']));
    Ok(Some(if requirements.contains("relshared") {
        dot_hg.join(target)
    } else {
        target
    }))
}
