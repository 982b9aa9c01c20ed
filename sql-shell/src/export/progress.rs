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

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// The bar's look: `⠋ exporting 1,234,567 rows  2,345,678 rows/s  1s`.
/// indicatif's own `{per_sec}` renders as `2345678.1234/s` (its unit
/// glued on, and a precision meant for small rates), so the rate is a key
/// of ours: whole rows per second with thousands separators.
fn style() -> ProgressStyle {
    match ProgressStyle::with_template("{spinner} {prefix} {human_pos} rows  {rate}  {elapsed}") {
        Ok(s) => s.with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{} rows/s", thousands(s.per_sec()));
        }),
        Err(_) => ProgressStyle::default_spinner(),
    }
}

/// `1234567.8` → `1,234,568`.
fn thousands(rate: f64) -> String {
    let n = if rate.is_finite() && rate > 0.0 {
        rate.round() as u64
    } else {
        0
    };
    group_thousands(n)
}

/// `1234567` → `1,234,567`: a count with thousands separators, as the
/// progress bars and the shell's `.stats` print them.
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

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
            bar.set_style(style());
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
    fn rate_has_thousands_separators_and_no_fraction() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(1_234_567.8), "1,234,568");
        assert_eq!(thousands(f64::NAN), "0");
        assert_eq!(thousands(f64::INFINITY), "0");
    }

    /// The bar's text, drawn into an in-memory terminal: one "rows/s",
    /// no "/s" glued to the number (the `{per_sec}` glitch).
    /// A terminal that records what is written to it.
    #[derive(Clone, Debug, Default)]
    struct Recorder(std::sync::Arc<std::sync::Mutex<String>>);

    impl indicatif::TermLike for Recorder {
        fn width(&self) -> u16 {
            120
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.write_str(s)
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            self.0.lock().unwrap().push_str(s);
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            self.0.lock().unwrap().clear();
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn bar_text_shows_rows_and_a_clean_rate() {
        let term = Recorder::default();
        let bar = ProgressBar::with_draw_target(
            None,
            ProgressDrawTarget::term_like(Box::new(term.clone())),
        );
        bar.set_style(style());
        bar.set_prefix("exporting");
        bar.set_position(1_234_567);
        bar.tick();
        let text = term.0.lock().unwrap().clone();
        assert!(text.contains("exporting 1,234,567 rows  "), "{text}");
        assert_eq!(text.matches("/s").count(), 1, "{text}");
        assert!(text.contains(" rows/s  "), "{text}");
    }

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
