//! Deterministic random inputs for the parser property tests: a splitmix64 PRNG and
//! generators of valid HTTP responses and requests, SSZ states and upstream URLs, each
//! returned with what a correct parser must make of it.

/// splitmix64: tiny, fast, and the same sequence on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0; the modulo bias is irrelevant here).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `1/n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// `unit` times a random count below `counts` random bytes.
    pub fn bytes_times(&mut self, unit: usize, counts: usize) -> Vec<u8> {
        let n = unit * self.below(counts);
        self.bytes(n)
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }

    /// `n` characters drawn from `alphabet`.
    pub fn string(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n).map(|_| char::from(*self.pick(alphabet))).collect()
    }

    /// Lengths of random pieces that add up to `len` (zero-length pieces included).
    pub fn cuts(&mut self, len: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut left = len;
        while left > 0 {
            let n = match self.below(4) {
                0 => 0,
                1 => self.range(1, 3),
                _ => self.range(1, left.min(600)),
            }
            .min(left);
            out.push(n);
            left -= n;
        }
        out
    }
}

const TOKEN: &[u8] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-!#$%&'*+.^_`|~";
const VALUE: &[u8] =
    b"abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,;:/=\"()\t";

/// A header name that is none of the ones the parsers interpret.
fn header_name(rng: &mut Rng) -> String {
    loop {
        let len = rng.range(1, 12);
        let name = rng.string(TOKEN, len);
        let lower = name.to_ascii_lowercase();
        if ![
            "content-length",
            "transfer-encoding",
            "connection",
            "content-type",
        ]
        .contains(&lower.as_str())
        {
            return name;
        }
    }
}

/// A header value without leading or trailing whitespace.
fn header_value(rng: &mut Rng) -> String {
    let len = rng.below(30);
    rng.string(VALUE, len).trim().to_string()
}

/// How a generated response delimits its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    Length,
    Chunked,
    Close,
}

/// A valid response and what it must parse to.
#[derive(Debug, Clone)]
pub struct GenResponse {
    pub bytes: Vec<u8>,
    pub head_request: bool,
    pub status: u16,
    pub content_type: Option<String>,
    pub keep_alive: bool,
    /// The decoded body (empty when none is sent).
    pub body: Vec<u8>,
    /// The body runs to EOF: the reader completes only at `eof`.
    pub to_eof: bool,
}

/// A random valid response: interim 1xx heads, random status and headers, a body framed
/// by Content-Length, chunked (random chunk sizes, extensions, trailers) or close.
pub fn response(rng: &mut Rng) -> GenResponse {
    let eol = if rng.one_in(8) { "\n" } else { "\r\n" };
    let mut out = String::new();
    for _ in 0..rng.below(3).saturating_sub(1) {
        let code = rng.pick(&[100, 102, 103]);
        out.push_str(&format!("HTTP/1.1 {code} Interim{eol}"));
        for _ in 0..rng.below(3) {
            out.push_str(&format!("{}: {}{eol}", header_name(rng), header_value(rng)));
        }
        out.push_str(eol);
    }
    let minor = if rng.one_in(4) { 0 } else { 1 };
    let status = if rng.one_in(10) {
        *rng.pick(&[204, 304])
    } else {
        rng.range(200, 599) as u16
    };
    let head_request = rng.one_in(6);
    let framing = *rng.pick(&[Framing::Length, Framing::Chunked, Framing::Close]);
    let close_header = rng.one_in(5);
    let bodiless = head_request || status == 204 || status == 304;
    let body_len = match rng.below(5) {
        0 => 0,
        1 => rng.range(1, 20),
        _ => rng.range(1, 3000),
    };
    let body = rng.bytes(body_len);

    out.push_str(&format!(
        "HTTP/1.{minor} {status} {}{eol}",
        header_value(rng)
    ));
    let content_type = rng.one_in(2).then(|| {
        let len = rng.range(1, 30);
        rng.string(b"abcdefghijklmnopqrstuvwxyz/+-.;= ", len)
            .trim()
            .to_string()
    });
    let content_type = content_type.filter(|c| !c.is_empty());
    let mut headers: Vec<String> = (0..rng.below(8))
        .map(|_| format!("{}: {}", header_name(rng), header_value(rng)))
        .collect();
    if let Some(ct) = &content_type {
        headers.push(format!("Content-Type: {ct}"));
    }
    if close_header {
        headers.push("Connection: close".into());
    }
    match framing {
        Framing::Length => headers.push(format!("Content-Length: {body_len}")),
        Framing::Chunked => headers.push("Transfer-Encoding: chunked".into()),
        Framing::Close => {}
    }
    // Shuffle so the framing headers are anywhere.
    for i in (1..headers.len()).rev() {
        headers.swap(i, rng.below(i + 1));
    }
    for h in &headers {
        out.push_str(h);
        out.push_str(eol);
    }
    out.push_str(eol);
    let mut bytes = out.into_bytes();
    if !bodiless {
        match framing {
            Framing::Length | Framing::Close => bytes.extend_from_slice(&body),
            Framing::Chunked => bytes.extend_from_slice(&chunked(rng, &body)),
        }
    }
    let to_eof = framing == Framing::Close && !bodiless;
    GenResponse {
        bytes,
        head_request,
        status,
        content_type,
        keep_alive: minor == 1 && !close_header && !to_eof,
        body: if bodiless { Vec::new() } else { body },
        to_eof,
    }
}

/// `body` in chunked coding with random chunk sizes, hex case, leading zeros, chunk
/// extensions (whitespace before `;`, quoted values) and trailers.
pub fn chunked(rng: &mut Rng, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = body;
    let size_line = |rng: &mut Rng, n: usize, out: &mut Vec<u8>| {
        let mut hex = format!("{:0width$x}", n, width = rng.range(1, 4));
        if rng.one_in(2) {
            hex = hex.to_ascii_uppercase();
        }
        out.extend_from_slice(hex.as_bytes());
        for _ in 0..rng.below(3).saturating_sub(1) {
            out.extend_from_slice(rng.pick(&[" ", "\t", ""]).as_bytes());
            let ext = match rng.below(3) {
                0 => format!(";{}", rng.string(b"abcxyz", 3)),
                1 => format!(";{}={}", rng.string(b"abc", 2), rng.string(b"0123", 2)),
                _ => ";name=\"quoted; value\"".to_string(),
            };
            out.extend_from_slice(ext.as_bytes());
        }
        out.extend_from_slice(b"\r\n");
    };
    while !rest.is_empty() {
        let n = rng.range(1, rest.len().min(700));
        size_line(rng, n, &mut out);
        out.extend_from_slice(&rest[..n]);
        out.extend_from_slice(b"\r\n");
        rest = &rest[n..];
    }
    size_line(rng, 0, &mut out);
    for _ in 0..rng.below(3) {
        out.extend_from_slice(
            format!("{}: {}\r\n", header_name(rng), header_value(rng)).as_bytes(),
        );
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// A valid request head and the method token and target it carries.
pub fn request(rng: &mut Rng) -> (Vec<u8>, String, String) {
    let method = rng
        .pick(&["GET", "GET", "HEAD", "POST", "OPTIONS", "X-CUSTOM"])
        .to_string();
    let mut target = String::from("/");
    for _ in 0..rng.below(4) {
        let len = rng.range(1, 10);
        target.push_str(&rng.string(b"abcdefghijklmnopqrstuvwxyz0123456789-._~%", len));
        target.push('/');
    }
    if rng.one_in(3) {
        target.push_str("?x=1&y=");
        let len = rng.below(6);
        target.push_str(&rng.string(b"abc123", len));
    }
    let minor = rng.below(2);
    let mut head = format!("{method} {target} HTTP/1.{minor}\r\n");
    for _ in 0..rng.below(6) {
        head.push_str(&format!("{}: {}\r\n", header_name(rng), header_value(rng)));
    }
    if rng.one_in(4) {
        head.push_str("Content-Length: 0\r\n");
    }
    head.push_str("\r\n");
    (head.into_bytes(), method, target)
}

/// A random well-formed SSZ `State` (layout in tests/common/htr.rs), with its
/// genesis time, slot, justified (slot, root) and finalized (slot, root).
pub fn state(rng: &mut Rng) -> (Vec<u8>, [u64; 4], [[u8; 32]; 2]) {
    let slot = rng.next_u64() % (1 << 40);
    let below_slot = |rng: &mut Rng| rng.next_u64() % (slot + 1);
    let genesis = rng.next_u64();
    let header_slot = below_slot(rng);
    let justified = below_slot(rng);
    let finalized = below_slot(rng);
    let roots = [rng.bytes(32), rng.bytes(32)];
    let mut s = Vec::with_capacity(2048);
    s.extend_from_slice(&genesis.to_le_bytes());
    s.extend_from_slice(&slot.to_le_bytes());
    s.extend_from_slice(&header_slot.to_le_bytes());
    s.extend_from_slice(&rng.bytes(104));
    s.extend_from_slice(&roots[0]);
    s.extend_from_slice(&justified.to_le_bytes());
    s.extend_from_slice(&roots[1]);
    s.extend_from_slice(&finalized.to_le_bytes());
    let bitlist = |rng: &mut Rng| {
        let mut b = rng.bytes_times(1, 8);
        b.push(rng.range(1, 255) as u8);
        b
    };
    let parts = [
        rng.bytes_times(32, 10),
        bitlist(rng),
        rng.bytes_times(112, 6),
        rng.bytes_times(32, 5),
        bitlist(rng),
    ];
    let mut offset = 228u32;
    for p in &parts {
        s.extend_from_slice(&offset.to_le_bytes());
        offset += p.len() as u32;
    }
    for p in &parts {
        s.extend_from_slice(p);
    }
    let root = |v: &Vec<u8>| <[u8; 32]>::try_from(v.as_slice()).unwrap();
    (
        s,
        [genesis, slot, justified, finalized],
        [root(&roots[0]), root(&roots[1])],
    )
}

/// A valid `http://host:port/prefix` URL and its expected (host, port, prefix).
pub fn url(rng: &mut Rng) -> (String, String, u16, String) {
    let (host, authority) = match rng.below(3) {
        0 => {
            let ip = std::net::Ipv4Addr::from(rng.next_u64() as u32).to_string();
            (ip.clone(), ip)
        }
        1 => {
            let bits = (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64());
            let bits = if rng.one_in(2) { bits & 0xffff } else { bits };
            let ip = std::net::Ipv6Addr::from(bits).to_string();
            (ip.clone(), format!("[{ip}]"))
        }
        _ => {
            let labels: Vec<String> = (0..rng.range(1, 4))
                .map(|_| {
                    let len = rng.range(1, 20);
                    let mut l = rng.string(b"abcdefghijklmnopqrstuvwxyzABC0123456789-_", len);
                    if l.starts_with('-')
                        || l.ends_with('-')
                        || l.bytes().all(|b| b.is_ascii_digit())
                    {
                        l = format!("h{}x", l.trim_matches('-'));
                    }
                    l
                })
                .collect();
            let mut name = labels.join(".");
            if rng.one_in(5) {
                name.push('.');
            }
            (name.clone(), name)
        }
    };
    let port = rng.range(1, 65535) as u16;
    let mut path = String::new();
    for _ in 0..rng.below(4) {
        path.push('/');
        let len = rng.below(8);
        path.push_str(&rng.string(b"abcxyz0189-._~!$&'()*+,;=:@", len));
        if rng.one_in(4) {
            path.push_str("%2F");
        }
    }
    if rng.one_in(3) {
        path.push('/');
    }
    let scheme = rng.pick(&["http", "HTTP", "Http"]);
    let url = format!("{scheme}://{authority}:{port}{path}");
    let prefix = path.trim_end_matches('/').to_string();
    (url, host, port, prefix)
}

/// `input` with 1 to 4 random byte mutations: overwrite, insert, delete, truncate.
pub fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..rng.range(1, 4) {
        let at = rng.below(v.len() + 1);
        let byte = *rng.pick(&[0u8, b'\r', b'\n', b' ', b':', b';', b'0', b'f', 0xff, 0x80])
            ^ if rng.one_in(2) {
                0
            } else {
                rng.next_u64() as u8
            };
        match rng.below(4) {
            0 if at < v.len() => v[at] = byte,
            1 => v.insert(at, byte),
            2 if at < v.len() => {
                v.remove(at);
            }
            3 => v.truncate(at),
            _ => {}
        }
    }
    v
}
