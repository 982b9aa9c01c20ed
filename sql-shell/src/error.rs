//! The one error type of the SQL layer.
//!
//! Every failure a user can cause or meet is a [`SqlError`] variant that says
//! whose fault it was and what to do: the statement does not parse, uses a
//! feature we do not support, names something that does not exist (with a
//! near-miss suggestion), mixes types, violates a constraint, lost a
//! transaction race (retryable), or the storage below failed. Where the
//! position in the statement is known it is attached as a [`Position`]
//! (1-based line and column within the statement's text), so the shell can
//! point at it.

use std::fmt;

/// A place in a statement's text: 1-based line and column (in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// Line, starting at 1.
    pub line: u32,
    /// Column, starting at 1.
    pub column: u32,
}

impl Position {
    /// A position from a sqlparser location (which uses 0 for "unknown").
    pub(crate) fn from_location(loc: sqlparser::tokenizer::Location) -> Option<Position> {
        if loc.line == 0 {
            return None;
        }
        Some(Position {
            line: u32::try_from(loc.line).unwrap_or(u32::MAX),
            column: u32::try_from(loc.column).unwrap_or(u32::MAX),
        })
    }

    /// The start of a sqlparser span, if the span is known.
    pub(crate) fn from_span(span: sqlparser::tokenizer::Span) -> Option<Position> {
        Position::from_location(span.start)
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// The broad class of an error, for callers that decide by kind (the shell
/// picks an exit status, the sqllogictest runner counts unsupported
/// features separately).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The text is not valid SQL.
    Parse,
    /// Valid SQL that this engine does not implement.
    Unsupported,
    /// A table, column, index or function that does not exist, or an
    /// ambiguous or duplicate name.
    Name,
    /// A value of the wrong type.
    Type,
    /// NOT NULL, UNIQUE or PRIMARY KEY violated.
    Constraint,
    /// A transaction lost a write-write race; run it again.
    Conflict,
    /// A statement that does not fit the transaction state (COMMIT without
    /// BEGIN, ...).
    Transaction,
    /// An error while evaluating (integer overflow in `sum()`, ...).
    Runtime,
    /// The storage below failed (I/O, corruption, closed).
    Storage,
    /// The statement was interrupted (the session's interrupt flag, e.g.
    /// Ctrl-C, or the progress hook); it was undone.
    Interrupted,
}

/// An error of the SQL layer; see the [module documentation](self).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum SqlError {
    /// The statement does not parse.
    Parse {
        /// What the parser expected and found.
        message: String,
        /// Where, when known.
        position: Option<Position>,
    },
    /// The statement uses something this engine does not implement.
    Unsupported {
        /// The feature, named as a user would look it up (`"window functions"`).
        feature: String,
        /// Where, when known.
        position: Option<Position>,
    },
    /// No table (or view) of that name.
    UnknownTable {
        /// The name as written.
        name: String,
        /// The closest existing name, if one is close.
        suggestion: Option<String>,
        /// Where, when known.
        position: Option<Position>,
    },
    /// No column of that name in the tables in scope.
    UnknownColumn {
        /// The name as written (`t.c` or `c`).
        name: String,
        /// The closest column name in scope, if one is close.
        suggestion: Option<String>,
        /// Where, when known.
        position: Option<Position>,
    },
    /// Another name error: unknown index or function, an ambiguous column,
    /// a duplicate name, an object that already exists.
    Name {
        /// The full message.
        message: String,
        /// Where, when known.
        position: Option<Position>,
    },
    /// A value of the wrong type (a text that is not a number stored in an
    /// INTEGER column, a blob in arithmetic where it cannot convert, ...).
    Type {
        /// The full message, naming the column or operator and the value.
        message: String,
        /// Where, when known.
        position: Option<Position>,
    },
    /// NOT NULL, UNIQUE or PRIMARY KEY violated; nothing of the statement
    /// was written.
    Constraint {
        /// The message, naming the table, column and value.
        message: String,
    },
    /// The transaction lost a write-write race with another one and was
    /// rolled back; run it again.
    Conflict {
        /// The message from the storage layer.
        message: String,
    },
    /// The statement does not fit the transaction state.
    Transaction {
        /// The message.
        message: String,
    },
    /// Evaluation failed (integer overflow in `sum()`, a scalar subquery used
    /// as a value in a way it cannot be, ...).
    Runtime {
        /// The message.
        message: String,
    },
    /// The storage below failed.
    Storage {
        /// The message from the storage layer (names the file and offset where
        /// known).
        message: String,
    },
    /// The statement was interrupted through
    /// [`Session::interrupt_flag`](crate::Session::interrupt_flag) or the
    /// progress hook. What it wrote is undone (the whole statement outside
    /// a transaction; inside one, the statement alone).
    Interrupted,
}

/// Result alias for the SQL layer.
pub type Result<T, E = SqlError> = std::result::Result<T, E>;

impl SqlError {
    /// The broad class of the error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            SqlError::Parse { .. } => ErrorKind::Parse,
            SqlError::Unsupported { .. } => ErrorKind::Unsupported,
            SqlError::UnknownTable { .. }
            | SqlError::UnknownColumn { .. }
            | SqlError::Name { .. } => ErrorKind::Name,
            SqlError::Type { .. } => ErrorKind::Type,
            SqlError::Constraint { .. } => ErrorKind::Constraint,
            SqlError::Conflict { .. } => ErrorKind::Conflict,
            SqlError::Transaction { .. } => ErrorKind::Transaction,
            SqlError::Runtime { .. } => ErrorKind::Runtime,
            SqlError::Storage { .. } => ErrorKind::Storage,
            SqlError::Interrupted => ErrorKind::Interrupted,
        }
    }

    /// Where in the statement the error is, when known.
    pub fn position(&self) -> Option<Position> {
        match self {
            SqlError::Parse { position, .. }
            | SqlError::Unsupported { position, .. }
            | SqlError::UnknownTable { position, .. }
            | SqlError::UnknownColumn { position, .. }
            | SqlError::Name { position, .. }
            | SqlError::Type { position, .. } => *position,
            _ => None,
        }
    }

    /// True when running the statement (or transaction) again may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, SqlError::Conflict { .. })
    }

    /// Attach a position if the error has none yet.
    pub fn at(mut self, pos: Option<Position>) -> SqlError {
        if let Some(p) = pos {
            match &mut self {
                SqlError::Parse { position, .. }
                | SqlError::Unsupported { position, .. }
                | SqlError::UnknownTable { position, .. }
                | SqlError::UnknownColumn { position, .. }
                | SqlError::Name { position, .. }
                | SqlError::Type { position, .. }
                    if position.is_none() =>
                {
                    *position = Some(p);
                }
                _ => {}
            }
        }
        self
    }

    /// An [`SqlError::Unsupported`] without a position.
    pub fn unsupported(feature: impl Into<String>) -> SqlError {
        SqlError::Unsupported {
            feature: feature.into(),
            position: None,
        }
    }

    /// An [`SqlError::Name`] without a position.
    pub fn name(message: impl Into<String>) -> SqlError {
        SqlError::Name {
            message: message.into(),
            position: None,
        }
    }

    /// An [`SqlError::Type`] without a position.
    pub fn type_error(message: impl Into<String>) -> SqlError {
        SqlError::Type {
            message: message.into(),
            position: None,
        }
    }

    /// An [`SqlError::Runtime`].
    pub fn runtime(message: impl Into<String>) -> SqlError {
        SqlError::Runtime {
            message: message.into(),
        }
    }

    /// An [`SqlError::Transaction`].
    pub fn transaction(message: impl Into<String>) -> SqlError {
        SqlError::Transaction {
            message: message.into(),
        }
    }

    /// A parse error without a position.
    pub fn parse(message: impl Into<String>) -> SqlError {
        SqlError::Parse {
            message: message.into(),
            position: None,
        }
    }
}

impl SqlError {
    /// The message without the position suffix (`" at line L, column C"`),
    /// for callers that show the position their own way (the shell points
    /// at it under the statement).
    ///
    /// ```
    /// use sql_shell::{Position, SqlError};
    /// let e = SqlError::parse("Expected: an expression, found: EOF")
    ///     .at(Some(Position { line: 1, column: 11 }));
    /// assert_eq!(e.message(), "syntax error: Expected: an expression, found: EOF");
    /// assert!(e.to_string().ends_with(" at line 1, column 11"));
    /// ```
    pub fn message(&self) -> String {
        struct Bare<'a>(&'a SqlError);
        impl fmt::Display for Bare<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.write_message(f)
            }
        }
        Bare(self).to_string()
    }

    fn write_message(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SqlError::Parse { message, .. } => write!(f, "syntax error: {message}")?,
            SqlError::Unsupported { feature, .. } => write!(f, "not supported: {feature}")?,
            SqlError::UnknownTable {
                name, suggestion, ..
            } => {
                write!(f, "no such table: {name}")?;
                if let Some(s) = suggestion {
                    write!(f, " (did you mean {s}?)")?;
                }
            }
            SqlError::UnknownColumn {
                name, suggestion, ..
            } => {
                write!(f, "no such column: {name}")?;
                if let Some(s) = suggestion {
                    write!(f, " (did you mean {s}?)")?;
                }
            }
            SqlError::Name { message, .. } => f.write_str(message)?,
            SqlError::Type { message, .. } => write!(f, "type error: {message}")?,
            SqlError::Constraint { message } => write!(f, "constraint failed: {message}")?,
            SqlError::Conflict { message } => write!(
                f,
                "{message} (the transaction was rolled back; run it again)"
            )?,
            SqlError::Transaction { message } => f.write_str(message)?,
            SqlError::Runtime { message } => f.write_str(message)?,
            SqlError::Storage { message } => write!(f, "storage error: {message}")?,
            SqlError::Interrupted => f.write_str("interrupted")?,
        }
        Ok(())
    }
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_message(f)?;
        if let Some(p) = self.position() {
            write!(f, " at {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SqlError {}

impl From<kv_api::Error> for SqlError {
    fn from(e: kv_api::Error) -> Self {
        if e.is_retryable() {
            SqlError::Conflict {
                message: e.to_string(),
            }
        } else if matches!(e, kv_api::Error::InvalidArgument(_)) {
            // A limit of the store (key, value or batch size).
            SqlError::runtime(e.to_string())
        } else {
            SqlError::Storage {
                message: e.to_string(),
            }
        }
    }
}

/// The closest of `candidates` to `name` (case-insensitive edit distance),
/// if it is close enough to be a plausible typo.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let target = name.to_ascii_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = edit_distance(&target, &c.to_ascii_lowercase());
        let limit = (target.chars().count().max(c.chars().count()) / 3).clamp(1, 3);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c.to_string())
}

/// Edit distance over chars counting an adjacent transposition as one
/// edit (optimal string alignment), so `emial` is one edit from `email`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for (i, row) in d.chunks_mut(w).enumerate() {
        row[0] = i;
    }
    for (j, cell) in d.iter_mut().take(w).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_pick_near_misses_only() {
        assert_eq!(
            suggest("custmers", ["customers", "orders"]),
            Some("customers".into())
        );
        assert_eq!(
            suggest("ORDRS", ["customers", "orders"]),
            Some("orders".into())
        );
        assert_eq!(suggest("zzz", ["customers", "orders"]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("emial", "email"), 1);
    }

    #[test]
    fn messages_name_what_and_where() {
        let e = SqlError::UnknownColumn {
            name: "nmae".into(),
            suggestion: Some("name".into()),
            position: Some(Position { line: 1, column: 8 }),
        };
        assert_eq!(
            e.to_string(),
            "no such column: nmae (did you mean name?) at line 1, column 8"
        );
        assert_eq!(e.kind(), ErrorKind::Name);
        let c: SqlError = kv_api::Error::Conflict { key: vec![1] }.into();
        assert!(c.is_retryable());
    }
}
