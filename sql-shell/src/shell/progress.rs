//! Feedback while something takes long, and Ctrl-C while it runs.
//!
//! On an interactive terminal:
//!
//! - a statement or command that is still running after
//!   [`BUSY_DELAY`] shows a spinner on stderr with the elapsed time
//!   ([`Busy`]); it disappears before any result is printed;
//! - index builds ([`Progress::rows_bar`]), imports and exports (the
//!   export library's bar) show rows and rows per second under the same
//!   condition;
//! - Ctrl-C sets a flag ([`Interrupt`]). Result printing checks it between
//!   rows and stops; a statement that is still computing cannot be stopped
//!   midway (the SQL layer has no cancellation hook yet): it completes, and
//!   the shell says so. A second Ctrl-C while the flag is still set ends
//!   the shell at once (exit status 130); the statement running then is
//!   not committed (nor is an open transaction).
//!
//! When stderr is not a terminal (pipes, files, tests) nothing is drawn
//! and Ctrl-C keeps its default meaning (end the process).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// How long a statement runs before the spinner appears.
pub const BUSY_DELAY: Duration = Duration::from_millis(400);

/// The Ctrl-C flag; see the [module documentation](self).
#[derive(Clone, Default)]
pub struct Interrupt {
    flag: Arc<AtomicBool>,
}

impl Interrupt {
    /// A flag no signal sets (non-interactive use, tests).
    pub fn new() -> Self {
        Interrupt::default()
    }

    /// A flag set by SIGINT. A SIGINT arriving while it is already set ends
    /// the process with status 130, so a stuck statement can still be left.
    pub fn install() -> std::io::Result<Self> {
        let i = Interrupt::new();
        // The shutdown check is registered first so that it sees the flag
        // as it was before this signal.
        signal_hook::flag::register_conditional_shutdown(
            signal_hook::consts::SIGINT,
            130,
            Arc::clone(&i.flag),
        )?;
        signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&i.flag))?;
        Ok(i)
    }

    /// True once Ctrl-C was pressed since the last [`clear`](Self::clear).
    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }

    /// The flag itself, for work that polls it (the export library's
    /// [`Progress::with_cancel`](sql_shell::export::Progress::with_cancel)).
    pub fn flag(&self) -> &AtomicBool {
        &self.flag
    }

    /// Forget an earlier Ctrl-C (before each statement).
    pub fn clear(&self) {
        self.flag.store(false, Ordering::Relaxed);
    }

    /// Set the flag (as SIGINT does; used by tests).
    #[cfg(test)]
    pub fn set(&self) {
        self.flag.store(true, Ordering::Relaxed);
    }
}

/// Whether progress may be drawn (stderr is an interactive terminal).
#[derive(Clone)]
pub struct Progress {
    enabled: bool,
    interrupt: Interrupt,
}

impl Progress {
    /// Progress display on (`enabled`) or off.
    pub fn new(enabled: bool, interrupt: Interrupt) -> Self {
        Progress { enabled, interrupt }
    }

    /// True when progress may be drawn.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// A spinner that appears if the work is still running after
    /// [`BUSY_DELAY`]; it is removed when the guard is dropped.
    pub fn busy(&self, what: &str) -> Busy {
        if !self.enabled {
            return Busy { done: None };
        }
        let (tx, rx) = mpsc::channel::<()>();
        let what: String = what.chars().take(40).collect();
        let interrupt = self.interrupt.clone();
        let thread = std::thread::spawn(move || {
            match rx.recv_timeout(BUSY_DELAY) {
                Err(RecvTimeoutError::Timeout) => {}
                _ => return,
            }
            let start = Instant::now() - BUSY_DELAY;
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            loop {
                let note = if interrupt.is_set() {
                    " - this statement cannot be interrupted; Ctrl-C again quits without committing it"
                } else {
                    ""
                };
                bar.set_message(format!(
                    "{what} ... {:.1}s{note}",
                    start.elapsed().as_secs_f64()
                ));
                bar.tick();
                match rx.recv_timeout(Duration::from_millis(100)) {
                    Err(RecvTimeoutError::Timeout) => continue,
                    _ => break,
                }
            }
            bar.finish_and_clear();
        });
        Busy {
            done: Some((tx, thread)),
        }
    }
}

impl Progress {
    /// A bar counting rows towards a total (set later with `set_length`),
    /// with rows per second; hidden when progress is off.
    pub fn rows_bar(&self, label: &str) -> ProgressBar {
        if !self.enabled {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} {msg} [{bar:30}] {human_pos}/~{human_len} rows  {rate}  {elapsed}",
        ) {
            bar.set_style(
                style
                    .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{:.0} rows/s", s.per_sec());
                    })
                    .progress_chars("=> "),
            );
        }
        bar.set_message(label.to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    }
}

/// The spinner guard from [`Progress::busy`].
pub struct Busy {
    done: Option<(mpsc::Sender<()>, JoinHandle<()>)>,
}

impl Busy {
    /// Remove the spinner now (before printing results).
    pub fn end(&mut self) {
        if let Some((tx, thread)) = self.done.take() {
            let _ = tx.send(());
            let _ = thread.join();
        }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.end();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disabled_progress_draws_nothing_and_ends_at_once() {
        let p = Progress::new(false, Interrupt::new());
        let mut b = p.busy("SELECT");
        assert!(b.done.is_none());
        b.end();
        assert!(p.rows_bar("indexing t").is_hidden());
    }

    #[test]
    fn interrupt_flag_sets_and_clears() {
        let i = Interrupt::new();
        assert!(!i.is_set());
        i.set();
        assert!(i.clone().is_set());
        i.clear();
        assert!(!i.is_set());
    }
}
