//! How long a campaign runs: a short CI default, a long-run default, and an
//! environment variable to set it exactly.
//!
//! ```text
//!   RELIABILITY_LONG=1              every campaign uses its long-run size
//!   RELIABILITY_<NAME>=N            this knob exactly (wins over LONG)
//!   RELIABILITY_SEED=S              replay a seed printed by a failure
//! ```
//!
//! The CI sizes are chosen so that `cargo test --workspace` stays within a
//! few minutes on two cores; the long-run sizes are what `docs/RELIABILITY.md`
//! records.

/// True when `RELIABILITY_LONG` asks for the long run.
pub fn long_run() -> bool {
    std::env::var("RELIABILITY_LONG").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The knob `RELIABILITY_<name>` if set, else `long` in a long run, else `ci`.
pub fn knob(name: &str, ci: u64, long: u64) -> u64 {
    let var = format!("RELIABILITY_{name}");
    if let Some(v) = std::env::var(&var).ok().and_then(|v| v.trim().parse().ok()) {
        return v;
    }
    if long_run() { long } else { ci }
}

/// Print a campaign's figures in one greppable line (`FIGURES <campaign>:
/// key=value ...`), the form `docs/RELIABILITY.md` quotes.
pub fn report(campaign: &str, figures: &[(&str, String)]) {
    let body: Vec<String> = figures.iter().map(|(k, v)| format!("{k}={v}")).collect();
    eprintln!("FIGURES {campaign}: {}", body.join(" "));
}
