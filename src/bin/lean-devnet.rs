//! The `lean-devnet` binary: simulated lean nodes for leanpoint (see `leanpoint::devnet`).
//! Exit codes: 0 after `--help` or on SIGTERM/SIGINT, 2 for a bad flag, 1 otherwise.

#![forbid(unsafe_code)]

use leanpoint::devnet::{parse_args, run, usage, Parsed};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cfg = match parse_args(&args) {
        Ok(Parsed::Help) => {
            print!("{}", usage());
            return ExitCode::SUCCESS;
        }
        Ok(Parsed::Run(cfg)) => cfg,
        Err(e) => {
            eprintln!("lean-devnet: {e}");
            return ExitCode::from(2);
        }
    };
    let filter = match std::env::var("RUST_LOG") {
        Ok(v) if !v.is_empty() => v,
        _ => "info".to_string(),
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_default())
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    match run(cfg, &mut std::io::stdout()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lean-devnet: {e}");
            ExitCode::FAILURE
        }
    }
}
