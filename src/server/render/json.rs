//! Hand-written JSON output into a byte buffer: string escaping, integers (a two-digit
//! table writer), booleans, nulls and `0x` hex of 32-byte roots. Used by every JSON
//! endpoint and by `/metrics` for its numbers; nothing here allocates besides `out`.

const HEX: &[u8; 16] = b"0123456789abcdef";

/// `"00" "01" … "99"`, two bytes per number.
const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Appends `s` as a JSON string literal, quotes included.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    write_str_body(out, s);
    out.push(b'"');
}

/// Appends the escaped contents of `s` without quotes: `"` `\` and control characters
/// are escaped (`\n`, `\r`, `\t`, `\b`, `\f`, else `\u00XX`); all other UTF-8 is copied.
pub fn write_str_body(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut run_start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b >= 0x20 && b != b'"' && b != b'\\' {
            continue;
        }
        out.extend_from_slice(bytes.get(run_start..i).unwrap_or_default());
        run_start = i + 1;
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 15)]);
            }
        }
    }
    out.extend_from_slice(bytes.get(run_start..).unwrap_or_default());
}

/// Appends the decimal digits of `n`.
pub fn write_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut pos = buf.len();
    while n >= 100 {
        let pair = usize::try_from(n % 100).unwrap_or(0) * 2;
        n /= 100;
        pos -= 2;
        buf[pos] = PAIRS[pair];
        buf[pos + 1] = PAIRS[pair + 1];
    }
    if n >= 10 {
        let pair = usize::try_from(n).unwrap_or(0) * 2;
        pos -= 2;
        buf[pos] = PAIRS[pair];
        buf[pos + 1] = PAIRS[pair + 1];
    } else {
        pos -= 1;
        // n < 10 here, so the cast cannot truncate.
        buf[pos] = b'0' + n as u8;
    }
    out.extend_from_slice(buf.get(pos..).unwrap_or_default());
}

/// Appends the decimal digits of `n`, with a leading `-` when negative.
pub fn write_i64(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    write_u64(out, n.unsigned_abs());
}

/// Appends `usize` as a number.
pub fn write_usize(out: &mut Vec<u8>, n: usize) {
    write_u64(out, n as u64);
}

/// Appends `true` or `false`.
/// Writes each of `items` with `write`, separated by commas (the inside of an array).
pub fn write_elements<T>(
    out: &mut Vec<u8>,
    items: impl IntoIterator<Item = T>,
    mut write: impl FnMut(&mut Vec<u8>, T),
) {
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write(out, item);
    }
}

pub fn write_bool(out: &mut Vec<u8>, b: bool) {
    out.extend_from_slice(if b { b"true" } else { b"false" });
}

/// Appends `null`.
pub fn write_null(out: &mut Vec<u8>) {
    out.extend_from_slice(b"null");
}

/// Appends the number or `null`.
pub fn write_opt_u64(out: &mut Vec<u8>, n: Option<u64>) {
    match n {
        Some(n) => write_u64(out, n),
        None => write_null(out),
    }
}

/// Appends the number or `null`.
pub fn write_opt_i64(out: &mut Vec<u8>, n: Option<i64>) {
    match n {
        Some(n) => write_i64(out, n),
        None => write_null(out),
    }
}

/// Appends the string literal or `null`.
pub fn write_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => write_str(out, s),
        None => write_null(out),
    }
}

/// Appends `0x` and lowercase hex of `bytes`, without quotes.
pub fn write_hex_body(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(2 + bytes.len() * 2);
    out.extend_from_slice(b"0x");
    for &b in bytes {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 15)]);
    }
}

/// Appends a root as the string literal `"0x…"` (64 lowercase hex digits).
pub fn write_root(out: &mut Vec<u8>, root: &[u8; 32]) {
    out.push(b'"');
    write_hex_body(out, root);
    out.push(b'"');
}

/// Appends the root literal or `null`.
pub fn write_opt_root(out: &mut Vec<u8>, root: Option<&[u8; 32]>) {
    match root {
        Some(r) => write_root(out, r),
        None => write_null(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn str_json(s: &str) -> String {
        let mut out = Vec::new();
        write_str(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_round_trip_through_serde() {
        let cases = [
            "",
            "plain",
            "quote \" and backslash \\",
            "new\nline\r\ttab\u{8}\u{c}",
            "\u{0}\u{1}\u{1f}\u{7f}",
            "unicode é ✓ 𝄞 \u{2028}",
            "\"\\\"",
        ];
        for case in cases {
            let json = str_json(case);
            let back: String = serde_json::from_str(&json).unwrap();
            assert_eq!(back, case, "{json}");
        }
    }

    #[test]
    fn control_characters_use_short_or_unicode_escapes() {
        assert_eq!(str_json("a\nb"), r#""a\nb""#);
        assert_eq!(str_json("\u{1}"), r#""\u0001""#);
        assert_eq!(str_json("\u{1f}"), r#""\u001f""#);
        assert_eq!(str_json("x\"y"), r#""x\"y""#);
    }

    #[test]
    fn integers_match_std_formatting() {
        let mut values = vec![0u64, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 12345, u64::MAX];
        let mut n = 1u64;
        while let Some(m) = n.checked_mul(10) {
            values.extend([n - 1, n, n + 1]);
            n = m;
        }
        for v in values {
            let mut out = Vec::new();
            write_u64(&mut out, v);
            assert_eq!(String::from_utf8(out).unwrap(), v.to_string());
        }
        for v in [0i64, -1, -10, 42, i64::MIN, i64::MAX] {
            let mut out = Vec::new();
            write_i64(&mut out, v);
            assert_eq!(String::from_utf8(out).unwrap(), v.to_string());
        }
    }

    #[test]
    fn roots_match_lean_root_hex() {
        let mut root = [0u8; 32];
        for (i, b) in root.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37);
        }
        let mut out = Vec::new();
        write_root(&mut out, &root);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("\"{}\"", crate::lean::root_hex(&root))
        );
        let mut out = Vec::new();
        write_opt_root(&mut out, None);
        assert_eq!(out, b"null");
    }
}
