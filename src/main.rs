//! The `leanpoint` binary: parse the configuration, compute the fd budget, bind, build
//! the loop and run it until SIGTERM/SIGINT.

// The library forbids `unsafe`; the binary has one call, allowed by name below.
#![deny(unsafe_code)]

use leanpoint::config::{parse_command_line, usage, Command, Config, LogFormat};
use leanpoint::runtime;
use std::process::ExitCode;

fn main() -> ExitCode {
    return_large_buffers_to_the_kernel();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let env = |name: &str| std::env::var(name).ok();
    let read = |path: &std::path::Path| std::fs::read_to_string(path);
    let config = match parse_command_line(&args, &env, &read) {
        Ok(Command::Help) => {
            print!("{}", usage());
            return ExitCode::SUCCESS;
        }
        Ok(Command::Check {
            problems,
            upstreams,
        }) => {
            for problem in &problems {
                eprintln!("leanpoint: {problem}");
            }
            if !problems.is_empty() {
                eprintln!("leanpoint: {} problem(s) found", problems.len());
                return ExitCode::from(2);
            }
            println!("leanpoint: configuration OK ({upstreams} upstream(s))");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Run(config)) => config,
        Err(e) => {
            eprintln!("leanpoint: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(&config);
    match runtime::run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("leanpoint: {e}");
            tracing::error!("{e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn init_logging(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var("RUST_LOG") {
        Ok(v) if !v.is_empty() => {
            EnvFilter::try_new(v).unwrap_or_else(|_| EnvFilter::new(&config.log_level))
        }
        _ => EnvFilter::new(&config.log_level),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.with_ansi(false).init(),
    }
}

/// State downloads are large buffers freed at the end of each round. glibc's dynamic
/// mmap threshold grows past them after the first free and then keeps them in its heap,
/// so RSS between rounds stayed at several copies of the state (measured with 16
/// upstreams and a 16 MiB state: 67 MiB between rounds; 19 MiB with a fixed threshold,
/// no CPU cost). A fixed 128 KiB threshold sends them to mmap and back to the kernel.
/// An operator's own `MALLOC_MMAP_THRESHOLD_` wins.
#[allow(unsafe_code)]
fn return_large_buffers_to_the_kernel() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
        // SAFETY: mallopt only changes allocator tuning parameters; it is called once,
        // before any other thread exists and before any large allocation, with a valid
        // parameter and value. It reads or frees no memory the program holds, so it
        // cannot invalidate any reference.
        unsafe {
            nix::libc::mallopt(nix::libc::M_MMAP_THRESHOLD, 128 * 1024);
        }
    }
}
