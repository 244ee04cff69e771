//! SIGHUP: re-read the upstreams file and the `--static-dir` folder. A good file replaces
//! the upstream set at the next round boundary (kept upstreams keep their history and
//! socket); its misconfigured entries are logged and shown, as at start-up; a bad file (a
//! file-level problem) keeps the old set, and the reason is logged. Likewise a folder
//! that loads (within `--static-max-bytes`) replaces the files served, and one that does
//! not keeps the old files, with the reason logged. The `--access-log` file is reopened
//! (after a rotation), or kept when its name cannot be opened. The process stays up
//! either way.

use crate::app::AppState;
use crate::config::{parse_upstreams_file, Config, UpstreamSpec};
use crate::server::access_log::AccessLog;
use crate::server::static_files::StaticFiles;
use std::path::PathBuf;
use std::rc::Rc;

/// What SIGHUP re-reads.
pub struct Reloader {
    file: Option<PathBuf>,
    static_dir: Option<Rc<StaticFiles>>,
    access_log: Option<Rc<AccessLog>>,
}

impl Reloader {
    /// The reloader for `config` (None in legacy `--lean-url` mode without a static
    /// folder or access log: nothing to reload).
    pub fn new(
        config: &Config,
        static_dir: Option<Rc<StaticFiles>>,
        access_log: Option<Rc<AccessLog>>,
    ) -> Option<Reloader> {
        let file = config.upstreams_config.clone();
        if file.is_none() && static_dir.is_none() && access_log.is_none() {
            return None;
        }
        Some(Reloader {
            file,
            static_dir,
            access_log,
        })
    }

    /// Reloads the static folder, reopens the access log (lines lost on the way are
    /// counted in `app`), and reads the upstreams file: the new upstream set to apply,
    /// or None when there is no file or it cannot be used (logged).
    pub fn reload(&self, app: &AppState) -> Option<Vec<UpstreamSpec>> {
        if let Some(files) = &self.static_dir {
            reload_static(files);
        }
        if let Some(log) = &self.access_log {
            app.http.access_log_dropped(log.reopen());
        }
        let file = self.file.as_ref()?;
        let name = file.display().to_string();
        tracing::info!(file = %name, "SIGHUP received: reloading the upstreams file");
        let contents = match std::fs::read_to_string(file) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(file = %name, "reload failed, keeping the current upstreams: cannot read: {e}");
                return None;
            }
        };
        match parse_upstreams_file(&name, &contents) {
            Ok(specs) => {
                crate::config::log_misconfigured(&name, &specs);
                Some(specs)
            }
            Err(e) => {
                tracing::error!(file = %name, "reload failed, keeping the current upstreams: {e}");
                None
            }
        }
    }
}

/// Loads the static folder again; on failure the files served stay as they were.
fn reload_static(files: &StaticFiles) {
    tracing::info!(dir = %files.dir().display(), "SIGHUP received: reloading the static folder");
    if let Err(e) = files.reload() {
        tracing::error!("static reload failed, keeping the current files: {e}");
    }
}
