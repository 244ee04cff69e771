//! Tests of the `lean-devnet` command line.

use super::*;

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn run(list: &[&str]) -> DevnetConfig {
    match parse_args(&args(list)) {
        Ok(Parsed::Run(c)) => c,
        other => panic!("{list:?}: {other:?}"),
    }
}

fn error(list: &[&str]) -> String {
    match parse_args(&args(list)) {
        Err(e) => e.to_string(),
        other => panic!("{list:?} accepted: {other:?}"),
    }
}

#[test]
fn defaults() {
    let c = run(&[]);
    assert_eq!(c.nodes, 4);
    assert_eq!(c.profiles, vec![Profile::Healthy; 4]);
    assert_eq!(c.base_port, 5052);
    assert_eq!(c.bind.to_string(), "127.0.0.1");
    assert_eq!((c.slot_ms, c.start_slot, c.validators), (4000, 4, 4));
    assert_eq!(c.name_prefix, "node");
    assert_eq!(c.upstreams_out, None);
    assert_eq!(
        (c.lag_slots, c.late_ms, c.slow_ms, c.flaky_percent, c.seed),
        (3, 700, 2000, 30, 1)
    );
}

#[test]
fn profiles_fill_up_with_healthy() {
    let c = run(&["--nodes", "5", "--profiles", "healthy,lagging, silent"]);
    use Profile::*;
    assert_eq!(c.profiles, [Healthy, Lagging, Silent, Healthy, Healthy]);
    let c = run(&["--nodes", "4", "--profiles", "liar,no-fork-choice,late"]);
    assert_eq!(c.profiles, [Liar, NoForkChoice, Late, Healthy]);
    let c = run(&["--nodes=1000"]);
    assert_eq!(c.profiles.len(), 1000);
    assert!(c.profiles.iter().all(|p| *p == Healthy));
}

#[test]
fn values_inline_or_separate_and_last_wins() {
    let c = run(&[
        "--base-port=0",
        "--bind",
        "[::1]",
        "--slot-ms",
        "300",
        "--slot-ms=200",
        "--upstreams-out",
        "/tmp/u.json",
        "--name-prefix",
        "zeam_",
        "--flaky-percent",
        "100",
        "--late-ms=250",
    ]);
    assert_eq!(c.base_port, 0);
    assert_eq!(c.bind.to_string(), "::1");
    assert_eq!(c.slot_ms, 200);
    assert_eq!(c.upstreams_out, Some(PathBuf::from("/tmp/u.json")));
    assert_eq!(c.name_prefix, "zeam_");
    assert_eq!(c.flaky_percent, 100);
    assert_eq!(c.late_ms, 250);
}

#[test]
fn help_wins() {
    assert_eq!(
        parse_args(&args(&["--nodes", "x", "-h"])).unwrap(),
        Parsed::Help
    );
    assert_eq!(parse_args(&args(&["--help"])).unwrap(), Parsed::Help);
    let text = usage();
    for f in FLAGS {
        assert!(text.contains(&format!("--{} ", f.name)), "{}", f.name);
    }
    for p in Profile::ALL {
        assert!(text.contains(p.name()), "{}", p.name());
    }
}

#[test]
fn errors_name_the_flag() {
    assert_eq!(
        error(&["--nodes", "abc"]),
        "--nodes: \"abc\" is not a number"
    );
    assert_eq!(
        error(&["--nodes", "0"]),
        "--nodes: 0 is out of range 1..=20000"
    );
    assert_eq!(error(&["--nodes"]), "--nodes: missing value");
    assert_eq!(
        error(&["--slot-ms", "-5"]),
        "--slot-ms: \"-5\" is not a number"
    );
    assert_eq!(
        error(&["--slot-ms", "--nodes", "3"]),
        "--slot-ms: missing value"
    );
    assert_eq!(
        error(&["--slot-ms=-5"]),
        "--slot-ms: \"-5\" is not a number"
    );
    assert_eq!(
        error(&["--frobnicate"]),
        "unknown flag \"--frobnicate\"; see --help"
    );
    assert_eq!(error(&["-x"]), "unknown flag \"-x\"; see --help");
    assert_eq!(
        error(&["stray"]),
        "unexpected argument \"stray\"; see --help"
    );
    assert!(error(&["--profiles", "healthy,wobbly"])
        .starts_with("--profiles: \"wobbly\" is not one of healthy, lagging"));
    assert_eq!(
        error(&["--nodes", "2", "--profiles", "healthy,silent,slow"]),
        "--profiles: 3 profiles for 2 nodes"
    );
    assert_eq!(
        error(&["--nodes", "10", "--base-port", "65530"]),
        "--base-port: 65530 + 10 nodes goes past port 65535"
    );
    assert_eq!(
        error(&["--base-port", "70000"]),
        "--base-port: 70000 is out of range 0..=65535"
    );
    assert_eq!(
        error(&["--bind", "localhost"]),
        "--bind: \"localhost\" is not an IPv4 or IPv6 address"
    );
    assert_eq!(
        error(&["--upstreams-out="]),
        "--upstreams-out: empty value; expected a path"
    );
    assert!(error(&["--name-prefix="]).starts_with("--name-prefix: "));
    assert_eq!(
        error(&["--validators", "5000"]),
        "--validators: 5000 is out of range 1..=4096"
    );
    assert_eq!(
        error(&["--late-ms", "soon"]),
        "--late-ms: \"soon\" is not a number"
    );
    assert_eq!(
        error(&["--flaky-percent", "101"]),
        "--flaky-percent: 101 is out of range 0..=100"
    );
}

#[test]
fn errors_are_one_line() {
    let e = error(&["--nodes", "1\n2"]);
    assert!(!e.contains('\n'), "{e}");
}
