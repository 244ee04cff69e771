//! Flags and `LEANPOINT_*` environment variables (flags win), defaults of the original.

use super::{Config, ConfigError};

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Run(Config),
    Help,
}

/// Parses `args` (without the program name). `env` looks up an environment variable;
/// `read_file` reads the upstreams file (errors are reported naming the file).
pub fn parse_command_line(
    args: &[String],
    env: &dyn Fn(&str) -> Option<String>,
    read_file: &dyn Fn(&std::path::Path) -> std::io::Result<String>,
) -> Result<Command, ConfigError> {
    let _ = (args, env, read_file);
    todo!()
}

/// The `--help` text: every flag with its env var and default.
pub fn usage() -> String {
    todo!()
}
