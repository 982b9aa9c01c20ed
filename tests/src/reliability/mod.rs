//! Reliability campaigns across the whole stack (issue 8): shared helpers.
//!
//! Each campaign is one integration test file, `tests/tests/reliability_*.rs`,
//! with a short CI size and a long-run size (see [`knobs`]); the figures of
//! the long runs are in `docs/RELIABILITY.md`.
//!
//! ```text
//!   campaign            file                         drives
//!   end-to-end crash    reliability_crash.rs         crash_driver binary, SIGKILL
//!   power loss          reliability_power_loss.rs    FaultFs::crash mid-workload
//!   disk faults         reliability_disk_faults.rs   FaultFs ENOSPC / EIO
//!   corruption          reliability_corruption.rs    flipped bits, truncations
//!   concurrency         reliability_concurrency.rs   threads x sessions, transfers
//!   bad input           reliability_bad_input.rs     tests/reliability/bad_inputs.txt
//!   resource bounds     reliability_resources.rs     memory_probe binary, RSS
//!   fuzzing             fuzz/ (cargo-fuzz, its own workspace)
//! ```
//!
//! The helpers: [`rng`] (seeded choices, replayable), [`knobs`] (sizes from
//! the environment), [`workload`] (the ledger workload and its model, the
//! heart of the crash, power-loss, fault and corruption campaigns),
//! [`stack`] (opening engine + table layer + session), [`digest`] (a
//! checksum of everything a database holds, for "unchanged" checks).

pub mod digest;
pub mod knobs;
pub mod rng;
pub mod stack;
pub mod workload;
