//! Start-up of the simulator: the open-files limit (raised toward the hard one), the
//! nodes' listeners on consecutive (or ephemeral) ports, the `node … listening on …`
//! lines, and the leanpoint upstreams file listing every node.

use super::flags::DevnetConfig;
use super::profile::Profile;
use crate::fd_budget::FD_CAP;
use mio::net::TcpListener;
use nix::sys::resource::{getrlimit, setrlimit, Resource};
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;

/// Fds kept for stdio, epoll, the signalfd and a file.
pub const RESERVED_FDS: u64 = 32;
/// Connections per node worth having fds for.
pub const CONNS_PER_NODE: u64 = 3;

/// The open-files limit to run with: `(limit, Some(new soft limit))` when it must be
/// raised; an error naming the need when even the hard limit is too low.
pub fn plan_nofile(soft: u64, hard: u64, listeners: u64) -> Result<(u64, Option<u64>), String> {
    let (soft, hard) = (soft.min(FD_CAP), hard.min(FD_CAP));
    let needed = RESERVED_FDS + 2 * listeners;
    let desired = RESERVED_FDS + (1 + CONNS_PER_NODE) * listeners;
    let (limit, raise) = if soft < desired && hard > soft {
        let new = hard.min(desired);
        (new, Some(new))
    } else {
        (soft, None)
    };
    if limit < needed {
        return Err(format!(
            "the open-files limit (RLIMIT_NOFILE) is {soft}, hard limit {hard}: {listeners} \
             listening nodes need at least {needed}; raise it (ulimit -n {desired}) or run fewer nodes"
        ));
    }
    Ok((limit, raise))
}

/// Reads the limit, raises the soft one if that helps, and returns the limit in force.
pub fn raise_nofile(listeners: u64) -> Result<u64, String> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)
        .map_err(|e| format!("cannot read RLIMIT_NOFILE: {e}"))?;
    let (limit, raise) = plan_nofile(soft, hard, listeners)?;
    let Some(new) = raise else { return Ok(limit) };
    match setrlimit(Resource::RLIMIT_NOFILE, new, hard) {
        Ok(()) => {
            tracing::info!(from = soft, to = new, "raised the open-files limit");
            Ok(new)
        }
        Err(e) => {
            // Run within the current limit if it is enough.
            let (limit, _) = plan_nofile(soft, soft, listeners).map_err(|msg| {
                format!("cannot raise RLIMIT_NOFILE from {soft} to {new} ({e}); {msg}")
            })?;
            tracing::warn!(soft, wanted = new, error = %e, "cannot raise the open-files limit");
            Ok(limit)
        }
    }
}

/// One node after binding.
pub struct BoundNode {
    pub name: String,
    pub profile: Profile,
    /// Where it listens (or, when `down`, the port nothing listens on).
    pub addr: SocketAddr,
    /// `None` for `down` nodes.
    pub listener: Option<TcpListener>,
}

/// Binds every node that is not `down`. With base port 0 each gets an ephemeral port
/// (a `down` one gets a port briefly bound then released, so nothing listens there).
pub fn bind_nodes(cfg: &DevnetConfig) -> Result<Vec<BoundNode>, String> {
    let mut nodes = Vec::with_capacity(cfg.nodes);
    for (i, &profile) in cfg.profiles.iter().enumerate() {
        let name = format!("{}{i}", cfg.name_prefix);
        let port = match cfg.base_port {
            0 => 0,
            base => u16::try_from(usize::from(base) + i).map_err(|_| "port out of range")?,
        };
        let wanted = SocketAddr::new(cfg.bind, port);
        let fail = |e: io::Error| format!("cannot bind {wanted} ({name}): {e}");
        let (addr, listener) = match (profile, port) {
            (Profile::Down, 0) => {
                let probe = std::net::TcpListener::bind(wanted).map_err(fail)?;
                (probe.local_addr().map_err(fail)?, None)
            }
            (Profile::Down, _) => (wanted, None),
            _ => {
                let listener = TcpListener::bind(wanted).map_err(fail)?;
                (listener.local_addr().map_err(fail)?, Some(listener))
            }
        };
        nodes.push(BoundNode {
            name,
            profile,
            addr,
            listener,
        });
    }
    Ok(nodes)
}

/// The address a client dials: the loopback one for an unspecified bind address.
pub fn dial_addr(addr: SocketAddr) -> SocketAddr {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port())
}

/// `http://IP:PORT` of a node (IPv6 in brackets).
pub fn url_of(addr: SocketAddr) -> String {
    format!("http://{}", dial_addr(addr))
}

/// One line per node: `node NAME listening on ADDR profile PROFILE` (`down` nodes:
/// `node NAME down at ADDR profile down`).
pub fn announce(nodes: &[BoundNode], out: &mut dyn Write) -> io::Result<()> {
    for n in nodes {
        let verb = match n.listener {
            Some(_) => "listening on",
            None => "down at",
        };
        writeln!(
            out,
            "node {} {verb} {} profile {}",
            n.name,
            dial_addr(n.addr),
            n.profile.name()
        )?;
    }
    out.flush()
}

/// The leanpoint upstreams file listing every node.
pub fn upstreams_json(nodes: &[BoundNode]) -> String {
    let list: Vec<serde_json::Value> = nodes
        .iter()
        .map(|n| serde_json::json!({ "name": n.name, "url": url_of(n.addr) }))
        .collect();
    let mut text =
        serde_json::to_string_pretty(&serde_json::json!({ "upstreams": list })).unwrap_or_default();
    text.push('\n');
    text
}

/// Writes the upstreams file (through a temporary file renamed into place, so that a
/// reader never sees half of it).
pub fn write_upstreams(path: &Path, nodes: &[BoundNode]) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, upstreams_json(nodes))?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_upstreams_file;

    #[test]
    fn nofile_plan() {
        // Enough already.
        assert_eq!(plan_nofile(65_536, 65_536, 1000).unwrap(), (65_536, None));
        // Raised to what 1000 nodes want, or to the hard limit.
        assert_eq!(
            plan_nofile(1024, 1 << 20, 1000).unwrap(),
            (4032, Some(4032))
        );
        assert_eq!(plan_nofile(1024, 3000, 1000).unwrap(), (3000, Some(3000)));
        assert_eq!(plan_nofile(1024, u64::MAX, 5).unwrap(), (1024, None));
        // Too low even at the hard limit: the message says what is needed.
        let e = plan_nofile(1024, 1024, 1000).unwrap_err();
        assert!(e.contains("need at least 2032"), "{e}");
        assert!(e.contains("ulimit -n 4032"), "{e}");
    }

    #[test]
    fn urls_dial_loopback_for_unspecified() {
        let any4: SocketAddr = "0.0.0.0:5052".parse().unwrap();
        let any6: SocketAddr = "[::]:5052".parse().unwrap();
        let v6: SocketAddr = "[::1]:7".parse().unwrap();
        assert_eq!(url_of(any4), "http://127.0.0.1:5052");
        assert_eq!(url_of(any6), "http://[::1]:5052");
        assert_eq!(url_of(v6), "http://[::1]:7");
    }

    fn config(profiles: &str, nodes: usize) -> DevnetConfig {
        let args: Vec<String> = [
            "--nodes",
            &nodes.to_string(),
            "--profiles",
            profiles,
            "--base-port",
            "0",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        match super::super::flags::parse_args(&args).unwrap() {
            super::super::flags::Parsed::Run(c) => c,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn binds_ephemeral_ports_and_writes_a_file_leanpoint_reads() {
        let nodes = bind_nodes(&config("healthy,down,silent", 3)).unwrap();
        assert_eq!(nodes.len(), 3);
        assert!(nodes[0].listener.is_some() && nodes[1].listener.is_none());
        assert_ne!(nodes[0].addr.port(), 0);
        assert_ne!(nodes[1].addr.port(), 0);
        // Nothing listens on the down node's port.
        assert!(std::net::TcpStream::connect(nodes[1].addr).is_err());
        assert!(std::net::TcpStream::connect(nodes[0].addr).is_ok());

        let mut lines = Vec::new();
        announce(&nodes, &mut lines).unwrap();
        let lines = String::from_utf8(lines).unwrap();
        let first = format!("node node0 listening on {} profile healthy", nodes[0].addr);
        assert_eq!(lines.lines().next(), Some(first.as_str()));
        assert!(lines.contains(&format!(
            "node node1 down at {} profile down",
            nodes[1].addr
        )));

        let specs = parse_upstreams_file("u.json", &upstreams_json(&nodes)).unwrap();
        assert_eq!(specs.len(), 3);
        assert_eq!(specs[2].name, "node2");
        assert_eq!(specs[2].url, url_of(nodes[2].addr));

        let dir = std::env::temp_dir().join(format!("devnet-setup-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("upstreams.json");
        write_upstreams(&path, &nodes).unwrap();
        let written = std::fs::read_to_string(&path).unwrap();
        assert_eq!(written, upstreams_json(&nodes));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_taken_port_is_named() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let mut cfg = config("healthy", 1);
        cfg.base_port = port;
        let e = bind_nodes(&cfg).err().unwrap();
        assert!(
            e.starts_with(&format!("cannot bind 127.0.0.1:{port} (node0): ")),
            "{e}"
        );
    }
}
