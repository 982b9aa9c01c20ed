//! The command line. Hand-parsed: a dozen options do not need a parser
//! crate, and the help text below is the documentation.

use std::path::PathBuf;

use super::settings::{Mode, Settings};

/// `sql-shell --help`.
pub const USAGE: &str = "\
sql-shell: SQL over the hive storage engine

Usage: sql-shell [OPTIONS] [PATH] [SQL]...

PATH is the database: a directory, created when missing, or :memory: for a
throwaway in-memory database. Without PATH the shell opens the default
database, $HIVE_DB if set, else $XDG_DATA_HOME/hive/default.db (by default
~/.local/share/hive/default.db). SQL arguments after PATH run like -c.

With -c, -f or SQL arguments the shell runs them and exits. Otherwise it
reads statements from stdin: an interactive prompt on a terminal, a script
from a pipe or file.

Options:
  -c, --command TEXT   run TEXT (statements and meta commands); repeatable
  -f, --file FILE      run the script FILE (- for stdin); repeatable
      --format MODE    output mode: table (default), csv, json, jsonl, line
      --table, --csv, --json, --jsonl, --line
                       shorthands for --format MODE
      --header         print column names (default)
      --no-header      leave column names (and the table's row count) out
      --null TEXT      show NULL as TEXT (default NULL; empty in csv)
      --bail           stop at the first failing statement (default: report
                       it, go on, and exit with status 1 at the end)
      --timer          print each statement's elapsed time
      --echo           print each statement before running it
  -q, --quiet          no banner, command tags (INSERT 3) or notes
  -i, --interactive    run the prompt even when stdin is not a terminal
      --no-history     do not read or write the history file
  -h, --help           print this help
  -V, --version        print the version

Exit status: 0 when everything succeeded, 1 when a statement or command
failed, 2 for a bad command line, 3 when the database could not be opened
(for example because another process has it open).

In the shell, .help lists the meta commands (.tables, .schema, .mode, ...).
";

/// One thing to run before exiting, in command-line order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// `-c TEXT` or a SQL argument.
    Command(String),
    /// `-f FILE`; `-` is stdin.
    File(PathBuf),
}

/// The parsed command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Args {
    /// The database path; `None` for the default.
    pub path: Option<PathBuf>,
    /// Things to run, then exit; empty for stdin (prompt or script).
    pub actions: Vec<Action>,
    /// Display settings.
    pub settings: Settings,
    /// Run the prompt whatever stdin is.
    pub interactive: bool,
    /// Do not use the history file.
    pub no_history: bool,
}

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// Run the shell.
    Run(Box<Args>),
    /// Print the help and exit.
    Help,
    /// Print the version and exit.
    Version,
}

/// Parse the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Parsed, String> {
    let mut out = Args {
        path: None,
        actions: Vec::new(),
        settings: Settings::default(),
        interactive: false,
        no_history: false,
    };
    let mut positional: Vec<String> = Vec::new();
    let mut it = args.into_iter();
    let mut options_done = false;
    while let Some(arg) = it.next() {
        if options_done || !arg.starts_with('-') || arg == "-" {
            positional.push(arg);
            continue;
        }
        // `--name=value` and `-cVALUE` carry their value inline.
        let (name, inline): (String, Option<String>) = if let Some(long) = arg.strip_prefix("--") {
            match long.split_once('=') {
                Some((n, v)) => (format!("--{n}"), Some(v.to_string())),
                None => (arg.clone(), None),
            }
        } else if arg.len() > 2 && matches!(arg.get(..2), Some("-c" | "-f")) {
            (arg[..2].to_string(), Some(arg[2..].to_string()))
        } else {
            (arg.clone(), None)
        };
        let mut value = |what: &str| -> Result<String, String> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => it
                    .next()
                    .ok_or_else(|| format!("{name} needs {what} (see --help)")),
            }
        };
        let s = &mut out.settings;
        match name.as_str() {
            "--" => options_done = true,
            "-h" | "--help" => return Ok(Parsed::Help),
            "-V" | "--version" => return Ok(Parsed::Version),
            "-c" | "--command" => out.actions.push(Action::Command(value("SQL text")?)),
            "-f" | "--file" => out.actions.push(Action::File(value("a file")?.into())),
            "--format" | "--mode" => s.mode = Mode::parse(&value("a mode")?)?,
            "--table" => s.mode = Mode::Table,
            "--csv" => s.mode = Mode::Csv,
            "--json" => s.mode = Mode::Json,
            "--jsonl" => s.mode = Mode::JsonLines,
            "--line" => s.mode = Mode::Line,
            "--header" | "--headers" => s.headers = true,
            "--no-header" | "--no-headers" => s.headers = false,
            "--null" | "--nullvalue" => s.null_text = Some(value("a text")?),
            "--bail" => s.bail = true,
            "--timer" => s.timer = true,
            "--echo" => s.echo = true,
            "-q" | "--quiet" => s.quiet = true,
            "-i" | "--interactive" => out.interactive = true,
            "--no-history" => out.no_history = true,
            other => return Err(format!("unknown option {other} (see --help)")),
        }
        if inline.is_some() && !takes_value(&name) {
            return Err(format!("{name} takes no value"));
        }
    }
    let mut positional = positional.into_iter();
    out.path = positional.next().map(PathBuf::from);
    out.actions.extend(positional.map(Action::Command));
    Ok(Parsed::Run(Box::new(out)))
}

fn takes_value(name: &str) -> bool {
    matches!(
        name,
        "-c" | "--command" | "-f" | "--file" | "--format" | "--mode" | "--null" | "--nullvalue"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Args, String> {
        match parse(args.iter().map(|s| s.to_string()))? {
            Parsed::Run(a) => Ok(*a),
            other => Err(format!("{other:?}")),
        }
    }

    #[test]
    fn path_commands_and_files_in_order() {
        let a = run(&[
            "db",
            "-c",
            "select 1",
            "-f",
            "x.sql",
            "--command=select 2",
            "-cselect 3",
        ])
        .unwrap();
        assert_eq!(a.path, Some("db".into()));
        assert_eq!(
            a.actions,
            vec![
                Action::Command("select 1".into()),
                Action::File("x.sql".into()),
                Action::Command("select 2".into()),
                Action::Command("select 3".into()),
            ]
        );
        let b = run(&["db", "select 1", "select 2"]).unwrap();
        assert_eq!(b.actions.len(), 2);
        assert_eq!(run(&[]).unwrap().path, None);
        assert_eq!(run(&["--", "-odd"]).unwrap().path, Some("-odd".into()));
    }

    #[test]
    fn settings_from_flags() {
        let a = run(&[
            "--format",
            "json",
            "--bail",
            "--null=-",
            "--no-header",
            "-q",
            "--timer",
        ])
        .unwrap();
        assert_eq!(a.settings.mode, Mode::Json);
        assert!(a.settings.bail && a.settings.quiet && a.settings.timer);
        assert!(!a.settings.headers);
        assert_eq!(a.settings.null_text.as_deref(), Some("-"));
        assert_eq!(run(&["--csv"]).unwrap().settings.mode, Mode::Csv);
        assert_eq!(run(&["--format=line"]).unwrap().settings.mode, Mode::Line);
    }

    #[test]
    fn mistakes_are_explained() {
        assert!(
            run(&["--format", "box"])
                .unwrap_err()
                .contains("unknown output mode")
        );
        assert!(run(&["-c"]).unwrap_err().contains("-c needs SQL text"));
        assert!(
            run(&["--frobnicate"])
                .unwrap_err()
                .contains("unknown option --frobnicate")
        );
        assert!(run(&["--bail=yes"]).unwrap_err().contains("takes no value"));
        assert!(run(&["-é"]).unwrap_err().contains("unknown option -é"));
        assert_eq!(parse(["-h".to_string()]), Ok(Parsed::Help));
        assert_eq!(parse(["--version".to_string()]), Ok(Parsed::Version));
    }
}
