//! Deadlines: the pure hierarchical timer wheel and the monotonic clock that feeds it.

pub mod clock;
pub mod wheel;

pub use clock::Clock;
pub use wheel::{TimerHandle, TimerWheel};
