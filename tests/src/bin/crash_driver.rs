//! `crash_driver DIR SEED [--buffered] [--write-buffer BYTES] [--max N]`:
//! the child process of the end-to-end crash campaign
//! (`tests/tests/reliability_crash.rs`).
//!
//! It opens the database in DIR on the engine (recovering from whatever
//! crash came before), checks that it holds exactly the ledger workload's
//! model after its last commit, then runs the workload's next commits
//! through a SQL session, printing one line per event on stdout:
//!
//! ```text
//!   recovered <c>    open and verification done; commit c is the last present
//!   ack <i>          commit i was acknowledged (COMMIT returned Ok)
//!   done <i>         --max reached
//!   error <msg>      verification or the workload failed (exit status 1)
//! ```
//!
//! Commits are `sync` unless `--buffered` (buffered commits survive a
//! killed process too; only a power cut may lose them). The parent kills
//! this process with SIGKILL at random moments and checks every restart.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use sql_shell::Session;
use tests::reliability::stack::{open_database, small_options};
use tests::reliability::workload::{self, Model, RunError};

struct Args {
    dir: PathBuf,
    seed: u64,
    sync: bool,
    write_buffer: usize,
    max: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let usage = "usage: crash_driver DIR SEED [--buffered] [--write-buffer BYTES] [--max N]";
    let dir = it.next().ok_or(usage)?.into();
    let seed = it
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or("SEED must be a number")?;
    let mut a = Args {
        dir,
        seed,
        sync: true,
        write_buffer: 64 * 1024,
        max: u64::MAX,
    };
    while let Some(flag) = it.next() {
        let mut num = |name: &str| {
            it.next()
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or(format!("{name} needs a number"))
        };
        match flag.as_str() {
            "--buffered" => a.sync = false,
            "--write-buffer" => a.write_buffer = num("--write-buffer")? as usize,
            "--max" => a.max = num("--max")?,
            other => return Err(format!("unknown argument {other}; {usage}")),
        }
    }
    Ok(a)
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    // If the parent has gone, there is no one left to tell.
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn run(a: &Args) -> Result<(), String> {
    let db = open_database(&a.dir, small_options(a.write_buffer), a.sync)?;
    let mut session = Session::new(db);
    let mut model = Model::new(a.seed);
    let last = workload::verify(&mut session, &mut model)?;
    workload::create_schema(&mut session).map_err(|e| format!("schema: {e}"))?;
    say(&format!("recovered {last}"));
    while model.last < a.max {
        let plan = model.plan();
        match workload::run_plan(&mut session, &plan) {
            Ok(()) => say(&format!("ack {}", plan.id)),
            Err(RunError::Mismatch(m)) => return Err(m),
            Err(RunError::Storage(e)) => return Err(format!("commit {}: {e}", plan.id)),
        }
    }
    say(&format!("done {}", model.last));
    Ok(())
}

fn main() -> ExitCode {
    let result = parse_args().and_then(|a| run(&a));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(m) => {
            say(&format!("error {}", m.replace('\n', " ")));
            ExitCode::FAILURE
        }
    }
}
