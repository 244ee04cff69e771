//! Applying a new upstream set (SIGHUP reload) at a round boundary: kept upstreams (same
//! name and URL) keep their record, history and idle socket; removed ones have their
//! socket closed and their record dropped; added ones start fresh, resolved off the loop.

use super::engine::{close_socket, Engine};
use crate::app::UpstreamRecord;
use crate::config::UpstreamSpec;
use crate::reactor::core::Core;
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};

/// What a reload changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReloadSummary {
    pub kept: usize,
    pub added: usize,
    pub removed: usize,
}

impl Engine {
    /// Replaces the upstream set now, or when the round in progress ends.
    pub fn reload(&mut self, core: &mut Core, specs: Vec<UpstreamSpec>) {
        if self.round.is_some() {
            tracing::info!("reload deferred to the end of the round in progress");
            self.pending_reload = Some(specs);
        } else {
            self.apply_reload(core, specs);
        }
    }

    /// Applies a new set; no job may be in progress.
    pub(super) fn apply_reload(
        &mut self,
        core: &mut Core,
        specs: Vec<UpstreamSpec>,
    ) -> ReloadSummary {
        debug_assert!(self.round.is_none() && self.waiting.is_empty());
        let mut old_records: Vec<Option<UpstreamRecord>> = std::mem::take(&mut core.app.upstreams)
            .into_iter()
            .map(Some)
            .collect();
        let mut old_conns: Vec<Option<mio::Token>> = std::mem::take(&mut self.conns);
        let old_errors = std::mem::take(&mut self.resolve_error);
        let n = specs.len();
        let mut summary = ReloadSummary::default();
        let mut records = Vec::with_capacity(n);
        let mut conns = Vec::with_capacity(n);
        let mut resolve_error = Vec::with_capacity(n);
        let mut to_resolve = Vec::new();
        for (new_index, spec) in specs.into_iter().enumerate() {
            let kept = old_records.iter().position(|r| {
                r.as_ref()
                    .is_some_and(|r| r.spec.name == spec.name && r.spec.url == spec.url)
            });
            match kept.and_then(|i| old_records[i].take().map(|r| (i, r))) {
                Some((old_index, mut record)) => {
                    summary.kept += 1;
                    record.spec = spec;
                    let token = old_conns[old_index].take();
                    if let Some(conn) = token.and_then(|t| core.sockets.upstream_mut(t)) {
                        conn.upstream = new_index;
                    }
                    conns.push(token);
                    resolve_error.push(old_errors.get(old_index).cloned().flatten());
                    if record.addr.is_none() {
                        to_resolve.push(new_index);
                    }
                    records.push(record);
                }
                None => {
                    summary.added += 1;
                    let mut record = UpstreamRecord::new(spec);
                    if let Ok(ip) = record.spec.target.host.parse::<IpAddr>() {
                        record.addr = Some(SocketAddr::new(ip, record.spec.target.port));
                    } else {
                        to_resolve.push(new_index);
                    }
                    records.push(record);
                    conns.push(None);
                    resolve_error.push(None);
                }
            }
        }
        // Close what was removed.
        for token in old_conns.into_iter().flatten() {
            close_socket(core, token);
        }
        summary.removed = old_records.iter().filter(|r| r.is_some()).count();
        core.app.upstreams = records;
        core.app.round.total_upstreams = n;
        // The last round's view no longer matches the set; the next round restores it.
        core.app.round.responding_upstreams = core.app.round.responding_upstreams.min(n);
        if n > self.cfg.pool {
            tracing::warn!(
                upstreams = n,
                sockets = self.cfg.pool,
                "more upstreams than the upstream socket pool sized at start-up: they take turns within each round; restart to resize the pool"
            );
        }
        core.app.version += 1;
        self.conns = conns;
        self.resolve_error = resolve_error;
        self.resolve_pending = vec![false; n];
        self.jobs = (0..n).map(|_| None).collect();
        self.idle = (0..n)
            .filter(|&u| self.conns[u].is_some())
            .collect::<VecDeque<_>>();
        core.app.counters.upstream_sockets_open = core.sockets.upstream_count();
        for u in to_resolve {
            self.request_resolve(core, u);
        }
        tracing::info!(
            kept = summary.kept,
            added = summary.added,
            removed = summary.removed,
            upstreams = n,
            "upstreams reloaded"
        );
        summary
    }
}
