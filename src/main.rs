//! The `rootwalk` binary: parse the command line, set up logging, run the
//! operation, map its result to an exit code.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use rootwalk::cli::Cli;
use rootwalk::operation::CliError;

/// mimalloc, for less CPU per query than the system allocator (see
/// `Cargo.toml`); the library leaves the choice to the binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // hickory-proto warns once per malformed EDNS option it decodes: a
    // flood of bad packets must not become a flood of log lines.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,hickory_proto=error"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
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
