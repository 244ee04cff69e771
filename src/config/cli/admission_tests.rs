//! Tests of the inbound admission and admin-listener settings: head grace, listen
//! backlog, `--admin-bind`/`--admin-port`, their variables and their errors.

use super::*;

#[test]
fn admission_settings() {
    let c = config(&[], &[]);
    assert_eq!((c.head_grace_ms, c.listen_backlog), (150, None));
    let c = config(&["--head-grace-ms", "40", "--listen-backlog=1000"], &[]);
    assert_eq!((c.head_grace_ms, c.listen_backlog), (40, Some(1000)));
    let env = [
        ("LEANPOINT_HEAD_GRACE_MS", "250"),
        ("LEANPOINT_LISTEN_BACKLOG", "65535"),
    ];
    let c = config(&[], &env);
    assert_eq!((c.head_grace_ms, c.listen_backlog), (250, Some(65535)));
    assert_eq!(
        config(&["--head-grace-ms=9"], &env).head_grace_ms,
        9,
        "the flag wins"
    );
    assert_eq!(
        error(&["--head-grace-ms", "0"], &[]),
        "--head-grace-ms: 0 is not allowed; the smallest value is 1"
    );
    assert_eq!(
        error(&["--listen-backlog", "0"], &[]),
        "--listen-backlog: 0 is not allowed; the smallest value is 1"
    );
    assert_eq!(
        error(&[], &[("LEANPOINT_LISTEN_BACKLOG", "65536")]),
        "LEANPOINT_LISTEN_BACKLOG: 65536 is larger than 65535"
    );
}

#[test]
fn admin_listener_settings() {
    assert_eq!(config(&[], &[]).admin_addr, None);
    // On the public bind address unless told otherwise; port 0 picks a free one.
    let c = config(&["--bind", "10.1.2.3", "--admin-port", "0"], &[]);
    assert_eq!(c.admin_addr, Some("10.1.2.3:0".parse().unwrap()));
    let c = config(
        &["--admin-port=9100"],
        &[("LEANPOINT_ADMIN_BIND", "127.0.0.1")],
    );
    assert_eq!(c.admin_addr, Some("127.0.0.1:9100".parse().unwrap()));
    let c = config(
        &["--admin-bind", "::1"],
        &[("LEANPOINT_ADMIN_PORT", "9101")],
    );
    assert_eq!(c.admin_addr, Some("[::1]:9101".parse().unwrap()));
    assert_eq!(
        error(&["--admin-bind", "127.0.0.1"], &[]),
        "--admin-bind: the admin listener is off without --admin-port"
    );
    assert_eq!(
        error(&["--admin-port", "70000"], &[]),
        "--admin-port: port 70000 is out of range 0..=65535"
    );
    assert_eq!(
        error(&["--admin-port", "1", "--admin-bind", "localhost"], &[]),
        "--admin-bind: \"localhost\" is not an IPv4 or IPv6 address"
    );
    let u = usage();
    assert!(u.contains("[default same as --bind]"));
    assert!(u.contains("[default same as the inbound pool, at least 511]"));
}
