//! A large static file is held once and shared by every download (heavy: run apart, one
//! at a time, by `make test`): 48 clients that request a 16 MiB file from `--static-dir`
//! and read it slowly grow the process's RSS by less than 8 MiB. Copying the file per
//! request, as before, took the process to about 770 MiB.

mod common;

use common::inbound::{metric_of, slow_readers, Client};
use common::static_site::{Site, NO_UPSTREAM};
use common::Leanpoint;
use std::time::Duration;

const FILE_BYTES: usize = 16 * 1024 * 1024;
const READERS: usize = 48;

#[test]
fn forty_eight_slow_readers_share_one_static_file() {
    let site = Site::new("rss");
    let file: Vec<u8> = (0..FILE_BYTES).map(|i| (i % 251) as u8).collect();
    site.write("big.bin", &file);
    let mut args = NO_UPSTREAM.to_vec();
    args.extend_from_slice(&["--static-dir", site.arg()]);
    let lp = Leanpoint::start(&args);

    // One whole download, byte for byte, also warms the allocator.
    let mut c = Client::connect(lp.addr);
    let full = c.get("/big.bin");
    assert_eq!(full.status, 200);
    assert!(full.body == file, "served file differs");
    drop((c, full));
    std::thread::sleep(Duration::from_millis(200));
    let baseline = lp.rss_kib();

    let (peak, conns) = slow_readers(&lp, "/big.bin", READERS);
    let peak = peak.max(baseline);
    let growth_kib = peak.saturating_sub(baseline);
    eprintln!(
        "{READERS} slow readers of a 16 MiB static file: RSS baseline {baseline} KiB, \
         peak {peak} KiB, growth {growth_kib} KiB"
    );
    assert!(
        conns.iter().all(|(_, got)| *got > 0 && *got < FILE_BYTES),
        "every reader is mid-download"
    );
    assert!(growth_kib < 8 * 1024, "RSS grew by {growth_kib} KiB");
    assert_eq!(
        metric_of(&lp, "leanpoint_inbound_connections"),
        (READERS + 1) as f64
    );
}
