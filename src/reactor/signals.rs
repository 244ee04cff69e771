//! SIGTERM, SIGINT and SIGHUP through a non-blocking signalfd registered with mio: no
//! signal handler does work; the loop reads the signals like any other event.

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};
use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use std::os::fd::AsRawFd;

/// What a signal asks the loop to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalAction {
    Stop,
    Reload,
}

/// The signalfd.
pub struct Signals {
    fd: SignalFd,
}

impl Signals {
    /// Blocks the three signals for this thread (call before spawning threads so they
    /// inherit the mask) and opens the signalfd.
    pub fn new() -> nix::Result<Self> {
        let mut set = SigSet::empty();
        set.add(Signal::SIGTERM);
        set.add(Signal::SIGINT);
        set.add(Signal::SIGHUP);
        nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), None)?;
        let fd = SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)?;
        Ok(Signals { fd })
    }

    pub fn register(&self, registry: &Registry, token: Token) -> std::io::Result<()> {
        registry.register(
            &mut SourceFd(&self.fd.as_raw_fd()),
            token,
            Interest::READABLE,
        )
    }

    /// Drains pending signals; returns the strongest action asked for.
    pub fn drain(&mut self) -> Option<SignalAction> {
        let mut action = None;
        while let Ok(Some(info)) = self.fd.read_signal() {
            match Signal::try_from(info.ssi_signo as i32) {
                Ok(Signal::SIGTERM) | Ok(Signal::SIGINT) => action = Some(SignalAction::Stop),
                Ok(Signal::SIGHUP) if action.is_none() => action = Some(SignalAction::Reload),
                _ => {}
            }
        }
        action
    }
}
