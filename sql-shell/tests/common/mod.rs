//! Helpers for the shell's end-to-end tests: run the built `sql-shell`
//! binary with a private HOME (so the default database and the history
//! file never touch the real ones) and capture what it prints.

#![allow(dead_code)] // each test file uses its own subset

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sql-shell"))
}

/// A command for the binary with HOME, XDG dirs and history pointed into
/// `home`.
pub fn command(home: &Path) -> Command {
    let mut c = Command::new(bin());
    c.env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env_remove("HIVE_DB")
        .env_remove("HIVE_HISTORY")
        .env("NO_COLOR", "1");
    c
}

/// What one run printed.
#[derive(Debug)]
pub struct Run {
    /// Exit status (-1 when killed by a signal).
    pub status: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Run {
        Run {
            status: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Panic with everything printed unless the run succeeded quietly.
    pub fn ok(self) -> Run {
        assert!(
            self.status == 0 && self.stderr.is_empty(),
            "expected success, got {self:#?}"
        );
        self
    }
}

/// Run the binary with `args` and `stdin` (closed after writing).
pub fn run_in(home: &Path, args: &[&str], stdin: &str) -> Run {
    let mut child = command(home)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sql-shell");
    let mut input = child.stdin.take().unwrap();
    let text = stdin.to_string();
    // Written from a thread so a large script cannot deadlock against a
    // full stdout pipe.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(text.as_bytes());
    });
    let out = child.wait_with_output().expect("wait for sql-shell");
    writer.join().unwrap();
    Run::from(out)
}

/// A temporary home directory plus a database path inside it.
pub struct Env {
    /// The directory (removed when dropped).
    pub dir: tempfile::TempDir,
}

impl Env {
    /// A fresh environment.
    pub fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The home directory.
    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    /// A database path (not yet created) named `name`.
    pub fn db(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// Run the binary in this environment.
    pub fn run(&self, args: &[&str], stdin: &str) -> Run {
        run_in(self.home(), args, stdin)
    }
}
