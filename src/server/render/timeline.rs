//! `/api/timeline`, pure: the agreed finalized slot per round and every upstream's
//! samples (slots, finalized root prefix, error kind, standing), oldest first, written
//! straight into the caller's buffer with the `json` writers (docs/api.md).

use super::json::{
    write_bool, write_elements, write_hex_body, write_i64, write_null, write_opt_str,
    write_opt_u64, write_str, write_u64, write_usize,
};
use crate::app::timeline::{Sample, Series, Slot};
use crate::app::{AppState, Standing, Timeline};
use std::rc::Rc;

/// Bytes of one sample in the JSON, about (for the buffer's first allocation).
pub const SAMPLE_JSON_BYTES: usize = 128;

/// The last `/api/timeline` body rendered, shared by every reply until the timeline
/// changes (once per round): a thousand clients that ask and never read hold one body,
/// not a thousand.
#[derive(Debug, Default)]
pub struct TimelineCache(Option<(u64, Rc<[u8]>)>);

impl TimelineCache {
    /// The body for `app`'s timeline now, rendered at `now_ms` unless the one cached is
    /// of the same revision.
    pub fn body(&mut self, app: &AppState, now_ms: i64) -> Rc<[u8]> {
        let revision = app.timeline.revision;
        if let Some((cached, body)) = &self.0 {
            if *cached == revision {
                return body.clone();
            }
        }
        let mut out = Vec::with_capacity(size_hint(&app.timeline));
        render_timeline(app, now_ms, &mut out);
        let body: Rc<[u8]> = out.into();
        self.0 = Some((revision, body.clone()));
        body
    }
}

/// The first allocation for `timeline`'s JSON.
pub fn size_hint(timeline: &Timeline) -> usize {
    let samples: usize = timeline.series.iter().map(|s| s.samples.len()).sum();
    256 + 48 * timeline.agreed.len() + 96 * timeline.series.len() + SAMPLE_JSON_BYTES * samples
}

/// `{"now_ms":…,"capacity":…,"agreed":[…],"upstreams":[…]}`.
pub fn render_timeline(app: &AppState, now_ms: i64, out: &mut Vec<u8>) {
    let timeline = &app.timeline;
    out.extend_from_slice(b"{\"now_ms\":");
    write_i64(out, now_ms);
    out.extend_from_slice(b",\"capacity\":");
    write_usize(out, Timeline::capacity(timeline.series.len()));
    out.extend_from_slice(b",\"agreed_finalized_slot\":");
    write_opt_u64(out, app.agreed.as_ref().map(|a| a.finalized.slot));
    out.extend_from_slice(b",\"agreed\":[");
    write_elements(out, &timeline.agreed, |out, a| {
        out.extend_from_slice(b"{\"t\":");
        write_i64(out, a.t_ms);
        out.extend_from_slice(b",\"finalized\":");
        write_slot(out, a.finalized);
        out.extend_from_slice(b",\"consensus\":");
        write_bool(out, a.consensus);
        out.push(b'}');
    });
    out.extend_from_slice(b"],\"upstreams\":[");
    write_elements(out, &timeline.series, |out, series| {
        render_series(series, out)
    });
    out.extend_from_slice(b"]}");
}

/// One element of `upstreams`: the standing after the last round, then the samples.
fn render_series(series: &Series, out: &mut Vec<u8>) {
    let standing = series.standing();
    out.extend_from_slice(b"{\"name\":");
    write_str(out, &series.name);
    write_standing(out, standing);
    out.extend_from_slice(b",\"finalized\":");
    write_slot(out, series.last().map_or(Slot::NONE, |s| s.finalized));
    out.extend_from_slice(b",\"samples\":[");
    write_elements(out, &series.samples, |out, sample| {
        render_sample(sample, out)
    });
    out.extend_from_slice(b"]}");
}

fn render_sample(s: &Sample, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"t\":");
    write_i64(out, s.t_ms);
    out.extend_from_slice(b",\"finalized\":");
    write_slot(out, s.finalized);
    out.extend_from_slice(b",\"justified\":");
    write_slot(out, s.justified);
    out.extend_from_slice(b",\"head\":");
    write_slot(out, s.head);
    out.extend_from_slice(b",\"root\":");
    match &s.root {
        Some(prefix) => {
            out.push(b'"');
            write_hex_body(out, prefix);
            out.push(b'"');
        }
        None => write_null(out),
    }
    out.extend_from_slice(b",\"error\":");
    write_opt_str(out, s.error.map(|k| k.as_str()));
    out.extend_from_slice(b",\"standing\":");
    write_str(out, s.standing.as_str());
    out.push(b'}');
}

/// `,"standing":"…","lag_slots":N` of a series.
fn write_standing(out: &mut Vec<u8>, standing: Standing) {
    out.extend_from_slice(b",\"standing\":");
    write_str(out, standing.as_str());
    out.extend_from_slice(b",\"lag_slots\":");
    write_u64(out, standing.lag_slots());
}

fn write_slot(out: &mut Vec<u8>, slot: Slot) {
    write_opt_u64(out, slot.get());
}
