//! SIGHUP: re-read the upstreams file. A good file replaces the upstream set at the next
//! round boundary (kept upstreams keep their history and socket); its misconfigured
//! entries are logged and shown, as at start-up; a bad file (a file-level problem) keeps
//! the old set, and the reason is logged. The process stays up either way.

use crate::config::{parse_upstreams_file, Config};
use crate::reactor::ReloadHook;

/// The reload hook for `config` (None in legacy `--lean-url` mode).
pub fn hook(config: &Config) -> Option<ReloadHook> {
    let file = config.upstreams_config.clone()?;
    Some(Box::new(move |core, engine, registry| {
        let name = file.display().to_string();
        tracing::info!(file = %name, "SIGHUP received: reloading the upstreams file");
        let contents = match std::fs::read_to_string(&file) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(file = %name, "reload failed, keeping the current upstreams: cannot read: {e}");
                return;
            }
        };
        match parse_upstreams_file(&name, &contents) {
            Ok(specs) => {
                crate::config::log_misconfigured(&name, &specs);
                engine.reload(core, registry, specs)
            }
            Err(e) => {
                tracing::error!(file = %name, "reload failed, keeping the current upstreams: {e}")
            }
        }
    }))
}
