//! The `relais` binary as a library: configuration, application assembly and the CLI, so that
//! tests build exactly what `relais serve` runs.

pub mod app;
pub mod bench_crisis;
pub mod cli;
pub mod config;
pub mod sentiment_cli;
