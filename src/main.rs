//! The `leanpoint` binary: parse the configuration, compute the fd budget, run the loop.

fn main() {}
