//! The public listener: pure routing and rendering of every endpoint, and the socket
//! shell of inbound connections.

pub mod conn;
pub mod dashboard;
pub mod listener;
pub mod pairing;
pub mod render;
pub mod router;
pub mod static_files;
