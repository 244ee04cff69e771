//! The exposition format's primitives: a family's `# HELP`/`# TYPE` lines, one sample
//! line (`name{label="value",...} value`), escaped label values and the number formats.

use crate::server::render::json::{write_i64, write_u64};

/// A sample's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    U64(u64),
    I64(i64),
    /// A count of milliseconds, written as seconds with three decimals (`12.345`).
    MillisAsSeconds(u64),
    /// A count of microseconds, written as seconds with six decimals (`0.000123`).
    MicrosAsSeconds(u64),
}

impl Value {
    /// A gauge of 0 or 1.
    pub fn flag(b: bool) -> Value {
        Value::U64(u64::from(b))
    }

    /// A count of things (`usize`).
    pub fn count(n: usize) -> Value {
        Value::U64(n as u64)
    }

    fn write(self, out: &mut Vec<u8>) {
        match self {
            Value::U64(v) => write_u64(out, v),
            Value::I64(v) => write_i64(out, v),
            Value::MillisAsSeconds(ms) => write_fixed(out, ms, 1_000, 3),
            Value::MicrosAsSeconds(us) => write_fixed(out, us, 1_000_000, 6),
        }
    }
}

/// `units / per` with `digits` decimals (`per` is `10^digits`).
fn write_fixed(out: &mut Vec<u8>, units: u64, per: u64, digits: usize) {
    write_u64(out, units / per);
    out.push(b'.');
    let frac = units % per;
    let mut tail = Vec::with_capacity(digits);
    write_u64(&mut tail, frac);
    out.extend(std::iter::repeat_n(b'0', digits.saturating_sub(tail.len())));
    out.extend_from_slice(&tail);
}

/// Appends `# HELP name help` and `# TYPE name ty`.
pub(super) fn header(out: &mut Vec<u8>, name: &str, help: &str, ty: &str) {
    out.extend_from_slice(b"# HELP ");
    out.extend_from_slice(name.as_bytes());
    out.push(b' ');
    out.extend_from_slice(help.as_bytes());
    out.extend_from_slice(b"\n# TYPE ");
    out.extend_from_slice(name.as_bytes());
    out.push(b' ');
    out.extend_from_slice(ty.as_bytes());
    out.push(b'\n');
}

/// Appends a label value escaped per the exposition format (`\\`, `\"`, `\n`).
pub fn write_label_value(out: &mut Vec<u8>, value: &str) {
    for &b in value.as_bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            _ => out.push(b),
        }
    }
}

/// Where one family writes its samples.
pub struct Sink<'a> {
    out: &'a mut Vec<u8>,
    name: &'static str,
}

impl<'a> Sink<'a> {
    pub(super) fn new(out: &'a mut Vec<u8>, name: &'static str) -> Self {
        Sink { out, name }
    }

    /// One sample of the family with these labels (values escaped).
    pub fn sample(&mut self, labels: &[(&str, &str)], value: Value) {
        self.sample_suffixed("", labels, value);
    }

    /// One sample named `family` + `suffix` (`_bucket`, `_sum`, `_count` of a histogram).
    pub fn sample_suffixed(&mut self, suffix: &str, labels: &[(&str, &str)], value: Value) {
        let out = &mut *self.out;
        out.extend_from_slice(self.name.as_bytes());
        out.extend_from_slice(suffix.as_bytes());
        for (i, (label, v)) in labels.iter().enumerate() {
            out.push(if i == 0 { b'{' } else { b',' });
            out.extend_from_slice(label.as_bytes());
            out.extend_from_slice(b"=\"");
            write_label_value(out, v);
            out.push(b'"');
        }
        if !labels.is_empty() {
            out.push(b'}');
        }
        out.push(b' ');
        value.write(out);
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: Value) -> String {
        let mut out = Vec::new();
        v.write(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn numbers() {
        assert_eq!(text(Value::U64(0)), "0");
        assert_eq!(text(Value::I64(-5)), "-5");
        assert_eq!(text(Value::MillisAsSeconds(0)), "0.000");
        assert_eq!(text(Value::MillisAsSeconds(12_345)), "12.345");
        assert_eq!(text(Value::MillisAsSeconds(7)), "0.007");
        assert_eq!(text(Value::MicrosAsSeconds(123)), "0.000123");
        assert_eq!(text(Value::MicrosAsSeconds(2_500_000)), "2.500000");
        assert_eq!(
            text(Value::MillisAsSeconds(u64::MAX)),
            "18446744073709551.615"
        );
    }

    #[test]
    fn samples_and_labels() {
        let mut out = Vec::new();
        let mut sink = Sink::new(&mut out, "x");
        sink.sample(&[], Value::U64(1));
        sink.sample(&[("a", "b\"c"), ("d", "e")], Value::U64(2));
        sink.sample_suffixed("_sum", &[("r", "/")], Value::U64(3));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "x 1\nx{a=\"b\\\"c\",d=\"e\"} 2\nx_sum{r=\"/\"} 3\n"
        );
    }
}
