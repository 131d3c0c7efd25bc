//! Wire representations (JSON) of repositories, imports, authors and large files.
//!
//! Invariant: only `api/` knows these shapes; the store's records never reach the wire as is.

use serde_json::{json, Value};

use crate::store::{
    AuthorRecord, ImportRecord, LargeFileRecord, LfsChoice, RepoRecord, ReportEntry,
};

/// URLs for one repository, built on the server's public base URL.
pub struct Urls<'a> {
    pub base: &'a str,
    pub repo: &'a RepoRecord,
}

impl Urls<'_> {
    pub fn repository(&self) -> String {
        format!("{}/repos/{}/{}", self.base, self.repo.owner, self.repo.name)
    }

    pub fn import(&self) -> String {
        format!("{}/import", self.repository())
    }

    pub fn html(&self) -> String {
        format!("{}/{}/{}", self.base, self.repo.owner, self.repo.name)
    }
}

pub fn repository(urls: &Urls<'_>) -> Value {
    let repo = urls.repo;
    json!({
        "id": repo.id,
        "node_id": format!("R_{}", repo.id),
        "name": repo.name,
        "full_name": format!("{}/{}", repo.owner, repo.name),
        "owner": {
            "login": repo.owner,
            "id": 0,
            "type": "User",
            "url": format!("{}/users/{}", urls.base, repo.owner),
            "html_url": format!("{}/{}", urls.base, repo.owner),
        },
        "private": repo.private,
        "visibility": if repo.private { "private" } else { "public" },
        "html_url": urls.html(),
        "url": urls.repository(),
        "clone_url": format!("{}.git", urls.html()),
        "default_branch": repo.default_branch,
    })
}

pub fn import(urls: &Urls<'_>, record: &ImportRecord) -> Value {
    let mut value = json!({
        "vcs": record.vcs.map(|v| v.as_str()),
        "use_lfs": record.use_lfs.as_str(),
        "vcs_url": record.vcs_url,
        "tfvc_project": record.tfvc_project,
        "status": record.status.as_str(),
        "status_text": record.status.status_text(),
        "failed_step": record.failed_step.map(|s| s.as_str()),
        "error_message": record.error_message,
        "import_percent": record.import_percent,
        "percent": record.import_percent,
        "commit_count": record.commit_count,
        "push_percent": record.push_percent,
        "has_large_files": record.large_files_count > 0,
        "large_files_size": record.large_files_size,
        "large_files_count": record.large_files_count,
        "authors_count": record.authors_count,
        "url": urls.import(),
        "html_url": format!("{}/import", urls.html()),
        "authors_url": format!("{}/authors", urls.import()),
        "repository_url": urls.repository(),
    });
    if !record.project_choices.is_empty() {
        value["project_choices"] = record
            .project_choices
            .iter()
            .map(|c| json!({"vcs": c.vcs.as_str(), "tfvc_project": c.tfvc_project, "human_name": c.human_name}))
            .collect();
    }
    value
}

pub fn author(urls: &Urls<'_>, author: &AuthorRecord) -> Value {
    json!({
        "id": author.id,
        "remote_id": author.remote_id,
        "remote_name": author.remote_name,
        "email": author.email,
        "name": author.name,
        "url": format!("{}/authors/{}", urls.import(), author.id),
        "import_url": urls.import(),
    })
}

pub fn large_file(file: &LargeFileRecord) -> Value {
    json!({"ref_name": file.ref_name, "path": file.path, "oid": file.oid, "size": file.size})
}

pub fn report_entry(entry: &ReportEntry) -> Value {
    json!({"kind": entry.kind, "revision": entry.revision, "path": entry.path, "detail": entry.detail})
}

/// What happened to a large file, as a conversion report entry.
pub fn large_file_entry(file: &LargeFileRecord, choice: LfsChoice) -> Value {
    let (kind, detail) = match choice {
        LfsChoice::OptIn => (
            "large_file_in_lfs",
            "stored in Git LFS; the history holds a pointer",
        ),
        LfsChoice::OptOut => (
            "large_file_removed",
            "left out of the pushed history (use_lfs: opt_out)",
        ),
        LfsChoice::Undecided => (
            "large_file_removed",
            "left out of the pushed history until use_lfs is chosen (undecided)",
        ),
    };
    json!({
        "kind": kind,
        "revision": null,
        "path": file.path,
        "detail": detail,
        "ref_name": file.ref_name,
        "oid": file.oid,
        "size": file.size,
    })
}
