//! HTTP/1.1, free of I/O: response parsing and body framing for the upstream client,
//! request parsing for the public listener, and request/response encoding.

pub mod body;
pub mod chunked;
pub mod date;
pub mod encode;
mod fields;
pub mod request;
pub mod response;
