//! The access log's writer on real files and pipes: lines reach the file at a flush,
//! the buffer is bounded and drops count, a full pipe does not block, a failing write
//! drops and counts, a rename and reopen (logrotate) moves to a new file, and an
//! unopenable file is a clear error.

use super::*;
use std::fs;
use std::sync::atomic::{AtomicU32, Ordering};

/// A fresh temp folder for one test.
fn dir() -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "leanpoint-access-log-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn exchange(path: &'static str) -> Exchange<'static> {
    Exchange::new(
        Some("127.0.0.1:1234".parse().unwrap()),
        b"GET / HTTP/1.1\r\n\r\n",
        404,
        10,
    )
    .parsed(path, std::time::Duration::from_micros(5))
}

/// A FIFO with a reader that never reads (keep the reader alive): its 64 KiB fill and
/// it takes nothing more.
fn stalled_fifo() -> (PathBuf, fs::File) {
    let fifo = dir().join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    let reader = OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(&fifo)
        .unwrap();
    (fifo, reader)
}

fn file_log(path: &Path, format: AccessLogFormat) -> AccessLog {
    AccessLog::open(&AccessLogDest::File(path.to_path_buf()), format).unwrap()
}

#[test]
fn lines_reach_the_file_at_a_flush_and_append() {
    let path = dir().join("access.log");
    fs::write(&path, "old line\n").unwrap();
    let log = file_log(&path, AccessLogFormat::Json);
    assert_eq!(log.record(0, &exchange("/a")), 0);
    assert_eq!(log.record(0, &exchange("/b")), 0);
    assert_eq!(fs::read_to_string(&path).unwrap(), "old line\n");
    assert!(log.pending() > 0);
    assert_eq!(log.flush(), 0);
    assert_eq!(log.pending(), 0);
    let text = fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[1].contains("\"path\":\"/a\"") && lines[2].contains("\"path\":\"/b\""));
    drop(log);
    let log = file_log(&path, AccessLogFormat::Common);
    log.record(0, &exchange("/c"));
    drop(log); // the last lines are written at exit
    assert!(fs::read_to_string(&path)
        .unwrap()
        .ends_with("\"GET / HTTP/1.1\" 404 10\n"));
}

#[test]
fn a_burst_reaches_a_sink_that_takes_it_without_a_drop() {
    // More than the buffer holds, in one loop iteration: written out as it fills.
    let path = dir().join("access.log");
    let log = file_log(&path, AccessLogFormat::Json);
    let lines = 3 * BUFFER_CAP / 50;
    let dropped: u64 = (0..lines)
        .map(|_| log.record(0, &exchange("/status")))
        .sum();
    assert_eq!(dropped, 0);
    assert!(log.pending() <= FLUSH_AT + 512);
    assert_eq!(log.flush(), 0);
    let text = fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), lines);
    assert!(text.lines().all(|l| l.ends_with('}')), "no line is cut");
}

#[test]
fn the_buffer_is_bounded_when_the_sink_takes_nothing() {
    let (fifo, _reader) = stalled_fifo();
    let log = file_log(&fifo, AccessLogFormat::Json);
    let mut dropped = 0;
    for _ in 0..(2 * BUFFER_CAP / 50) {
        dropped += log.record(0, &exchange("/status"));
    }
    assert!(dropped > 0, "the pipe and the buffer cannot hold it all");
    assert!(log.pending() <= BUFFER_CAP);
}

#[test]
fn a_full_pipe_does_not_block() {
    let (fifo, _reader) = stalled_fifo();
    let log = file_log(&fifo, AccessLogFormat::Common);
    let mut total = 0;
    while log.pending() < FLUSH_AT {
        assert_eq!(log.record(0, &exchange("/x")), 0);
        total += 1;
    }
    let started = std::time::Instant::now();
    assert_eq!(log.flush(), 0, "would-block is not a failure");
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    assert!(log.pending() > 0, "the pipe (64 KiB) took only part");
    assert!(total > 0);
}

#[test]
fn a_failing_write_drops_and_counts_its_lines() {
    let log = file_log(Path::new("/dev/full"), AccessLogFormat::Json);
    for path in ["/a", "/b", "/c"] {
        log.record(0, &exchange(path));
    }
    assert_eq!(log.flush(), 3);
    assert_eq!(log.pending(), 0);
    assert_eq!(log.flush(), 0, "nothing left to drop");
}

#[test]
fn reopen_follows_a_rotation() {
    let dir = dir();
    let path = dir.join("access.log");
    let log = file_log(&path, AccessLogFormat::Json);
    log.record(0, &exchange("/before"));
    fs::rename(&path, dir.join("access.log.1")).unwrap();
    assert_eq!(log.reopen(), 0);
    log.record(0, &exchange("/after"));
    log.flush();
    let old = fs::read_to_string(dir.join("access.log.1")).unwrap();
    let new = fs::read_to_string(&path).unwrap();
    assert!(old.contains("/before") && !old.contains("/after"), "{old}");
    assert!(new.contains("/after") && !new.contains("/before"), "{new}");
    // A name that cannot be opened any more keeps the old file: the lines still reach
    // the file it had open (read through a handle kept on it, as its name is gone).
    let mut kept = fs::File::open(&path).unwrap();
    fs::remove_dir_all(&dir).unwrap();
    log.reopen();
    log.record(0, &exchange("/still"));
    assert_eq!(log.flush(), 0);
    let mut text = String::new();
    std::io::Read::read_to_string(&mut kept, &mut text).unwrap();
    assert!(text.contains("/after") && text.contains("/still"), "{text}");
}

#[test]
fn an_unopenable_file_is_an_error_naming_it() {
    let path = dir().join("missing/dir/access.log");
    let Err(e) = AccessLog::open(&AccessLogDest::File(path.clone()), AccessLogFormat::Json) else {
        panic!("opened {}", path.display());
    };
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!("cannot open the access log {}: ", path.display())),
        "{msg}"
    );
    assert!(msg.contains("No such file or directory"), "{msg}");
}

#[test]
fn writes_shared_with_stderr_are_whole_lines_within_pipe_buf() {
    let line = |n: usize| {
        let mut l = vec![b'x'; n - 1];
        l.push(b'\n');
        l
    };
    let mut bytes = Vec::new();
    for _ in 0..100 {
        bytes.extend(line(100));
    }
    // 40 lines of 100 bytes fit in 4096; the 41st would not.
    assert_eq!(super::whole_lines(&bytes).len(), 4000);
    // A line longer than PIPE_BUF goes alone, whole.
    let long = [line(5000), line(10)].concat();
    assert_eq!(super::whole_lines(&long).len(), 5000);
    // No newline at all: everything (never happens: lines end with one).
    assert_eq!(super::whole_lines(b"abc").len(), 3);
    assert_eq!(super::whole_lines(b"").len(), 0);
}
