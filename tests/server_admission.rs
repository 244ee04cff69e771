//! Admission at the inbound cap under floods, on real loopback sockets with the real
//! binary: health probes keep being answered while hundreds of clients hold half-sent
//! request heads (held, or reopened as fast as they are closed), an idle keep-alive
//! scraper makes room before a well-formed newcomer waits, and the listen backlog holds
//! a burst of connects while the loop is busy.
//!
//! A load test (`make test` runs it alone): the tests also run one at a time here.

mod common;

use common::inbound::{agreed, agreed_after, agreed_under, is_closed, probe, Client};
use common::mock::NodeData;
use mio::net::TcpStream as MioStream;
use mio::{Events, Interest, Poll, Token};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The first half of a request head, never finished.
const HALF_HEAD: &[u8] = b"GET /status HTTP/1.1\r\nHost: t\r\n";

/// A connection that sent [`HALF_HEAD`] (blocking connect, at most 1 s).
fn half_head(addr: SocketAddr) -> Option<TcpStream> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    s.write_all(HALF_HEAD).ok()?;
    Some(s)
}

/// What an attacker thread did.
#[derive(Debug, Default, Clone, Copy)]
struct FloodStats {
    /// Connections the server closed (each reopened at once when reconnecting).
    closed: usize,
    /// Connections opened, the first ones included.
    opened: usize,
}

/// `threads` threads holding `per_thread` half-sent heads each; when `reconnect`, every
/// connection the server closes is reopened at once (and sends its half head again).
struct Flood {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<FloodStats>>,
}

impl Flood {
    fn start(addr: SocketAddr, threads: usize, per_thread: usize, reconnect: bool) -> Flood {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..threads)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || attack(addr, per_thread, reconnect, &stop))
            })
            .collect();
        Flood { stop, threads }
    }

    fn stop(self) -> FloodStats {
        self.stop.store(true, Ordering::Relaxed);
        self.threads
            .into_iter()
            .map(|t| t.join().expect("attacker thread"))
            .fold(FloodStats::default(), |a, b| FloodStats {
                closed: a.closed + b.closed,
                opened: a.opened + b.opened,
            })
    }
}

/// One attacker thread: a mio poll over its connections, woken when the server closes one.
fn attack(addr: SocketAddr, n: usize, reconnect: bool, stop: &AtomicBool) -> FloodStats {
    let mut poll = Poll::new().expect("poll");
    let mut stats = FloodStats::default();
    let mut conns: Vec<Option<MioStream>> = (0..n).map(|_| None).collect();
    let open =
        |i: usize, conns: &mut Vec<Option<MioStream>>, poll: &Poll, stats: &mut FloodStats| {
            let Some(s) = half_head(addr) else { return };
            s.set_nonblocking(true).expect("non-blocking");
            let mut s = MioStream::from_std(s);
            poll.registry()
                .register(&mut s, Token(i), Interest::READABLE)
                .expect("register");
            conns[i] = Some(s);
            stats.opened += 1;
        };
    for i in 0..n {
        open(i, &mut conns, &poll, &mut stats);
    }
    let mut events = Events::with_capacity(256);
    while !stop.load(Ordering::Relaxed) {
        let _ = poll.poll(&mut events, Some(Duration::from_millis(50)));
        let woken: Vec<usize> = events.iter().map(|e| e.token().0).collect();
        for i in woken {
            let Some(s) = conns.get_mut(i).and_then(Option::as_mut) else {
                continue;
            };
            let mut buf = [0u8; 1024];
            let closed = loop {
                match s.read(&mut buf) {
                    Ok(0) => break true,
                    Ok(_) => {}
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break false,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => break true,
                }
            };
            if closed {
                stats.closed += 1;
                if let Some(mut s) = conns[i].take() {
                    let _ = poll.registry().deregister(&mut s);
                }
                if reconnect && !stop.load(Ordering::Relaxed) {
                    open(i, &mut conns, &poll, &mut stats);
                }
            }
        }
        if reconnect {
            // Connects that failed are tried again.
            for i in 0..n {
                if conns[i].is_none() && !stop.load(Ordering::Relaxed) {
                    open(i, &mut conns, &poll, &mut stats);
                }
            }
        }
    }
    stats
}

/// Probe results: answered with this status in this time, or not answered in time.
#[derive(Default)]
struct Probes {
    samples: Vec<Option<(u16, Duration)>>,
}

impl Probes {
    /// Share of samples answered 200.
    fn ok_share(&self) -> f64 {
        let ok = self
            .samples
            .iter()
            .filter(|s| matches!(s, Some((200, _))))
            .count();
        ok as f64 / self.samples.len().max(1) as f64
    }

    /// The 95th percentile latency, a sample not answered counting as endless.
    fn p95(&self) -> Duration {
        let mut t: Vec<Duration> = self
            .samples
            .iter()
            .map(|s| s.map_or(Duration::MAX, |(_, d)| d))
            .collect();
        t.sort();
        let i = (t.len() * 95).div_ceil(100).saturating_sub(1);
        t.get(i).copied().unwrap_or(Duration::MAX)
    }

    fn summary(&self) -> String {
        let mut t: Vec<u128> = self
            .samples
            .iter()
            .filter_map(|s| s.map(|(_, d)| d.as_millis()))
            .collect();
        t.sort();
        let statuses: Vec<u16> = self.samples.iter().map(|s| s.map_or(0, |x| x.0)).collect();
        format!(
            "{} samples, {:.0}% answered 200, p95 {:?}, answered in ms {:?}, statuses {:?}",
            self.samples.len(),
            self.ok_share() * 100.0,
            self.p95(),
            t,
            statuses
        )
    }
}

/// Probes `/healthz` on `addrs` once a second each (spread over the second) for `secs`.
fn probe_every_second(addrs: &[SocketAddr], secs: u64, timeout: Duration) -> Vec<Probes> {
    let mut all: Vec<Probes> = addrs.iter().map(|_| Probes::default()).collect();
    let started = Instant::now();
    let step = Duration::from_millis(1000 / addrs.len() as u64);
    let mut next = started;
    for round in 0..secs {
        for (i, addr) in addrs.iter().enumerate() {
            next += step;
            all[i].samples.push(probe(*addr, "/healthz", timeout));
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
        }
        let _ = round;
    }
    all
}

/// User plus system CPU time of a process, in clock ticks (100 a second on Linux).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime is the 12th, stime
    // the 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(11) + field(12)
}

#[test]
fn healthz_answers_while_400_half_sent_heads_are_held_under_nofile_128() {
    let _g = serial();
    // The head deadline is long so that the flood lasts the whole test.
    let (_node, mut lp) = agreed_under(
        NodeData::fixture(),
        &["--header-timeout-ms", "60000"],
        Some(128),
    );
    let flood = Flood::start(lp.addr, 4, 100, false);
    std::thread::sleep(Duration::from_millis(500));
    let probes = probe_every_second(&[lp.addr], 20, Duration::from_secs(2));
    let fds = lp.open_fds();
    let stats = flood.stop();
    let p = &probes[0];
    eprintln!(
        "nofile 128, 400 half-sent heads held: /healthz {}; {} opened, {} closed by the server; child fds {fds}",
        p.summary(),
        stats.opened,
        stats.closed
    );
    assert!(lp.child_alive());
    assert!(fds <= 128, "{fds} fds");
    assert!(
        stats.opened >= 390,
        "only {} connections opened",
        stats.opened
    );
    assert!(p.ok_share() >= 0.95, "{}", p.summary());
    assert!(p.p95() < Duration::from_millis(250), "{}", p.summary());
}

#[test]
fn probes_are_answered_while_an_attacker_reopens_every_closed_connection() {
    let _g = serial();
    let (_node, mut lp) = agreed_under(
        NodeData::fixture(),
        &["--header-timeout-ms", "60000", "--admin-port", "0"],
        Some(128),
    );
    let admin = lp.admin.expect("the admin listener's address is logged");
    let flood = Flood::start(lp.addr, 4, 100, true);
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let cpu_before = cpu_ticks(lp.pid());
    let probes = probe_every_second(&[lp.addr, admin], 20, Duration::from_secs(1));
    let secs = started.elapsed().as_secs_f64();
    let cpu = (cpu_ticks(lp.pid()) - cpu_before) as f64 / 100.0 / secs;
    let fds = lp.open_fds();
    let stats = flood.stop();
    let (public, admin) = (&probes[0], &probes[1]);
    eprintln!(
        "nofile 128, 400 half-sent heads reopened as soon as closed ({:.0} reopened/s): \
         public /healthz {}; admin /healthz {}; child fds {fds}, CPU {:.0}% of a core",
        stats.closed as f64 / secs,
        public.summary(),
        admin.summary(),
        cpu * 100.0
    );
    assert!(lp.child_alive());
    assert!(fds <= 128, "{fds} fds");
    assert!(
        stats.closed as f64 / secs > 20.0,
        "the attacker was not kept busy: {stats:?}"
    );
    assert!(public.ok_share() >= 0.8, "public: {}", public.summary());
    assert_eq!(admin.ok_share(), 1.0, "admin: {}", admin.summary());
}

#[test]
fn an_idle_scraper_is_shed_before_a_well_formed_newcomer_waits() {
    let _g = serial();
    let (_node, lp) = agreed(NodeData::fixture(), &["--max-connections", "20"]);
    // A scraper that keeps its connection open between scrapes.
    let mut scraper = Client::connect(lp.addr);
    assert_eq!(scraper.get("/metrics").status, 200);
    // Every other slot holds a half-sent head, past its grace.
    let mut held: Vec<TcpStream> = (0..19).filter_map(|_| half_head(lp.addr)).collect();
    assert_eq!(held.len(), 19);
    std::thread::sleep(Duration::from_millis(400));

    // A newcomer is answered at once, by displacing the idle scraper, not a head.
    let (status, took) = probe(lp.addr, "/healthz", Duration::from_secs(2)).expect("answered");
    assert_eq!(status, 200);
    assert!(took < Duration::from_millis(250), "waited {took:?}");
    assert!(
        is_closed(&mut scraper.stream),
        "the idle scraper was not shed"
    );
    for (i, s) in held.iter_mut().enumerate() {
        assert!(!is_closed(s), "half head #{i} shed before the idle scraper");
    }

    // The probe's slot is taken by one more half head: the cap is full of heads again.
    held.push(half_head(lp.addr).expect("connect"));
    std::thread::sleep(Duration::from_millis(50));
    // The scraper comes back: it displaces the head that has waited longest.
    let started = Instant::now();
    let mut scraper = Client::connect(lp.addr);
    assert_eq!(scraper.get("/metrics").status, 200);
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(250),
        "the scraper waited {took:?}"
    );
    assert!(is_closed(&mut held[0]), "the oldest head was not displaced");
    for (i, s) in held.iter_mut().enumerate().skip(1) {
        assert!(!is_closed(s), "half head #{i} shed needlessly");
    }
}

#[test]
fn with_no_fd_spare_the_connection_admission_would_displace_makes_room() {
    let _g = serial();
    // nofile 40: 12 reserved + 1 upstream, 27 inbound. Seven fds inherited from the
    // shell (more than the reserve allows for) leave no fd for accepting at the cap, or
    // even below it.
    let (_node, lp) = agreed_after(
        NodeData::fixture(),
        "ulimit -n 40 && exec 3</dev/null 4</dev/null 5</dev/null 6</dev/null \
         7</dev/null 8</dev/null 9</dev/null",
        &["--header-timeout-ms", "60000"],
    );
    let mut held: Vec<TcpStream> = (0..27).filter_map(|_| half_head(lp.addr)).collect();
    assert_eq!(held.len(), 27);
    eprintln!("child fds {}", lp.open_fds());
    std::thread::sleep(Duration::from_millis(400));
    // Answered (fd_pressure is the truth here: the process is out of fds), not stalled.
    let (status, took) = probe(lp.addr, "/healthz", Duration::from_secs(2)).expect("answered");
    assert!(status == 200 || status == 503, "{status}");
    assert!(took < Duration::from_millis(500), "waited {took:?}");
    assert!(is_closed(&mut held[0]), "the oldest head was not displaced");
}

#[test]
fn the_listen_backlog_holds_600_connects_while_the_loop_is_stopped() {
    let _g = serial();
    let (_node, mut lp) = agreed(NodeData::fixture(), &[]);
    // The kernel's view of the listener: Send-Q of a listening socket is its backlog.
    let ss = std::process::Command::new("ss")
        .args(["-ltnH", &format!("sport = :{}", lp.addr.port())])
        .output();
    if let Some(out) = ss.ok().filter(|o| o.status.success()) {
        let text = String::from_utf8_lossy(&out.stdout);
        let send_q: u32 = text
            .split_whitespace()
            .nth(2)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("ss: {text:?}"));
        eprintln!("listen backlog (ss Send-Q): {send_q}");
        assert!(send_q >= 511, "backlog {send_q}");
    }
    let pid = nix::unistd::Pid::from_raw(lp.pid() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGSTOP).expect("SIGSTOP");
    let started = Instant::now();
    let mut queued = Vec::new();
    let mut dropped = 0;
    for _ in 0..600 {
        // A SYN the kernel drops is retried after a second: 300 ms means dropped.
        match TcpStream::connect_timeout(&lp.addr, Duration::from_millis(300)) {
            Ok(s) => queued.push(s),
            Err(_) => dropped += 1,
        }
    }
    let took = started.elapsed();
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGCONT).expect("SIGCONT");
    eprintln!(
        "600 connects while stopped: {} queued, {dropped} dropped, in {took:?}",
        queued.len()
    );
    assert_eq!(dropped, 0, "SYNs dropped: the backlog is too small");
    drop(queued);
    // Once running again, it answers.
    let (status, _) = probe(lp.addr, "/healthz", Duration::from_secs(5)).expect("answered");
    assert_eq!(status, 200);
    assert!(lp.child_alive());
}
