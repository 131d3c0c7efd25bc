//! Server configuration: command-line flags, each with an environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Args};

/// `srcimport serve` options.
#[derive(Args, Clone, Debug)]
pub struct ServeConfig {
    /// Directory for the database, hosted repositories and tokens.
    #[arg(long, env = "SRCIMPORT_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "SRCIMPORT_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Base URL used in `url` fields of responses; by default taken from the request's Host.
    #[arg(long, env = "SRCIMPORT_BASE_URL")]
    pub base_url: Option<String>,
    /// Concurrent import workers.
    #[arg(long, env = "SRCIMPORT_WORKERS", default_value_t = 2)]
    pub workers: usize,
    /// Allow local paths and file:// URLs as sources (they read the server's disk).
    #[arg(long, env = "SRCIMPORT_ALLOW_LOCAL_SOURCES", value_parser = BoolishValueParser::new(), action = ArgAction::SetTrue)]
    pub allow_local_sources: bool,
    /// Refuse sources on loopback and private networks.
    #[arg(long, env = "SRCIMPORT_DENY_PRIVATE_NETWORKS", value_parser = BoolishValueParser::new(), action = ArgAction::SetTrue)]
    pub deny_private_networks: bool,
    /// Do not create a repository when PUT /import names one that does not exist.
    #[arg(long, env = "SRCIMPORT_NO_AUTO_CREATE", value_parser = BoolishValueParser::new(), action = ArgAction::SetTrue)]
    pub no_auto_create: bool,
    /// Largest accepted API request body, in bytes.
    #[arg(long, env = "SRCIMPORT_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Blobs larger than this many bytes are large files (GitHub's limit: 100 MiB).
    #[arg(
        long,
        env = "SRCIMPORT_LARGE_FILE_THRESHOLD",
        default_value_t = 104_857_600
    )]
    pub large_file_threshold: i64,
    /// What to do with large files until a client says otherwise: opt_in (Git LFS),
    /// opt_out (leave them out) or undecided (left out until decided).
    #[arg(long, env = "SRCIMPORT_DEFAULT_USE_LFS", default_value = "undecided",
          value_parser = ["opt_in", "opt_out", "undecided"])]
    pub default_use_lfs: String,
    /// The Git branch that Mercurial's `default` branch becomes.
    #[arg(long, env = "SRCIMPORT_HG_DEFAULT_BRANCH", default_value = "main")]
    pub hg_default_branch: String,
    /// The Git branch that Subversion's trunk becomes.
    #[arg(long, env = "SRCIMPORT_SVN_TRUNK_BRANCH", default_value = "main")]
    pub svn_trunk_branch: String,
    /// Subversion: revisions converted by one `git fast-import` run; each run ends in a
    /// checkpoint that the next (and a failed import, when retried) resumes from. Fewer
    /// use less memory, more are a little faster.
    #[arg(long, env = "SRCIMPORT_SVN_REVISIONS_PER_RUN",
          default_value_t = crate::pipeline::DEFAULT_SVN_REVISIONS_PER_RUN,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub svn_revisions_per_run: u64,
    /// The Git branch that TFVC's root branch (or a project without branches) becomes.
    #[arg(long, env = "SRCIMPORT_TFVC_MAIN_BRANCH", default_value = "main")]
    pub tfvc_main_branch: String,
    /// TFVC: item downloads (and other REST requests) in flight at once, per import.
    #[arg(long, env = "SRCIMPORT_TFVC_DOWNLOAD_JOBS", default_value_t = 8)]
    pub tfvc_download_jobs: usize,
    /// TFVC: `$top` of every paged REST request (large pages can make servers fail).
    #[arg(long, env = "SRCIMPORT_TFVC_PAGE_SIZE", default_value_t = 200)]
    pub tfvc_page_size: usize,
    /// File with one API token per line: `TOKEN LOGIN [OWNER,OWNER|*]`.
    /// Defaults to `DATA_DIR/tokens`; created with a fresh admin token on first start.
    #[arg(long, env = "SRCIMPORT_TOKENS_FILE")]
    pub tokens_file: Option<PathBuf>,
    /// A webhook receiving every repository's `repository_import` events.
    #[arg(long, env = "SRCIMPORT_WEBHOOK_URL")]
    pub webhook_url: Option<String>,
    /// The secret that signs the server-wide webhook's deliveries (X-Hub-Signature-256).
    #[arg(long, env = "SRCIMPORT_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,
    /// The server-wide webhook's content type.
    #[arg(long, env = "SRCIMPORT_WEBHOOK_CONTENT_TYPE", default_value = "json",
          value_parser = ["json", "form"])]
    pub webhook_content_type: String,
    /// The first retry of a failed delivery waits this long; each further one twice as long.
    #[arg(long, env = "SRCIMPORT_WEBHOOK_BACKOFF_MS", default_value_t = 10_000)]
    pub webhook_backoff_ms: u64,
    /// Attempts before a webhook delivery is given up as failed.
    #[arg(long, env = "SRCIMPORT_WEBHOOK_MAX_ATTEMPTS", default_value_t = 6)]
    pub webhook_max_attempts: i64,
    /// Push every import's published history to this remote after each successful run;
    /// `{owner}` and `{repo}` are replaced (an import's own `push_url` wins).
    #[arg(long, env = "SRCIMPORT_PUSH_MIRROR_TEMPLATE")]
    pub push_mirror_template: Option<String>,
    /// User name for the server-wide push mirror.
    #[arg(long, env = "SRCIMPORT_PUSH_MIRROR_USERNAME")]
    pub push_mirror_username: Option<String>,
    /// Password or token for the server-wide push mirror (prefer the environment variable).
    #[arg(long, env = "SRCIMPORT_PUSH_MIRROR_PASSWORD", hide_env_values = true)]
    pub push_mirror_password: Option<String>,
    /// The most one push to a mirror may carry, in bytes (GitHub's limit: 2 GiB); a larger
    /// history is pushed in steps along each branch.
    #[arg(long, env = "SRCIMPORT_PUSH_SIZE_LIMIT", default_value_t = crate::pipeline::DEFAULT_PUSH_SIZE_LIMIT)]
    pub push_size_limit: u64,
    /// Sync every complete import this often (seconds), unless its `sync_interval` field
    /// says otherwise; unset: only imports that set `sync_interval` sync periodically.
    #[arg(long, env = "SRCIMPORT_SYNC_INTERVAL")]
    pub sync_interval: Option<u64>,
    /// The shortest `sync_interval` accepted, in seconds (lower it only for tests).
    #[arg(long, env = "SRCIMPORT_MIN_SYNC_INTERVAL", default_value_t = 60)]
    pub min_sync_interval: u64,
    /// A single admin token, instead of a tokens file.
    #[arg(long, env = "SRCIMPORT_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

impl ServeConfig {
    pub fn tokens_path(&self) -> PathBuf {
        self.tokens_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("tokens"))
    }
}
