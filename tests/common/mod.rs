//! Shared test harness: a `leanpoint` child process on an ephemeral port, a blocking
//! HTTP client, fd counting of the child, and mock lean nodes (healthy and misbehaving)
//! served from threads in the test process on loopback.
#![allow(dead_code)]

pub mod htr;
pub mod inbound;
pub mod mock;
pub mod prom;
pub mod static_site;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

/// A running leanpoint child; killed and reaped on drop.
pub struct Leanpoint {
    pub child: Child,
    pub addr: SocketAddr,
    /// The admin listener's address, when `--admin-port` was given.
    pub admin: Option<SocketAddr>,
    pub log: Receiver<String>,
}

/// Whether the tests run under CI: `CI` set to anything but empty, `0` or `false` (GitHub
/// Actions, GitLab and most others set `CI=true`, Woodpecker `CI=woodpecker`). Tests that
/// need a tool or a privilege skip with a note without it, except under CI, where they
/// fail.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| {
        let v = v.trim();
        !(v.is_empty() || v == "0" || v.eq_ignore_ascii_case("false"))
    })
}

/// Path of the built binary.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_leanpoint")
}

impl Leanpoint {
    /// Starts `leanpoint --bind 127.0.0.1 --port 0 <args>` and waits for its listening line.
    pub fn start(args: &[&str]) -> Leanpoint {
        Self::start_with(args, None)
    }

    /// Same, under `ulimit -n nofile` when given.
    pub fn start_with(args: &[&str], nofile: Option<u32>) -> Leanpoint {
        match nofile {
            Some(n) => Self::start_in_shell(&format!("ulimit -n {n}"), &[], args),
            None => Self::start_cmd(Command::new(bin()), args),
        }
    }

    /// Starts it from `sh -c '<setup> && exec leanpoint ...'`, itself run by `runner`
    /// (e.g. `["unshare", "-m"]`; empty: run sh directly). The child is leanpoint.
    pub fn start_in_shell(setup: &str, runner: &[&str], args: &[&str]) -> Leanpoint {
        let mut cmd = match runner.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg("sh");
                c
            }
            None => Command::new("sh"),
        };
        cmd.arg("-c")
            .arg(format!("{setup} && exec \"$0\" \"$@\""))
            .arg(bin());
        Self::start_cmd(cmd, args)
    }

    /// Same, exec'd by `sh` after the shell commands `setup` (a `ulimit`, fds to inherit).
    pub fn start_after(setup: &str, args: &[&str]) -> Leanpoint {
        Self::start_in_shell(setup, &[], args)
    }

    /// Starts `cmd` (leanpoint, or what execs it) with the test's listen flags and `args`.
    fn start_cmd(mut cmd: Command, args: &[&str]) -> Leanpoint {
        cmd.args(["--bind", "127.0.0.1", "--port", "0", "--log-level", "info"])
            .args(args)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn leanpoint");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    // keep draining so the child never blocks on a full pipe
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(pos) = line.find("local=") {
                        let rest = &line[pos + 6..];
                        let addr = rest.split_whitespace().next().unwrap_or("");
                        if let Ok(addr) = addr.parse() {
                            let admin = line.find("admin=").and_then(|pos| {
                                line[pos + 6..].split_whitespace().next()?.parse().ok()
                            });
                            return Leanpoint {
                                child,
                                addr,
                                admin,
                                log: rx,
                            };
                        }
                    }
                    seen.push(line);
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("leanpoint did not start; stderr:\n{}", seen.join("\n"));
                }
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the child is still running.
    pub fn child_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Open fds of the child.
    pub fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// Resident set size of the child in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    pub fn get(&self, path: &str) -> HttpReply {
        http_get(self.addr, path)
    }

    /// Polls `path` until `pred` holds or `timeout` passes; returns the last reply.
    pub fn wait_for(
        &self,
        path: &str,
        timeout: Duration,
        pred: impl Fn(&HttpReply) -> bool,
    ) -> HttpReply {
        let deadline = Instant::now() + timeout;
        loop {
            let reply = self.get(path);
            if pred(&reply) || Instant::now() > deadline {
                return reply;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends SIGTERM and waits for the exit status (None if it did not exit in `within`).
    pub fn terminate(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        terminate_child(&mut self.child, within)
    }

    /// Sockets among the child's fds.
    pub fn socket_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter_map(|e| std::fs::read_link(e.path()).ok())
                    .filter(|t| t.to_string_lossy().starts_with("socket:"))
                    .count()
            })
            .unwrap_or(0)
    }
}

/// Sends SIGTERM to `child` and waits for its exit status (None if not within `within`).
pub fn terminate_child(child: &mut Child, within: Duration) -> Option<std::process::ExitStatus> {
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let deadline = Instant::now() + within;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Mock nodes behaving as given, named `n0`, `n1`, ... in an upstreams file, and a
/// leanpoint polling them every `poll_ms` (plus `args`).
pub fn polling(
    behaviors: Vec<mock::Behavior>,
    poll_ms: &str,
    args: &[&str],
) -> (Vec<mock::MockNode>, Leanpoint) {
    let nodes: Vec<mock::MockNode> = behaviors.into_iter().map(mock::MockNode::start).collect();
    let file = upstreams_for(&nodes, "n");
    let mut all = vec![
        "--upstreams-config",
        file.to_str().expect("utf-8 path"),
        "--poll-ms",
        poll_ms,
    ];
    all.extend_from_slice(args);
    let lp = Leanpoint::start(&all);
    (nodes, lp)
}

/// Waits until `/status` says the agreed checkpoint's bundle is verified.
pub fn wait_verified(lp: &Leanpoint, within: Duration) -> HttpReply {
    let status = lp.wait_for("/status", within, |r| {
        r.status == 200 && r.json()["bundle_verified"] == true
    });
    assert_eq!(status.json()["bundle_verified"], true, "{}", status.text());
    status
}

/// An upstreams file naming mock nodes `{prefix}0`, `{prefix}1`, ...
pub fn upstreams_for(nodes: &[mock::MockNode], prefix: &str) -> std::path::PathBuf {
    let entries: Vec<(String, String)> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (format!("{prefix}{i}"), n.url()))
        .collect();
    upstreams_file(&entries)
}

impl Drop for Leanpoint {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A parsed HTTP reply.
#[derive(Debug, Clone)]
pub struct HttpReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpReply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// One request with `Connection: close`; status 0 when the connection failed.
pub fn http_get(addr: SocketAddr, path: &str) -> HttpReply {
    http_request(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"),
    )
}

/// Sends raw bytes and reads to EOF (5 s cap).
pub fn http_request(addr: SocketAddr, raw: &str) -> HttpReply {
    let fail = HttpReply {
        status: 0,
        headers: vec![],
        body: vec![],
    };
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
        return fail;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if s.write_all(raw.as_bytes()).is_err() {
        return fail;
    }
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    parse_reply(&buf).unwrap_or(fail)
}

/// Parses one response (Content-Length or to the end).
pub fn parse_reply(buf: &[u8]) -> Option<HttpReply> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buf[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let rest = &buf[end + 4..];
    let len = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok());
    let body = match len {
        Some(n) if n <= rest.len() => rest[..n].to_vec(),
        _ => rest.to_vec(),
    };
    Some(HttpReply {
        status,
        headers,
        body,
    })
}

/// Fixture path.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/lean-api/live/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

/// Writes an upstreams file into a fresh temp dir; returns its path.
pub fn upstreams_file(entries: &[(String, String)]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "leanpoint-test-{}-{}",
        std::process::id(),
        rand_u64()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let list: Vec<serde_json::Value> = entries
        .iter()
        .map(|(n, u)| serde_json::json!({"name": n, "url": u}))
        .collect();
    let path = dir.join("upstreams.json");
    std::fs::write(&path, serde_json::json!({ "upstreams": list }).to_string())
        .expect("write upstreams");
    path
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(42);
    h.finish()
}
