//! The built-in dashboard page served at `/` when no `--static-dir` is given.
