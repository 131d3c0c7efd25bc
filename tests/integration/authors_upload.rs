//! Extension: `PUT /import/authors` with an authors file maps many authors in one rewrite,
//! also before the import has finished.

use serde_json::json;

use crate::support::{fixture_with, git, try_clone, GitSource, Server, TOKEN};

/// `PUT /repos/{repo}/import/authors{query}` with an authors file; the status and answer.
pub(crate) fn put_authors(
    server: &Server,
    repo: &str,
    query: &str,
    text: &str,
) -> (u16, serde_json::Value) {
    let response = ureq::put(&server.url(&format!("/repos/{repo}/import/authors{query}")))
        .set("Authorization", &format!("token {TOKEN}"))
        .set("Content-Type", "text/plain")
        .send_string(text);
    match response {
        Ok(r) => (r.status(), r.into_json().expect("json")),
        Err(ureq::Error::Status(code, r)) => (code, r.into_json().expect("json")),
        Err(e) => panic!("PUT authors: {e}"),
    }
}

fn mailmap(authors: usize) -> String {
    (1..=authors)
        .map(|k| format!("Developer Number {k} <number{k}@corp.example> <dev{k}@example.com>\n"))
        .collect()
}

fn mapping_runs(server: &Server) -> usize {
    server.log().matches("stage=\"mapping\"").count()
}

#[test]
fn fifty_authors_are_mapped_by_one_upload_in_one_rewrite() {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture_with("git/many-authors.sh", &dir.path().join("src"), &["50"]);
    let source = GitSource::serve(&dir.path().join("src"), None);
    let server = Server::start(&dir.path().join("data"));
    let repo = "octo/team";
    server.put_import(
        repo,
        &json!({"vcs": "git", "vcs_url": format!("{}/source.git", source.base)}),
    );
    let done = server.wait_status(repo, "complete");
    assert_eq!(done["authors_count"], 50);
    assert_eq!(mapping_runs(&server), 1);

    // A malformed line is refused, naming it, and changes nothing.
    let (status, error) = put_authors(
        &server,
        repo,
        "",
        "Good Name <good@x> <dev1@example.com>\nthis is not a mapping\n",
    );
    assert_eq!(status, 422, "{error}");
    assert!(
        error["errors"][0]["message"]
            .as_str()
            .expect("message")
            .contains("line 2"),
        "{error}"
    );
    let (status, _) = put_authors(&server, repo, "?format=cvs-authors", &mailmap(50));
    assert_eq!(status, 422);

    let (status, authors) = put_authors(&server, repo, "?format=mailmap", &mailmap(50));
    assert_eq!(status, 200, "{authors}");
    let authors = authors.as_array().expect("list").clone();
    assert_eq!(authors.len(), 50);
    assert!(authors.iter().all(|a| a["name"]
        .as_str()
        .is_some_and(|n| n.starts_with("Developer Number "))));
    let done = server.wait_import(repo, |b| {
        b["status"] == "complete" && b["push_percent"] == 100
    });
    assert_eq!(done["commit_count"], 100);
    assert_eq!(mapping_runs(&server), 2, "one upload, one rewrite");

    let clone = dir.path().join("team.git");
    let url = server.authed_git_url(repo);
    assert!(try_clone(&url, &clone));
    let identities = git(&clone, &["log", "--format=%an <%ae>|%cn <%ce>", "main"]);
    assert_eq!(identities.lines().count(), 100);
    assert!(
        identities
            .lines()
            .all(|l| l.starts_with("Developer Number ") && !l.contains("example.com")),
        "{identities}"
    );
    assert!(identities.contains(
        "Developer Number 50 <number50@corp.example>|Developer Number 50 <number50@corp.example>"
    ));
}

#[test]
fn an_authors_file_uploaded_before_the_import_ends_shapes_the_first_push() {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture_with("git/many-authors.sh", &dir.path().join("src"), &["3"]);
    let source = GitSource::serve(&dir.path().join("src"), None);
    let data = dir.path().join("data");
    let repo = "octo/early";
    {
        let server = Server::start_with(&data, &[("SRCIMPORT_TEST_HOLD_STAGE", "importing")]);
        server.put_import(
            repo,
            &json!({"vcs": "git", "vcs_url": format!("{}/source.git", source.base)}),
        );
        server.wait_status(repo, "importing");
        // hg-fast-export style: keys are raw identities, as Git sources' remote_id.
        let text = "\"Dev 1 <dev1@example.com>\"=\"One <one@corp.example>\"\n\"Dev 2 <dev2@example.com>\"=\"Two <two@corp.example>\"\n";
        let (status, authors) = put_authors(&server, repo, "", text);
        assert_eq!(status, 200, "{authors}");
        assert_eq!(
            authors.as_array().map(Vec::len),
            Some(0),
            "no authors are known yet"
        );
    }
    let server = Server::start(&data);
    server.wait_import(repo, |b| {
        b["status"] == "complete" && b["push_percent"] == 100
    });
    assert_eq!(
        mapping_runs(&server),
        1,
        "the first push already had the mapping"
    );
    let clone = dir.path().join("early.git");
    let url = server.authed_git_url(repo);
    assert!(try_clone(&url, &clone));
    let identities = git(&clone, &["log", "--format=%an <%ae>", "main"]);
    assert!(
        identities.contains("One <one@corp.example>")
            && identities.contains("Two <two@corp.example>"),
        "{identities}"
    );
    assert!(
        identities.contains("Dev 3 <dev3@example.com>"),
        "unmapped authors keep their identity: {identities}"
    );
}
