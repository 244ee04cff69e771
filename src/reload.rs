//! SIGHUP: re-read the upstreams file and the `--static-dir` folder. A good file replaces
//! the upstream set at the next round boundary (kept upstreams keep their history and
//! socket); its misconfigured entries are logged and shown, as at start-up; a bad file (a
//! file-level problem) keeps the old set, and the reason is logged. Likewise a folder
//! that loads (within `--static-max-bytes`) replaces the files served, and one that does
//! not keeps the old files, with the reason logged. The `--access-log` file is reopened
//! (after a rotation), or kept when its name cannot be opened. The process stays up
//! either way.

use crate::config::{parse_upstreams_file, Config};
use crate::reactor::ReloadHook;
use crate::server::access_log::AccessLog;
use crate::server::static_files::StaticFiles;
use std::rc::Rc;

/// The reload hook for `config` (None in legacy `--lean-url` mode without a static
/// folder or access log: nothing to reload).
pub fn hook(
    config: &Config,
    static_dir: Option<Rc<StaticFiles>>,
    access_log: Option<Rc<AccessLog>>,
) -> Option<ReloadHook> {
    let file = config.upstreams_config.clone();
    if file.is_none() && static_dir.is_none() && access_log.is_none() {
        return None;
    }
    Some(Box::new(move |core, engine, registry| {
        if let Some(files) = &static_dir {
            reload_static(files);
        }
        if let Some(log) = &access_log {
            core.app.http.access_log_dropped(log.reopen());
        }
        let Some(file) = &file else {
            return;
        };
        let name = file.display().to_string();
        tracing::info!(file = %name, "SIGHUP received: reloading the upstreams file");
        let contents = match std::fs::read_to_string(file) {
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

/// Loads the static folder again; on failure the files served stay as they were.
fn reload_static(files: &StaticFiles) {
    tracing::info!(dir = %files.dir().display(), "SIGHUP received: reloading the static folder");
    if let Err(e) = files.reload() {
        tracing::error!("static reload failed, keeping the current files: {e}");
    }
}
