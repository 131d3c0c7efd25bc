//! Wire representations (JSON) of repositories, imports, authors and large files.
//!
//! Invariant: only `api/` knows these shapes; the store's records never reach the wire as is.

use serde_json::{json, Value};

use crate::store::{
    AuthorRecord, DeliveryRecord, DeliveryState, HookRecord, ImportRecord, LargeFileRecord,
    LfsChoice, RepoRecord, ReportEntry,
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

/// An import; `default_sync_interval` is the server's, for imports that set none.
pub fn import(urls: &Urls<'_>, record: &ImportRecord, default_sync_interval: Option<i64>) -> Value {
    let sync_interval = match record.sync_interval {
        None => default_sync_interval,
        Some(0) => None,
        Some(seconds) => Some(seconds),
    };
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
        "sync_interval": sync_interval,
        "last_synced_at": record.last_synced_ms.map(crate::clock::iso8601),
    });
    if let Some(push) = &record.push {
        value["push_url"] = json!(push.url);
        value["push_username"] = json!(push.credentials.as_ref().map(|c| &c.username));
    }
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

/// A user or organization account as webhooks show it (`simple-user`).
pub fn simple_user(base: &str, login: &str, kind: &str) -> Value {
    let user = format!("{base}/users/{login}");
    json!({
        "login": login,
        "id": account_id(login),
        "node_id": format!("U_{login}"),
        "name": null,
        "email": null,
        "avatar_url": format!("{base}/{login}.png"),
        "gravatar_id": "",
        "url": user,
        "html_url": format!("{base}/{login}"),
        "followers_url": format!("{user}/followers"),
        "following_url": format!("{user}/following{{/other_user}}"),
        "gists_url": format!("{user}/gists{{/gist_id}}"),
        "starred_url": format!("{user}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{user}/subscriptions"),
        "organizations_url": format!("{user}/orgs"),
        "repos_url": format!("{user}/repos"),
        "events_url": format!("{user}/events{{/privacy}}"),
        "received_events_url": format!("{user}/received_events"),
        "type": kind,
        "site_admin": false,
    })
}

/// A stable numeric id for an account, which srcimport does not number: the first 6 bytes
/// of the SHA-256 of its lower-cased login (GitHub's clients want an integer).
fn account_id(login: &str) -> i64 {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(login.to_lowercase().as_bytes());
    digest[..6]
        .iter()
        .fold(0i64, |id, byte| (id << 8) | i64::from(*byte))
}

/// An organization as webhooks show it (`organization-simple-webhooks`).
pub fn organization(base: &str, login: &str) -> Value {
    let org = format!("{base}/orgs/{login}");
    json!({
        "login": login,
        "id": account_id(login),
        "node_id": format!("O_{login}"),
        "url": org,
        "repos_url": format!("{org}/repos"),
        "events_url": format!("{org}/events"),
        "hooks_url": format!("{org}/hooks"),
        "issues_url": format!("{org}/issues"),
        "members_url": format!("{org}/members{{/member}}"),
        "public_members_url": format!("{org}/public_members{{/member}}"),
        "avatar_url": format!("{base}/{login}.png"),
        "description": null,
    })
}

/// The full repository object of webhook payloads (`repository-webhooks`): every field
/// GitHub sends, with srcimport's URLs and zero counts for what it does not have.
pub fn repository_for_webhook(urls: &Urls<'_>, owner_is_org: bool) -> Value {
    let repo = urls.repo;
    let api = urls.repository();
    let html = urls.html();
    let owner_kind = if owner_is_org { "Organization" } else { "User" };
    let host = urls
        .base
        .split_once("://")
        .map_or(urls.base, |(_, rest)| rest);
    let mut value = json!({
        "id": repo.id,
        "node_id": format!("R_{}", repo.id),
        "name": repo.name,
        "full_name": format!("{}/{}", repo.owner, repo.name),
        "private": repo.private,
        "visibility": if repo.private { "private" } else { "public" },
        "owner": simple_user(urls.base, &repo.owner, owner_kind),
        "html_url": html,
        "description": null,
        "fork": false,
        "url": api,
        "clone_url": format!("{html}.git"),
        "git_url": format!("git://{host}/{}/{}.git", repo.owner, repo.name),
        "ssh_url": format!("git@{host}:{}/{}.git", repo.owner, repo.name),
        "svn_url": html,
        "mirror_url": null,
        "homepage": null,
        "language": null,
        "license": null,
        "default_branch": repo.default_branch,
        "forks": 0, "forks_count": 0, "open_issues": 0, "open_issues_count": 0,
        "stargazers_count": 0, "watchers": 0, "watchers_count": 0, "size": 0,
        "has_downloads": false, "has_issues": false, "has_projects": false,
        "has_wiki": false, "has_pages": false, "archived": false, "disabled": false,
        "created_at": null, "updated_at": null, "pushed_at": null,
    });
    for (field, suffix) in [
        ("archive_url", "/{archive_format}{/ref}"),
        ("assignees_url", "/assignees{/user}"),
        ("blobs_url", "/git/blobs{/sha}"),
        ("branches_url", "/branches{/branch}"),
        ("collaborators_url", "/collaborators{/collaborator}"),
        ("comments_url", "/comments{/number}"),
        ("commits_url", "/commits{/sha}"),
        ("compare_url", "/compare/{base}...{head}"),
        ("contents_url", "/contents/{+path}"),
        ("contributors_url", "/contributors"),
        ("deployments_url", "/deployments"),
        ("downloads_url", "/downloads"),
        ("events_url", "/events"),
        ("forks_url", "/forks"),
        ("git_commits_url", "/git/commits{/sha}"),
        ("git_refs_url", "/git/refs{/sha}"),
        ("git_tags_url", "/git/tags{/sha}"),
        ("hooks_url", "/hooks"),
        ("issue_comment_url", "/issues/comments{/number}"),
        ("issue_events_url", "/issues/events{/number}"),
        ("issues_url", "/issues{/number}"),
        ("keys_url", "/keys{/key_id}"),
        ("labels_url", "/labels{/name}"),
        ("languages_url", "/languages"),
        ("merges_url", "/merges"),
        ("milestones_url", "/milestones{/number}"),
        (
            "notifications_url",
            "/notifications{?since,all,participating}",
        ),
        ("pulls_url", "/pulls{/number}"),
        ("releases_url", "/releases{/id}"),
        ("stargazers_url", "/stargazers"),
        ("statuses_url", "/statuses/{sha}"),
        ("subscribers_url", "/subscribers"),
        ("subscription_url", "/subscription"),
        ("tags_url", "/tags"),
        ("teams_url", "/teams"),
        ("trees_url", "/git/trees{/sha}"),
    ] {
        value[field] = json!(format!("{api}{suffix}"));
    }
    value
}

/// The `repository_import` event payload.
pub fn repository_import_event(
    urls: &Urls<'_>,
    status: &str,
    sender: &str,
    owner_is_org: bool,
) -> Value {
    let mut value = json!({
        "status": status,
        "repository": repository_for_webhook(urls, owner_is_org),
        "sender": simple_user(urls.base, sender, "User"),
    });
    if owner_is_org {
        value["organization"] = organization(urls.base, &urls.repo.owner);
    }
    value
}

/// The `ping` event's payload: a zen line, the hook as the API shows it, the repository
/// and who asked.
pub fn ping_event(urls: &Urls<'_>, hook: &HookRecord, sender: &str, owner_is_org: bool) -> Value {
    let mut value = json!({
        "zen": "Approachable is better than simple.",
        "hook_id": hook.id,
        "hook": self::hook(urls, hook),
        "repository": repository_for_webhook(urls, owner_is_org),
        "sender": simple_user(urls.base, sender, "User"),
    });
    if owner_is_org {
        value["organization"] = organization(urls.base, &urls.repo.owner);
    }
    value
}

/// A repository webhook as GitHub shows it; the secret is never echoed.
pub fn hook(urls: &Urls<'_>, hook: &HookRecord) -> Value {
    let url = format!("{}/hooks/{}", urls.repository(), hook.id);
    let config = hook_config(hook);
    json!({
        "type": "Repository",
        "id": hook.id,
        "name": "web",
        "active": hook.settings.active,
        "events": hook.settings.events,
        "config": config,
        "created_at": crate::clock::iso8601(hook.created_ms),
        "updated_at": crate::clock::iso8601(hook.updated_ms),
        "url": url,
        "test_url": format!("{url}/test"),
        "ping_url": format!("{url}/pings"),
        "deliveries_url": format!("{url}/deliveries"),
        "last_response": {
            "code": hook.last_code,
            "status": hook.last_status.as_deref().unwrap_or("unused"),
            "message": null,
        },
    })
}

/// The configuration part of a hook (`GET .../hooks/{id}/config`); the secret is never
/// echoed.
pub fn hook_config(hook: &HookRecord) -> Value {
    let hook = &hook.settings;
    let mut config = json!({
        "url": hook.url,
        "content_type": hook.content_type,
        "insecure_ssl": hook.insecure_ssl,
    });
    if hook.secret.is_some() {
        config["secret"] = json!("********");
    }
    config
}

/// One delivery with what was sent (`GET .../hooks/{id}/deliveries/{delivery_id}`): the
/// log entry plus the request's headers and payload. srcimport keeps no response bodies.
pub fn delivery_detail(record: &DeliveryRecord, headers: &[(&str, String)]) -> Value {
    let mut value = delivery(record);
    let headers: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(name, value)| ((*name).to_owned(), json!(value)))
        .collect();
    let payload: Value = serde_json::from_str(&record.payload).unwrap_or(Value::Null);
    value["url"] = json!(record.url);
    value["request"] = json!({"headers": headers, "payload": payload});
    value["response"] = json!({"headers": {}, "payload": null});
    value
}

/// One entry of a hook's delivery log, in GitHub's shape, with srcimport's retry state
/// (`attempts`, `state`, `next_attempt_at`) beside it.
pub fn delivery(record: &DeliveryRecord) -> Value {
    let status = match (record.state, record.status_code, &record.last_error) {
        (DeliveryState::Delivered, _, _) => "OK".to_owned(),
        (_, _, Some(error)) => error.clone(),
        (_, None, None) => "pending".to_owned(),
        (_, Some(code), None) => format!("HTTP {code}"),
    };
    json!({
        "id": record.id,
        "guid": record.guid,
        "delivered_at": record.delivered_ms.map(crate::clock::iso8601),
        "redelivery": record.redelivery,
        "duration": record.duration_ms.map_or(0.0, |ms| ms as f64 / 1000.0),
        "status": status,
        "status_code": record.status_code.unwrap_or(0),
        "event": record.event,
        "action": record.action,
        "installation_id": null,
        "repository_id": record.repo_id,
        "attempts": record.attempts,
        "state": record.state.as_str(),
        "next_attempt_at": (record.state == DeliveryState::Pending)
            .then(|| crate::clock::iso8601(record.next_attempt_ms)),
    })
}
