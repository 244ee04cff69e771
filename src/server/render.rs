//! JSON rendering of `/status`, `/api/upstreams`, `/api/history` (`/api/timeline` in
//! `timeline`), and the lean-compatible `/lean/v0/checkpoints/justified` and
//! `/lean/v0/health`, pure and allocation-light: everything is written straight into the
//! caller's buffer with the `json` writers.
//!
//! Field names and types of the original's fields are an exact contract (product spec
//! §1); fields after them are additive.

pub mod json;
pub mod timeline;

use self::json::{
    write_bool, write_elements, write_i64, write_opt_i64, write_opt_root, write_opt_str,
    write_opt_u64, write_root, write_str, write_str_body, write_u64, write_usize,
};
use crate::app::{AppState, UpstreamErrorKind, UpstreamRecord};
use std::io::Write as _;

/// The `consensus_threshold` of `/api/upstreams`: strictly more than this percent.
pub const CONSENSUS_THRESHOLD: u64 = 50;

/// `/lean/v0/health` body when agreed data is fresh.
pub const LEAN_HEALTHY: &[u8] = br#"{"status":"healthy","service":"lean-rpc-api"}"#;

/// `/lean/v0/health` body otherwise.
pub const LEAN_UNHEALTHY: &[u8] = br#"{"status":"unhealthy","service":"lean-rpc-api"}"#;

/// `/status`: the exact contract object (plus additive fields).
///
/// Slots are those of the agreed checkpoint (0 before any agreement); `stale` is
/// `app.is_stale(now_ms)`. Additive: `justified_root`, `finalized_root`,
/// `agreeing_upstreams` and `first_agreed_ms` of the agreed checkpoint (null/0 when none),
/// `responding_upstreams`/`has_consensus` of the last completed round, and the bundle
/// served: `bundle_verified` (true when it is the agreed checkpoint's), `bundle_slot`,
/// `block_root`, `state_root` (null when none is held).
pub fn render_status(app: &AppState, now_ms: i64, out: &mut Vec<u8>) {
    let agreed = app.agreed.as_ref();
    out.extend_from_slice(b"{\"justified_slot\":");
    write_u64(out, agreed.map_or(0, |a| a.justified.slot));
    out.extend_from_slice(b",\"finalized_slot\":");
    write_u64(out, agreed.map_or(0, |a| a.finalized.slot));
    out.extend_from_slice(b",\"last_updated_ms\":");
    write_i64(out, app.last_updated_ms);
    out.extend_from_slice(b",\"last_success_ms\":");
    write_i64(out, app.last_success_ms);
    out.extend_from_slice(b",\"stale\":");
    write_bool(out, app.is_stale(now_ms));
    out.extend_from_slice(b",\"error_count\":");
    write_u64(out, app.error_count);
    out.extend_from_slice(b",\"last_error\":");
    write_opt_str(out, app.last_error.as_deref());
    out.extend_from_slice(b",\"justified_root\":");
    write_opt_root(out, agreed.map(|a| &a.justified.root));
    out.extend_from_slice(b",\"finalized_root\":");
    write_opt_root(out, agreed.map(|a| &a.finalized.root));
    out.extend_from_slice(b",\"first_agreed_ms\":");
    write_opt_i64(out, agreed.map(|a| a.first_agreed_ms));
    out.extend_from_slice(b",\"agreeing_upstreams\":");
    write_usize(out, agreed.map_or(0, |a| a.agreeing()));
    out.extend_from_slice(b",\"responding_upstreams\":");
    write_usize(out, app.round.responding_upstreams);
    out.extend_from_slice(b",\"has_consensus\":");
    write_bool(out, app.round.has_consensus);
    render_bundle_fields(app, out);
    out.push(b'}');
}

/// `bundle_verified`, `bundle_slot`, `block_root`, `state_root` (additive fields).
fn render_bundle_fields(app: &AppState, out: &mut Vec<u8>) {
    let bundle = app.bundle.as_deref();
    out.extend_from_slice(b",\"bundle_verified\":");
    write_bool(out, app.bundle_is_current());
    out.extend_from_slice(b",\"bundle_slot\":");
    write_opt_u64(out, bundle.map(|b| b.checkpoint.slot));
    out.extend_from_slice(b",\"block_root\":");
    write_opt_root(out, bundle.map(|b| &b.block_root));
    out.extend_from_slice(b",\"state_root\":");
    write_opt_root(out, bundle.map(|b| &b.state_root));
}

/// `/api/upstreams`: every upstream's record and the consensus of the last round.
///
/// `consensus.total_upstreams` is the configured count; `agreeing_upstreams` is 0 when
/// the last round had no consensus; `finalized_root` is the agreed one.
pub fn render_upstreams(app: &AppState, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"upstreams\":[");
    write_elements(out, &app.upstreams, |out, record| {
        render_upstream(record, out)
    });
    let agreed = app.agreed.as_ref().filter(|_| app.round.has_consensus);
    out.extend_from_slice(b"],\"consensus\":{\"total_upstreams\":");
    write_usize(out, app.upstreams.len());
    out.extend_from_slice(b",\"responding_upstreams\":");
    write_usize(out, app.round.responding_upstreams);
    out.extend_from_slice(b",\"consensus_threshold\":");
    write_u64(out, CONSENSUS_THRESHOLD);
    out.extend_from_slice(b",\"has_consensus\":");
    write_bool(out, app.round.has_consensus);
    out.extend_from_slice(b",\"agreeing_upstreams\":");
    write_usize(out, agreed.map_or(0, |a| a.agreeing()));
    out.extend_from_slice(b",\"finalized_slot\":");
    write_opt_u64(out, app.agreed.as_ref().map(|a| a.finalized.slot));
    out.extend_from_slice(b",\"finalized_root\":");
    write_opt_root(out, app.agreed.as_ref().map(|a| &a.finalized.root));
    render_bundle_fields(app, out);
    out.extend_from_slice(b"}}");
}

/// One element of `upstreams`.
fn render_upstream(u: &UpstreamRecord, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"name\":");
    write_str(out, &u.spec.name);
    out.extend_from_slice(b",\"url\":");
    write_str(out, &u.spec.url);
    out.extend_from_slice(b",\"path\":");
    write_str(out, &u.spec.path);
    out.extend_from_slice(b",\"healthy\":");
    write_bool(out, u.healthy);
    out.extend_from_slice(b",\"last_success_ms\":");
    write_opt_i64(out, u.last_success_ms);
    out.extend_from_slice(b",\"error_count\":");
    write_u64(out, u.error_count);
    out.extend_from_slice(b",\"last_error\":");
    match &u.last_error {
        // The `Display` of `UpstreamError`: `kind: detail`.
        Some(e) => {
            out.push(b'"');
            write_str_body(out, e.kind.as_str());
            out.extend_from_slice(b": ");
            write_str_body(out, &e.detail);
            out.push(b'"');
        }
        None => json::write_null(out),
    }
    out.extend_from_slice(b",\"last_justified_slot\":");
    write_opt_u64(out, u.last_justified.map(|c| c.slot));
    out.extend_from_slice(b",\"last_finalized_slot\":");
    write_opt_u64(out, u.last_finalized_slot());
    // Additive fields.
    out.extend_from_slice(b",\"last_error_kind\":");
    write_opt_str(out, u.last_error.as_ref().map(|e| e.kind.as_str()));
    out.extend_from_slice(b",\"last_error_ms\":");
    write_opt_i64(out, u.last_error.as_ref().map(|e| e.at_ms));
    out.extend_from_slice(b",\"latency_ms\":");
    write_opt_u64(out, u.last_latency_ms);
    out.extend_from_slice(b",\"in_flight\":");
    write_bool(out, u.in_flight);
    out.extend_from_slice(b",\"head_slot\":");
    write_opt_u64(out, u.head_slot);
    out.extend_from_slice(b",\"last_justified_root\":");
    write_opt_root(out, u.last_justified.as_ref().map(|c| &c.root));
    out.extend_from_slice(b",\"justified_from_endpoint\":");
    write_bool(out, u.justified_from_endpoint);
    out.extend_from_slice(b",\"finalized_root\":");
    write_opt_root(out, u.finalized.as_ref().map(|c| &c.root));
    out.extend_from_slice(b",\"serves_fork_choice\":");
    match u.serves_fork_choice {
        Some(b) => write_bool(out, b),
        None => json::write_null(out),
    }
    out.extend_from_slice(b",\"misconfigured\":");
    write_opt_str(out, u.spec.problem.as_deref());
    out.extend_from_slice(b",\"last_mismatch\":");
    write_opt_str(out, u.last_mismatch.as_ref().map(|e| e.detail.as_str()));
    out.extend_from_slice(b",\"last_mismatch_ms\":");
    write_opt_i64(out, u.last_mismatch.as_ref().map(|e| e.at_ms));
    out.extend_from_slice(b",\"address\":");
    match u.addr {
        // A socket address prints only digits, dots, colons and brackets.
        Some(addr) => {
            out.push(b'"');
            let _ = write!(out, "{addr}");
            out.push(b'"');
        }
        None => json::write_null(out),
    }
    out.extend_from_slice(b",\"errors_by_kind\":{");
    let mut first = true;
    for kind in UpstreamErrorKind::ALL {
        let count = u.errors_by_kind.get(kind.index()).copied().unwrap_or(0);
        if count == 0 {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        write_str(out, kind.as_str());
        out.push(b':');
        write_u64(out, count);
    }
    out.extend_from_slice(b"}}");
}

/// `/api/history`: the agreed checkpoints kept, newest first.
pub fn render_history(app: &AppState, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"history\":[");
    write_elements(out, app.history.iter().rev(), |out, h| {
        out.extend_from_slice(b"{\"justified_slot\":");
        write_u64(out, h.justified.slot);
        out.extend_from_slice(b",\"justified_root\":");
        write_root(out, &h.justified.root);
        out.extend_from_slice(b",\"finalized_slot\":");
        write_u64(out, h.finalized.slot);
        out.extend_from_slice(b",\"finalized_root\":");
        write_root(out, &h.finalized.root);
        out.extend_from_slice(b",\"first_agreed_ms\":");
        write_i64(out, h.first_agreed_ms);
        out.extend_from_slice(b",\"agreeing_upstreams\":");
        write_usize(out, h.agreeing);
        out.extend_from_slice(b",\"responding_upstreams\":");
        write_usize(out, h.responders);
        out.push(b'}');
    });
    out.extend_from_slice(b"]}");
}

/// `/lean/v0/checkpoints/justified`: `{"slot":N,"root":"0x…"}`.
pub fn render_checkpoint(slot: u64, root: &[u8; 32], out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"slot\":");
    write_u64(out, slot);
    out.extend_from_slice(b",\"root\":");
    write_root(out, root);
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_is_exact() {
        let mut out = Vec::new();
        render_checkpoint(12, &[0xab; 32], &mut out);
        let expected = format!("{{\"slot\":12,\"root\":\"0x{}\"}}", "ab".repeat(32));
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn lean_health_bodies_are_valid_json() {
        for (body, status) in [(LEAN_HEALTHY, "healthy"), (LEAN_UNHEALTHY, "unhealthy")] {
            let v: serde_json::Value = serde_json::from_slice(body).unwrap();
            assert_eq!(v["status"], status);
            assert_eq!(v["service"], "lean-rpc-api");
        }
    }
}
