#!/usr/bin/env python3
"""Drive the whole Source Imports flow with *unmodified* PyGithub.

Environment:
  SRCIMPORT_BASE_URL  e.g. http://127.0.0.1:8080   (no trailing slash needed)
  SRCIMPORT_TOKEN     token; PyGithub sends "Authorization: token <TOKEN>"
  SOURCE_URL          git URL of the repository to import
  OWNER, REPO         target repository (created with POST /user/repos if GET 404s)
Optional:
  SOURCE_USERNAME / SOURCE_PASSWORD   passed as vcs_username / vcs_password
  POLL_TIMEOUT        seconds per "wait until complete" (default 120)
  POLL_INTERVAL       seconds between polls (default 0.2)

Steps that PyGithub has no method for go through its own low-level
Requester (repo.requester.requestJsonAndCheck / requestJson):
  authors list, author remap, large files, LFS preference, restart
  (bodyless PATCH) and cancel (DELETE).

Exit status 0 on success; non-zero with "FAIL: ..." on stderr otherwise.
Uses only PyGithub and the standard library.
"""
from __future__ import annotations

import importlib.metadata
import os
import sys
import time
import traceback

import github
from github import Auth, Github
from github.GithubException import BadAttributeException, GithubException, UnknownObjectException

PREVIEW = {"Accept": "application/vnd.github.barred-rock-preview"}  # == github.Consts.mediaTypeImportPreview
ERROR_STATUSES = {
    "error",
    "auth_failed",
    "detection_found_nothing",
    "detection_found_multiple",
    "detection_needs_auth",
    "choose",
    "auth",
    "unknown",
}
IN_PROGRESS_STATUSES = {"detecting", "importing", "mapping", "waiting_to_push", "pushing", "setup", "none"}
ANY_OK_STATUS = IN_PROGRESS_STATUSES | {"complete"}


class Fail(Exception):
    pass


def check(cond: bool, msg: str) -> None:
    if not cond:
        raise Fail(msg)


def env(name: str, default: str | None = None) -> str:
    v = os.environ.get(name, default)
    if v is None or v == "":
        raise Fail(f"environment variable {name} is required")
    return v


def log(msg: str) -> None:
    print(f"[pygithub_flow] {msg}", flush=True)


def typed_fields(si: github.SourceImport.SourceImport) -> dict:
    """Read every typed SourceImport attribute that GitHub returns; PyGithub raises
    BadAttributeException when a field has the wrong JSON type (e.g. a string where
    an int/bool is expected)."""
    out = {}
    for name in (
        "status", "status_text", "vcs", "vcs_url", "url", "html_url", "authors_url", "repository_url",
        "has_large_files", "large_files_size", "large_files_count", "authors_count", "commit_count",
        "import_percent", "push_percent", "failed_step", "error_message",
    ):
        try:
            out[name] = getattr(si, name)
        except BadAttributeException as e:
            raise Fail(f"PyGithub rejected the type of import field {name!r}: {e}") from e
    check(isinstance(out["status"], str), f"import status is not a string: {out['status']!r}")
    return out


def check_use_lfs(si: github.SourceImport.SourceImport, expected: str | None) -> None:
    raw = si.raw_data.get("use_lfs", "<absent>")
    # PyGithub types use_lfs as a *string* (_makeStringAttribute); GitHub's later OpenAPI
    # description says boolean. A boolean only breaks when .use_lfs is read.
    if isinstance(raw, str) and raw != "<absent>":
        check(si.use_lfs == raw, "PyGithub use_lfs accessor disagrees with raw data")
    elif isinstance(raw, bool):
        log(f"WARNING: use_lfs is JSON boolean {raw!r}; PyGithub's SourceImport.use_lfs would raise "
            "BadAttributeException (it expects a string such as 'opt_in')")
    if expected is not None:
        check(raw in (expected, expected == "opt_in"),
              f"use_lfs should be {expected!r} (or the boolean equivalent), got {raw!r}")


def wait_complete(si: github.SourceImport.SourceImport, what: str, timeout: float, interval: float) -> dict:
    """Poll with SourceImport.update() (a conditional GET on the import's own `url`
    field, Accept: barred-rock-preview) until status == complete."""
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        si.update()  # returns False on 304 (ETag/If-None-Match); attributes then stay as they were
        f = typed_fields(si)
        st = f["status"]
        if not seen or seen[-1] != st:
            seen.append(st)
        if st == "complete":
            log(f"{what}: complete (statuses seen: {' -> '.join(seen)})")
            return f
        check(st not in ERROR_STATUSES,
              f"{what}: import entered status {st!r} (failed_step={f.get('failed_step')!r}, "
              f"error_message={f.get('error_message')!r}, status_text={f.get('status_text')!r})")
        check(st in IN_PROGRESS_STATUSES, f"{what}: unexpected import status {st!r}")
        if time.monotonic() > deadline:
            raise Fail(f"{what}: not complete after {timeout}s; statuses seen: {' -> '.join(seen)}")
        time.sleep(interval)


def check_author(a: object, where: str) -> dict:
    check(isinstance(a, dict), f"{where}: author is not an object: {a!r}")
    assert isinstance(a, dict)
    check(isinstance(a.get("id"), int) and not isinstance(a.get("id"), bool), f"{where}: author id not int: {a!r}")
    for k in ("remote_id", "remote_name", "email", "name", "url", "import_url"):
        check(isinstance(a.get(k), str), f"{where}: author field {k!r} not a string: {a!r}")
    check(a["url"].rstrip("/").endswith(f"/import/authors/{a['id']}"),
          f"{where}: author url {a['url']!r} does not end with /import/authors/{a['id']}")
    return a


def main() -> int:
    base_url = env("SRCIMPORT_BASE_URL").rstrip("/")
    token = env("SRCIMPORT_TOKEN")
    source_url = env("SOURCE_URL")
    owner = env("OWNER")
    repo_name = env("REPO")
    timeout = float(os.environ.get("POLL_TIMEOUT", "120"))
    interval = float(os.environ.get("POLL_INTERVAL", "0.2"))
    log(f"PyGithub {importlib.metadata.version('PyGithub')} against {base_url}")

    # retry=0: surface server 5xx at once instead of PyGithub's default GithubRetry back-off.
    gh = Github(base_url=base_url, auth=Auth.Token(token), retry=0, timeout=30)
    full = f"{owner}/{repo_name}"

    # 1. repository: GET /repos/{owner}/{repo}; create with POST /user/repos if absent
    try:
        repo = gh.get_repo(full)  # eager GET /repos/{owner}/{repo}
    except UnknownObjectException:
        log(f"{full} not found; creating it with get_user().create_repo({repo_name!r}) -> POST /user/repos")
        created = gh.get_user().create_repo(repo_name)
        check(created.name == repo_name, f"created repository name {created.name!r} != {repo_name!r}")
        repo = gh.get_repo(full)
    check(repo.full_name == full, f"repository full_name {repo.full_name!r} != {full!r}")
    check(repo.name == repo_name, f"repository name {repo.name!r} != {repo_name!r}")
    check(isinstance(repo.url, str) and repo.url.rstrip("/").endswith(f"/repos/{full}"),
          f"repository url {repo.url!r} does not end with /repos/{full}")
    log(f"repository ok: {repo.full_name} url={repo.url}")
    req = repo.requester
    import_url = f"{repo.url}/import"  # exactly what PyGithub builds for create/get_source_import

    # leftover import from an earlier run: cancel it so PUT starts fresh
    try:
        old = repo.get_source_import()
        if old is not None:
            log(f"an import already exists (status {old.status!r}); cancelling it first")
            req.requestJsonAndCheck("DELETE", import_url, headers=dict(PREVIEW))
    except UnknownObjectException:
        pass

    # 2. start: PUT /repos/{o}/{r}/import {"vcs":"git","vcs_url":...}
    kw = {}
    if os.environ.get("SOURCE_USERNAME"):
        kw["vcs_username"] = os.environ["SOURCE_USERNAME"]
    if os.environ.get("SOURCE_PASSWORD"):
        kw["vcs_password"] = os.environ["SOURCE_PASSWORD"]
    si = repo.create_source_import("git", source_url, **kw)
    f = typed_fields(si)  # PUT response is completed=False: a missing field triggers GET <url> (no preview Accept)
    check(f["status"] in ANY_OK_STATUS, f"start: unexpected status {f['status']!r}")
    check(f["vcs"] == "git", f"start: vcs {f['vcs']!r} != 'git'")
    check(f["vcs_url"] == source_url, f"start: vcs_url {f['vcs_url']!r} != {source_url!r}")
    check(isinstance(f["url"], str) and f["url"].rstrip("/").endswith(f"/repos/{full}/import"),
          f"start: url {f['url']!r} does not end with /repos/{full}/import")
    check(isinstance(f["authors_url"], str) and f["authors_url"].rstrip("/").endswith(f"/repos/{full}/import/authors"),
          f"start: authors_url {f['authors_url']!r}")
    check(isinstance(f["repository_url"], str) and f["repository_url"].rstrip("/").endswith(f"/repos/{full}"),
          f"start: repository_url {f['repository_url']!r}")
    log(f"start: status={f['status']!r}")

    # 3. poll until complete (SourceImport.update() -> GET <url field>)
    f = wait_complete(si, "initial import", timeout, interval)
    got = repo.get_source_import()  # GET {repo.url}/import with preview Accept
    check(got is not None, "get_source_import returned None after completion")
    assert got is not None
    g = typed_fields(got)
    check(g["status"] == "complete", f"get_source_import status {g['status']!r} != 'complete'")
    check(g["vcs"] == "git" and g["vcs_url"] == source_url, f"get_source_import vcs/vcs_url mismatch: {g}")
    check(isinstance(g["has_large_files"], bool), f"has_large_files not bool: {g['has_large_files']!r}")

    # 4. authors: GET <authors_url> (no PyGithub method)
    _, authors = req.requestJsonAndCheck("GET", f["authors_url"], headers=dict(PREVIEW))
    check(isinstance(authors, list), f"authors: expected a JSON array, got {type(authors).__name__}: {authors!r}")
    check(len(authors) >= 1, "authors: empty list for a completed git import")
    for a in authors:
        check_author(a, "authors")
    ids = [a["id"] for a in authors]
    check(len(set(ids)) == len(ids), f"authors: duplicate ids {ids}")
    if isinstance(g.get("authors_count"), int):
        check(g["authors_count"] == len(authors),
              f"authors_count {g['authors_count']} != number of authors listed {len(authors)}")
    log(f"authors: {len(authors)} listed, ids={ids}")
    since = min(ids)
    _, later = req.requestJsonAndCheck("GET", f["authors_url"], parameters={"since": str(since)}, headers=dict(PREVIEW))
    check(isinstance(later, list), f"authors?since=: expected a list, got {later!r}")
    check(all(check_author(a, "authors?since")["id"] > since for a in later),
          f"authors?since={since}: returned ids not all > {since}: {[a['id'] for a in later]}")
    check(sorted(a["id"] for a in later) == sorted(i for i in ids if i > since),
          f"authors?since={since}: got {[a['id'] for a in later]}, expected {[i for i in ids if i > since]}")
    log(f"authors?since={since}: {len(later)} returned, ok")

    # 5. remap one author: PATCH <author.url> {"email":..,"name":..}
    target = authors[0]
    new_name, new_email = "Remapped Author", "remapped.author@example.com"
    _, upd = req.requestJsonAndCheck("PATCH", target["url"], input={"email": new_email, "name": new_name},
                                     headers=dict(PREVIEW))
    check_author(upd, "remap response")
    check(upd["id"] == target["id"], f"remap: id changed {target['id']} -> {upd['id']}")
    check(upd["name"] == new_name and upd["email"] == new_email,
          f"remap: response name/email {upd['name']!r}/{upd['email']!r} != {new_name!r}/{new_email!r}")
    check(upd["remote_id"] == target["remote_id"], f"remap: remote_id changed {target['remote_id']!r} -> {upd['remote_id']!r}")
    log(f"remap: author {upd['id']} -> {upd['name']} <{upd['email']}>")
    wait_complete(si, "after author remap", timeout, interval)
    _, authors2 = req.requestJsonAndCheck("GET", f["authors_url"], headers=dict(PREVIEW))
    match = [a for a in authors2 if isinstance(a, dict) and a.get("id") == target["id"]]
    check(len(match) == 1, f"remap: author {target['id']} missing from re-listed authors {authors2!r}")
    check(match[0]["name"] == new_name and match[0]["email"] == new_email,
          f"remap: re-listed author has {match[0]['name']!r}/{match[0]['email']!r}, expected {new_name!r}/{new_email!r}")
    log("remap: persisted in author list")

    # 6. large files: GET {repo.url}/import/large_files
    _, large = req.requestJsonAndCheck("GET", f"{import_url}/large_files", headers=dict(PREVIEW))
    check(isinstance(large, list), f"large_files: expected a JSON array, got {large!r}")
    for lf in large:
        check(isinstance(lf, dict), f"large_files: entry not an object: {lf!r}")
        for k in ("ref_name", "path", "oid"):
            check(isinstance(lf.get(k), str), f"large_files: field {k!r} not a string: {lf!r}")
        check(isinstance(lf.get("size"), int) and not isinstance(lf.get("size"), bool), f"large_files: size not int: {lf!r}")
    si.update()
    lfc = typed_fields(si)["large_files_count"]
    if isinstance(lfc, int):
        check(lfc == len(large), f"large_files_count {lfc} != {len(large)} files listed")
    log(f"large_files: {len(large)} listed")

    # 7. LFS preference: PATCH {repo.url}/import/lfs {"use_lfs":"opt_in"}
    _, lfs = req.requestJsonAndCheck("PATCH", f"{import_url}/lfs", input={"use_lfs": "opt_in"}, headers=dict(PREVIEW))
    check(isinstance(lfs, dict), f"lfs: expected an import object, got {lfs!r}")
    lfs_si = github.SourceImport.SourceImport(req, {}, lfs, completed=True)
    lf_fields = typed_fields(lfs_si)
    check(lf_fields["status"] in ANY_OK_STATUS, f"lfs: unexpected status {lf_fields['status']!r}")
    check_use_lfs(lfs_si, "opt_in")
    wait_complete(si, "after LFS opt_in", timeout, interval)
    check_use_lfs(si, "opt_in")
    log("lfs: opt_in accepted")

    # 8. restart: bodyless PATCH {repo.url}/import (SourceImport.update() is a GET, not this)
    _, rs = req.requestJsonAndCheck("PATCH", import_url, headers=dict(PREVIEW))
    check(isinstance(rs, dict), f"restart: expected an import object, got {rs!r}")
    rs_si = github.SourceImport.SourceImport(req, {}, rs, completed=True)
    rf = typed_fields(rs_si)
    check(rf["status"] in ANY_OK_STATUS, f"restart: unexpected status {rf['status']!r}")
    check(rf["vcs_url"] == source_url, f"restart: vcs_url {rf['vcs_url']!r} != {source_url!r}")
    log(f"restart: status={rf['status']!r}")
    wait_complete(si, "after restart", timeout, interval)

    # 9. cancel: DELETE {repo.url}/import -> 204, then GET -> 404 (UnknownObjectException)
    status, _, body = req.requestJson("DELETE", import_url, headers=dict(PREVIEW))
    check(status == 204, f"cancel: DELETE returned {status} (body {body!r}), expected 204")
    check(body in ("", None), f"cancel: 204 with a body {body!r}")
    try:
        after = repo.get_source_import()
    except UnknownObjectException:
        log("cancel: GET import -> 404 UnknownObjectException, ok")
    except GithubException as e:
        raise Fail(f"cancel: GET import after DELETE raised {type(e).__name__} status={e.status} data={e.data!r}; "
                   "expected 404 with a message containing 'Not Found' (-> UnknownObjectException)") from e
    else:
        raise Fail(f"cancel: GET import after DELETE still returned an import: {after and after.raw_data!r}")

    # 10. webhooks through PyGithub's own Hook API: create, edit, ping, delivery log, delete
    hook_url = os.environ.get("HOOK_URL")
    if hook_url:
        hook = repo.create_hook("web", {"url": hook_url, "content_type": "json", "secret": "s3"},
                                events=["repository_import"], active=True)
        check(hook.config.get("secret") == "********", f"hooks: secret echoed: {hook.config!r}")
        hook.edit("web", {"url": hook_url, "content_type": "form"}, add_events=["push"])
        check(hook.events == ["repository_import", "push"], f"hooks: edit gave {hook.events!r}")
        check(hook.config.get("content_type") == "form", f"hooks: edit gave {hook.config!r}")
        check([h.id for h in repo.get_hooks()] == [hook.id], "hooks: list")
        hook.ping()
        deadline = time.monotonic() + timeout
        while True:
            pings = [d for d in repo.get_hook_deliveries(hook.id) if d.event == "ping"]
            if len(pings) >= 2 and all(d.status_code == 200 for d in pings):
                break
            check(time.monotonic() < deadline, f"hooks: pings never delivered: {[d.raw_data for d in pings]}")
            time.sleep(interval)
        one = repo.get_hook_delivery(hook.id, pings[0].id)
        check(one.guid == pings[0].guid and one.request.payload["hook_id"] == hook.id,
              f"hooks: one delivery {one.raw_data!r}")
        hook.delete()
        log(f"hooks: created, edited, pinged ({len(pings)} pings delivered), deleted")

    log("ALL STEPS PASSED")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Fail as e:
        print(f"FAIL: {e}", file=sys.stderr)
        sys.exit(1)
    except GithubException as e:
        traceback.print_exc()
        print(f"FAIL: unexpected HTTP error {e.status}: {e.data!r}", file=sys.stderr)
        sys.exit(1)
    except Exception as e:  # AssertionError from PyGithub's URL checks, connection errors, ...
        traceback.print_exc()
        print(f"FAIL: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(2)
