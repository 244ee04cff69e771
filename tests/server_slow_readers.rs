//! Slow readers cannot hold every inbound slot for ever: with the cap full of clients
//! that read a 16 MiB state a few bytes at a time (each read resets the write-stall
//! deadline), a newcomer is admitted once the longest reply has been writing for the
//! write timeout, by shedding that connection.

mod common;

use common::inbound::{agreed, big_state, connect_small_rcvbuf, metric_of};
use common::mock::NodeData;
use common::parse_reply;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[test]
fn a_newcomer_gets_in_when_slow_readers_fill_the_cap() {
    let mut data = NodeData::fixture();
    data.state = big_state(16 * 1024 * 1024);
    let (_node, lp) = agreed(
        data,
        &["--max-connections", "8", "--write-timeout-ms", "4000"],
    );
    let addr = lp.addr;
    let stop = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..8 {
        let stop = stop.clone();
        let mut s = connect_small_rcvbuf(addr, 16 * 1024);
        s.write_all(b"GET /lean/v0/states/finalized HTTP/1.1\r\nHost: t\r\n\r\n")
            .unwrap();
        readers.push(std::thread::spawn(move || {
            // About 1 MB/s: always progressing (no write stall), never finishing in the test.
            let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
            let mut buf = [0u8; 16 * 1024];
            while !stop.load(Ordering::Relaxed) {
                if matches!(s.read(&mut buf), Ok(0)) {
                    return; // shed by the server (after the queued bytes)
                }
                std::thread::sleep(Duration::from_millis(15));
            }
        }));
    }
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    // The newcomer is admitted once the longest reply has been writing for the write
    // timeout (4 s); its own read timeout is longer than that.
    let mut newcomer = TcpStream::connect(addr).unwrap();
    newcomer
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    newcomer
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut raw = Vec::new();
    let _ = newcomer.read_to_end(&mut raw);
    let waited = started.elapsed();
    let reply = parse_reply(&raw).expect("a reply");
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        let _ = r.join();
    }
    assert_eq!(reply.status, 200, "the newcomer was not served");
    assert!(
        waited < Duration::from_secs(8),
        "the newcomer waited {waited:?}"
    );
    // The newcomer got in by shedding the longest-writing slow reader.
    assert!(metric_of(&lp, "leanpoint_inbound_shed_total") >= 1.0);
}
