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
use srcimport_converters::url_policy::redact;
use srcimport_converters::Cancel;

use super::convert::{init_bare, several_projects, source_error, svn_options, ConvertArgs};
use super::progress::{Printer, Standing};
use super::session::{Session, TRUNK_BRANCH};
use super::CliError;
use crate::api::wire;
use crate::authors_file::AuthorsFile;
use crate::git::fast_import::{RefTarget, SvnHistory, SvnImport};
use crate::git::{ident, publish};
use crate::pipeline::subversion::{choose_layout, convert_options, project_name, SvnConversion};
use crate::pipeline::PipelineError;
use crate::store::AuthorRecord;

/// Converts the Subversion source of `args` into a new bare repository at `dest`. Returns
/// the conversion report, or `None` when the history holds a large file: `dest` is then
/// as it was, for the workspace to convert.
pub fn convert(
    args: &ConvertArgs,
    authors: Option<&AuthorsFile>,
    dest: &Path,
    printer: &Printer,
) -> Result<Option<Value>, CliError> {
    let url = args.source.source.as_str();
    let credentials = args.source.credentials()?;
    let cancel = Cancel::new();
    let policy = Session::url_policy(Vec::new());
    let source = SvnSource::open(
        url,
        credentials.as_ref(),
        &policy,
        &std::env::temp_dir(),
        &cancel,
    )
    .map_err(source_error)?;
    // The destination is created while the source is looked at (and removed again if
    // that fails).
    let (destination, survey) = std::thread::scope(|scope| {
        let destination = scope.spawn(|| NewDestination::create(dest, TRUNK_BRANCH));
        let survey = source.survey(credentials.as_ref(), &cancel);
        let destination = destination
            .join()
            .unwrap_or_else(|_| Err(CliError::Internal("git init panicked".into())));
        (destination, survey)
    });
    let destination = destination?;
    let survey = survey.map_err(|e| failed(url, e.into()))?;
    let fields = svn_options(args);
    let layout = choose_layout(&fields, &survey.top_dirs).map_err(|projects| {
        let names: Vec<String> = projects.iter().map(|p| project_name(p)).collect();
        several_projects(url, &names)
    })?;
    let options = convert_options(
        layout,
        survey.uuid.clone(),
        TRUNK_BRANCH,
        &fields,
        u64::try_from(args.lfs_threshold).unwrap_or(u64::MAX),
        RefTarget::Published,
    );
    let authors = FinalAuthors {
        file: authors,
        default_domain: args.default_domain.as_deref(),
        uuid: &survey.uuid,
        known: RefCell::default(),
    };
    let author = |info: &RevisionInfo| authors.identity(info);
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
            to: SvnImport {
                git_dir: dest,
                source: url,
                options,
                history: SvnHistory::Final(&author),
            },
            source: &source,
            credentials: credentials.as_ref(),
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
        publish::point_head(dest, &branches, Some(TRUNK_BRANCH), &cancel)?;
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
    destination.keep();
    tracing::info!(
        commits = imported.summary.commits,
        "converted straight into the destination"
    );
    let report = crate::pipeline::report_entries(imported.summary.report);
    Ok(Some(Value::Array(
        report.iter().map(wire::report_entry).collect(),
    )))
}

/// The identities a final history is written with: what the authors file (or else the
/// default domain) gives each Subversion user, or the `user <user@UUID>` placeholder, as
/// the workspace's mapping stage would write them.
struct FinalAuthors<'a> {
    file: Option<&'a AuthorsFile>,
    default_domain: Option<&'a str>,
    uuid: &'a str,
    /// User → identity, for the users met so far.
    known: RefCell<HashMap<String, String>>,
}

impl FinalAuthors<'_> {
    fn identity(&self, info: &RevisionInfo) -> String {
        if let Some(identity) = self.known.borrow().get(&info.user) {
            return identity.clone();
        }
        let (name, email) = ident::name_and_email(&info.identity);
        // The author as the workspace's store records it.
        let author = AuthorRecord {
            id: 0,
            remote_id: revprops::remote_id(&info.user, self.uuid),
            remote_name: info.user.clone(),
            name,
            email,
        };
        let mapped = self
            .file
            .and_then(|file| file.identity_of(&author))
            .or_else(|| super::convert::default_domain_identity(&author, self.default_domain?));
        let identity = match mapped {
            Some((name, email)) if (&name, &email) != (&author.name, &author.email) => {
                ident::format_identity(&name, &email)
            }
            _ => info.identity.clone(),
        };
        self.known
            .borrow_mut()
            .insert(info.user.clone(), identity.clone());
        identity
    }
}

/// A repository this command created, removed again (or emptied, if it was an empty
/// directory before) unless kept.
struct NewDestination {
    path: PathBuf,
    existed: bool,
    kept: bool,
}

impl NewDestination {
    fn create(path: &Path, head: &str) -> Result<NewDestination, CliError> {
        let destination = NewDestination {
            path: path.to_owned(),
            existed: path.exists(),
            kept: false,
        };
        init_bare(path, head)?;
        Ok(destination)
    }

    fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for NewDestination {
    fn drop(&mut self) {
        if self.kept {
            return;
        }
        if !self.existed {
            let _ = std::fs::remove_dir_all(&self.path);
            return;
        }
        for entry in std::fs::read_dir(&self.path)
            .into_iter()
            .flatten()
            .flatten()
        {
            let _ = match entry.file_type() {
                Ok(kind) if kind.is_dir() => std::fs::remove_dir_all(entry.path()),
                _ => std::fs::remove_file(entry.path()),
            };
        }
    }
}

/// The command's error for a failed conversion of `url`.
fn failed(url: &str, error: PipelineError) -> CliError {
    match error {
        PipelineError::Source(source) if source.is_auth() => CliError::Auth(format!(
            "{}: authentication failed; give --username and --password-file",
            redact(url)
        )),
        PipelineError::Store(store) => store.into(),
        other => CliError::Source(other.to_string()),
    }
}
