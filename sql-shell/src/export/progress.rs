//! Progress of a long export or import: a callback with the rows done, and
//! optionally an indicatif bar (rows, rows per second, elapsed time) on
//! stderr.
//!
//! The bar is drawn only when asked for *and* stderr is a terminal, so
//! piped or scripted runs print nothing. It is updated once per batch, not
//! per row, to keep its cost out of the export's inner loop.
//!
//! A cancel flag (the shell's Ctrl-C) is checked at the same points: an
//! export then stops with [`ExportError::Interrupted`](super::ExportError)
//! and leaves no file; a load stops and commits nothing (in batch mode the
//! batches already committed stay).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Reports rows done to a callback and, when enabled, a progress bar.
pub struct Progress<'a> {
    bar: Option<ProgressBar>,
    callback: Option<&'a mut dyn FnMut(u64)>,
    cancel: Option<&'a AtomicBool>,
}

impl<'a> Progress<'a> {
    /// No bar, no callback.
    pub fn none() -> Progress<'a> {
        Progress {
            bar: None,
            callback: None,
            cancel: None,
        }
    }

    /// A bar labelled `label` (`"exporting"`) when `show` is true and stderr
    /// is a terminal; otherwise nothing is drawn.
    pub fn bar(show: bool, label: &'static str) -> Progress<'a> {
        let bar = (show && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(4));
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} {prefix} {human_pos} rows  {per_sec:.0} rows/s  {elapsed}",
            ) {
                bar.set_style(style);
            }
            bar.set_prefix(label);
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        Progress {
            bar,
            callback: None,
            cancel: None,
        }
    }

    /// Also call `f` with the number of rows done after each batch.
    pub fn with_callback(mut self, f: &'a mut dyn FnMut(u64)) -> Progress<'a> {
        self.callback = Some(f);
        self
    }

    /// Stop the work (at the next batch) once `flag` is set.
    pub fn with_cancel(mut self, flag: &'a AtomicBool) -> Progress<'a> {
        self.cancel = Some(flag);
        self
    }

    /// True once the cancel flag is set.
    pub fn cancelled(&self) -> bool {
        self.cancel.is_some_and(|f| f.load(Ordering::Relaxed))
    }

    /// Report `rows` done so far.
    pub fn update(&mut self, rows: u64) {
        if let Some(b) = &self.bar {
            b.set_position(rows);
        }
        if let Some(f) = self.callback.as_mut() {
            f(rows);
        }
    }

    /// Remove the bar (the caller prints its own summary line).
    pub fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

impl Drop for Progress<'_> {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_sees_updates_and_no_bar_off_terminal() {
        let mut seen = Vec::new();
        let mut f = |n| seen.push(n);
        {
            // Tests run with stderr captured or piped: no bar even if asked.
            let mut p = Progress::bar(!std::io::stderr().is_terminal(), "x").with_callback(&mut f);
            assert!(p.bar.is_none());
            p.update(10);
            p.update(20);
        }
        assert_eq!(seen, [10, 20]);
    }
}
