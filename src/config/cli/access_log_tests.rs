//! Tests of `--access-log` and `--access-log-format`: off by default, stderr or a file,
//! the variables, flag over variable, and their errors.

use super::*;
use crate::config::{AccessLogDest, AccessLogFormat};

#[test]
fn off_by_default_json_when_on() {
    let c = config(&[], &[]);
    assert_eq!(c.access_log, None);
    assert_eq!(c.access_log_format, AccessLogFormat::Json);
}

#[test]
fn stderr_or_a_file() {
    for dest in ["-", "stderr", "STDERR"] {
        let c = config(&["--access-log", dest], &[]);
        assert_eq!(c.access_log, Some(AccessLogDest::Stderr), "{dest}");
    }
    let c = config(&["--access-log=/var/log/leanpoint/access.log"], &[]);
    assert_eq!(
        c.access_log,
        Some(AccessLogDest::File(PathBuf::from(
            "/var/log/leanpoint/access.log"
        )))
    );
    let c = config(&["--access-log", "./stderr.log"], &[]);
    assert_eq!(
        c.access_log,
        Some(AccessLogDest::File(PathBuf::from("./stderr.log")))
    );
}

#[test]
fn formats() {
    let c = config(&["--access-log", "-", "--access-log-format", "common"], &[]);
    assert_eq!(c.access_log_format, AccessLogFormat::Common);
    let c = config(&["--access-log-format=JSON"], &[]);
    assert_eq!(c.access_log_format, AccessLogFormat::Json);
    assert_eq!(
        error(&["--access-log-format", "clf"], &[]),
        "--access-log-format: \"clf\" is not one of json, common"
    );
}

#[test]
fn variables_and_precedence() {
    let env = [
        ("LEANPOINT_ACCESS_LOG", "/tmp/a.log"),
        ("LEANPOINT_ACCESS_LOG_FORMAT", "common"),
    ];
    let c = config(&[], &env);
    assert_eq!(
        c.access_log,
        Some(AccessLogDest::File(PathBuf::from("/tmp/a.log")))
    );
    assert_eq!(c.access_log_format, AccessLogFormat::Common);
    let c = config(&["--access-log", "-", "--access-log-format", "json"], &env);
    assert_eq!(c.access_log, Some(AccessLogDest::Stderr), "the flag wins");
    assert_eq!(c.access_log_format, AccessLogFormat::Json);
    // An empty variable counts as unset.
    let c = config(&[], &[("LEANPOINT_ACCESS_LOG", "")]);
    assert_eq!(c.access_log, None);
    assert_eq!(
        error(&[], &[("LEANPOINT_ACCESS_LOG_FORMAT", "xml")]),
        "LEANPOINT_ACCESS_LOG_FORMAT: \"xml\" is not one of json, common"
    );
}

#[test]
fn an_empty_file_name_is_refused() {
    assert_eq!(
        error(&["--access-log="], &[]),
        "--access-log: empty value; expected a path"
    );
    assert_eq!(error(&["--access-log"], &[]), "--access-log: missing value");
}
