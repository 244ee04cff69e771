//! Mock lean nodes on loopback: a healthy node serving fixture bodies with keep-alive,
//! and misbehaving ones (silent, never accepting, trickling, half-closing, resetting,
//! garbage, huge body, bad chunks, error statuses, text instead of SSZ).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// The bodies a healthy node serves.
#[derive(Clone, Debug)]
pub struct NodeData {
    pub state: Vec<u8>,
    pub block: Vec<u8>,
    pub justified: Vec<u8>,
    pub fork_choice: Vec<u8>,
}

/// The finalized root of the live fixtures (slot 18), as the fork choice spells it.
pub const FIXTURE_FINALIZED_ROOT: &str =
    "0x9f657880d54001cdfcd3cab094c0324a6d6d6e95f14a5426acb1098eeed0a8bf";

/// Where `state_root` sits in a `SignedBlock`: after its two offsets (8 bytes) and the
/// block's slot, proposer index and parent root.
const BLOCK_STATE_ROOT_AT: usize = 8 + 8 + 8 + 32;

impl NodeData {
    /// The live fixtures: one consistent bundle (block, state, fork choice of slot 18).
    pub fn fixture() -> NodeData {
        NodeData {
            state: super::fixture("states_finalized.ssz"),
            block: super::fixture("blocks_finalized.ssz"),
            justified: super::fixture("checkpoints_justified.body"),
            fork_choice: super::fixture("fork_choice.body"),
        }
    }

    /// A consistent bundle around `state` (the fixture's header, so slot 18): the fixture
    /// block with its `state_root` set to `hash_tree_root(state)`, and the fork choice
    /// naming that block's root as finalized.
    pub fn with_state(state: Vec<u8>) -> NodeData {
        let mut d = Self::fixture();
        let roots = leanpoint::lean::lstar::state_roots(&state).expect("a valid lstar state");
        let first_offset = u32::from_le_bytes(d.block[..4].try_into().unwrap()) as usize;
        let at = first_offset + BLOCK_STATE_ROOT_AT - 8;
        d.block[at..at + 32].copy_from_slice(&roots.state_root);
        let block = leanpoint::lean::lstar::signed_block_roots(&d.block).expect("block");
        assert_eq!(
            block.block_root, roots.block_root,
            "state header and block agree"
        );
        d.fork_choice = String::from_utf8_lossy(&d.fork_choice)
            .replace(
                FIXTURE_FINALIZED_ROOT,
                &leanpoint::lean::root_hex(&roots.block_root),
            )
            .into_bytes();
        d.state = state;
        d
    }

    /// A node on another finalized checkpoint (its fork choice names another root).
    pub fn forked() -> NodeData {
        let mut d = Self::fixture();
        d.fork_choice = String::from_utf8_lossy(&d.fork_choice)
            .replace("0x9f6578", "0xee6578")
            .into_bytes();
        d
    }

    /// A liar: the true block and fork choice, but a tampered state (one byte of its
    /// genesis time changed: still a valid lstar layout, only the root gives it away).
    pub fn tampered(&self) -> NodeData {
        let mut d = self.clone();
        d.state[0] ^= 0x01;
        d
    }
}

/// How a mock node behaves.
#[derive(Clone, Debug)]
pub enum Behavior {
    Healthy(NodeData),
    /// Healthy, serving whatever the shared data holds at each request (the test changes
    /// it to move the chain on).
    Live(Arc<Mutex<NodeData>>),
    /// Healthy, but answers 404 on `/lean/v0/fork_choice` (a client without it).
    NoForkChoice(NodeData),
    /// Healthy, but the state is sent chunked in 100-byte chunks and the connection closes after each response.
    ChunkedClose(NodeData),
    /// Accepts and reads, never answers.
    Silent,
    /// Never accepts: a listener whose accept queue is full, so connects hang.
    NeverAccept,
    /// Sends a valid response one byte every 50 ms.
    Trickle(NodeData),
    /// Sends half a head then half-closes (FIN) and keeps the socket open.
    HalfClose,
    /// Resets the connection (SO_LINGER 0) after reading the request.
    Reset,
    /// Answers bytes that are not HTTP.
    Garbage,
    /// Promises a body of 10^12 bytes.
    HugeBody,
    /// Sends a chunked body with a bad chunk size.
    BadChunk,
    /// Answers every request with this status and a short text body.
    Status(u16),
    /// Answers the block and state requests with JSON text (200, application/json),
    /// the fork choice and justified checkpoint truly.
    Text,
}

/// A running mock node; stopped (and its sockets closed) on drop.
pub struct MockNode {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accept_thread: Option<JoinHandle<()>>,
    /// Requests received.
    pub requests: Arc<AtomicUsize>,
    /// Connections accepted.
    pub accepted: Arc<AtomicUsize>,
    _hold: Vec<OwnedFd>,
}

impl MockNode {
    pub fn start(behavior: Behavior) -> MockNode {
        if let Behavior::NeverAccept = behavior {
            return Self::never_accept();
        }
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind mock");
        Self::start_on(listener, behavior)
    }

    /// Serves `behavior` on an already bound listener.
    pub fn start_on(listener: TcpListener, behavior: Behavior) -> MockNode {
        let addr = listener.local_addr().expect("addr");
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(AtomicUsize::new(0));
        let accepted = Arc::new(AtomicUsize::new(0));
        let (s, r, a) = (stop.clone(), requests.clone(), accepted.clone());
        let accept_thread = std::thread::spawn(move || {
            let mut workers: Vec<JoinHandle<()>> = Vec::new();
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        a.fetch_add(1, Ordering::Relaxed);
                        let _ = stream.set_nonblocking(false);
                        let _ = stream.set_nodelay(true);
                        let (b, s2, r2) = (behavior.clone(), s.clone(), r.clone());
                        workers.push(std::thread::spawn(move || serve(stream, b, s2, r2)));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
            for w in workers {
                let _ = w.join();
            }
        });
        MockNode {
            addr,
            stop,
            accept_thread: Some(accept_thread),
            requests,
            accepted,
            _hold: Vec::new(),
        }
    }

    /// A listener with backlog 0 whose queue is filled by connections nobody accepts.
    fn never_accept() -> MockNode {
        use nix::sys::socket::{
            bind, listen, socket, AddressFamily, Backlog, SockFlag, SockType, SockaddrIn,
        };
        let fd = socket(
            AddressFamily::Inet,
            SockType::Stream,
            SockFlag::SOCK_CLOEXEC,
            None,
        )
        .expect("socket");
        let any = SockaddrIn::new(127, 0, 0, 1, 0);
        bind(fd.as_raw_fd(), &any).expect("bind");
        listen(&fd, Backlog::new(0).expect("backlog")).expect("listen");
        let local: SockaddrIn = nix::sys::socket::getsockname(fd.as_raw_fd()).expect("name");
        let addr: SocketAddr =
            SocketAddr::from(std::net::SocketAddrV4::new(local.ip(), local.port()));
        // Fill the accept queue (and the SYN queue) so that further connects hang.
        let mut hold = vec![fd];
        for _ in 0..4 {
            let s = socket(
                AddressFamily::Inet,
                SockType::Stream,
                SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
                None,
            )
            .expect("socket");
            let _ = nix::sys::socket::connect(
                s.as_raw_fd(),
                &SockaddrIn::from(match addr {
                    SocketAddr::V4(v4) => v4,
                    SocketAddr::V6(_) => unreachable!(),
                }),
            );
            hold.push(s);
        }
        std::thread::sleep(Duration::from_millis(50));
        MockNode {
            addr,
            stop: Arc::new(AtomicBool::new(false)),
            accept_thread: None,
            requests: Arc::new(AtomicUsize::new(0)),
            accepted: Arc::new(AtomicUsize::new(0)),
            _hold: hold,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for MockNode {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.accept_thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads one request head; returns its target, or None at EOF/stop.
fn read_request(stream: &mut TcpStream, stop: &AtomicBool, buf: &mut Vec<u8>) -> Option<String> {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end + 4);
            return head.split_whitespace().nth(1).map(str::to_string);
        }
        if stop.load(Ordering::Relaxed) {
            return None;
        }
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return None,
        }
    }
}

fn body_for(data: &NodeData, target: &str) -> Option<(&'static str, Vec<u8>)> {
    match target {
        "/lean/v0/states/finalized" => Some(("application/octet-stream", data.state.clone())),
        "/lean/v0/blocks/finalized" => Some(("application/octet-stream", data.block.clone())),
        "/lean/v0/checkpoints/justified" => Some(("application/json", data.justified.clone())),
        "/lean/v0/fork_choice" => {
            Some(("application/json; charset=utf-8", data.fork_choice.clone()))
        }
        "/lean/v0/health" => Some((
            "application/json",
            br#"{"status":"healthy","service":"lean-rpc-api"}"#.to_vec(),
        )),
        _ => None,
    }
}

/// Answers `target` from `data` (404 for anything else); false when the write failed.
fn serve_data(stream: &mut TcpStream, data: &NodeData, target: &str) -> bool {
    match body_for(data, target) {
        Some((ct, body)) => respond(stream, 200, ct, &body).is_ok(),
        None => respond(stream, 404, "text/plain", b"not found").is_ok(),
    }
}

fn respond(stream: &mut TcpStream, status: u16, ctype: &str, body: &[u8]) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)
}

/// Blocks until stop (holding the socket open).
fn hold(stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn serve(
    mut stream: TcpStream,
    behavior: Behavior,
    stop: Arc<AtomicBool>,
    requests: Arc<AtomicUsize>,
) {
    let mut buf = Vec::new();
    while let Some(target) = read_request(&mut stream, &stop, &mut buf) {
        requests.fetch_add(1, Ordering::Relaxed);
        let ok = match &behavior {
            Behavior::Healthy(data) => serve_data(&mut stream, data, &target),
            Behavior::Live(shared) => {
                let data = shared.lock().map(|d| d.clone());
                match data {
                    Ok(data) => serve_data(&mut stream, &data, &target),
                    Err(_) => false,
                }
            }
            Behavior::NoForkChoice(data) => {
                if target.ends_with("/fork_choice") {
                    respond(&mut stream, 404, "text/plain", b"not found").is_ok()
                } else {
                    serve_data(&mut stream, data, &target)
                }
            }
            Behavior::ChunkedClose(data) => {
                let (ct, body) = body_for(data, &target).unwrap_or(("text/plain", b"nf".to_vec()));
                let mut out = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                )
                .into_bytes();
                for chunk in body.chunks(100) {
                    out.extend_from_slice(format!("{:x};ext=1\r\n", chunk.len()).as_bytes());
                    out.extend_from_slice(chunk);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"0\r\nX-Trailer: 1\r\n\r\n");
                let _ = stream.write_all(&out);
                false
            }
            Behavior::Silent | Behavior::NeverAccept => {
                hold(&stop);
                false
            }
            Behavior::Trickle(data) => {
                let (ct, body) = body_for(data, &target).unwrap_or(("text/plain", b"nf".to_vec()));
                let mut out = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                out.extend_from_slice(&body);
                for b in out {
                    if stop.load(Ordering::Relaxed) || stream.write_all(&[b]).is_err() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                false
            }
            Behavior::HalfClose => {
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Le");
                let _ = stream.shutdown(Shutdown::Write);
                hold(&stop);
                false
            }
            Behavior::Reset => {
                let _ = nix::sys::socket::setsockopt(
                    &stream,
                    nix::sys::socket::sockopt::Linger,
                    &nix::libc::linger {
                        l_onoff: 1,
                        l_linger: 0,
                    },
                );
                false
            }
            Behavior::Garbage => {
                let _ = stream.write_all(b"\x00\x01garbage\xff\xfe not http at all\r\n\r\n");
                false
            }
            Behavior::HugeBody => {
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000000000000\r\n\r\nabc",
                );
                hold(&stop);
                false
            }
            Behavior::BadChunk => {
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n",
                );
                hold(&stop);
                false
            }
            Behavior::Status(code) => {
                respond(&mut stream, *code, "text/plain", b"not ready").is_ok()
            }
            Behavior::Text => {
                let body = if target.ends_with("/finalized") {
                    br#"{"error":"json instead of ssz","slot":18}"#.to_vec()
                } else {
                    body_for(&NodeData::fixture(), &target).map_or_else(Vec::new, |b| b.1)
                };
                respond(&mut stream, 200, "application/json", &body).is_ok()
            }
        };
        if !ok {
            break;
        }
    }
    // Dropping the stream closes it (with RST under SO_LINGER 0).
}
