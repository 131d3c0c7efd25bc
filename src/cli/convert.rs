//! The `convert`, `detect` and `authors` commands.

use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::Value;
use srcimport_converters::svn::{layout_detect, source::SvnSource};
use srcimport_converters::tfvc::probe as tfvc_probe;
use srcimport_converters::{
    detect as probe, url_policy::UrlPolicy, Cancel, Credentials, Detection, SourceError, Vcs,
};

use super::progress::Printer;
use super::session::Session;
use super::{CliError, SourceArgs};
use crate::api::wire;
use crate::authors_file::{self, AuthorsFile, AuthorsFormat};
use crate::git::publish;
use crate::git::refs::{refs_under, set_listed_refs};
use crate::pipeline::subversion::project_choice_label;
use crate::store::{AuthorRecord, LfsChoice, NewImport, Stage, SvnOptions};

#[derive(Args, Clone, Debug)]
pub struct ConvertArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Where the converted repository goes: a new bare repository at this path, or a
    /// remote URL to push branches, tags and notes to (with your own git credentials; LFS
    /// objects go first, through git-lfs).
    pub dest: String,
    /// Authors file (git-svn, svn-all-fast-export, hg-fast-export, git-tfs or mailmap).
    #[arg(long)]
    pub authors: Option<PathBuf>,
    /// Format of the authors file (detected when omitted).
    #[arg(long)]
    pub authors_format: Option<String>,
    /// Give authors the file does not map, and that have no email, `user@DOMAIN`.
    #[arg(long)]
    pub default_domain: Option<String>,
    /// Large files: opt_in (Git LFS pointers) or opt_out (left out). Default: left out.
    #[arg(long, value_parser = ["opt_in", "opt_out"])]
    pub lfs: Option<String>,
    /// Files above this many bytes are large files.
    #[arg(long, default_value_t = 104_857_600)]
    pub lfs_threshold: i64,
    /// Write the conversion report (JSON) here.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Subversion: the project directory to convert, in a repository holding several;
    /// TFVC: the team project to convert, in a collection holding several.
    #[arg(long, help_heading = "Subversion layout")]
    pub project: Option<String>,
    /// TFVC: item downloads (and other REST requests) in flight at once.
    #[arg(long, default_value_t = 8, help_heading = "TFVC")]
    pub jobs: usize,
    /// TFVC: `$top` of paged REST requests.
    #[arg(long, default_value_t = 200, help_heading = "TFVC")]
    pub page_size: usize,
    /// Subversion: trunk's path (relative to the project); "" makes the whole project one
    /// branch. Default: detected.
    #[arg(long, help_heading = "Subversion layout")]
    pub trunk: Option<String>,
    /// Subversion: where branches live, repeatable; `*` matches one path segment, and a
    /// directory without one holds branches (`branches` = `branches/*`).
    #[arg(long = "branches", help_heading = "Subversion layout")]
    pub branches: Vec<String>,
    /// Subversion: where tags live, repeatable, as for --branches.
    #[arg(long = "tags", help_heading = "Subversion layout")]
    pub tags: Vec<String>,
    /// Subversion: leave empty directories out instead of keeping them with a `.gitkeep`.
    #[arg(long, help_heading = "Subversion layout")]
    pub no_empty_dirs: bool,
    /// Subversion: revisions converted by one `git fast-import` run (fewer use less
    /// memory, more are a little faster).
    #[arg(long, default_value_t = crate::pipeline::DEFAULT_SVN_REVISIONS_PER_RUN,
          value_parser = clap::value_parser!(u64).range(1..), help_heading = "Subversion")]
    pub revisions_per_run: u64,
    /// Detect, read and report, writing nothing at DEST.
    #[arg(long)]
    pub dry_run: bool,
    /// No progress on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Converts a source into a bare repository (or pushes it to a remote).
pub fn convert(args: &ConvertArgs) -> Result<(), CliError> {
    let dest_is_remote = args.dest.contains("://") || looks_like_scp(&args.dest);
    if !args.dry_run && !dest_is_remote && non_empty(Path::new(&args.dest)) {
        return Err(CliError::Usage(format!(
            "{}: exists and is not empty",
            args.dest
        )));
    }
    let authors = read_authors(args)?;
    // Read once: a password file may be a pipe.
    let credentials = args.source.credentials()?;
    let printer = Printer { quiet: args.quiet };
    let vcs = match args.source.vcs() {
        Some(vcs) => Some(vcs),
        None => detected(&args.source.source, credentials.as_ref())?,
    };
    if vcs == Some(Vcs::Subversion) && !args.dry_run && !dest_is_remote {
        let direct = super::direct::Direct {
            args,
            credentials: credentials.as_ref(),
            authors: authors.as_ref().map(|(_, file)| file),
        };
        if let Some(report) = direct.convert(Path::new(&args.dest), &printer)? {
            return write_report(args, &report);
        }
    }
    let mut session = Session::new()?;
    session.env.tfvc.download_jobs = args.jobs.max(1);
    session.env.tfvc.page_size = args.page_size.max(1);
    session.env.svn_revisions_per_run = args.revisions_per_run;
    session.start(NewImport {
        vcs,
        vcs_url: args.source.source.clone(),
        tfvc_project: args
            .project
            .clone()
            .filter(|_| matches!(vcs, None | Some(Vcs::Tfvc))),
        use_lfs: args
            .lfs
            .as_deref()
            .and_then(LfsChoice::parse)
            .unwrap_or(LfsChoice::OptOut),
        credentials,
        large_file_threshold: args.lfs_threshold,
        svn_options: svn_options(args),
        push: None,
        started_by: None,
        sync_interval: Some(0),
    })?;
    if let Some((text, file)) = &authors {
        session
            .store()
            .set_authors_file(session.repo.id, file.format.as_str(), text)?;
    }
    session.run(Some(Stage::Mapping), &printer)?;
    if let Some(domain) = &args.default_domain {
        apply_default_domain(&session, domain)?;
    }
    if args.dry_run {
        let summary = summary(&session)?;
        print_out(&serde_json::to_string_pretty(&summary).unwrap_or_default())?;
        return write_report(args, &summary["report"]);
    }
    let report = report(&session)?;
    session.run(None, &printer)?;
    if dest_is_remote {
        push(&session, &args.dest)?;
    } else {
        write_bare(&session, Path::new(&args.dest))?;
    }
    write_report(args, &report)
}

/// The authors file's text, and what it says.
fn read_authors(args: &ConvertArgs) -> Result<Option<(String, AuthorsFile)>, CliError> {
    let Some(path) = &args.authors else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
    let format = match &args.authors_format {
        Some(name) => Some(
            AuthorsFormat::parse(name)
                .ok_or_else(|| CliError::Usage(format!("unknown authors format {name:?}")))?,
        ),
        None => None,
    };
    let parsed = authors_file::parse(&text, format)
        .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
    Ok(Some((text, parsed)))
}

/// The source's version control system as detection finds it; `None` when it finds
/// several projects to choose from (the workspace's detection offers them). A source
/// detection cannot read fails here, once, as the workspace's detection would fail.
fn detected(url: &str, credentials: Option<&Credentials>) -> Result<Option<Vcs>, CliError> {
    let policy = Session::url_policy(Vec::new());
    match probe::detect(url, credentials, &policy, &Cancel::new()) {
        Ok(Detection::Found(vcs)) => Ok(Some(vcs)),
        Ok(Detection::Multiple(_)) => Ok(None),
        Err(error) if error.is_auth() => Err(CliError::auth_failed(url)),
        Err(error) => Err(CliError::Source(error.to_string())),
    }
}

/// The Subversion layout options the command was given.
pub(super) fn svn_options(args: &ConvertArgs) -> SvnOptions {
    SvnOptions {
        project: args.project.clone(),
        trunk: args.trunk.clone(),
        branches: (!args.branches.is_empty()).then(|| args.branches.clone()),
        tags: (!args.tags.is_empty()).then(|| args.tags.clone()),
        empty_dirs: args.no_empty_dirs.then_some(false),
    }
}

/// Authors with no usable email get `user@domain`, unless already mapped.
fn apply_default_domain(session: &Session, domain: &str) -> Result<(), CliError> {
    let mappings: Vec<(i64, String, String)> = session
        .store()
        .authors(session.repo.id, 0)?
        .into_iter()
        .filter_map(|author| {
            let (name, email) = default_domain_identity(&author, domain)?;
            Some((author.id, name, email))
        })
        .collect();
    session.store().map_authors(session.repo.id, &mappings)?;
    Ok(())
}

/// `user@domain` for an author with no usable email (`--default-domain`).
pub(super) fn default_domain_identity(
    author: &AuthorRecord,
    domain: &str,
) -> Option<(String, String)> {
    (!author.email.contains('@'))
        .then(|| authors_file::default_identity(&author.remote_name, domain))
}

/// The error for a source holding several projects, none chosen.
pub(super) fn several_projects(url: &str, projects: &[String]) -> CliError {
    CliError::Source(format!(
        "{}: holds several projects, pick one with --project: {}",
        srcimport_converters::url_policy::redact(url),
        projects.join(", ")
    ))
}

/// What the conversion read: commits, branches, tags, authors, large files, report.
fn summary(session: &Session) -> Result<Value, CliError> {
    let store = session.store();
    let import = store
        .import(session.repo.id)?
        .ok_or_else(|| CliError::Internal("the import vanished".into()))?;
    let refs = crate::git::run_git(
        session.path(),
        &[
            "for-each-ref",
            "--format=%(refname)",
            srcimport_converters::git::RAW_NAMESPACE,
        ],
        None,
        &Cancel::new(),
    )?;
    let refs = String::from_utf8_lossy(&refs).into_owned();
    let names = |kind: &str| -> Vec<String> {
        let prefix = format!("{}{kind}/", srcimport_converters::git::RAW_NAMESPACE);
        refs.lines()
            .filter_map(|r| r.strip_prefix(&prefix))
            .map(str::to_owned)
            .collect()
    };
    let large = store.large_files(session.repo.id)?;
    let authors: Vec<Value> = store
        .authors(session.repo.id, 0)?
        .iter()
        .map(|a| serde_json::json!({"remote_id": a.remote_id, "name": a.name, "email": a.email}))
        .collect();
    Ok(serde_json::json!({
        "source": srcimport_converters::url_policy::redact(&import.vcs_url),
        "vcs": import.vcs.map(|v| v.as_str()),
        "commits": import.commit_count,
        "branches": names("heads"),
        "tags": names("tags"),
        "authors": authors,
        "large_files": large.iter().map(wire::large_file).collect::<Vec<_>>(),
        "report": report(session)?,
    }))
}

/// The conversion report: what could not be represented, and the large files.
fn report(session: &Session) -> Result<Value, CliError> {
    let store = session.store();
    let import = store
        .import(session.repo.id)?
        .ok_or_else(|| CliError::Internal("the import vanished".into()))?;
    let mut report: Vec<Value> = store
        .report(session.repo.id)?
        .iter()
        .map(wire::report_entry)
        .collect();
    report.extend(
        store
            .large_files(session.repo.id)?
            .iter()
            .map(|f| wire::large_file_entry(f, import.use_lfs)),
    );
    Ok(Value::Array(report))
}

fn write_report(args: &ConvertArgs, report: &Value) -> Result<(), CliError> {
    if let Some(path) = &args.report {
        let text = serde_json::to_string_pretty(report).unwrap_or_default();
        std::fs::write(path, text + "\n")
            .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
    }
    Ok(())
}

/// Clones the published branches and tags into a new bare repository, with LFS objects.
fn write_bare(session: &Session, dest: &Path) -> Result<(), CliError> {
    let published = refs_under(
        session.path(),
        &publish::PUBLISHED_NAMESPACES,
        &Cancel::new(),
    )?;
    // HEAD names the default branch the pipeline published (`main` without branches).
    let head = session
        .store()
        .find_repo_by_id(session.repo.id)?
        .map(|repo| repo.default_branch)
        .filter(|branch| {
            let name = format!("refs/heads/{branch}");
            published.iter().any(|(_, published)| *published == name)
        })
        .unwrap_or_else(|| "main".to_owned());
    init_bare(dest, &head)?;
    if everything_published(session)? {
        // Every object is published: the packs can be linked instead of fetched again.
        link_objects(&session.path().join("objects"), &dest.join("objects"))
            .map_err(|e| CliError::Internal(format!("copying objects: {e}")))?;
        let wanted: Vec<(String, String)> = published
            .into_iter()
            .map(|(oid, name)| (name, oid))
            .collect();
        set_listed_refs(dest, &[], &wanted, |_| false, &Cancel::new())?;
    } else {
        let source = session.path().to_string_lossy().into_owned();
        let mut fetch = vec!["fetch", "--quiet", "--no-write-fetch-head", "--", &source];
        let specs: Vec<String> = publish::PUBLISHED_NAMESPACES
            .iter()
            .map(|ns| format!("+{ns}*:{ns}*"))
            .collect();
        fetch.extend(specs.iter().map(String::as_str));
        // A transfer, not bound to us by a pipe: it dies with us (`process::run`).
        let mut cmd = srcimport_converters::git::command(Some(dest));
        cmd.args(&fetch);
        srcimport_converters::process::run(cmd, None, &Cancel::new(), |_| {})
            .and_then(|done| done.success_or("git fetch"))
            .map_err(|e| CliError::Internal(e.to_string()))?;
    }
    crate::git::maintenance::index_packs(dest, &Cancel::new())?;
    let lfs = session.path().join("lfs/objects");
    if lfs.is_dir() {
        copy_tree(&lfs, &dest.join("lfs/objects"))
            .map_err(|e| CliError::Internal(format!("LFS objects: {e}")))?;
    }
    Ok(())
}

/// Creates an empty bare repository at `dest` whose HEAD names `head` (without the sample
/// hooks and other files of git's template, which a bare repository has no use for).
pub(super) fn init_bare(dest: &Path, head: &str) -> Result<(), CliError> {
    let mut cmd = srcimport_converters::git::command(None);
    cmd.args(["init", "--quiet", "--bare", "--template="])
        .arg(format!("--initial-branch={head}"))
        .arg("--")
        .arg(dest);
    srcimport_converters::process::run_pipe_bound(cmd, None, &Cancel::new(), |_| {})
        .and_then(|done| done.success_or("git init"))
        .map(|_| ())
        .map_err(|e| CliError::Internal(e.to_string()))
}

/// Whether the workspace's objects may all go to the destination: nothing was left out
/// (large files dropped under `opt_out` must not travel). History the mapping replaced stays
/// behind only as unreachable objects, never fetched, pushed or cloned, until `git gc`.
fn everything_published(session: &Session) -> Result<bool, CliError> {
    let import = session
        .store()
        .import(session.repo.id)?
        .ok_or_else(|| CliError::Internal("the import vanished".into()))?;
    Ok(import.large_files_count == 0)
}

/// Hard-links (or, across file systems, copies) every object file.
fn link_objects(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            if entry.file_name() != "info" {
                link_objects(&entry.path(), &target)?;
            }
        } else if !target.exists() && std::fs::hard_link(entry.path(), &target).is_err() {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// Pushes the published branches and tags to a remote, LFS objects first (as git-lfs's
/// pre-push hook would). This runs as the user, with their own git configuration and
/// credential helpers, unlike the hermetic commands that read sources.
fn push(session: &Session, dest: &str) -> Result<(), CliError> {
    let failed = |e: SourceError| {
        CliError::Source(format!(
            "{}: {e}",
            srcimport_converters::url_policy::redact(dest)
        ))
    };
    let user_git = || {
        let mut git = std::process::Command::new("git");
        git.env_remove("GIT_DIR")
            .arg("--git-dir")
            .arg(session.path());
        git
    };
    if crate::git::lfs::LfsStore::for_repo(session.path()).has_objects() {
        srcimport_converters::git::lfs_push_refs(
            session.path(),
            user_git(),
            dest,
            &publish::PUBLISHED_NAMESPACES,
            &Cancel::new(),
        )
        .and_then(|done| done.success_or("git lfs push"))
        .map_err(failed)?;
    }
    let mut push = user_git();
    push.args(["push", "--quiet", "--", dest]);
    push.args(
        publish::PUBLISHED_NAMESPACES
            .iter()
            .map(|ns| format!("{ns}*:{ns}*")),
    );
    srcimport_converters::process::run(push, None, &Cancel::new(), |_| {})
        .and_then(|done| done.success_or("git push"))
        .map_err(failed)?;
    Ok(())
}

/// Writes `text` and a newline to stdout; a closed pipe (`| head`) ends quietly.
fn print_out(text: &str) -> Result<(), CliError> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(CliError::Internal(e.to_string()))
        }
        _ => Ok(()),
    }
}

fn non_empty(path: &Path) -> bool {
    std::fs::read_dir(path).is_ok_and(|mut d| d.next().is_some()) || path.is_file()
}

fn looks_like_scp(dest: &str) -> bool {
    let Some((host, _)) = dest.split_once(':') else {
        return false;
    };
    !host.contains('/') && !Path::new(dest).exists()
}

/// Prints what is at a source URL.
pub fn detect(args: &SourceArgs) -> Result<(), CliError> {
    let policy = UrlPolicy {
        allow_local_paths: true,
        ..UrlPolicy::default()
    };
    let credentials = args.credentials()?;
    let found = probe::detect(&args.source, credentials.as_ref(), &policy, &Cancel::new())
        .map_err(source_error)?;
    match found {
        Detection::Found(Vcs::Subversion) => {
            let scratch = std::env::temp_dir();
            let source = SvnSource::open(
                &args.source,
                credentials.as_ref(),
                &policy,
                &scratch,
                &Cancel::new(),
            )
            .map_err(source_error)?;
            let survey = source
                .survey(credentials.as_ref(), &Cancel::new())
                .map_err(|e| CliError::Source(e.to_string()))?;
            let mut text = format!(
                "vcs: subversion\nuuid: {}\nrevisions: {}",
                survey.uuid, survey.youngest
            );
            match layout_detect::from_top_dirs(&survey.top_dirs) {
                layout_detect::Detected::One(layout) => {
                    text.push_str(&format!("\nlayout: {}", layout.describe()));
                }
                layout_detect::Detected::Projects(projects) => {
                    text.push_str("\nlayout: several projects (pick one with --project)");
                    for name in projects {
                        text.push_str(&format!("\nproject: {}", project_choice_label(&name)));
                    }
                }
            }
            print_out(&text)
        }
        Detection::Found(Vcs::Tfvc) => {
            let cancel = Cancel::new();
            let located = tfvc_probe::locate(&args.source, credentials.as_ref(), &policy, &cancel)
                .map_err(|e| source_error(e.into()))?
                .ok_or_else(|| {
                    CliError::Source(format!("{}: not a TFVC collection", args.source))
                })?;
            let mut text = format!("vcs: tfvc\ncollection: {}", located.collection);
            let projects = match &located.project {
                Some(project) => vec![project.clone()],
                None => tfvc_probe::tfvc_projects(&located, credentials.as_ref(), &policy, &cancel)
                    .map_err(|e| source_error(e.into()))?,
            };
            for project in projects {
                text.push_str(&format!("\nproject: {project}"));
            }
            print_out(&text)
        }
        Detection::Found(vcs) => print_out(&format!("vcs: {}", vcs.as_str())),
        Detection::Multiple(choices) => {
            let mut text = String::from("vcs: several projects");
            for choice in choices {
                text.push_str(&format!(
                    "\nproject: {} ({})",
                    choice.human_name,
                    choice.vcs.as_str()
                ));
            }
            print_out(&text)
        }
    }
}

fn source_error(error: SourceError) -> CliError {
    if error.is_auth() {
        CliError::Auth(error.to_string())
    } else {
        CliError::Source(error.to_string())
    }
}

#[derive(Args, Clone, Debug)]
pub struct AuthorsArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Output format.
    #[arg(long, default_value = "git-svn", value_parser = ["git-svn", "svn-all-fast-export", "hg-fast-export", "git-tfs", "mailmap"])]
    pub format: String,
    /// The project whose authors to list, in a source holding several.
    #[arg(long)]
    pub project: Option<String>,
}

/// Lists the source's authors (with commit counts as comments) as an authors file to edit.
pub fn authors(args: &AuthorsArgs) -> Result<(), CliError> {
    let format = AuthorsFormat::parse(&args.format)
        .ok_or_else(|| CliError::Usage(format!("unknown format {:?}", args.format)))?;
    let session = Session::new()?;
    session.start(NewImport {
        vcs: args.source.vcs(),
        vcs_url: args.source.source.clone(),
        tfvc_project: args
            .project
            .clone()
            .filter(|_| matches!(args.source.vcs(), None | Some(Vcs::Tfvc))),
        use_lfs: LfsChoice::OptOut,
        credentials: args.source.credentials()?,
        large_file_threshold: i64::MAX,
        svn_options: SvnOptions {
            project: args.project.clone(),
            ..SvnOptions::default()
        },
        push: None,
        started_by: None,
        sync_interval: Some(0),
    })?;
    let import = session.run(Some(Stage::Mapping), &Printer { quiet: true })?;
    let counts =
        crate::git::rewrite::scan_identities(session.path(), &Cancel::new(), |_| {})?.identities;
    let authors = session.store().authors(session.repo.id, 0)?;
    let rows: Vec<(String, String, String)> = authors
        .iter()
        .map(|a| {
            let key = match format {
                AuthorsFormat::HgFastExport => a.remote_id.clone(),
                AuthorsFormat::Mailmap => a.email.clone(),
                _ => a.remote_name.clone(),
            };
            (key, a.name.clone(), a.email.clone())
        })
        .collect();
    let text = authors_file::render(format, &rows).map_err(|e| CliError::Source(e.to_string()))?;
    let mut listing = String::new();
    for (line, author) in text.lines().zip(&authors) {
        let written = crate::pipeline::written_identity(import.vcs, &author.remote_id);
        let commits = counts.get(&written).copied().unwrap_or(0);
        let noun = if commits == 1 { "commit" } else { "commits" };
        listing.push_str(&format!("# {commits} {noun}\n{line}\n"));
    }
    print_out(listing.trim_end())
}
