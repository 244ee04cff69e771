//! Deadlines: the pure hierarchical timer wheel, the slot that holds one armed timer,
//! and the monotonic clock that feeds the wheel.

pub mod clock;
pub mod slot;
pub mod wheel;

pub use clock::Clock;
pub use slot::TimerSlot;
pub use wheel::{TimerHandle, TimerWheel};
