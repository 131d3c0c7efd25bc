//! A Subversion conversion resumed from its checkpoint gives what one conversion of the
//! whole history gives: the same raw refs (branches, tags, deleted branches, notes) and the
//! same totals, whatever revision it stopped at. The feature fixture's revisions cover the
//! state a checkpoint carries: a tag committed to after it was made, branches deleted and
//! re-created, copies from old revisions, mergeinfo across the stop, executable, ignore and
//! eol properties set before it.

use std::path::Path;

use srcimport::git::fast_import::{
    import_subversion, subversion_refs, RefTarget, SubversionImport, SvnHistory, SvnTarget,
};
use srcimport::git::init_hosted;
use srcimport_converters::svn::convert::checkpoint::{Checkpoint, Mismatch};
use srcimport_converters::svn::convert::layout::Layout;
use srcimport_converters::svn::convert::ConvertOptions;
use srcimport_converters::svn::source::{DumpFile, SvnSource};
use srcimport_converters::Cancel;

use crate::subversion::features;
use crate::support::git;

fn options(uuid: &str) -> ConvertOptions {
    let (ref_prefix, work_ref_prefix, notes_ref) = subversion_refs(RefTarget::Raw);
    ConvertOptions {
        layout: Layout::standard(""),
        uuid: uuid.to_owned(),
        trunk_branch: "main".into(),
        ref_prefix,
        work_ref_prefix,
        notes_ref,
        empty_dirs: true,
        large_file_threshold: 1000,
    }
}

/// Converts revisions `start..=end` of `source` into `git_dir`, after `resume`.
fn convert(
    git_dir: &Path,
    source: &SvnSource,
    uuid: &str,
    resume: Option<Checkpoint>,
    start: u64,
    end: u64,
) -> SubversionImport {
    let cancel = Cancel::new();
    let to = SvnTarget {
        git_dir,
        source: "the-source",
        options: options(uuid),
        history: SvnHistory::Raw,
    };
    import_subversion(
        &to,
        resume,
        &cancel,
        |_| {},
        |converter| source.read_into(None, start, end, converter, &cancel),
    )
    .expect("conversion")
}

fn raw_refs(git_dir: &Path) -> String {
    git(
        git_dir,
        &[
            "for-each-ref",
            "--format=%(objectname) %(refname)",
            "refs/srcimport/",
        ],
    )
}

#[test]
fn a_resumed_subversion_conversion_equals_one_conversion_at_every_revision() {
    let dir = tempfile::tempdir().expect("tempdir");
    let built = features(&dir.path().join("svn"));
    let repository = SvnSource::Repository(
        format!("file://{}", built.join("repo").display()),
        srcimport_converters::url_policy::UrlPolicy::default(),
    );
    let dump = SvnSource::Dump(DumpFile::new(built.join("repo.dump")));
    let uuid = "5e7f1c9a-0000-4000-8000-000000000001";
    let survey = repository.survey(None, &Cancel::new()).expect("survey");
    let youngest = survey.youngest;
    assert!(youngest > 40, "the fixture has {youngest} revisions");

    let whole = dir.path().join("whole.git");
    init_hosted(&whole).expect("init");
    let expected = convert(&whole, &repository, uuid, None, 0, youngest);
    let expected_refs = raw_refs(&whole);
    assert!(expected_refs.contains("refs/srcimport/raw/heads/tags/1.1"));
    assert!(expected_refs.contains("refs/srcimport/raw/svn/deleted/"));
    assert!(expected_refs.contains("refs/srcimport/notes/svn"));
    let checkpoint = expected.checkpoint.as_ref().expect("a checkpoint");
    assert_eq!(checkpoint.state.revision(), Some(youngest));

    for stop in 0..youngest {
        let git_dir = dir.path().join(format!("stop-{stop}.git"));
        init_hosted(&git_dir).expect("init");
        let first = convert(&git_dir, &repository, uuid, None, 0, stop);
        let saved = first.checkpoint.expect("a checkpoint");
        assert_eq!(saved.state.revision(), Some(stop));
        // Through the file, as a sync reads it; the rest from the dump or the repository.
        let path = git_dir.join("srcimport-svn/checkpoint");
        saved.save(&path).expect("save");
        let loaded = Checkpoint::load(&path).expect("load");
        let rest = if stop % 2 == 0 { &dump } else { &repository };
        let resumed = convert(&git_dir, rest, uuid, Some(loaded), stop + 1, youngest);
        assert_eq!(raw_refs(&git_dir), expected_refs, "stopped after r{stop}");
        let (got, want) = (&resumed.summary, &expected.summary);
        assert_eq!(got.revisions, want.revisions, "r{stop}");
        assert_eq!(got.commits, want.commits, "r{stop}");
        assert_eq!(got.users, want.users, "r{stop}");
        assert_eq!(got.report, want.report, "r{stop}");
        assert_eq!(resumed.large, expected.large, "r{stop}");
        let state = &resumed.checkpoint.as_ref().expect("checkpoint").state;
        assert_eq!(state.revision(), Some(youngest));
    }
}

#[test]
fn a_checkpoint_for_other_options_or_a_rewritten_revision_is_not_resumed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let built = features(&dir.path().join("svn"));
    let repository = SvnSource::Repository(
        format!("file://{}", built.join("repo").display()),
        srcimport_converters::url_policy::UrlPolicy::default(),
    );
    let uuid = "5e7f1c9a-0000-4000-8000-000000000001";
    let git_dir = dir.path().join("out.git");
    init_hosted(&git_dir).expect("init");
    let done = convert(&git_dir, &repository, uuid, None, 0, 10);
    let checkpoint = done.checkpoint.expect("checkpoint");
    let fingerprint = checkpoint.state.fingerprint();
    let same = |_| fingerprint.clone();
    assert_eq!(
        checkpoint.check("the-source", &options(uuid), 12, same),
        Ok(())
    );
    assert_eq!(
        checkpoint.check("elsewhere", &options(uuid), 12, same),
        Err(Mismatch::Source)
    );
    let mut other = options(uuid);
    other.empty_dirs = false;
    assert_eq!(
        checkpoint.check("the-source", &other, 12, same),
        Err(Mismatch::Options)
    );
    assert_eq!(
        checkpoint.check("the-source", &options("other-uuid"), 12, same),
        Err(Mismatch::Options)
    );
    assert_eq!(
        checkpoint.check("the-source", &options(uuid), 9, same),
        Err(Mismatch::Shrunk)
    );
    assert_eq!(
        checkpoint.check("the-source", &options(uuid), 12, |_| Some("x".into())),
        Err(Mismatch::Rewritten)
    );
    let path = dir.path().join("checkpoint");
    std::fs::write(&path, b"{\"version\": 1, \"truncated").expect("write");
    assert!(Checkpoint::load(&path).is_none());
}
