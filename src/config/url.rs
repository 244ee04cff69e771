//! `http://host[:port][/prefix]` URLs for upstreams: port 80 when absent, as any HTTP
//! client does (https is refused: TLS is out of scope).

use std::net::{Ipv4Addr, Ipv6Addr};

/// A parsed upstream URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    /// Host name or IP literal (IPv6 without brackets).
    pub host: String,
    /// 1..=65535.
    pub port: u16,
    /// Path prefix without trailing slash, empty or starting with `/`.
    pub prefix: String,
}

impl HttpUrl {
    /// The `Host` header value: `host:port`, IPv6 in brackets.
    pub fn host_header(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

const EXPECTED: &str = "expected http://host[:port][/prefix]";

/// The port of an `http://` URL that names none.
pub const DEFAULT_HTTP_PORT: u16 = 80;

/// Longest host name (RFC 1035 presentation form without the trailing dot).
const MAX_HOST_LEN: usize = 253;
/// Longest label of a host name.
const MAX_LABEL_LEN: usize = 63;

/// Parses and validates; the error says what is wrong (without naming the field, which
/// the caller adds).
pub fn parse_http_url(s: &str) -> Result<HttpUrl, String> {
    if s.is_empty() {
        return Err(format!("empty URL; {EXPECTED}"));
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("contains whitespace or control characters".into());
    }
    let Some((scheme, rest)) = s.split_once("://") else {
        return Err(format!("missing scheme; {EXPECTED}"));
    };
    if scheme.eq_ignore_ascii_case("https") {
        return Err(
            "TLS is not supported (https://); use an http:// URL, reaching the node \
                    directly or through a TLS-terminating proxy"
                .into(),
        );
    }
    if !scheme.eq_ignore_ascii_case("http") {
        return Err(format!("unsupported scheme {scheme:?}; {EXPECTED}"));
    }
    if rest.contains('#') {
        return Err("a fragment (#...) is not allowed".into());
    }
    if rest.contains('?') {
        return Err("a query (?...) is not allowed".into());
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if authority.contains('@') {
        return Err("userinfo (user@host) is not allowed".into());
    }
    let (host, port) = split_host_port(authority)?;
    let port = match port {
        Some(port) => parse_port(port)?,
        None => DEFAULT_HTTP_PORT,
    };
    let prefix = parse_prefix(path)?;
    Ok(HttpUrl { host, port, prefix })
}

/// Splits `host[:port]` / `[v6][:port]`, validating the host; returns the port text
/// (None when the URL names no port; `host:` with nothing after is an error).
fn split_host_port(authority: &str) -> Result<(String, Option<&str>), String> {
    if authority.is_empty() {
        return Err("empty host".into());
    }
    if let Some(bracketed) = authority.strip_prefix('[') {
        let Some((inside, after)) = bracketed.split_once(']') else {
            return Err("unclosed '[' in IPv6 host".into());
        };
        if inside.parse::<Ipv6Addr>().is_err() {
            return Err(format!("invalid IPv6 address [{inside}]"));
        }
        return match after.strip_prefix(':') {
            Some(port) => Ok((inside.to_string(), Some(port))),
            None if after.is_empty() => Ok((inside.to_string(), None)),
            None => Err(format!("unexpected {after:?} after IPv6 address")),
        };
    }
    let Some((host, port)) = authority.rsplit_once(':') else {
        validate_host(authority)?;
        return Ok((authority.to_string(), None));
    };
    if host.contains(':') {
        return Err("an IPv6 address must be in brackets: http://[addr]:port".into());
    }
    validate_host(host)?;
    Ok((host.to_string(), Some(port)))
}

/// A host that is not an IPv6 literal: an IPv4 address or a DNS-style name (`_` is
/// allowed: container names such as `zeam_0` are used as host names on devnets).
fn validate_host(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("empty host".into());
    }
    if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return match host.parse::<Ipv4Addr>() {
            Ok(_) => Ok(()),
            Err(_) => Err(format!("invalid IPv4 address {host:?}")),
        };
    }
    let name = host.strip_suffix('.').unwrap_or(host);
    if name.len() > MAX_HOST_LEN {
        return Err(format!("host name longer than {MAX_HOST_LEN} characters"));
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err(format!("invalid host name {host:?}: empty label"));
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(format!(
                "invalid host name {host:?}: label longer than {MAX_LABEL_LEN} characters"
            ));
        }
        if let Some(c) = label
            .chars()
            .find(|&c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        {
            return Err(format!("invalid character {c:?} in host name {host:?}"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!(
                "invalid host name {host:?}: a label starts or ends with '-'"
            ));
        }
    }
    Ok(())
}

fn parse_port(port: &str) -> Result<u16, String> {
    if port.is_empty() {
        return Err(format!("missing port; {EXPECTED}"));
    }
    if !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("invalid port {port:?}"));
    }
    match port.parse::<u32>() {
        Ok(n @ 1..=65535) => u16::try_from(n).map_err(|_| format!("invalid port {port:?}")),
        _ => Err(format!("port {port} is out of range 1..=65535")),
    }
}

/// The path prefix: RFC 3986 path characters only, trailing slashes removed.
fn parse_prefix(path: &str) -> Result<String, String> {
    let bytes = path.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(i + 1) && hex(i + 2)) {
                return Err("invalid percent-escape in path".into());
            }
            i += 3;
            continue;
        }
        let ok = b.is_ascii_alphanumeric() || b"/-._~!$&'()*+,;=:@".contains(&b);
        if !ok {
            let c = path.get(i..).and_then(|t| t.chars().next()).unwrap_or('?');
            return Err(format!("invalid character {c:?} in path"));
        }
        i += 1;
    }
    Ok(path.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> HttpUrl {
        match parse_http_url(s) {
            Ok(u) => u,
            Err(e) => panic!("{s:?} refused: {e}"),
        }
    }

    fn err(s: &str) -> String {
        match parse_http_url(s) {
            Ok(u) => panic!("{s:?} accepted as {u:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn accepts_ipv4_with_port() {
        let u = ok("http://127.0.0.1:5052");
        assert_eq!(u.host, "127.0.0.1");
        assert_eq!(u.port, 5052);
        assert_eq!(u.prefix, "");
        assert_eq!(u.host_header(), "127.0.0.1:5052");
    }

    #[test]
    fn accepts_names_with_underscores_and_case_insensitive_scheme() {
        let u = ok("HTTP://zeam_0:8081");
        assert_eq!(u.host, "zeam_0");
        assert_eq!(u.port, 8081);
        let u = ok("http://node-1.devnet.example.:1");
        assert_eq!(u.host, "node-1.devnet.example.");
        assert_eq!(u.port, 1);
    }

    #[test]
    fn accepts_ipv6_in_brackets() {
        let u = ok("http://[::1]:5052/lean");
        assert_eq!(u.host, "::1");
        assert_eq!(u.port, 5052);
        assert_eq!(u.prefix, "/lean");
        assert_eq!(u.host_header(), "[::1]:5052");
    }

    #[test]
    fn prefix_loses_trailing_slashes() {
        assert_eq!(ok("http://h:80/").prefix, "");
        assert_eq!(ok("http://h:80/a/b/").prefix, "/a/b");
        assert_eq!(ok("http://h:80/a//").prefix, "/a");
        assert_eq!(ok("http://h:80/a%20b").prefix, "/a%20b");
        assert_eq!(ok("http://h:65535/x").port, 65535);
    }

    #[test]
    fn refuses_https_with_a_tls_message() {
        let e = err("https://127.0.0.1:5052");
        assert!(e.contains("TLS is not supported"), "{e}");
        assert!(err("HTTPS://h:1").contains("TLS"));
    }

    #[test]
    fn refuses_other_schemes_and_missing_scheme() {
        assert!(err("ftp://h:21").contains("unsupported scheme \"ftp\""));
        assert!(err("127.0.0.1:5052").contains("missing scheme"));
        assert!(err("").contains("empty URL"));
    }

    #[test]
    fn refuses_userinfo_query_fragment() {
        assert!(err("http://u:p@h:1").contains("userinfo"));
        assert!(err("http://h:1/x?a=1").contains("query"));
        assert!(err("http://h:1/x#top").contains("fragment"));
    }

    #[test]
    fn refuses_bad_hosts() {
        assert!(err("http://:5052").contains("empty host"));
        assert!(err("http:///x").contains("empty host"));
        assert!(err("http://256.1.1.1:1").contains("invalid IPv4"));
        assert!(err("http://127.1:1").contains("invalid IPv4"));
        assert!(err("http://[::g]:1").contains("invalid IPv6"));
        assert!(err("http://[::1:1").contains("unclosed"));
        assert!(err("http://[::1]x:1").contains("after IPv6"));
        assert!(err("http://::1:5052").contains("brackets"));
        assert!(err("http://a..b:1").contains("empty label"));
        assert!(err("http://-a:1").contains("'-'"));
        assert!(err("http://a!b:1").contains("invalid character '!'"));
        let long = format!("http://{}:1", "a".repeat(64));
        assert!(err(&long).contains("label longer"));
        let longer = format!("http://{}:1", ["abc"; 70].join("."));
        assert!(err(&longer).contains("longer than 253"));
    }

    #[test]
    fn no_port_means_80() {
        for (url, host, prefix) in [
            ("http://h", "h", ""),
            ("http://127.0.0.1", "127.0.0.1", ""),
            ("http://[::1]", "::1", ""),
            ("http://lean.example/api", "lean.example", "/api"),
        ] {
            let u = ok(url);
            assert_eq!(
                (u.host.as_str(), u.port, u.prefix.as_str()),
                (host, 80, prefix),
                "{url}"
            );
        }
        assert_eq!(ok("http://h").host_header(), "h:80");
        assert!(err("http://").contains("empty host"));
        assert!(err("http://:5055").contains("empty host"));
    }

    #[test]
    fn refuses_bad_ports() {
        assert!(err("http://h:").contains("missing port"));
        assert!(err("http://[::1]:").contains("missing port"));
        assert!(err("http://h:0").contains("out of range"));
        assert!(err("http://h:65536").contains("out of range"));
        assert!(err("http://h:99999999999999999999").contains("out of range"));
        assert!(err("http://h:+80").contains("invalid port"));
        assert!(err("http://h:8a").contains("invalid port"));
    }

    #[test]
    fn refuses_bad_paths_and_whitespace() {
        assert!(err("http://h:1/a b").contains("whitespace"));
        assert!(err("http://h:1/a\nb").contains("whitespace"));
        assert!(err("http://h:1/a%2").contains("percent"));
        assert!(err("http://h:1/a%zz").contains("percent"));
        assert!(err("http://h:1/a\"b").contains("invalid character"));
        assert!(err("http://h:1/é").contains("invalid character 'é'"));
    }
}
