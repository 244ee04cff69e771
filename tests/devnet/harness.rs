//! A `lean-devnet` child process for the tests: started on ephemeral ports, its
//! `node NAME listening on ADDR profile PROFILE` lines read from stdout, killed and
//! reaped on drop (also when the test fails).
#![allow(dead_code)] // each test binary that includes the harness uses part of it

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

/// One simulated node as announced.
#[derive(Debug, Clone)]
pub struct SimNode {
    pub name: String,
    pub addr: SocketAddr,
    pub profile: String,
}

/// A running `lean-devnet`.
pub struct Devnet {
    pub child: Child,
    pub nodes: Vec<SimNode>,
    pub upstreams: PathBuf,
    dir: PathBuf,
}

pub fn devnet_bin() -> &'static str {
    env!("CARGO_BIN_EXE_lean-devnet")
}

impl Devnet {
    /// Starts `lean-devnet --base-port 0 --upstreams-out <tmp> <args>` expecting `nodes`
    /// announced nodes.
    pub fn start(nodes: usize, args: &[&str]) -> Devnet {
        let dir = std::env::temp_dir().join(format!(
            "lean-devnet-test-{}-{}",
            std::process::id(),
            unique()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let upstreams = dir.join("upstreams.json");
        let mut child = Command::new(devnet_bin())
            .args(["--base-port", "0", "--nodes", &nodes.to_string()])
            .arg("--upstreams-out")
            .arg(&upstreams)
            .args(args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn lean-devnet");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let mut devnet = Devnet {
            child,
            nodes: Vec::new(),
            upstreams,
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while devnet.nodes.len() < nodes {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx.recv_timeout(left).unwrap_or_else(|_| {
                panic!(
                    "lean-devnet announced {} of {nodes} nodes",
                    devnet.nodes.len()
                )
            });
            devnet.nodes.push(parse_line(&line));
        }
        devnet
    }

    pub fn node(&self, name: &str) -> &SimNode {
        self.nodes
            .iter()
            .find(|n| n.name == name)
            .unwrap_or_else(|| panic!("no node {name}"))
    }

    /// SIGTERM, then the exit status (None if it did not exit within `within`).
    pub fn terminate(&mut self, within: Duration) -> Option<ExitStatus> {
        crate::common::terminate_child(&mut self.child, within)
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `node NAME listening on ADDR profile PROFILE` or `node NAME down at ADDR profile down`.
fn parse_line(line: &str) -> SimNode {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        ["node", name, "listening", "on", addr, "profile", profile]
        | ["node", name, "down", "at", addr, "profile", profile] => SimNode {
            name: name.to_string(),
            addr: addr.parse().expect("address"),
            profile: profile.to_string(),
        },
        _ => panic!("unexpected line {line:?}"),
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}
