//! The `srcimport` binary: a thin command-line front over the library.

use std::io::IsTerminal;

use clap::{Parser, Subcommand};
use srcimport::config::ServeConfig;

/// Converts Subversion, Mercurial, TFVC and Git repositories into Git, behind a
/// wire-compatible copy of GitHub's Source Imports REST API.
#[derive(Parser)]
#[command(name = "srcimport", version = srcimport::BUILD_INFO)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Convert a repository into a new bare Git repository (or push it to a remote), without
    /// a server: the same pipeline, in a temporary workspace.
    ///
    /// Examples:
    ///   srcimport convert https://git.example.com/app.git app.git --authors authors.txt
    ///   srcimport convert ./old-repo https://git.example.com/new.git --lfs opt_in
    ///   srcimport convert https://git.example.com/app.git out.git --dry-run
    ///
    /// The password comes from --password-file or SRCIMPORT_SOURCE_PASSWORD, never argv.
    /// Exit codes: 0 done, 1 internal error, 2 usage error, 3 authentication failed,
    /// 4 source error.
    #[command(verbatim_doc_comment)]
    Convert(srcimport::cli::ConvertArgs),
    /// Say which version control system answers at a URL or path.
    ///
    /// Example: srcimport detect https://git.example.com/app.git
    Detect(srcimport::cli::SourceArgs),
    /// List a source's authors, with commit counts, as an authors file to edit.
    ///
    /// Example: srcimport authors https://git.example.com/app.git --format mailmap > authors.txt
    Authors(srcimport::cli::AuthorsArgs),
    /// Run the HTTP server (API, hosted Git repositories) and its import workers.
    ///
    /// Example: srcimport serve --data-dir ./data --listen 127.0.0.1:8080
    Serve(ServeConfig),
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            let code = error
                .downcast_ref::<srcimport::cli::CliError>()
                .map_or(1, srcimport::cli::CliError::exit_code);
            eprintln!("srcimport: error: {error}");
            std::process::ExitCode::from(code)
        }
    }
}

/// glibc gives each new thread its own heap (arena) that keeps what it freed. A Subversion
/// conversion starts a reader thread for each fast-import run, so a 30,000-revision one over
/// `file://` peaked at 32 MiB instead of 28 (BENCHMARKS.md): the one-shot commands share one
/// heap, which measured no slower. Not the server, whose many threads (runtime, imports,
/// TFVC downloads) would contend for it, unmeasured. An arena limit in the environment
/// (`MALLOC_ARENA_MAX`, `GLIBC_TUNABLES`) wins.
fn one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let tunables = std::env::var("GLIBC_TUNABLES").unwrap_or_default();
        if std::env::var_os("MALLOC_ARENA_MAX").is_none() && !tunables.contains("arena_max") {
            // SAFETY: mallopt only sets an allocator parameter; no thread has started yet.
            unsafe {
                libc::mallopt(libc::M_ARENA_MAX, 1);
            }
        }
    }
}

fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve(_)) {
        one_malloc_arena();
    }
    let default_level = match cli.command {
        Command::Serve(_) => "info",
        // The command prints its own one-line error.
        _ => "error",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SRCIMPORT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level)),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match cli.command {
        Command::Convert(args) => srcimport::cli::convert(&args)?,
        Command::Detect(args) => srcimport::cli::detect(&args)?,
        Command::Authors(args) => srcimport::cli::authors(&args)?,
        Command::Serve(config) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(srcimport::server::serve(config))?;
        }
    }
    Ok(())
}
