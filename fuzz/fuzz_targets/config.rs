//! Configuration parsers on arbitrary bytes: `parse_http_url`, `parse_upstreams_file`,
//! and `parse_command_line` with the arguments cut from the input at NUL bytes, no
//! environment, and an upstreams file whose contents are the input. Checks: no panic;
//! an accepted URL prints back (`http://` + Host header + prefix) to the same URL;
//! error messages are one line.
#![no_main]

use leanpoint::config::{parse_command_line, parse_http_url, parse_upstreams_file, Command};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);

    if let Ok(url) = parse_http_url(&text) {
        assert!(url.port > 0);
        assert!(url.prefix.is_empty() || url.prefix.starts_with('/'));
        assert!(!url.prefix.ends_with('/'));
        let again = format!("http://{}{}", url.host_header(), url.prefix);
        assert_eq!(parse_http_url(&again), Ok(url));
    }

    match parse_upstreams_file("fuzz.json", &text) {
        Ok(specs) => {
            assert!(!specs.is_empty());
            for s in &specs {
                assert_eq!(parse_http_url(&s.url).as_ref(), Ok(&s.target));
                assert!(s.path.starts_with('/'));
            }
        }
        Err(e) => assert!(!e.to_string().contains('\n'), "multi-line error: {e}"),
    }

    let args: Vec<String> = data
        .split(|&b| b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let contents = text.clone().into_owned();
    let read_file = move |_: &std::path::Path| Ok(contents.clone());
    match parse_command_line(&args, &|_| None, &read_file) {
        Ok(Command::Run(config)) => {
            assert!(!config.upstreams.is_empty());
            assert!(config.connect_timeout_ms <= config.timeout_ms);
        }
        Ok(Command::Help) => {}
        Err(e) => assert!(!e.to_string().contains('\n'), "multi-line error: {e}"),
    }
});
