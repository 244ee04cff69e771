//! A small parser of the Prometheus text exposition (`text/plain; version=0.0.4`) for the
//! tests: every sample line as (name, labels, value), looked up by name and exact label
//! set. Written here, apart from leanpoint's renderer, so a test reads `/metrics` the way
//! a scraper does; a line that is not `name[{labels}] value` is an error.

use super::Leanpoint;

/// One sample: `name{labels} value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    /// The labels in the order written, values unescaped.
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

/// Every sample of one scrape.
#[derive(Debug, Clone)]
pub struct Scrape {
    pub samples: Vec<Sample>,
}

impl Scrape {
    /// Parses `text`; `Err` names the first line that is not a sample, comment or blank.
    pub fn parse(text: &str) -> Result<Scrape, String> {
        let samples = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|l| parse_sample(l).ok_or_else(|| format!("not a sample line: {l:?}")))
            .collect::<Result<_, _>>()?;
        Ok(Scrape { samples })
    }

    /// The value of the sample `name` whose labels are exactly `labels` (in any order).
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.samples
            .iter()
            .find(|s| {
                s.name == name
                    && s.labels.len() == labels.len()
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.iter().any(|(sk, sv)| sk == k && sv == v))
            })
            .map(|s| s.value)
    }

    /// Same as [`Scrape::get`], panicking with the sample's name when it is missing.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels)
            .unwrap_or_else(|| panic!("no sample {name}{labels:?} in the scrape"))
    }

    /// The value of the unlabelled sample `name` (panics when missing).
    pub fn one(&self, name: &str) -> f64 {
        self.value(name, &[])
    }

    /// The value of the sample a selector names: `name` or `name{k="v",...}` (the exact
    /// label set, in any order).
    pub fn select(&self, selector: &str) -> Option<f64> {
        let s = parse_sample(&format!("{selector} 0"))?;
        let labels: Vec<(&str, &str)> = s
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.get(&s.name, &labels)
    }

    /// Every sample named `name`, whatever its labels.
    pub fn family(&self, name: &str) -> Vec<&Sample> {
        self.samples.iter().filter(|s| s.name == name).collect()
    }
}

/// Scrapes `/metrics` of a running leanpoint (200 and a valid exposition, or panics).
pub fn scrape(lp: &Leanpoint) -> Scrape {
    let reply = lp.get("/metrics");
    assert_eq!(reply.status, 200, "/metrics: {}", reply.text());
    Scrape::parse(&reply.text()).unwrap_or_else(|e| panic!("/metrics: {e}"))
}

/// `name[{k="v",...}] value [timestamp]`.
fn parse_sample(line: &str) -> Option<Sample> {
    let name_end = line.find(['{', ' ']).unwrap_or(line.len());
    let name = &line[..name_end];
    let valid_name = name.bytes().enumerate().all(|(i, b)| {
        b.is_ascii_alphabetic() || b == b'_' || b == b':' || (i > 0 && b.is_ascii_digit())
    });
    if name.is_empty() || !valid_name {
        return None;
    }
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(after) = rest.strip_prefix('{') {
        rest = after;
        loop {
            rest = rest.trim_start_matches(',');
            if let Some(after) = rest.strip_prefix('}') {
                rest = after;
                break;
            }
            let (key, after) = rest.split_once("=\"")?;
            if key.is_empty() || key.contains(['"', '{', '}', ',', ' ']) {
                return None;
            }
            let (value, after) = unescape_until_quote(after)?;
            labels.push((key.to_string(), value));
            rest = after;
            if !(rest.starts_with(',') || rest.starts_with('}')) {
                return None;
            }
        }
    }
    let mut fields = rest.split_whitespace();
    let value = match fields.next()? {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    // An optional integer timestamp, then nothing.
    if let Some(ts) = fields.next() {
        ts.parse::<i64>().ok()?;
    }
    if fields.next().is_some() || !rest.starts_with(' ') {
        return None;
    }
    Some(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

/// A label value up to its closing quote, with `\\`, `\"` and `\n` unescaped; returns it
/// and what follows the quote.
fn unescape_until_quote(s: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &s[i + 1..])),
            '\\' => match chars.next()?.1 {
                '\\' => out.push('\\'),
                '"' => out.push('"'),
                'n' => out.push('\n'),
                _ => return None,
            },
            c => out.push(c),
        }
    }
    None
}
