//! `slt PATH...`: run sqllogictest files or folders and print, per file and
//! in total, the records passed, failed, unsupported and skipped.
//!
//! Options: `-v` prints the first problems of each file; `--baseline FILE`
//! writes the per-file counts as TSV (relative to the corpus root given by
//! `--root DIR`, default the common prefix of the paths).

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use tests::slt::{Report, collect_files, run_file};

fn main() {
    let mut verbose = false;
    let mut baseline: Option<PathBuf> = None;
    let mut root: Option<PathBuf> = None;
    let mut paths = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "-v" => verbose = true,
            "--baseline" => baseline = args.next().map(PathBuf::from),
            "--root" => root = args.next().map(PathBuf::from),
            _ => paths.push(PathBuf::from(a)),
        }
    }
    if paths.is_empty() {
        eprintln!("usage: slt [-v] [--baseline OUT.tsv --root DIR] PATH...");
        std::process::exit(2);
    }
    let mut files = Vec::new();
    for p in &paths {
        match collect_files(p) {
            Ok(f) => files.extend(f),
            Err(e) => {
                eprintln!("{}: {e}", p.display());
                std::process::exit(2);
            }
        }
    }
    let mut total = Report::default();
    let mut rows = Vec::new();
    let stdout = std::io::stdout();
    for f in &files {
        let start = Instant::now();
        let rep = match run_file(f) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{e}");
                total.failed += 1;
                continue;
            }
        };
        let mut out = stdout.lock();
        let _ = writeln!(
            out,
            "{}: passed {}, failed {}, unsupported {}, skipped {} ({:.1}s)",
            f.display(),
            rep.passed,
            rep.failed,
            rep.unsupported,
            rep.skipped,
            start.elapsed().as_secs_f64()
        );
        if verbose {
            for (line, msg) in &rep.problems {
                let _ = writeln!(out, "  line {line}: {msg}");
            }
        }
        total.add(&rep);
        let rel = match &root {
            Some(r) => f.strip_prefix(r).unwrap_or(f).display().to_string(),
            None => f.display().to_string(),
        };
        rows.push(format!(
            "{rel}\t{}\t{}\t{}",
            rep.passed, rep.failed, rep.unsupported
        ));
    }
    let pct = if total.total() == 0 {
        100.0
    } else {
        100.0 * total.passed as f64 / total.total() as f64
    };
    println!(
        "TOTAL: {} files, passed {}, failed {}, unsupported {}, skipped {} ({pct:.2}% of records run passed)",
        files.len(),
        total.passed,
        total.failed,
        total.unsupported,
        total.skipped
    );
    if let Some(b) = baseline {
        let mut text = String::from("# file\tpassed\tfailed\tunsupported\n");
        for r in rows {
            text.push_str(&r);
            text.push('\n');
        }
        if let Err(e) = std::fs::write(&b, text) {
            eprintln!("{}: {e}", b.display());
            std::process::exit(2);
        }
    }
}
