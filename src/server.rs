//! Wiring for `srcimport serve`: data directory, store, tokens, workers and the listener.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use srcimport_converters::url_policy::UrlPolicy;
use tokio::net::TcpListener;

use crate::api::{self, webhooks, AppState};
use crate::config::ServeConfig;
use crate::jobs::Scheduler;
use crate::pipeline::{Environment, MirrorTemplate};
use crate::store::{sqlite::SqliteStore, JobStore, LfsChoice, Stage};
use crate::tokens::{TokenError, Tokens};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("data directory {path}: {source}")]
    DataDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Tokens(#[from] TokenError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("server: {0}")]
    Serve(std::io::Error),
    #[error("{flag}: {reason}")]
    Config { flag: &'static str, reason: String },
}

/// Runs the server until Ctrl-C or SIGTERM.
pub async fn serve(config: ServeConfig) -> Result<(), ServerError> {
    let data = &config.data_dir;
    std::fs::create_dir_all(data.join("repos")).map_err(|source| ServerError::DataDir {
        path: data.clone(),
        source,
    })?;
    // Source credentials and tokens live here: owner-only.
    std::fs::set_permissions(data, std::fs::Permissions::from_mode(0o700)).map_err(|source| {
        ServerError::DataDir {
            path: data.clone(),
            source,
        }
    })?;
    let store: Arc<dyn JobStore> = Arc::new(SqliteStore::open(&data.join("srcimport.sqlite"))?);
    let tokens = match &config.token {
        Some(token) => Tokens::single_admin(token.clone()),
        None => {
            let path = config.tokens_path();
            let (tokens, generated) = Tokens::load_or_create(&path)?;
            if let Some(token) = generated {
                println!(
                    "srcimport: generated an admin API token (shown once, kept in {}):",
                    path.display()
                );
                println!("  {token}");
            }
            tokens
        }
    };
    let hold_stage = std::env::var("SRCIMPORT_TEST_HOLD_STAGE")
        .ok()
        .and_then(|s| Stage::parse(&s));
    let url_policy = UrlPolicy {
        allow_local_paths: config.allow_local_sources,
        allow_private_networks: !config.deny_private_networks,
        forbidden_local_roots: vec![data.clone()],
    };
    let server_hook = match &config.webhook_url {
        Some(url) => {
            url_policy
                .check_shape(url)
                .map_err(|e| ServerError::Config {
                    flag: "--webhook-url",
                    reason: e.to_string(),
                })?;
            Some(webhooks::ServerHook {
                url: url.clone(),
                secret: config.webhook_secret.clone(),
                content_type: config.webhook_content_type.clone(),
            })
        }
        None => None,
    };
    let push_mirror = match &config.push_mirror_template {
        Some(template) => {
            url_policy
                .check_shape(&template.replace("{owner}", "o").replace("{repo}", "r"))
                .map_err(|e| ServerError::Config {
                    flag: "--push-mirror-template",
                    reason: e.to_string(),
                })?;
            let credentials = match (&config.push_mirror_username, &config.push_mirror_password) {
                (None, None) => None,
                (username, password) => Some(srcimport_converters::Credentials {
                    username: username.clone().unwrap_or_default(),
                    password: password.clone().unwrap_or_default(),
                }),
            };
            Some(MirrorTemplate {
                url: template.clone(),
                credentials,
            })
        }
        None => None,
    };
    let env = Environment {
        store: Arc::clone(&store),
        repos_root: data.join("repos"),
        url_policy,
        hg_default_branch: config.hg_default_branch.clone(),
        svn_trunk_branch: config.svn_trunk_branch.clone(),
        svn_revisions_per_run: config.svn_revisions_per_run,
        tfvc: crate::pipeline::TfvcSettings {
            main_branch: config.tfvc_main_branch.clone(),
            download_jobs: config.tfvc_download_jobs.max(1),
            page_size: config.tfvc_page_size.max(1),
        },
        hold_stage,
        push_mirror,
        push_size_limit: config.push_size_limit.max(1),
    };
    let min_sync_interval = i64::try_from(config.min_sync_interval.max(1)).unwrap_or(i64::MAX);
    let default_sync_interval = match config.sync_interval {
        Some(seconds) => {
            let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
            if seconds < min_sync_interval {
                return Err(ServerError::Config {
                    flag: "--sync-interval",
                    reason: format!("must be at least {min_sync_interval} seconds"),
                });
            }
            Some(seconds)
        }
        None => None,
    };
    let scheduler = Scheduler::start(env, config.workers)?;
    // Due imports are looked for at least as often as the shortest interval allowed.
    let tick = std::time::Duration::from_secs(min_sync_interval.clamp(1, 30).unsigned_abs());
    crate::jobs::periodic::spawn(scheduler.clone(), default_sync_interval, tick);
    let state = Arc::new(AppState {
        store,
        scheduler: scheduler.clone(),
        tokens,
        base_url: config.base_url.clone(),
        max_body_bytes: config.max_body_bytes,
        auto_create_repos: !config.no_auto_create,
        default_large_file_threshold: config.large_file_threshold,
        default_use_lfs: LfsChoice::parse(&config.default_use_lfs).unwrap_or(LfsChoice::Undecided),
        webhooks: webhooks::Settings {
            server_hook,
            backoff: std::time::Duration::from_millis(config.webhook_backoff_ms.max(1)),
            max_attempts: config.webhook_max_attempts.max(1),
        },
        default_sync_interval,
        min_sync_interval,
    });
    let listener =
        TcpListener::bind(config.listen)
            .await
            .map_err(|source| ServerError::Listen {
                addr: config.listen,
                source,
            })?;
    let addr = listener.local_addr().map_err(ServerError::Serve)?;
    let public_base = config.base_url.as_deref().map_or_else(
        || format!("http://{addr}"),
        |b| b.trim_end_matches('/').to_owned(),
    );
    webhooks::spawn(Arc::clone(&state), public_base).map_err(ServerError::Serve)?;
    println!("srcimport {} listening on http://{addr}", crate::BUILD_INFO);
    let _ = std::io::stdout().flush();
    axum::serve(listener, api::router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(ServerError::Serve)?;
    scheduler.shutdown();
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
}
