//! The `rootwalk` binary: parse the command line, set up logging, dispatch.

use std::process::ExitCode;

use clap::Parser;
use rootwalk::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let name = match cli.command {
        Command::Lab(_) => "lab",
        Command::Resolve(_) => "resolve",
        Command::Trace(_) => "trace",
        Command::Serve => "serve",
        Command::Bench => "bench",
        Command::Check => "check",
    };
    eprintln!("rootwalk {name}: not implemented yet");
    ExitCode::from(2)
}
