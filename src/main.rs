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
    /// Run the HTTP server (API, hosted Git repositories) and its import workers.
    ///
    /// Example: srcimport serve --data-dir ./data --listen 127.0.0.1:8080
    Serve(ServeConfig),
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SRCIMPORT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(config) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(srcimport::server::serve(config))?;
        }
    }
    Ok(())
}
