//! Per-session controls every running statement checks: an interrupt flag
//! (Ctrl-C), a progress hook, and the memory budget of the operators that
//! hold rows (sort, aggregation, hash join, DISTINCT, ...).
//!
//! Scans and the loops that make rows without reading any (nested-loop
//! joins over a held right side) call [`Control::tick`] once per row: a
//! counter increment and a relaxed atomic load, so the check costs nothing
//! measurable; every `progress_every` rows the hook runs.
//!
//! ```text
//!   Session ── Control { interrupt: Arc<AtomicBool>, progress hook, budget }
//!                 ▲ &Control in every statement's Env
//!     ScanOp::next_row ── tick() ── interrupted? ─► SqlError::Interrupted
//!                                  └ every N rows ─► hook(rows) ─ false ─► Interrupted
//! ```

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Result, SqlError};

/// Memory budget of the row-holding operators by default: 256 MiB.
pub const DEFAULT_MEMORY_BUDGET: usize = 256 << 20;

/// A progress hook: called with the number of rows the statement has
/// processed so far; returning `false` interrupts the statement.
pub type ProgressHook = Box<dyn FnMut(u64) -> bool + Send>;

/// The controls of a session; see the [module documentation](self).
pub struct Control {
    /// Set (from any thread, e.g. a Ctrl-C handler) to stop the running
    /// statement.
    pub interrupt: Arc<AtomicBool>,
    /// Rows between two calls of the progress hook.
    pub progress_every: u64,
    /// The progress hook.
    pub progress: RefCell<Option<ProgressHook>>,
    /// Bytes a sort, aggregation, hash join, DISTINCT or set operation may
    /// hold before it spills (sort) or fails with a clear error.
    pub memory_budget: usize,
    rows: Cell<u64>,
}

impl Default for Control {
    fn default() -> Self {
        Control {
            interrupt: Arc::new(AtomicBool::new(false)),
            progress_every: 0,
            progress: RefCell::new(None),
            memory_budget: DEFAULT_MEMORY_BUDGET,
            rows: Cell::new(0),
        }
    }
}

impl Control {
    /// Start of a statement: the row counter and the flag go back to zero
    /// (a Ctrl-C pressed between statements does not stop the next one).
    pub fn start(&self) {
        self.rows.set(0);
        self.interrupt.store(false, Ordering::Relaxed);
    }

    /// Rows counted since the statement started.
    pub fn rows(&self) -> u64 {
        self.rows.get()
    }

    /// Count one row; see the [module documentation](self).
    #[inline]
    pub fn tick(&self) -> Result<()> {
        let n = self.rows.get() + 1;
        self.rows.set(n);
        if self.interrupt.load(Ordering::Relaxed) {
            return Err(SqlError::Interrupted);
        }
        if self.progress_every > 0 && n % self.progress_every == 0 {
            // A hook that re-enters (it cannot: it gets no session) would
            // find the cell borrowed; it is then skipped, not a panic.
            if let Ok(mut hook) = self.progress.try_borrow_mut() {
                if let Some(h) = hook.as_mut() {
                    if !h(n) {
                        return Err(SqlError::Interrupted);
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_and_the_hook_stop_a_statement() {
        let c = Control::default();
        assert!(c.tick().is_ok());
        c.interrupt.store(true, Ordering::Relaxed);
        assert_eq!(c.tick(), Err(SqlError::Interrupted));
        c.start();
        assert_eq!(c.rows(), 0);
        let c = Control {
            progress_every: 10,
            progress: RefCell::new(Some(Box::new(|n| n < 30))),
            ..Control::default()
        };
        let mut ok = 0;
        while c.tick().is_ok() {
            ok += 1;
        }
        assert_eq!(ok, 29);
    }
}
