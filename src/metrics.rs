//! Prometheus text exposition (`text/plain; version=0.0.4`) of the original's six metrics
//! plus per-upstream gauges, fd budget, inbound and upstream socket counts.
