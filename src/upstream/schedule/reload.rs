//! A new upstream set (SIGHUP reload), pure: kept upstreams (same name and URL) keep
//! their record; removed ones are dropped; added ones start fresh (an IP literal is its
//! address at once, a name is resolved by the shell). Indices held elsewhere in the
//! application state (the majority's members, the fork-choice source) are remapped, and
//! the timeline follows the new set by name.

use crate::app::{AppState, UpstreamRecord};
use crate::config::UpstreamSpec;
use std::net::{IpAddr, SocketAddr};

/// Replaces `app.upstreams` with `specs`; returns, for each new index, the old index it
/// was kept from (None: added).
pub fn apply(app: &mut AppState, specs: Vec<UpstreamSpec>) -> Vec<Option<usize>> {
    let mut old: Vec<Option<UpstreamRecord>> = std::mem::take(&mut app.upstreams)
        .into_iter()
        .map(Some)
        .collect();
    let mut kept = Vec::with_capacity(specs.len());
    for spec in specs {
        // A misconfigured entry always starts fresh, showing its problem.
        let found = old.iter().position(|r| {
            r.as_ref().is_some_and(|r| {
                spec.is_usable() && r.spec.name == spec.name && r.spec.url == spec.url
            })
        });
        match found.and_then(|i| old[i].take().map(|r| (i, r))) {
            Some((i, mut record)) => {
                record.spec = spec;
                record.in_flight = false;
                app.upstreams.push(record);
                kept.push(Some(i));
            }
            None => {
                let mut record = UpstreamRecord::new(spec);
                if let Ok(ip) = record.spec.target.host.parse::<IpAddr>() {
                    record.addr = Some(SocketAddr::new(ip, record.spec.target.port));
                }
                app.upstreams.push(record);
                kept.push(None);
            }
        }
    }
    let new_index = |old_index: usize| kept.iter().position(|k| *k == Some(old_index));
    if let Some(agreed) = app.agreed.as_mut() {
        agreed.members = agreed
            .members
            .iter()
            .filter_map(|&u| new_index(u))
            .collect();
        agreed.members.sort_unstable();
    }
    app.fork_choice_from = app.fork_choice_from.and_then(new_index);
    // The timeline keeps the history of every upstream whose name stays.
    app.timeline
        .align(app.upstreams.iter().map(|u| u.spec.name.as_str()));
    let n = app.upstreams.len();
    app.round.total_upstreams = n;
    // The last round's view no longer matches the set; the next round restores it.
    app.round.responding_upstreams = app.round.responding_upstreams.min(n);
    app.version += 1;
    tracing::info!(
        kept = kept.iter().filter(|k| k.is_some()).count(),
        added = kept.iter().filter(|k| k.is_none()).count(),
        removed = old.iter().filter(|r| r.is_some()).count(),
        upstreams = n,
        "upstreams reloaded"
    );
    kept
}
