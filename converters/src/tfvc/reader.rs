//! Reading a project: changesets in id order with their changes, branches, labels, and
//! item contents downloaded in parallel by a bounded pool, pipelined ahead of the
//! converter (a bounded window of downloads, each spooled to disk past a small size).
//! Lists and changes run on a second pool of the same size, so they never wait behind
//! downloads.

use std::collections::{HashSet, VecDeque};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex};

use super::client::{encode, Client};
use super::model::{Branch, Change, ChangeType, ChangesetRef, Envelope, Item, LabelRef};
use super::TfvcError;
use crate::spool::Spool;
use crate::SourceError;

/// One changeset with its full comment and every change.
#[derive(Debug, Clone)]
pub struct Changeset {
    pub info: ChangesetRef,
    pub changes: Vec<Change>,
}

/// A changeset and which of its changes get their content downloaded, in order.
#[derive(Debug)]
pub struct Planned {
    pub changeset: Changeset,
    /// Per change: is its content downloaded (and handed over by [`Stream::content`])?
    pub download: Vec<bool>,
    /// Per change: the `hashValue` of content downloaded earlier that it has too (a rename,
    /// a merge bringing the source's text): the converter reuses that blob.
    pub reuse: Vec<Option<String>>,
}

/// A TFVC branch as the branches API lists it (flattened).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchInfo {
    pub path: String,
    pub parent: Option<String>,
    pub deleted: bool,
}

/// A label and the items it holds.
#[derive(Debug, Clone)]
pub struct Label {
    pub label: LabelRef,
    pub items: Vec<Item>,
}

type Task = Box<dyn FnOnce() + Send>;
type ItemsResult = Result<Vec<Item>, TfvcError>;

/// A fixed set of worker threads: at most that many requests of a kind are in flight.
#[derive(Clone)]
struct Pool {
    tx: Sender<Task>,
}

impl Pool {
    fn new(jobs: usize) -> Pool {
        let (tx, rx) = mpsc::channel::<Task>();
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..jobs.max(1) {
            let rx = Arc::clone(&rx);
            std::thread::spawn(move || loop {
                let task = match rx.lock() {
                    Ok(guard) => guard.recv(),
                    Err(_) => return,
                };
                match task {
                    Ok(task) => task(),
                    Err(_) => return,
                }
            });
        }
        Pool { tx }
    }

    /// Runs `work` on a worker; its result arrives on the returned channel.
    fn submit<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Receiver<T> {
        let (tx, rx) = mpsc::sync_channel(1);
        let task: Task = Box::new(move || {
            let _ = tx.send(work());
        });
        // A send fails only once every worker is gone; the receiver then reports it.
        let _ = self.tx.send(task);
        rx
    }
}

fn pool_gone() -> TfvcError {
    TfvcError::Source(SourceError::Cancelled)
}

/// A project's reader.
pub struct Reader {
    client: Arc<Client>,
    project: String,
    /// Item downloads.
    pool: Pool,
    /// Everything else (lists, each changeset's changes), beside the downloads so listing
    /// never waits behind them.
    meta: Pool,
    jobs: usize,
}

impl Reader {
    /// A reader of `project` running at most `jobs` requests at a time.
    pub fn new(client: Client, project: &str, jobs: usize) -> Reader {
        Reader {
            client: Arc::new(client),
            project: project.to_owned(),
            pool: Pool::new(jobs),
            meta: Pool::new(jobs),
            jobs: jobs.max(1),
        }
    }

    pub fn project(&self) -> &str {
        &self.project
    }

    /// The collection's URL.
    pub fn collection(&self) -> &str {
        self.client.collection()
    }

    /// `$/Project`.
    pub fn project_path(&self) -> String {
        format!("$/{}", self.project)
    }

    fn api(&self, rest: &str) -> String {
        api_path(&self.project, rest)
    }

    /// Runs `work` with the client on the pool and waits for it.
    fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Client) -> Result<T, TfvcError> + Send + 'static,
    ) -> Result<T, TfvcError> {
        let client = Arc::clone(&self.client);
        self.meta
            .submit(move || work(&client))
            .recv()
            .map_err(|_| pool_gone())?
    }

    /// Every changeset touching the project, oldest first (comments possibly truncated).
    pub fn changesets(&self) -> Result<Vec<ChangesetRef>, TfvcError> {
        self.changesets_from(None)
    }

    /// The changesets touching the project from changeset `from` on (all with `None`),
    /// oldest first.
    pub fn changesets_from(&self, from: Option<u64>) -> Result<Vec<ChangesetRef>, TfvcError> {
        let path = self.api("tfvc/changesets");
        let item_path = self.project_path();
        self.run(move |client| {
            let mut all: Vec<ChangesetRef> = Vec::new();
            let mut query = vec![
                ("searchCriteria.itemPath", item_path),
                ("$orderby", "id asc".into()),
            ];
            query.extend(from.map(|id| ("searchCriteria.fromId", id.to_string())));
            client.get_paged(&path, &query, |c: ChangesetRef| {
                all.push(c);
                Ok(())
            })?;
            // Servers that ignore `$orderby` (or `fromId`) still give every changeset once.
            all.retain(|c| from.is_none_or(|from| c.changeset_id >= from));
            all.sort_by_key(|c| c.changeset_id);
            all.dedup_by_key(|c| c.changeset_id);
            Ok(all)
        })
    }

    /// Every branch of the project, deleted ones included, parents before children.
    pub fn branches(&self) -> Result<Vec<BranchInfo>, TfvcError> {
        let path = self.api("tfvc/branches");
        let roots: Envelope<Branch> = self.run(move |client| {
            client.get_json(
                &path,
                &[
                    ("includeChildren", "true".into()),
                    ("includeDeleted", "true".into()),
                    ("includeParent", "true".into()),
                ],
            )
        })?;
        let mut out = Vec::new();
        let mut queue: VecDeque<(Branch, Option<String>)> =
            roots.value.into_iter().map(|b| (b, None)).collect();
        while let Some((branch, parent)) = queue.pop_front() {
            let parent = branch.parent.as_ref().map(|p| p.path.clone()).or(parent);
            if !out
                .iter()
                .any(|b: &BranchInfo| b.path.eq_ignore_ascii_case(&branch.path))
            {
                out.push(BranchInfo {
                    path: branch.path.clone(),
                    parent,
                    deleted: branch.is_deleted,
                });
            }
            for child in branch.children {
                queue.push_back((child, Some(branch.path.clone())));
            }
        }
        Ok(out)
    }

    /// Every label of the project with its items.
    pub fn labels(&self) -> Result<Vec<Label>, TfvcError> {
        let path = self.api("tfvc/labels");
        let scope = self.project_path();
        let labels: Vec<LabelRef> = self.run(move |client| {
            let mut all = Vec::new();
            client.get_paged(
                &path,
                &[("requestData.itemLabelFilter", scope)],
                |l: LabelRef| {
                    all.push(l);
                    Ok(())
                },
            )?;
            Ok(all)
        })?;
        let pending: Vec<(LabelRef, Receiver<ItemsResult>)> = labels
            .into_iter()
            .map(|label| {
                let client = Arc::clone(&self.client);
                let path = self.api(&format!("tfvc/labels/{}/items", label.id));
                let rx = self.meta.submit(move || {
                    let mut items = Vec::new();
                    client.get_paged(&path, &[], |i: Item| {
                        items.push(i);
                        Ok(())
                    })?;
                    Ok(items)
                });
                (label, rx)
            })
            .collect();
        pending
            .into_iter()
            .map(|(label, rx)| {
                let items = rx.recv().map_err(|_| pool_gone())??;
                Ok(Label { label, items })
            })
            .collect()
    }

    /// Streams `refs`' changesets, each with its changes and full comment, with their
    /// contents downloading ahead.
    pub fn stream(&self, refs: Vec<ChangesetRef>) -> Stream {
        self.stream_knowing(refs, HashSet::new())
    }

    /// [`Reader::stream`], with the `hashValue`s of contents an earlier run downloaded
    /// (and the converter still holds) not downloaded again.
    pub fn stream_knowing(&self, refs: Vec<ChangesetRef>, downloaded: HashSet<String>) -> Stream {
        let lookahead = (self.jobs * 4).max(8);
        let (tx, rx) = mpsc::sync_channel(lookahead);
        let client = Arc::clone(&self.client);
        let meta = self.meta.clone();
        let project = self.project.clone();
        std::thread::spawn(move || list(client, meta, project, refs, downloaded, lookahead, tx));
        Stream {
            planned: rx,
            received: VecDeque::new(),
            unsubmitted: VecDeque::new(),
            inflight: VecDeque::new(),
            window: (self.jobs * 4).max(4),
            pool: self.pool.clone(),
            client: Arc::clone(&self.client),
            project: self.project.clone(),
            finished: false,
        }
    }
}

/// `{project}/_apis/{rest}`.
fn api_path(project: &str, rest: &str) -> String {
    format!("{}/_apis/{rest}", encode(project).replace('/', "%2F"))
}

/// The lister: fetches each changeset's changes (and full comment) on the pool, a
/// bounded number ahead, and hands them over in order with their download plan.
fn list(
    client: Arc<Client>,
    pool: Pool,
    project: String,
    refs: Vec<ChangesetRef>,
    mut downloaded: HashSet<String>,
    lookahead: usize,
    out: SyncSender<Result<Planned, TfvcError>>,
) {
    type Pending = Receiver<Result<Changeset, TfvcError>>;
    let mut pending: VecDeque<Pending> = VecDeque::new();
    let mut refs = refs.into_iter();
    loop {
        while pending.len() < lookahead {
            let Some(info) = refs.next() else { break };
            let client = Arc::clone(&client);
            let project = project.clone();
            pending.push_back(pool.submit(move || fetch_changeset(&client, &project, info)));
        }
        let Some(next) = pending.pop_front() else {
            return;
        };
        let planned = next
            .recv()
            .map_err(|_| pool_gone())
            .and_then(|r| r)
            .map(|changeset| plan(changeset, &mut downloaded));
        let failed = planned.is_err();
        if out.send(planned).is_err() || failed {
            return;
        }
    }
}

fn fetch_changeset(
    client: &Client,
    project: &str,
    mut info: ChangesetRef,
) -> Result<Changeset, TfvcError> {
    let id = info.changeset_id;
    if info.comment_truncated {
        let full: ChangesetRef = client.get_json(
            &api_path(project, &format!("tfvc/changesets/{id}")),
            &[("maxCommentLength", i32::MAX.to_string())],
        )?;
        info.comment = full.comment;
        info.comment_truncated = false;
    }
    let changes = client.get_continued(
        &api_path(project, &format!("tfvc/changesets/{id}/changes")),
        &[],
    )?;
    Ok(Changeset { info, changes })
}

/// Which changes need their content: files added, edited, branched, undeleted or renamed,
/// except files a folder branch of the same changeset copies unchanged (the converter
/// takes those from the source tree) and files whose `hashValue` an earlier download had
/// (`downloaded` holds those, across changesets; the converter reuses the blob).
pub fn plan(changeset: Changeset, downloaded: &mut HashSet<String>) -> Planned {
    let id = changeset.info.changeset_id;
    let copies = tree_copies(&changeset);
    let mut download = Vec::with_capacity(changeset.changes.len());
    let mut reuse = Vec::with_capacity(changeset.changes.len());
    for change in &changeset.changes {
        let kind = change.kind();
        let content = ChangeType::ADD
            | ChangeType::EDIT
            | ChangeType::BRANCH
            | ChangeType::UNDELETE
            | ChangeType::RENAME;
        let pure_branch = kind.has(ChangeType::BRANCH)
            && !kind.has(ChangeType::EDIT | ChangeType::MERGE | ChangeType::ADD);
        let has_content =
            !change.item.is_folder && !kind.has(ChangeType::DELETE) && kind.has(content);
        let copied = pure_branch && covered(&copies, change, id);
        let wanted = has_content && !copied;
        let hash = change
            .item
            .hash_value
            .clone()
            .filter(|h| !h.is_empty() && wanted);
        match hash {
            Some(hash) if downloaded.contains(&hash) => {
                download.push(false);
                reuse.push(Some(hash));
            }
            hash => {
                if let Some(hash) = hash {
                    downloaded.insert(hash);
                }
                download.push(wanted);
                reuse.push(None);
            }
        }
    }
    Planned {
        changeset,
        download,
        reuse,
    }
}

/// A folder branch of a changeset: `(destination, source, source version)`, lowercased.
pub type TreeCopy = (String, String, u64);

/// The folder branches of a changeset not inside another one of the same changeset.
pub fn tree_copies(changeset: &Changeset) -> Vec<TreeCopy> {
    let id = changeset.info.changeset_id;
    let mut copies: Vec<TreeCopy> = changeset
        .changes
        .iter()
        .filter(|c| c.item.is_folder && c.kind().has(ChangeType::BRANCH))
        .filter(|c| !c.kind().has(ChangeType::DELETE))
        .filter_map(|c| {
            let (source, version) = c.branch_source(id)?;
            Some((c.item.path.to_lowercase(), source.to_lowercase(), version))
        })
        .collect();
    copies.sort();
    let all = copies.clone();
    copies.retain(|(dst, src, version)| {
        !all.iter()
            .any(|other| other.0 != *dst && covers(other, dst, src, *version))
    });
    copies
}

/// Does the copy `copy` bring `path` from `source` at `version`?
fn covers(copy: &TreeCopy, path: &str, source: &str, version: u64) -> bool {
    let (dst, src, v) = copy;
    match path
        .strip_prefix(dst.as_str())
        .filter(|r| r.starts_with('/'))
    {
        Some(rest) => *v == version && source == format!("{src}{rest}"),
        None => false,
    }
}

fn covered(copies: &[TreeCopy], change: &Change, id: u64) -> bool {
    let Some((source, version)) = change.branch_source(id) else {
        return false;
    };
    let path = change.item.path.to_lowercase();
    let source = source.to_lowercase();
    copies.iter().any(|c| covers(c, &path, &source, version))
}

/// Changesets in order, with their contents arriving from the pool.
pub struct Stream {
    planned: Receiver<Result<Planned, TfvcError>>,
    /// Changesets received from the lister, not yet handed to the converter.
    received: VecDeque<Result<Planned, TfvcError>>,
    /// Downloads of received changesets not yet started: `(path, version)`.
    unsubmitted: VecDeque<(String, u64)>,
    inflight: VecDeque<Receiver<Result<Spool, TfvcError>>>,
    window: usize,
    pool: Pool,
    client: Arc<Client>,
    project: String,
    finished: bool,
}

/// At most this many changesets are held ahead of the converter.
const MAX_RECEIVED: usize = 256;

impl Stream {
    /// The next changeset, or `None` after the last.
    pub fn next_changeset(&mut self) -> Option<Result<Planned, TfvcError>> {
        if self.received.is_empty() && !self.finished {
            match self.planned.recv() {
                Ok(planned) => self.receive(planned),
                Err(_) => self.finished = true,
            }
        }
        let next = self.received.pop_front();
        self.top_up();
        next
    }

    /// The content of the current changeset's next downloaded change (in change order).
    pub fn content(&mut self) -> Result<Spool, TfvcError> {
        self.top_up();
        let next = self
            .inflight
            .pop_front()
            .ok_or_else(|| TfvcError::Unexpected {
                url: self.client.collection().to_owned(),
                message: "a download was asked for that was never planned".into(),
            })?;
        let result = next.recv().map_err(|_| pool_gone())?;
        self.top_up();
        result
    }

    fn receive(&mut self, planned: Result<Planned, TfvcError>) {
        if let Ok(p) = &planned {
            let id = p.changeset.info.changeset_id;
            for (change, wanted) in p.changeset.changes.iter().zip(&p.download) {
                if *wanted {
                    let version = change.item.version.unwrap_or(id);
                    self.unsubmitted
                        .push_back((change.item.path.clone(), version));
                }
            }
        }
        self.received.push_back(planned);
    }

    /// Starts downloads until the window is full, taking more changesets from the lister
    /// when it has them ready.
    fn top_up(&mut self) {
        loop {
            while self.inflight.len() < self.window {
                let Some((path, version)) = self.unsubmitted.pop_front() else {
                    break;
                };
                let client = Arc::clone(&self.client);
                let api = api_path(&self.project, "tfvc/items");
                self.inflight.push_back(self.pool.submit(move || {
                    client.download(
                        &api,
                        &[
                            ("path", path),
                            ("versionDescriptor.version", version.to_string()),
                            ("versionDescriptor.versionType", "changeset".into()),
                            ("download", "true".into()),
                        ],
                    )
                }));
            }
            if self.inflight.len() >= self.window
                || self.received.len() >= MAX_RECEIVED
                || self.finished
            {
                return;
            }
            match self.planned.try_recv() {
                Ok(planned) => self.receive(planned),
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Disconnected) => {
                    self.finished = true;
                    return;
                }
            }
        }
    }
}
