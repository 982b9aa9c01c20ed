//! Splitting a script into statements.
//!
//! The shell reads scripts (`.read`, stdin, `-c "...; ..."`) and lines typed
//! at the prompt; both need to know where one statement ends without parsing
//! it. A statement ends at a `;` that is outside quotes and comments:
//!
//! ```text
//!   INSERT INTO t VALUES ('a;b'); -- done; really
//!   ^ statement 1 (offset 0)     ^ terminator  ^ comment, not a statement
//! ```
//!
//! Quotes: `'text'` (with `''` inside), `"identifier"`, `` `identifier` ``,
//! `[identifier]`. Comments: `-- to end of line` and `/* block */`.
//! For simplicity the splitter does not know about `CREATE TRIGGER ... BEGIN
//! ... END` bodies (we do not support triggers); a tokenizer-based splitter
//! would replace it if we did.

/// One statement of a script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement<'a> {
    /// The statement's text, without the terminating `;` and without leading
    /// whitespace and comments.
    pub text: &'a str,
    /// Byte offset of `text` in the script.
    pub offset: usize,
    /// 1-based line of the statement's first character in the script.
    pub line: u32,
    /// 1-based column (in characters) of the statement's first character.
    pub column: u32,
    /// True when the statement was ended by `;` (false for a trailing
    /// statement without one).
    pub terminated: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Normal,
    Quote(u8),
    LineComment,
    BlockComment,
}

/// Split `script` into statements; empty statements (`;;`, comments only)
/// are left out.
///
/// ```
/// let s = sql_shell::split_statements("SELECT 'a;b';\n  -- note\n  SELECT 2");
/// assert_eq!(s.len(), 2);
/// assert_eq!(s[0].text, "SELECT 'a;b'");
/// assert_eq!((s[1].text, s[1].line, s[1].column, s[1].terminated), ("SELECT 2", 3, 3, false));
/// ```
pub fn split_statements(script: &str) -> Vec<Statement<'_>> {
    let bytes = script.as_bytes();
    let mut out = Vec::new();
    let mut state = State::Normal;
    // Start of the current statement's first significant byte, if seen,
    // with its line and column.
    let mut start: Option<(usize, u32, u32)> = None;
    // Line of byte i and the byte offset where that line starts; kept as the
    // scan goes (recounting from the top per statement would be quadratic).
    let mut line: u32 = 1;
    let mut line_start = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let here = |i: usize| {
            let col = 1 + script[line_start..i].chars().count();
            (i, line, u32::try_from(col).unwrap_or(u32::MAX))
        };
        match state {
            State::Normal => match b {
                b'\'' | b'"' | b'`' => {
                    start.get_or_insert_with(|| here(i));
                    state = State::Quote(b);
                }
                b'[' => {
                    start.get_or_insert_with(|| here(i));
                    state = State::Quote(b']');
                }
                b'-' if bytes.get(i + 1) == Some(&b'-') => {
                    state = State::LineComment;
                    i += 1;
                }
                b'/' if bytes.get(i + 1) == Some(&b'*') => {
                    state = State::BlockComment;
                    i += 1;
                }
                b';' => {
                    if let Some(s) = start.take() {
                        out.push(make(script, s, i, true));
                    }
                }
                _ if b.is_ascii_whitespace() => {}
                _ => {
                    start.get_or_insert_with(|| here(i));
                }
            },
            State::Quote(q) => {
                if b == q {
                    // A doubled quote inside a quoted string stays inside.
                    if q != b']' && bytes.get(i + 1) == Some(&q) {
                        i += 1;
                    } else {
                        state = State::Normal;
                    }
                }
            }
            State::LineComment => {
                if b == b'\n' {
                    state = State::Normal;
                }
            }
            State::BlockComment => {
                if b == b'*' && bytes.get(i + 1) == Some(&b'/') {
                    state = State::Normal;
                    i += 1;
                }
            }
        }
        // (Bytes skipped above, the second of `--`, `*/` or a doubled
        // quote, are never newlines.)
        if b == b'\n' {
            line += 1;
            line_start = i + 1;
        }
        i += 1;
    }
    if let Some(s) = start {
        out.push(make(script, s, bytes.len(), false));
    }
    out
}

/// True when `buffer` holds only complete statements (each ended by `;`
/// outside quotes and comments) or nothing but whitespace and comments: the
/// shell sends the buffer then, and otherwise keeps reading lines.
///
/// ```
/// use sql_shell::is_complete;
/// assert!(is_complete("SELECT 1;"));
/// assert!(!is_complete("SELECT 'a;"));
/// assert!(!is_complete("SELECT 1; SELECT"));
/// assert!(is_complete("-- just a comment"));
/// ```
pub fn is_complete(buffer: &str) -> bool {
    let stmts = split_statements(buffer);
    if stmts.last().is_some_and(|s| !s.terminated) {
        return false;
    }
    // An open quote or block comment at the end leaves no unterminated
    // statement only when it began inside a comment; check the state.
    !ends_inside_block_comment(buffer)
}

fn ends_inside_block_comment(buffer: &str) -> bool {
    let bytes = buffer.as_bytes();
    let mut state = State::Normal;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match state {
            State::Normal => match b {
                b'\'' | b'"' | b'`' => state = State::Quote(b),
                b'[' => state = State::Quote(b']'),
                b'-' if bytes.get(i + 1) == Some(&b'-') => {
                    state = State::LineComment;
                    i += 1;
                }
                b'/' if bytes.get(i + 1) == Some(&b'*') => {
                    state = State::BlockComment;
                    i += 1;
                }
                _ => {}
            },
            State::Quote(q) => {
                if b == q {
                    if q != b']' && bytes.get(i + 1) == Some(&q) {
                        i += 1;
                    } else {
                        state = State::Normal;
                    }
                }
            }
            State::LineComment => {
                if b == b'\n' {
                    state = State::Normal;
                }
            }
            State::BlockComment => {
                if b == b'*' && bytes.get(i + 1) == Some(&b'/') {
                    state = State::Normal;
                    i += 1;
                }
            }
        }
        i += 1;
    }
    matches!(state, State::BlockComment | State::Quote(_))
}

fn make(
    script: &str,
    (start, line, column): (usize, u32, u32),
    end: usize,
    terminated: bool,
) -> Statement<'_> {
    Statement {
        text: script[start..end].trim_end(),
        offset: start,
        line,
        column,
        terminated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<&str> {
        split_statements(s).into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn splits_on_semicolons_outside_quotes_and_comments() {
        assert_eq!(texts("a;b;"), vec!["a", "b"]);
        assert_eq!(
            texts("select 'x;y' ; select \"a;b\""),
            vec!["select 'x;y'", "select \"a;b\""]
        );
        assert_eq!(texts("select 'it''s;' ;"), vec!["select 'it''s;'"]);
        assert_eq!(
            texts("select 1 -- c;omment\n + 2;"),
            vec!["select 1 -- c;omment\n + 2"]
        );
        assert_eq!(texts("/* a;b */ select 1;"), vec!["select 1"]);
        assert_eq!(texts("select [a;b] from t;"), vec!["select [a;b] from t"]);
        assert_eq!(texts(";;  ;\n-- only\n"), Vec::<&str>::new());
    }

    #[test]
    fn positions_are_lines_and_columns() {
        let s = split_statements("select 1;\n\n   select\n 2;  é; x");
        assert_eq!((s[1].line, s[1].column, s[1].offset), (3, 4, 14));
        assert_eq!(s[2].text, "é");
        assert_eq!((s[3].line, s[3].column, s[3].terminated), (4, 9, false));
    }

    #[test]
    fn completeness_for_the_repl() {
        assert!(is_complete(""));
        assert!(is_complete("select 1;  -- trailing"));
        assert!(!is_complete("select 1"));
        assert!(!is_complete("select 'a;'"));
        assert!(!is_complete("select 1; /* open"));
        assert!(!is_complete("select 'open;"));
        assert!(is_complete("select 'a'';';"));
    }
}
