//! Header field value helpers shared by the request and response parsers: OWS trimming,
//! comma-separated lists, `Connection` options, `Content-Length` values and the
//! `Transfer-Encoding` coding list. Pure and allocation-free.

/// Strips optional whitespace (SP / HTAB) from both ends of a field value.
pub(crate) fn trim_ows(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(start, |i| i + 1);
    v.get(start..end).unwrap_or(&[])
}

/// The non-empty, trimmed elements of a comma-separated list (RFC 9110 §5.6.1).
pub(crate) fn list_items(v: &[u8]) -> impl Iterator<Item = &[u8]> {
    v.split(|&b| b == b',')
        .map(trim_ows)
        .filter(|t| !t.is_empty())
}

/// `Connection` options gathered over every `Connection` field of a message.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConnectionOptions {
    close: bool,
    keep_alive: bool,
}

impl ConnectionOptions {
    /// Adds the tokens of one `Connection` field value (case-insensitive).
    pub(crate) fn add(&mut self, value: &[u8]) {
        for token in list_items(value) {
            if token.eq_ignore_ascii_case(b"close") {
                self.close = true;
            } else if token.eq_ignore_ascii_case(b"keep-alive") {
                self.keep_alive = true;
            }
        }
    }

    /// Persistence for HTTP/1.`minor`: 1.1 unless `close`; 1.0 only with `keep-alive`.
    pub(crate) fn persistent(self, minor: u8) -> bool {
        !self.close && (minor >= 1 || self.keep_alive)
    }
}

/// A `Content-Length` value that is not a single agreed-on decimal number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BadLength;

/// `Content-Length` gathered over every field: each listed value must be decimal digits
/// that fit in a `u64`, and all must agree (identical duplicates are accepted).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ContentLength {
    seen: bool,
    bad: bool,
    value: Option<u64>,
}

impl ContentLength {
    /// Adds one `Content-Length` field value.
    pub(crate) fn add(&mut self, value: &[u8]) {
        self.seen = true;
        for item in value.split(|&b| b == b',').map(trim_ows) {
            match parse_decimal(item) {
                Some(n) if self.value.is_none_or(|prev| prev == n) => self.value = Some(n),
                _ => self.bad = true,
            }
        }
    }

    /// True when any `Content-Length` field was present (valid or not).
    pub(crate) fn seen(&self) -> bool {
        self.seen
    }

    /// The agreed length, `None` when absent, `BadLength` when invalid or conflicting.
    pub(crate) fn value(&self) -> Result<Option<u64>, BadLength> {
        if self.bad {
            Err(BadLength)
        } else {
            Ok(self.value)
        }
    }
}

/// Parses a non-empty run of ASCII digits into a `u64`; `None` on anything else or overflow.
pub(crate) fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &b| {
        if b.is_ascii_digit() {
            acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        } else {
            None
        }
    })
}

/// `Transfer-Encoding` codings gathered over every field, in order.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TransferCodings {
    count: u32,
    all_chunked: bool,
}

impl TransferCodings {
    /// Adds the codings of one `Transfer-Encoding` field value.
    pub(crate) fn add(&mut self, value: &[u8]) {
        if self.count == 0 {
            self.all_chunked = true;
        }
        // An empty field still marks the header as present; count it as a non-chunked
        // coding so that it is refused rather than ignored.
        let mut any = false;
        for coding in list_items(value) {
            any = true;
            self.count = self.count.saturating_add(1);
            self.all_chunked &= coding.eq_ignore_ascii_case(b"chunked");
        }
        if !any {
            self.count = self.count.saturating_add(1);
            self.all_chunked = false;
        }
    }

    /// True when any `Transfer-Encoding` field was present.
    pub(crate) fn present(&self) -> bool {
        self.count > 0
    }

    /// True when the codings are exactly `chunked` (the only one this crate decodes).
    pub(crate) fn is_chunked_only(&self) -> bool {
        self.count == 1 && self.all_chunked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_ows_only() {
        assert_eq!(trim_ows(b" \t a b \t"), b"a b");
        assert_eq!(trim_ows(b"   "), b"");
        assert_eq!(trim_ows(b""), b"");
        assert_eq!(trim_ows(b"\r x"), b"\r x");
    }

    #[test]
    fn list_items_skip_empty_elements() {
        let items: Vec<&[u8]> = list_items(b" a, ,b ,,c").collect();
        assert_eq!(items, vec![&b"a"[..], b"b", b"c"]);
    }

    #[test]
    fn connection_options_per_version() {
        let mut c = ConnectionOptions::default();
        assert!(c.persistent(1));
        assert!(!c.persistent(0));
        c.add(b"Upgrade, Keep-Alive");
        assert!(c.persistent(0));
        c.add(b"CLOSE");
        assert!(!c.persistent(1));
        assert!(!c.persistent(0));
    }

    #[test]
    fn content_length_values() {
        let mut cl = ContentLength::default();
        assert!(!cl.seen());
        assert_eq!(cl.value(), Ok(None));
        cl.add(b" 42 ");
        cl.add(b"42, 42");
        assert!(cl.seen());
        assert_eq!(cl.value(), Ok(Some(42)));
        cl.add(b"43");
        assert_eq!(cl.value(), Err(BadLength));

        for bad in [
            &b""[..],
            b"+1",
            b"-1",
            b"1 2",
            b"0x10",
            b"1,",
            b"18446744073709551616",
        ] {
            let mut cl = ContentLength::default();
            cl.add(bad);
            assert_eq!(
                cl.value(),
                Err(BadLength),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let mut cl = ContentLength::default();
        cl.add(b"18446744073709551615");
        assert_eq!(cl.value(), Ok(Some(u64::MAX)));
    }

    #[test]
    fn transfer_codings() {
        let mut te = TransferCodings::default();
        assert!(!te.present());
        te.add(b"Chunked");
        assert!(te.present() && te.is_chunked_only());

        for values in [
            &[&b"gzip, chunked"[..]][..],
            &[b"chunked, chunked"],
            &[b"gzip", b"chunked"],
            &[b"identity"],
            &[b""],
            &[b"chunked;x=1"],
        ] {
            let mut te = TransferCodings::default();
            for v in values {
                te.add(v);
            }
            assert!(te.present());
            assert!(!te.is_chunked_only(), "{values:?}");
        }
    }
}
