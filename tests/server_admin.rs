//! The admin listener (`--admin-port`) on real loopback sockets: it serves `/healthz`,
//! `/metrics` and `/status` only, from slots of its own, so probes are answered while
//! the public pool is full and nobody there can be displaced; a full public pool within
//! its budget is not `fd_pressure`; the admin pool admits newcomers like the public one.

mod common;

use common::inbound::{agreed, agreed_under, metric, probe};
use common::mock::NodeData;
use common::{http_get, Leanpoint};
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

const HALF_HEAD: &[u8] = b"GET /status HTTP/1.1\r\nHost: t\r\n";

fn half_heads(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    (0..n)
        .map(|_| {
            let mut s = TcpStream::connect(addr).expect("connect");
            s.write_all(HALF_HEAD).expect("write");
            s
        })
        .collect()
}

fn admin_of(lp: &Leanpoint) -> SocketAddr {
    lp.admin.expect("the admin listener's address is logged")
}

#[test]
fn the_admin_port_serves_health_metrics_and_status_only() {
    let (_node, lp) = agreed(NodeData::fixture(), &["--admin-port", "0"]);
    let admin = admin_of(&lp);
    assert_ne!(admin, lp.addr);
    assert_eq!(admin.ip(), lp.addr.ip(), "on --bind by default");
    let health = http_get(admin, "/healthz");
    assert_eq!((health.status, health.text().as_str()), (200, "ok\n"));
    let status = http_get(admin, "/status");
    assert_eq!(status.status, 200);
    assert_eq!(status.json()["finalized_slot"], 18);
    let metrics = http_get(admin, "/metrics");
    assert_eq!(metrics.status, 200);
    assert!(metric(&metrics.text(), "leanpoint_finalized_slot") == Some(18.0));
    for path in [
        "/",
        "/api/upstreams",
        "/lean/v0/states/finalized",
        "/lean/v0/blocks/finalized",
        "/lean/v0/health",
    ] {
        assert_eq!(http_get(admin, path).status, 404, "{path}");
        assert_ne!(lp.get(path).status, 404, "{path} on the public port");
    }
}

#[test]
fn probes_on_the_admin_port_never_wait_for_a_full_public_pool() {
    // nofile 64: 12 reserved + 9 for the admin listener + 1 upstream, 42 inbound.
    let (_node, lp) = agreed_under(
        NodeData::fixture(),
        &["--admin-port", "0", "--head-grace-ms", "60000"],
        Some(64),
    );
    let admin = admin_of(&lp);
    let _held = half_heads(lp.addr, 42);
    std::thread::sleep(Duration::from_millis(300));
    // Nobody in the public pool can be displaced (heads within their grace): a public
    // probe waits in the backlog.
    assert_eq!(
        probe(lp.addr, "/healthz", Duration::from_millis(500)),
        None,
        "answered over the public cap"
    );
    // The admin port answers at once, and a full public pool is not fd pressure.
    for _ in 0..5 {
        let (status, took) =
            probe(admin, "/healthz", Duration::from_secs(2)).expect("admin answers");
        assert_eq!(
            status, 200,
            "a full, budgeted inbound pool is not fd_pressure"
        );
        assert!(took < Duration::from_millis(200), "{took:?}");
    }
    let m = http_get(admin, "/metrics").text();
    assert_eq!(metric(&m, "leanpoint_fd_pressure"), Some(0.0));
    assert_eq!(metric(&m, "leanpoint_inbound_connections"), Some(42.0));
    let open = metric(&m, "leanpoint_open_fds").unwrap_or(0.0);
    assert!(open <= 64.0, "{open} fds");
}

#[test]
fn the_admin_pool_admits_a_newcomer_at_its_own_cap() {
    let (_node, lp) = agreed(NodeData::fixture(), &["--admin-port", "0"]);
    let admin = admin_of(&lp);
    // The admin pool holds 8 connections; 8 half heads fill it.
    let _held = half_heads(admin, 8);
    std::thread::sleep(Duration::from_millis(300));
    // Past the grace, the head that waited longest makes room.
    let (status, took) = probe(admin, "/healthz", Duration::from_secs(2)).expect("answered");
    assert_eq!(status, 200);
    assert!(took < Duration::from_millis(200), "{took:?}");
    // The public pool was never involved.
    let m = lp.get("/metrics").text();
    assert_eq!(metric(&m, "leanpoint_inbound_shed_total"), Some(0.0));
}
