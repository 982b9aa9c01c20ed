//! # The `sql-shell` binary
//!
//! A shell in the manner of sqlite3 and psql over the [`sql_shell`]
//! library: it opens a database, reads statements from the terminal, a
//! pipe, a file or the command line, runs them through
//! [`Session::execute`] and prints the results.
//!
//! ```text
//!   main ─► args ─► open Session (PATH | :memory: | default path)
//!                        │
//!        ┌───────────────┼──────────────────────────┐
//!   -c / -f / SQL args   stdin is a terminal         stdin is a pipe/file
//!   ReaderSource          repl::Terminal (rustyline)  ReaderSource
//!        └───────────────┴─────────────┬────────────┘
//!                                      ▼
//!              runner::Shell::run_source (one loop for every input)
//!                input::Accumulator ─► statements ─► format::* ─► stdout
//!                meta (.tables, .schema, ...)        diagnostic ─► stderr
//! ```
//!
//! Modules: [`args`] (command line), [`paths`] (default database and
//! history file), [`settings`] (output mode and switches), [`input`]
//! (line sources, statement accumulation), [`runner`] (the loop, statement
//! execution, error policy), [`meta`] (dot commands), [`schema`] (catalog
//! as SQL), [`format`] (table, csv, json, jsonl, line), [`diagnostic`]
//! (error rendering), [`progress`] (spinner, progress bars, Ctrl-C),
//! [`repl`] (line editing, history, completion), [`transfer`] (`.export`,
//! `.import`).

pub mod args;
pub mod diagnostic;
pub mod format;
pub mod input;
pub mod meta;
pub mod paths;
pub mod progress;
pub mod repl;
pub mod runner;
pub mod schema;
pub mod settings;
pub mod stats;
#[cfg(test)]
pub mod testing;
pub mod transfer;

use std::io::{BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use sql_shell::Session;

use args::{Action, Args, Parsed};
use input::ReaderSource;
use progress::{Interrupt, Progress};
use runner::{Shell, Stop};

/// Exit status when a statement or command failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit status for a bad command line.
pub const EXIT_USAGE: u8 = 2;
/// Exit status when the database could not be opened.
pub const EXIT_OPEN: u8 = 3;
/// Exit status when stdout was closed by its reader (as a process killed
/// by SIGPIPE reports it in a shell).
pub const EXIT_BROKEN_PIPE: u8 = 141;

/// Write to stdout, ignoring a closed stdout (`println!` would panic).
fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Write a line to stderr, ignoring a closed stderr (`eprintln!` would
/// panic).
fn say_err(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Run the shell with the process's arguments; the exit status.
pub fn main() -> ExitCode {
    let mut raw = Vec::new();
    for a in std::env::args_os().skip(1) {
        match a.into_string() {
            Ok(s) => raw.push(s),
            Err(bad) => {
                say_err(&format!(
                    "sql-shell: the argument {bad:?} is not valid UTF-8"
                ));
                return ExitCode::from(EXIT_USAGE);
            }
        }
    }
    let args = match args::parse(raw) {
        Ok(Parsed::Run(a)) => *a,
        Ok(Parsed::Help) => {
            say(args::USAGE);
            return ExitCode::SUCCESS;
        }
        Ok(Parsed::Version) => {
            say(&format!("sql-shell {}\n", env!("CARGO_PKG_VERSION")));
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            say_err(&format!("sql-shell: {msg}"));
            return ExitCode::from(EXIT_USAGE);
        }
    };
    run(args)
}

/// Open the database named on the command line (or the default one).
fn open(path: Option<&Path>) -> Result<(Session, String), (u8, String)> {
    let path: PathBuf = match path {
        Some(p) => p.to_path_buf(),
        None => {
            let p = paths::default_database().map_err(|m| (EXIT_USAGE, m))?;
            if let Some(dir) = p.parent() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    (
                        EXIT_OPEN,
                        format!(
                            "cannot create the directory {} for the default database: {e}",
                            dir.display()
                        ),
                    )
                })?;
            }
            p
        }
    };
    let label = path.display().to_string();
    match Session::open(Some(&path)) {
        Ok(s) => Ok((s, label)),
        Err(e) => Err((
            EXIT_OPEN,
            format!("cannot open database {label}: {}", diagnostic::message(&e)),
        )),
    }
}

fn run(args: Args) -> ExitCode {
    let interactive =
        args.actions.is_empty() && (args.interactive || std::io::stdin().is_terminal());
    let (session, label) = match open(args.path.as_deref()) {
        Ok(s) => s,
        Err((code, msg)) => {
            say_err(&format!("Error: {msg}"));
            return ExitCode::from(code);
        }
    };
    let interrupt = if interactive {
        // Without the handler Ctrl-C still ends the shell: worse, not wrong.
        Interrupt::install().unwrap_or_default()
    } else {
        Interrupt::new()
    };
    let progress = Progress::new(
        interactive && std::io::stderr().is_terminal(),
        interrupt.clone(),
    );
    let out = Box::new(std::io::BufWriter::with_capacity(
        64 * 1024,
        std::io::stdout(),
    ));
    let err = Box::new(std::io::stderr());
    let quiet = args.settings.quiet;
    let mut shell = Shell::new(
        session,
        label.clone(),
        args.settings,
        out,
        err,
        interrupt,
        progress,
    );

    if !args.actions.is_empty() {
        for action in &args.actions {
            if shell.stopped().is_some() {
                break;
            }
            match action {
                Action::Command(text) => {
                    let mut src = ReaderSource::new("-c", text.as_bytes());
                    shell.run_source(&mut src, "-c", false);
                }
                Action::File(p) if p.as_os_str() == "-" => {
                    let mut src = ReaderSource::new("stdin", std::io::stdin().lock());
                    shell.run_source(&mut src, "stdin", false);
                }
                Action::File(p) => {
                    let name = p.display().to_string();
                    match std::fs::File::open(p) {
                        Ok(f) => {
                            let mut src = ReaderSource::new(name.clone(), BufReader::new(f));
                            shell.run_source(&mut src, &name, false);
                        }
                        Err(e) => shell.fail_plain(&format!("cannot open {name}: {e}")),
                    }
                }
            }
        }
    } else if interactive {
        let history = if args.no_history {
            None
        } else {
            paths::history_file()
        };
        match repl::Terminal::new(history) {
            Ok((mut term, warning)) => {
                if let Some(w) = warning {
                    say_err(&w);
                }
                if !quiet {
                    say(&format!(
                        "sql-shell {} on {label}\nEnter .help for help. End statements with ';'. Ctrl-D quits.\n",
                        env!("CARGO_PKG_VERSION")
                    ));
                }
                shell.interactive = true;
                shell.run_source(&mut term, "input", true);
            }
            Err(msg) => {
                say_err(&format!("Error: {msg}"));
                shell.close();
                return ExitCode::from(EXIT_FAILED);
            }
        }
    } else {
        let mut src = ReaderSource::new("stdin", std::io::stdin().lock());
        shell.run_source(&mut src, "stdin", false);
    }

    let closed = shell.close();
    let code = match shell.stopped() {
        Some(Stop::Quit(c)) => u8::try_from(*c).unwrap_or(EXIT_FAILED),
        Some(Stop::BrokenPipe) => EXIT_BROKEN_PIPE,
        Some(Stop::Output(e)) => {
            let _ = writeln!(std::io::stderr(), "Error: writing the output: {e}");
            EXIT_FAILED
        }
        Some(Stop::Bail) | None => {
            if shell.failures() > 0 && !interactive {
                EXIT_FAILED
            } else {
                0
            }
        }
    };
    if !closed && code == 0 {
        return ExitCode::from(EXIT_FAILED);
    }
    ExitCode::from(code)
}
