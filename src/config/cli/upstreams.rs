//! Where the upstreams come from: the `--upstreams-config` file, or the single
//! `--lean-url` upstream of legacy mode.

use super::values::Setting;
use super::{DEFAULT_LEAN_URL, DEFAULT_UPSTREAM_NAME};
use crate::config::{one_line, parse_http_url, parse_upstreams_file, ConfigError, UpstreamSpec};
use std::path::Path;

/// Reads and parses the upstreams file named by `file`.
pub(super) fn read_upstreams(
    file: &Setting,
    read_file: &dyn Fn(&Path) -> std::io::Result<String>,
) -> Result<Vec<UpstreamSpec>, ConfigError> {
    let path = file.path()?;
    let contents = read_file(&path).map_err(|e| {
        file.fail(format_args!(
            "cannot read upstreams file {}: {e}",
            one_line(&file.value)
        ))
    })?;
    parse_upstreams_file(&file.value, &contents)
}

/// The single upstream of legacy mode, from `--lean-url` and `--lean-path`.
pub(super) fn legacy_upstream(
    url: Option<&Setting>,
    path: &str,
) -> Result<UpstreamSpec, ConfigError> {
    let (url, target) = match url {
        Some(u) => {
            let target =
                parse_http_url(&u.value).map_err(|e| u.fail(format_args!("{:?}: {e}", u.value)))?;
            (u.value.clone(), target)
        }
        None => {
            let target = parse_http_url(DEFAULT_LEAN_URL).map_err(ConfigError::new)?;
            (DEFAULT_LEAN_URL.to_string(), target)
        }
    };
    Ok(UpstreamSpec {
        name: DEFAULT_UPSTREAM_NAME.to_string(),
        url,
        target,
        path: path.to_string(),
        problem: None,
    })
}
