//! The command line of `lean-devnet`, pure: `--flag value` or `--flag=value` (the last
//! one given wins), errors of one line naming the flag, as leanpoint's own.

use super::profile::Profile;
use crate::config::{one_line, ConfigError};
use std::net::IpAddr;
use std::path::PathBuf;

/// Most nodes one process simulates.
pub const MAX_NODES: usize = 20_000;
/// Most validators a state holds (`List[Validator, 2^12]`).
pub const MAX_VALIDATORS: u64 = 4096;

/// Everything the simulator runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevnetConfig {
    pub nodes: usize,
    /// One profile per node.
    pub profiles: Vec<Profile>,
    /// Port of `node0`; the others follow. 0: an ephemeral port for each.
    pub base_port: u16,
    pub bind: IpAddr,
    pub slot_ms: u64,
    /// Head slot at start (so that the finalized slot is soon above 0).
    pub start_slot: u64,
    pub validators: u64,
    pub name_prefix: String,
    pub upstreams_out: Option<PathBuf>,
    /// Slots a `lagging` node trails the chain by.
    pub lag_slots: u64,
    /// How long after the others a `late` node sees each new slot.
    pub late_ms: u64,
    /// Delay of a `slow` node's answers.
    pub slow_ms: u64,
    /// Share of `flaky` connections reset.
    pub flaky_percent: u8,
    /// Seed of the `flaky` nodes' PRNG.
    pub seed: u64,
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Run(DevnetConfig),
    Help,
}

struct Flag {
    name: &'static str,
    metavar: &'static str,
    default: &'static str,
    help: &'static str,
}

const FLAGS: &[Flag] = &[
    flag("nodes", "N", "4", "simulated nodes (1..=20000)"),
    flag(
        "profiles",
        "LIST",
        "healthy",
        "comma-separated profiles of node0, node1, ...; the rest are healthy",
    ),
    flag(
        "base-port",
        "PORT",
        "5052",
        "port of node0, the others follow; 0 gives each an ephemeral port",
    ),
    flag("bind", "IP", "127.0.0.1", "address the nodes listen on"),
    flag("slot-ms", "MS", "4000", "milliseconds per slot"),
    flag("start-slot", "N", "4", "head slot at start"),
    flag("validators", "N", "4", "validators in the state (1..=4096)"),
    flag(
        "name-prefix",
        "NAME",
        "node",
        "node names are NAME0, NAME1, ...",
    ),
    flag(
        "upstreams-out",
        "FILE",
        "",
        "write a leanpoint upstreams file listing every node",
    ),
    flag(
        "lag-slots",
        "N",
        "3",
        "slots a lagging node trails the chain by",
    ),
    flag(
        "late-ms",
        "MS",
        "700",
        "how long after the others a late node sees each new slot",
    ),
    flag("slow-ms", "MS", "2000", "delay of a slow node's answers"),
    flag(
        "flaky-percent",
        "P",
        "30",
        "share of a flaky node's connections reset (0..=100)",
    ),
    flag("seed", "N", "1", "seed of the flaky nodes' random choices"),
];

const fn flag(
    name: &'static str,
    metavar: &'static str,
    default: &'static str,
    help: &'static str,
) -> Flag {
    Flag {
        name,
        metavar,
        default,
        help,
    }
}

/// The `--help` text.
pub fn usage() -> String {
    let mut out = String::from(
        "lean-devnet: simulated lean nodes for leanpoint (one thread, one mio loop)\n\n\
         Usage: lean-devnet [FLAGS]\n\n",
    );
    for f in FLAGS {
        let left = format!("--{} {}", f.name, f.metavar);
        out.push_str(&format!("  {left:<24} {}", f.help));
        if !f.default.is_empty() {
            out.push_str(&format!(" [default: {}]", f.default));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "  {:<24} print this help\n\nProfiles:\n",
        "--help"
    ));
    for p in Profile::ALL {
        out.push_str(&format!("  {:<24} {}\n", p.name(), p.about()));
    }
    out.push_str(
        "\nUnder /lean/v0/ every node serves health, blocks/finalized, states/finalized,\n\
         checkpoints/justified and fork_choice, with true SSZ roots.\n",
    );
    out
}

/// Parses `args` (without the program name). `--help`/`-h` anywhere wins.
pub fn parse_args(args: &[String]) -> Result<Parsed, ConfigError> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        return Ok(Parsed::Help);
    }
    let mut given: Vec<(&'static Flag, String)> = Vec::new();
    let mut it = args.iter().peekable();
    while let Some(arg) = it.next() {
        let Some(body) = arg.strip_prefix("--") else {
            return Err(ConfigError::new(if arg.starts_with('-') {
                format!("unknown flag {:?}; see --help", one_line(arg))
            } else {
                format!("unexpected argument {:?}; see --help", one_line(arg))
            }));
        };
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (body, None),
        };
        let Some(flag) = FLAGS.iter().find(|f| f.name == name) else {
            return Err(ConfigError::new(format!(
                "unknown flag \"--{}\"; see --help",
                one_line(name)
            )));
        };
        let value = match inline {
            Some(v) => v,
            None => match it.next_if(|next| !next.starts_with("--")) {
                Some(v) => v.clone(),
                None => return Err(ConfigError::new(format!("--{name}: missing value"))),
            },
        };
        given.push((flag, value));
    }
    build(&given).map(Parsed::Run)
}

/// The value of flag `name`: the last one given, else its default.
fn value<'a>(given: &'a [(&'static Flag, String)], name: &str) -> &'a str {
    given
        .iter()
        .rev()
        .find(|(f, _)| f.name == name)
        .map(|(_, v)| v.as_str())
        .or_else(|| FLAGS.iter().find(|f| f.name == name).map(|f| f.default))
        .unwrap_or("")
}

fn fail(name: &str, msg: impl std::fmt::Display) -> ConfigError {
    ConfigError::new(format!("--{name}: {msg}"))
}

/// A number in `min..=max`.
fn number(
    given: &[(&'static Flag, String)],
    name: &str,
    min: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    let v = value(given, name);
    if v.is_empty() {
        return Err(fail(name, "empty value; expected a number"));
    }
    if !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(fail(
            name,
            format_args!("{:?} is not a number", one_line(v)),
        ));
    }
    match v.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(fail(
            name,
            format_args!("{v} is out of range {min}..={max}"),
        )),
    }
}

fn build(given: &[(&'static Flag, String)]) -> Result<DevnetConfig, ConfigError> {
    let nodes = number(given, "nodes", 1, MAX_NODES as u64)? as usize;
    let profiles = profiles(value(given, "profiles"), nodes)?;
    let base_port = number(given, "base-port", 0, 65_535)? as u16;
    if base_port != 0 && usize::from(base_port) + nodes - 1 > 65_535 {
        return Err(fail(
            "base-port",
            format_args!("{base_port} + {nodes} nodes goes past port 65535"),
        ));
    }
    let bind_text = value(given, "bind");
    let bind = bind_text
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .map_err(|_| {
            fail(
                "bind",
                format_args!("{:?} is not an IPv4 or IPv6 address", one_line(bind_text)),
            )
        })?;
    let name_prefix = value(given, "name-prefix").to_string();
    if name_prefix.is_empty() || name_prefix.chars().any(|c| c.is_control() || c == '"') {
        return Err(fail(
            "name-prefix",
            "must be non-empty, without quotes or control characters",
        ));
    }
    let upstreams_out = match value(given, "upstreams-out") {
        "" if given.iter().any(|(f, _)| f.name == "upstreams-out") => {
            return Err(fail("upstreams-out", "empty value; expected a path"))
        }
        "" => None,
        path => Some(PathBuf::from(path)),
    };
    Ok(DevnetConfig {
        nodes,
        profiles,
        base_port,
        bind,
        slot_ms: number(given, "slot-ms", 1, 86_400_000)?,
        start_slot: number(given, "start-slot", 0, 1 << 32)?,
        validators: number(given, "validators", 1, MAX_VALIDATORS)?,
        name_prefix,
        upstreams_out,
        lag_slots: number(given, "lag-slots", 0, 1 << 20)?,
        late_ms: number(given, "late-ms", 0, 3_600_000)?,
        slow_ms: number(given, "slow-ms", 0, 3_600_000)?,
        flaky_percent: number(given, "flaky-percent", 0, 100)? as u8,
        seed: number(given, "seed", 0, u64::MAX)?,
    })
}

/// `nodes` profiles from a comma-separated list (missing ones are healthy).
fn profiles(list: &str, nodes: usize) -> Result<Vec<Profile>, ConfigError> {
    let mut out = Vec::with_capacity(nodes);
    for name in list.split(',').map(str::trim) {
        let Some(p) = Profile::parse(name) else {
            return Err(fail(
                "profiles",
                format_args!("{:?} is not one of {}", one_line(name), Profile::names()),
            ));
        };
        out.push(p);
    }
    if out.len() > nodes {
        return Err(fail(
            "profiles",
            format_args!("{} profiles for {nodes} nodes", out.len()),
        ));
    }
    out.resize(nodes, Profile::Healthy);
    Ok(out)
}

#[cfg(test)]
#[path = "flags_tests.rs"]
mod tests;
