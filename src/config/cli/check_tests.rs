//! Tests of `--check-config`: every problem of the flags, the environment and the
//! upstreams file is listed (misconfigured entries included), where a run stops at the
//! first.

use super::*;

/// `--check-config`'s answer: (problems, usable upstreams).
fn check(args: &[&str], env: &[(&str, &str)]) -> (Vec<String>, usize) {
    let mut all = vec!["--check-config"];
    all.extend_from_slice(args);
    match run(&all, env) {
        Ok(Command::Check {
            problems,
            upstreams,
        }) => (problems, upstreams),
        other => panic!("{all:?}: {other:?}"),
    }
}

#[test]
fn check_config_lists_every_problem_not_just_the_first() {
    assert_eq!(check(&[], &[]), (vec![], 1));
    assert_eq!(check(&["--upstreams-config", "ups.json"], &[]), (vec![], 1));
    let (problems, _) = check(
        &["--poll-ms", "x", "--port", "70000", "--bogus"],
        &[("LEANPOINT_TIMEOUT_MS", "0")],
    );
    assert_eq!(problems.len(), 4, "{problems:?}");
    assert!(
        problems.iter().any(|p| p.starts_with("--poll-ms:")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.starts_with("--port:")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("--bogus")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("LEANPOINT_TIMEOUT_MS:")),
        "{problems:?}"
    );
    // A misconfigured entry is a problem for --check-config (a run keeps going).
    let (problems, usable) = check(&["--upstreams-config", "gen.json"], &[]);
    assert_eq!(usable, 1);
    assert_eq!(
        problems,
        vec![r#"entry 2 ("ream_0"): url "http://:5055": empty host"#.to_string()]
    );
    let c = config(&["--upstreams-config", "gen.json"], &[]);
    assert_eq!(c.upstreams.len(), 2);
    assert!(c.upstreams[0].is_usable() && !c.upstreams[1].is_usable());
    // File-level problems too, with the flags'.
    let (problems, usable) = check(&["--upstreams-config", "bad.json", "--poll-ms=0"], &[]);
    assert_eq!((problems.len(), usable), (2, 0), "{problems:?}");
}

#[test]
fn without_check_config_the_first_problem_is_the_error() {
    let e = error(&["--poll-ms", "x", "--port", "70000"], &[]);
    assert!(e.starts_with("--port:"), "{e}");
}
