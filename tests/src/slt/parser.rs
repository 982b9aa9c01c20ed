//! Parsing sqllogictest files.
//!
//! Both dialects in the corpus are read: SQLite's (one value per line,
//! `N values hashing to <md5>`, `hash-threshold`) and sqllogictest-rs /
//! DuckDB's (one row per line, values separated by spaces or tabs). A record
//! is a block of lines ended by a blank line:
//!
//! ```text
//!   skipif mysql # comments after conditions are allowed
//!   query IIT rowsort label-7
//!   SELECT a, b, c FROM t
//!   ----
//!   1
//!   2
//!   x
//! ```

/// How a query's result is ordered before comparing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortMode {
    /// As returned.
    NoSort,
    /// Rows sorted (by their rendered values).
    RowSort,
    /// All values sorted individually.
    ValueSort,
}

/// Expected query output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expected {
    /// Result lines as written (one value or one row per line).
    Lines(Vec<String>),
    /// `N values hashing to H`.
    Hash {
        /// Number of values.
        count: usize,
        /// Lower-case hex MD5.
        hash: String,
    },
}

/// What a record asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `statement ok` / `statement error`.
    Statement {
        /// The SQL (may hold several statements).
        sql: String,
        /// An error is expected.
        expect_error: bool,
        /// Text the error message must contain (lines after `----`).
        error_contains: Option<String>,
    },
    /// `query <types> [sort] [label]`.
    Query {
        /// The SQL.
        sql: String,
        /// Column type letters (I, R, T).
        types: String,
        /// Sort mode.
        sort: SortMode,
        /// Label shared by queries that must give the same result.
        label: Option<String>,
        /// Expected output.
        expected: Expected,
    },
    /// `hash-threshold N`.
    HashThreshold(usize),
    /// `halt`: stop reading the file.
    Halt,
    /// A directive this runner does not implement (reported as unsupported).
    Unsupported(String),
}

/// One record with its conditions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// 1-based line of the record's first line.
    pub line: usize,
    /// `skipif` labels.
    pub skip_if: Vec<String>,
    /// `onlyif` labels.
    pub only_if: Vec<String>,
    /// The record.
    pub kind: Kind,
}

impl Record {
    /// Whether a runner with `labels` runs this record.
    pub fn applies(&self, labels: &[&str]) -> bool {
        if self.skip_if.iter().any(|l| labels.contains(&l.as_str())) {
            return false;
        }
        self.only_if.iter().all(|l| labels.contains(&l.as_str()))
    }
}

fn strip_comment(line: &str) -> &str {
    match line.find(" #") {
        Some(i) => line[..i].trim_end(),
        None => line.trim_end(),
    }
}

/// Parse a whole file.
pub fn parse(text: &str) -> Vec<Record> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let raw = lines[i];
        let line = raw.trim_end();
        if line.trim().is_empty() || line.starts_with('#') {
            i += 1;
            continue;
        }
        let start = i + 1;
        let mut skip_if = Vec::new();
        let mut only_if = Vec::new();
        // Conditions.
        while i < lines.len() {
            let l = strip_comment(lines[i]);
            let mut words = l.split_whitespace();
            match (words.next(), words.next()) {
                (Some("skipif"), Some(lbl)) => skip_if.push(lbl.to_string()),
                (Some("onlyif"), Some(lbl)) => only_if.push(lbl.to_string()),
                _ => break,
            }
            i += 1;
        }
        if i >= lines.len() {
            break;
        }
        let head = strip_comment(lines[i]).to_string();
        let words: Vec<&str> = head.split_whitespace().collect();
        i += 1;
        // The body: lines up to a blank line.
        let mut body = Vec::new();
        while i < lines.len() && !lines[i].trim().is_empty() {
            body.push(lines[i].trim_end_matches('\r'));
            i += 1;
        }
        let kind = match words.first().copied() {
            Some("statement") => {
                let split = body.iter().position(|l| *l == "----");
                let (sql_lines, msg) = match split {
                    Some(p) => (&body[..p], Some(body[p + 1..].join("\n"))),
                    None => (&body[..], None),
                };
                Kind::Statement {
                    sql: sql_lines.join("\n"),
                    expect_error: words.get(1) == Some(&"error"),
                    error_contains: msg.filter(|m| !m.is_empty()),
                }
            }
            Some("query") => {
                let types = words.get(1).copied().unwrap_or("").to_string();
                let mut sort = SortMode::NoSort;
                let mut label = None;
                for w in words.iter().skip(2) {
                    match *w {
                        "nosort" => sort = SortMode::NoSort,
                        "rowsort" => sort = SortMode::RowSort,
                        "valuesort" => sort = SortMode::ValueSort,
                        other => label = Some(other.to_string()),
                    }
                }
                let split = body.iter().position(|l| *l == "----");
                let (sql_lines, result_lines) = match split {
                    Some(p) => (&body[..p], &body[p + 1..]),
                    None => (&body[..], &[][..]),
                };
                let expected = match result_lines {
                    [one] if one.contains(" values hashing to ") => {
                        let mut parts = one.split(" values hashing to ");
                        let count = parts
                            .next()
                            .and_then(|c| c.trim().parse().ok())
                            .unwrap_or(0);
                        let hash = parts.next().unwrap_or("").trim().to_string();
                        Expected::Hash { count, hash }
                    }
                    _ => Expected::Lines(result_lines.iter().map(|s| s.to_string()).collect()),
                };
                Kind::Query {
                    sql: sql_lines.join("\n"),
                    types,
                    sort,
                    label,
                    expected,
                }
            }
            Some("hash-threshold") => {
                Kind::HashThreshold(words.get(1).and_then(|n| n.parse().ok()).unwrap_or(0))
            }
            Some("halt") => Kind::Halt,
            Some(other) => Kind::Unsupported(format!("directive {other}")),
            None => continue,
        };
        out.push(Record {
            line: start,
            skip_if,
            only_if,
            kind,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_dialects() {
        let text = "hash-threshold 8\n\nskipif mysql # not compatible\nquery I rowsort label-1\nSELECT 1\n  + 2\n----\n3\n\nstatement error\nSELECT x\n----\nsome message\n\nquery II\nselect 1, 2\n----\n1 2\n\nquery T nosort\nSELECT 'a'\n----\n30 values hashing to abc\n";
        let r = parse(text);
        assert_eq!(r.len(), 5);
        assert_eq!(r[0].kind, Kind::HashThreshold(8));
        assert_eq!(r[1].skip_if, vec!["mysql".to_string()]);
        assert!(!r[1].applies(&["mysql"]) && r[1].applies(&["sqlite"]));
        match &r[1].kind {
            Kind::Query {
                sql,
                sort,
                label,
                expected,
                ..
            } => {
                assert_eq!(sql, "SELECT 1\n  + 2");
                assert_eq!(*sort, SortMode::RowSort);
                assert_eq!(label.as_deref(), Some("label-1"));
                assert_eq!(*expected, Expected::Lines(vec!["3".into()]));
            }
            k => panic!("{k:?}"),
        }
        assert_eq!(
            r[2].kind,
            Kind::Statement {
                sql: "SELECT x".into(),
                expect_error: true,
                error_contains: Some("some message".into()),
            }
        );
        match &r[4].kind {
            Kind::Query { expected, .. } => assert_eq!(
                *expected,
                Expected::Hash {
                    count: 30,
                    hash: "abc".into()
                }
            ),
            k => panic!("{k:?}"),
        }
    }
}
