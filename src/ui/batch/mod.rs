//! Batches: preflight plan, run, live progress and a result for every pair.

pub mod plan;
pub mod result;
