//! Fairness on a real process: a client that pipelines requests as fast as it can (and
//! reads as fast as it can) does not keep other clients waiting; each connection yields
//! after a bounded number of reads.

mod common;

use common::mock::{Behavior, MockNode, NodeData};
use common::Leanpoint;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[test]
fn a_pipelining_flood_does_not_starve_other_clients() {
    let node = MockNode::start(Behavior::Healthy(NodeData::fixture()));
    let lp = Leanpoint::start(&["--lean-url", &node.url(), "--poll-ms", "500"]);
    lp.wait_for("/status", Duration::from_secs(5), |r| {
        r.json()["finalized_slot"] == 18 && r.json()["bundle_verified"] == true
    });
    let addr = lp.addr;
    let stop = Arc::new(AtomicBool::new(false));
    let mut flooders = Vec::new();
    for _ in 0..2 {
        let stop = stop.clone();
        flooders.push(std::thread::spawn(move || {
            let mut s = TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            let reader = s.try_clone().unwrap();
            let stop_r = stop.clone();
            let drain = std::thread::spawn(move || {
                let mut reader = reader;
                let mut buf = vec![0u8; 256 * 1024];
                let mut total = 0usize;
                while !stop_r.load(Ordering::Relaxed) {
                    match reader.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => total += n,
                        Err(_) => {}
                    }
                }
                total
            });
            let batch = "GET /status HTTP/1.1\r\nHost: x\r\n\r\n".repeat(512);
            let deadline = Instant::now() + Duration::from_secs(4);
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                if s.write_all(batch.as_bytes()).is_err() {
                    break;
                }
            }
            stop.store(true, Ordering::Relaxed);
            drain.join().unwrap()
        }));
    }
    std::thread::sleep(Duration::from_millis(300));
    let mut worst = Duration::ZERO;
    for _ in 0..20 {
        let t = Instant::now();
        let reply = lp.get("/healthz");
        worst = worst.max(t.elapsed());
        assert_eq!(reply.status, 200);
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::Relaxed);
    let served: usize = flooders.into_iter().map(|f| f.join().unwrap()).sum();
    assert!(
        served > 1_000_000,
        "the flooders were served too ({served} bytes)"
    );
    assert!(
        worst < Duration::from_millis(250),
        "a request waited {worst:?} behind the flood"
    );
}
