//! `http://host:port[/prefix]` URLs for upstreams (https is refused: TLS is out of scope).

/// A parsed upstream URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    /// Host name or IP literal (IPv6 without brackets).
    pub host: String,
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

/// Parses and validates; the error says what is wrong (without naming the field, which
/// the caller adds).
pub fn parse_http_url(s: &str) -> Result<HttpUrl, String> {
    let _ = s;
    todo!()
}
