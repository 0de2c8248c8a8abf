//! The `rootwalk` binary: parse the command line, set up logging, run the
//! operation, map its result to an exit code.

use std::process::ExitCode;

use clap::Parser;
use rootwalk::cli::Cli;
use rootwalk::operation::CliError;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();

    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)
        .and_then(|runtime| runtime.block_on(rootwalk::operation::run(cli.command)));
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("rootwalk: {error}");
            ExitCode::from(2)
        }
    }
}
