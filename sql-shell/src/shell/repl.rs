//! The interactive prompt: rustyline for line editing, persistent history
//! and tab completion, feeding the shell's one loop
//! ([`Shell::run_source`](super::runner::Shell::run_source)).
//!
//! - History lives in a file (see [`paths`](super::paths)); each complete
//!   entry is appended as soon as it is entered, so a killed shell keeps
//!   what was typed. A history file that cannot be read or written is a
//!   warning, printed once, never an error.
//! - Tab completes meta commands, SQL keywords and the names of tables,
//!   columns and indexes in the catalog (refreshed before every prompt).
//! - Ctrl-C drops the statement being typed; Ctrl-D leaves.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::io::{self, Write};
use std::path::PathBuf;

use rustyline::completion::Completer;
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::{DefaultHistory, History};
use rustyline::validate::Validator;
use rustyline::{Config, Context, Editor, Helper};

use super::input::{Input, LineSource};

/// Keywords offered by tab completion.
const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP BY",
    "HAVING",
    "ORDER BY",
    "LIMIT",
    "OFFSET",
    "DISTINCT",
    "INSERT INTO",
    "VALUES",
    "UPDATE",
    "SET",
    "DELETE FROM",
    "CREATE TABLE",
    "CREATE INDEX",
    "CREATE UNIQUE INDEX",
    "DROP TABLE",
    "DROP INDEX",
    "ALTER TABLE",
    "ADD COLUMN",
    "PRIMARY KEY",
    "NOT NULL",
    "UNIQUE",
    "DEFAULT",
    "INTEGER",
    "REAL",
    "TEXT",
    "BLOB",
    "BOOLEAN",
    "JOIN",
    "LEFT JOIN",
    "CROSS JOIN",
    "ON",
    "AND",
    "OR",
    "NOT",
    "NULL",
    "IS",
    "IN",
    "EXISTS",
    "BETWEEN",
    "LIKE",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "CAST",
    "AS",
    "ASC",
    "DESC",
    "COUNT",
    "SUM",
    "AVG",
    "MIN",
    "MAX",
    "COALESCE",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "EXPLAIN",
    "IF NOT EXISTS",
    "IF EXISTS",
];

/// Tab completion over keywords, catalog names and meta commands.
#[derive(Default)]
pub struct SqlHelper {
    names: Vec<String>,
}

impl SqlHelper {
    /// Candidates for the word `prefix`, keeping the case the user types.
    pub fn candidates(&self, prefix: &str, at_line_start: bool) -> Vec<String> {
        if let Some(cmd) = prefix.strip_prefix('.') {
            if !at_line_start {
                return Vec::new();
            }
            return super::meta::HELP
                .lines()
                .filter_map(|l| l.trim_start().strip_prefix('.'))
                .filter_map(|l| l.split([' ', ',']).next())
                .filter(|c| c.starts_with(cmd))
                .map(|c| format!(".{c}"))
                .collect();
        }
        if prefix.is_empty() {
            return Vec::new();
        }
        let lower = prefix.to_ascii_lowercase();
        let lowercase_user = prefix.chars().all(|c| !c.is_ascii_uppercase());
        let mut out = BTreeSet::new();
        for k in KEYWORDS {
            if k.to_ascii_lowercase().starts_with(&lower) {
                out.insert(if lowercase_user {
                    k.to_ascii_lowercase()
                } else {
                    (*k).to_string()
                });
            }
        }
        for n in &self.names {
            if n.to_ascii_lowercase().starts_with(&lower) {
                out.insert(n.clone());
            }
        }
        out.into_iter().collect()
    }
}

impl Completer for SqlHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        let before = &line[..pos];
        let start = before
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '.'))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let word = &before[start..];
        let at_line_start = before[..start].trim().is_empty();
        Ok((start, self.candidates(word, at_line_start)))
    }
}

impl Hinter for SqlHelper {
    type Hint = String;
}

impl Highlighter for SqlHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        Cow::Borrowed(line)
    }
}

impl Validator for SqlHelper {}

impl Helper for SqlHelper {}

/// The terminal as a [`LineSource`].
pub struct Terminal {
    editor: Editor<SqlHelper, DefaultHistory>,
    history: Option<PathBuf>,
    warned: bool,
    /// Catalog names for completion, refreshed by the loop.
    pending_names: Option<Vec<String>>,
}

impl Terminal {
    /// A terminal with history in `history` (none when `None`).
    pub fn new(history: Option<PathBuf>) -> Result<(Terminal, Option<String>), String> {
        let config = Config::builder()
            .auto_add_history(false)
            .history_ignore_space(true)
            .max_history_size(10_000)
            .map_err(|e| e.to_string())?
            .build();
        let mut editor: Editor<SqlHelper, DefaultHistory> =
            Editor::with_config(config).map_err(|e| format!("cannot set up the terminal: {e}"))?;
        editor.set_helper(Some(SqlHelper::default()));
        let mut warning = None;
        if let Some(path) = &history {
            if path.exists() {
                if let Err(e) = editor.load_history(path) {
                    warning = Some(format!(
                        "Warning: cannot read the history file {}: {e}",
                        path.display()
                    ));
                }
            }
        }
        Ok((
            Terminal {
                editor,
                history,
                warned: warning.is_some(),
                pending_names: None,
            },
            warning,
        ))
    }
}

impl LineSource for Terminal {
    fn read_line(&mut self, prompt: &str) -> io::Result<Input> {
        if let (Some(names), Some(h)) = (self.pending_names.take(), self.editor.helper_mut()) {
            h.names = names;
        }
        loop {
            return match self.editor.readline(prompt) {
                Ok(line) => Ok(Input::Line(line)),
                Err(ReadlineError::Interrupted) => Ok(Input::Interrupted),
                Err(ReadlineError::Eof) => Ok(Input::Eof),
                // A window resize interrupts the read; just read again.
                Err(ReadlineError::Signal(_)) => continue,
                Err(ReadlineError::Io(e)) => Err(e),
                Err(e) => Err(io::Error::other(e.to_string())),
            };
        }
    }

    fn set_names(&mut self, names: Vec<String>) {
        self.pending_names = Some(names);
    }

    fn wants_names(&self) -> bool {
        true
    }

    fn add_history(&mut self, entry: &str) {
        if self.editor.add_history_entry(entry).is_err() {
            return;
        }
        let Some(path) = &self.history else { return };
        let result = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => {
                std::fs::create_dir_all(dir).map_err(|e| e.to_string())
            }
            _ => Ok(()),
        }
        .and_then(|()| {
            self.editor
                .history_mut()
                .append(path)
                .map_err(|e| e.to_string())
        });
        if let Err(e) = result {
            if !self.warned {
                self.warned = true;
                let _ = writeln!(
                    std::io::stderr(),
                    "Warning: cannot write the history file {}: {e} (history is kept for this session only)",
                    path.display()
                );
            }
        }
    }
}

/// Names in a catalog: tables, their columns and indexes.
pub fn catalog_names(cat: &table_layer::Catalog) -> Vec<String> {
    let mut names = BTreeSet::new();
    for t in cat.tables() {
        names.insert(t.name().to_string());
        for c in t.columns() {
            names.insert(c.name.clone());
        }
        for i in t.indexes() {
            names.insert(i.name().to_string());
        }
    }
    names.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completion_candidates() {
        let h = SqlHelper {
            names: vec!["users".into(), "user_id".into(), "orders".into()],
        };
        assert_eq!(h.candidates(".ta", true), vec![".tables"]);
        assert!(h.candidates(".ta", false).is_empty());
        assert_eq!(h.candidates("use", false), vec!["user_id", "users"]);
        assert_eq!(h.candidates("SEL", false), vec!["SELECT"]);
        assert_eq!(h.candidates("sel", false), vec!["select"]);
        assert!(h.candidates(".q", true).contains(&".quit".to_string()));
        assert!(h.candidates("", false).is_empty());
    }
}
