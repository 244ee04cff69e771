//! JSON rendering of `/status`, `/api/upstreams`, `/api/history`, and the lean-compatible
//! `/lean/v0/checkpoints/justified` and `/lean/v0/health`, pure and allocation-light.

use crate::app::AppState;

/// `/status`: the exact contract object (plus additive fields).
pub fn render_status(app: &AppState, now_ms: i64, out: &mut Vec<u8>) {
    let _ = (app, now_ms, out);
    todo!()
}
