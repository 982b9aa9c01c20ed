//! The shell's display settings: output mode, headers, NULL text, timer,
//! error policy. Set from the command line (`--format csv`, `--bail`, ...)
//! and changed at run time by meta commands (`.mode json`, `.timer on`).

use std::fmt;

/// How query results are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Aligned columns with a header and a row count, as psql prints them.
    Table,
    /// RFC 4180 comma-separated values (CRLF line ends, quotes where needed).
    Csv,
    /// One JSON array of objects per statement.
    Json,
    /// One JSON object per line (JSON Lines).
    JsonLines,
    /// One `column = value` line per column, a blank line between rows
    /// (sqlite3's line mode).
    Line,
}

impl Mode {
    /// Every mode with its name, for `.help` and error messages.
    pub const ALL: [(Mode, &'static str); 5] = [
        (Mode::Table, "table"),
        (Mode::Csv, "csv"),
        (Mode::Json, "json"),
        (Mode::JsonLines, "jsonl"),
        (Mode::Line, "line"),
    ];

    /// Parse a mode name (case-insensitive; `ndjson` is accepted for jsonl
    /// and `aligned` for table).
    pub fn parse(name: &str) -> Result<Mode, String> {
        let lower = name.to_ascii_lowercase();
        let found = match lower.as_str() {
            "ndjson" | "jsonlines" => Some(Mode::JsonLines),
            "aligned" => Some(Mode::Table),
            _ => Mode::ALL.iter().find(|(_, n)| *n == lower).map(|(m, _)| *m),
        };
        found.ok_or_else(|| {
            format!(
                "unknown output mode {name:?}: use one of {}",
                Mode::ALL.map(|(_, n)| n).join(", ")
            )
        })
    }

    /// True for the modes meant for programs (csv, json, jsonl): their
    /// stdout holds only data, so command tags (`INSERT 3`) are left out and
    /// timings go to stderr.
    pub fn is_machine(self) -> bool {
        matches!(self, Mode::Csv | Mode::Json | Mode::JsonLines)
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = Mode::ALL
            .iter()
            .find(|(m, _)| m == self)
            .map_or("?", |(_, n)| n);
        f.write_str(name)
    }
}

/// Everything that changes how results and errors are shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Output mode.
    pub mode: Mode,
    /// Print column names (table header, CSV header line).
    pub headers: bool,
    /// Text shown for NULL; `None` means the mode's default (`NULL` in
    /// table and line modes, empty in CSV; JSON always uses `null`).
    pub null_text: Option<String>,
    /// Print each statement's elapsed time.
    pub timer: bool,
    /// Stop a script at its first failing statement.
    pub bail: bool,
    /// Leave out command tags and notes (`INSERT 3`, `CREATE TABLE`).
    pub quiet: bool,
    /// Print each statement before running it (scripts).
    pub echo: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            mode: Mode::Table,
            headers: true,
            null_text: None,
            timer: false,
            bail: false,
            quiet: false,
            echo: false,
        }
    }
}

impl Settings {
    /// The text to show for NULL in the current mode.
    pub fn null_display(&self) -> &str {
        match (&self.null_text, self.mode) {
            (Some(t), _) => t,
            (None, Mode::Csv) => "",
            (None, _) => "NULL",
        }
    }
}

/// Parse `on`/`off` (also `true`/`false`, `yes`/`no`, `1`/`0`).
pub fn parse_switch(word: &str) -> Result<bool, String> {
    match word.to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" => Ok(true),
        "off" | "false" | "no" | "0" => Ok(false),
        _ => Err(format!("expected on or off, found {word:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_by_name_and_alias() {
        assert_eq!(Mode::parse("CSV"), Ok(Mode::Csv));
        assert_eq!(Mode::parse("ndjson"), Ok(Mode::JsonLines));
        assert_eq!(Mode::parse("aligned"), Ok(Mode::Table));
        let e = Mode::parse("box").unwrap_err();
        assert!(e.contains("table, csv, json, jsonl, line"), "{e}");
        for (m, n) in Mode::ALL {
            assert_eq!(m.to_string(), n);
            assert_eq!(Mode::parse(n), Ok(m));
        }
    }

    #[test]
    fn null_text_defaults_per_mode() {
        let mut s = Settings::default();
        assert_eq!(s.null_display(), "NULL");
        s.mode = Mode::Csv;
        assert_eq!(s.null_display(), "");
        s.null_text = Some("-".into());
        assert_eq!(s.null_display(), "-");
        assert_eq!(parse_switch("ON"), Ok(true));
        assert!(parse_switch("maybe").is_err());
    }
}
