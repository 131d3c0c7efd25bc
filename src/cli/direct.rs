//! A Subversion source converted straight into the new local repository: each `git
//! fast-import` run writes the final refs, with the authors file applied in the stream, so
//! no workspace, mapping or copy is needed. A history with a large file still goes
//! through the workspace, whose mapping stage leaves large files out or moves them to LFS.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde_json::Value;
use srcimport_converters::svn::convert::revprops::{self, RevisionInfo};
use srcimport_converters::svn::convert::ConvertError;
use srcimport_converters::svn::source::SvnSource;
use srcimport_converters::{Cancel, Credentials};

use super::convert::{
    default_domain_identity, init_bare, several_projects, svn_options, ConvertArgs,
};
use super::progress::{Printer, Standing};
use super::session::{Session, TRUNK_BRANCH};
use super::CliError;
use crate::api::wire;
use crate::authors_file::AuthorsFile;
use crate::git::fast_import::{SvnHistory, SvnTarget};
use crate::git::{ident, maintenance, publish};
use crate::pipeline::subversion::{
    choose_layout, convert_options, project_choice_label, SvnConversion,
};
use crate::pipeline::{large_file_threshold, PipelineError};
use crate::store::AuthorRecord;

/// A Subversion conversion straight into a new local repository.
pub struct Direct<'a> {
    pub args: &'a ConvertArgs,
    pub credentials: Option<&'a Credentials>,
    pub authors: Option<&'a AuthorsFile>,
}

impl Direct<'_> {
    /// Converts the source into a new bare repository at `dest`. Returns the conversion
    /// report, or `None` when the history holds a large file: `dest` is then as it was, for
    /// the workspace to convert.
    pub fn convert(&self, dest: &Path, printer: &Printer) -> Result<Option<Value>, CliError> {
        let args = self.args;
        let url = args.source.source.as_str();
        let cancel = Cancel::new();
        let source = SvnSource::open(
            url,
            self.credentials,
            &Session::url_policy(Vec::new()),
            &std::env::temp_dir(),
            &cancel,
        )
        .map_err(|e| failed(url, e.into()))?;
        // The repository is made while the source is looked at (and removed again if that
        // fails).
        let (destination, survey) = std::thread::scope(|scope| {
            let destination = scope.spawn(|| NewDestination::create(dest, TRUNK_BRANCH));
            let survey = source.survey(self.credentials, &cancel);
            let destination = destination
                .join()
                .unwrap_or_else(|_| Err(CliError::Internal("git init panicked".into())));
            (destination, survey)
        });
        let destination = destination?;
        let survey = survey.map_err(|e| failed(url, e.into()))?;
        let fields = svn_options(args);
        let layout = choose_layout(&fields, &survey.top_dirs).map_err(|projects| {
            let labels: Vec<String> = projects.iter().map(|p| project_choice_label(p)).collect();
            several_projects(url, &labels)
        })?;
        let authors = FinalAuthors {
            file: self.authors,
            default_domain: args.default_domain.as_deref(),
            uuid: &survey.uuid,
            known: RefCell::default(),
        };
        let author = |info: &RevisionInfo| authors.identity(info);
        let history = SvnHistory::Final(&author);
        let options = convert_options(
            layout,
            survey.uuid.clone(),
            TRUNK_BRANCH,
            &fields,
            large_file_threshold(args.lfs_threshold),
            history,
        );
        let youngest = survey.youngest;
        let converted_upto = AtomicU64::new(0);
        let ended: Mutex<Option<Standing>> = Mutex::default();
        let standing = || {
            if let Some(ended) = ended.lock().ok()?.clone() {
                return Some(ended);
            }
            let upto = converted_upto.load(Ordering::Relaxed);
            Some(Standing {
                phase: "importing".into(),
                percent: i64::try_from(upto * 100 / youngest.max(1)).unwrap_or(100),
                commits: 0,
            })
        };
        let imported = printer.while_running(standing, || {
            let imported = SvnConversion {
                to: SvnTarget {
                    git_dir: destination.path(),
                    source: url,
                    options,
                    history,
                },
                source: &source,
                credentials: self.credentials,
                per_run: args.revisions_per_run,
                cancel: &cancel,
            }
            .convert(
                None,
                survey.first..=youngest,
                |revision| converted_upto.store(revision, Ordering::Relaxed),
                |_| Ok(()),
            )?;
            let branches: Vec<&str> = imported
                .summary
                .refs
                .keys()
                .filter_map(|name| name.strip_prefix("refs/heads/"))
                .collect();
            publish::point_head(destination.path(), &branches, Some(TRUNK_BRANCH), &cancel)?;
            maintenance::index_packs(destination.path(), &cancel)?;
            if let Ok(mut ended) = ended.lock() {
                *ended = Some(Standing {
                    phase: "complete".into(),
                    percent: 100,
                    commits: i64::try_from(imported.summary.commits).unwrap_or(i64::MAX),
                });
            }
            Ok::<_, PipelineError>(imported)
        });
        let imported = match imported {
            Ok(imported) => imported,
            Err(PipelineError::Subversion(large @ ConvertError::LargeBlob { .. })) => {
                tracing::info!(%large, "a large file: converting through the workspace");
                return Ok(None);
            }
            Err(error) => return Err(failed(url, error)),
        };
        destination.place()?;
        tracing::info!(
            commits = imported.summary.commits,
            "converted straight into the destination"
        );
        let report = crate::pipeline::report_entries(imported.summary.report);
        Ok(Some(Value::Array(
            report.iter().map(wire::report_entry).collect(),
        )))
    }
}

/// The identities a final history is written with, as the workspace writes them: the
/// author as its store records them, then what the authors file gives, then the default
/// domain for an email still without `@`; the `user <user@UUID>` placeholder when that
/// changes nothing.
struct FinalAuthors<'a> {
    file: Option<&'a AuthorsFile>,
    default_domain: Option<&'a str>,
    uuid: &'a str,
    /// Placeholder identity → identity written, for those met so far (keyed as the
    /// workspace keys its authors).
    known: RefCell<HashMap<String, String>>,
}

impl FinalAuthors<'_> {
    fn identity(&self, info: &RevisionInfo) -> String {
        if let Some(identity) = self.known.borrow().get(&info.identity) {
            return identity.clone();
        }
        let (name, email) = ident::name_and_email(&info.identity);
        let mut author = AuthorRecord {
            id: 0,
            remote_id: revprops::remote_id(&info.user, self.uuid),
            remote_name: info.user.clone(),
            name,
            email,
        };
        let placeholder = (author.name.clone(), author.email.clone());
        if let Some((name, email)) = self.file.and_then(|file| file.identity_of(&author)) {
            (author.name, author.email) = (name, email);
        }
        if let Some(domain) = self.default_domain {
            if let Some((name, email)) = default_domain_identity(&author, domain) {
                (author.name, author.email) = (name, email);
            }
        }
        let identity = if (&author.name, &author.email) == (&placeholder.0, &placeholder.1) {
            info.identity.clone()
        } else {
            ident::format_identity(&author.name, &author.email)
        };
        self.known
            .borrow_mut()
            .insert(info.identity.clone(), identity.clone());
        identity
    }
}

/// The new repository, made beside the destination under a hidden name and renamed onto
/// it once complete, so that a conversion that fails, or is killed, leaves the destination
/// as it was (absent, or an empty directory, which the rename replaces). Dropped unplaced,
/// it is removed, with any parent directories made for it. An empty destination that is a
/// mount point, or in a directory where nothing else may be made, cannot be replaced: the
/// repository is made in it (and emptied again).
struct NewDestination {
    building: PathBuf,
    dest: PathBuf,
    /// The outermost directory made for it, removed if it is not placed.
    made: Option<PathBuf>,
    placed: bool,
}

/// Whether `dir` is on another file system than its parent.
fn is_mount_point(dir: &Path, parent: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(dir), std::fs::metadata(parent)) {
        (Ok(dir), Ok(parent)) => dir.dev() != parent.dev(),
        _ => false,
    }
}

impl NewDestination {
    fn create(dest: &Path, head: &str) -> Result<NewDestination, CliError> {
        let dest = std::path::absolute(dest)
            .map_err(|e| CliError::Usage(format!("{}: {e}", dest.display())))?;
        let (Some(parent), Some(name)) = (dest.parent(), dest.file_name()) else {
            return Err(CliError::Usage(format!(
                "{}: not a directory name",
                dest.display()
            )));
        };
        let made = parent
            .ancestors()
            .take_while(|dir| !dir.exists())
            .last()
            .map(Path::to_owned);
        let building = if is_mount_point(&dest, parent) {
            dest.clone()
        } else {
            let mut random = [0u8; 6];
            getrandom::getrandom(&mut random).map_err(|e| CliError::Internal(e.to_string()))?;
            parent.join(format!(
                ".{}.srcimport-{}",
                name.to_string_lossy(),
                crate::git::objects::hex(&random)
            ))
        };
        let mut destination = NewDestination {
            building,
            dest: dest.clone(),
            made,
            placed: false,
        };
        match init_bare(&destination.building, head) {
            // A parent where nothing may be made beside an empty destination: in it, then.
            Err(_) if destination.building != dest && dest.is_dir() => {
                destination.building = dest;
                init_bare(&destination.building, head)?;
            }
            made => made?,
        }
        Ok(destination)
    }

    /// Where the repository is being built.
    fn path(&self) -> &Path {
        &self.building
    }

    /// Renames the repository onto the destination.
    fn place(mut self) -> Result<(), CliError> {
        if self.building != self.dest {
            std::fs::rename(&self.building, &self.dest)
                .map_err(|e| CliError::Usage(format!("{}: {e}", self.dest.display())))?;
        }
        self.placed = true;
        Ok(())
    }
}

impl Drop for NewDestination {
    fn drop(&mut self) {
        if self.placed {
            return;
        }
        if self.building == self.dest {
            for entry in std::fs::read_dir(&self.dest)
                .into_iter()
                .flatten()
                .flatten()
            {
                let _ = match entry.file_type() {
                    Ok(kind) if kind.is_dir() => std::fs::remove_dir_all(entry.path()),
                    _ => std::fs::remove_file(entry.path()),
                };
            }
            return;
        }
        let _ = std::fs::remove_dir_all(&self.building);
        if let Some(made) = &self.made {
            let _ = std::fs::remove_dir_all(made);
        }
    }
}

/// The command's error for a failed conversion of `url`.
fn failed(url: &str, error: PipelineError) -> CliError {
    match error {
        PipelineError::Source(source) if source.is_auth() => CliError::auth_failed(url),
        PipelineError::Store(store) => store.into(),
        other => CliError::Source(other.to_string()),
    }
}
