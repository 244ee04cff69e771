//! SIGHUP: re-reading the upstreams file. Until reloading lands, the hook logs that the
//! signal arrived and keeps the running set.

use crate::config::Config;
use crate::reactor::ReloadHook;

/// The reload hook for `config` (None in legacy `--lean-url` mode).
pub fn hook(config: &Config) -> Option<ReloadHook> {
    let file = config.upstreams_config.clone()?;
    Some(Box::new(move |_core, _engine, _registry| {
        tracing::info!(file = %file.display(), "SIGHUP received: reloading the upstreams file is not implemented yet; keeping the current set");
    }))
}
