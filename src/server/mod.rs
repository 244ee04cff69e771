//! The public listener (and the optional admin listener): pure routing and rendering of
//! every endpoint, the pure admission policy at the inbound cap, and the socket shell of
//! inbound connections.

pub mod accept;
pub mod access_log;
pub mod admin;
pub mod admission;
pub mod bind;
pub mod conn;
pub mod dashboard;
pub mod exchange;
pub mod listener;
pub mod observe;
pub mod pairing;
pub mod render;
pub mod route_label;
pub mod router;
pub mod static_files;
