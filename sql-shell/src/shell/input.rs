//! Where statements come from, and how lines become statements.
//!
//! Every input (the terminal, a pipe on stdin, `-c` text, a `.read` file)
//! is a [`LineSource`]: it yields lines, and a terminal may also yield
//! "Ctrl-C pressed" or "Ctrl-D pressed". The shell's one loop
//! ([`Shell::run_source`](super::runner::Shell::run_source)) feeds lines to
//! an [`Accumulator`] until the text holds only complete statements, then
//! runs them:
//!
//! ```text
//!   line ──► Accumulator ──complete?──► split_statements ──► execute each, print
//!               │  tracks quotes and comments incrementally
//!               └─ not yet: read another line (continuation prompt "...>")
//! ```
//!
//! The accumulator scans each new line once, keeping the quote/comment
//! state between lines, so a statement of a million lines costs linear
//! time (re-running `is_complete` on the whole buffer per line would be
//! quadratic). Its rules are those of [`sql_shell::split_statements`]; a
//! property test checks that both agree.

use std::io::{self, BufRead};

/// What a source gives back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// One line, without its line end.
    Line(String),
    /// Ctrl-C at the prompt: drop the statement being typed.
    Interrupted,
    /// End of input (Ctrl-D at the prompt).
    Eof,
}

/// A source of lines; see the [module documentation](self).
pub trait LineSource {
    /// The next line, showing `prompt` when the source is a terminal.
    fn read_line(&mut self, prompt: &str) -> io::Result<Input>;
    /// Remember a complete entry (statement or meta command) in the
    /// history, when the source has one.
    fn add_history(&mut self, _entry: &str) {}
    /// True when the source completes names (asks for [`set_names`](Self::set_names)).
    fn wants_names(&self) -> bool {
        false
    }
    /// The catalog's names, for completion; given when the catalog changed.
    fn set_names(&mut self, _names: Vec<String>) {}
}

/// Lines of any buffered reader: a pipe, a file, a `-c` string.
pub struct ReaderSource<R> {
    reader: R,
    name: String,
    line: u64,
    buf: Vec<u8>,
}

impl<R: BufRead> ReaderSource<R> {
    /// A source named `name` (for messages) reading from `reader`.
    pub fn new(name: impl Into<String>, reader: R) -> Self {
        ReaderSource {
            reader,
            name: name.into(),
            line: 0,
            buf: Vec::new(),
        }
    }
}

impl<R: BufRead> LineSource for ReaderSource<R> {
    fn read_line(&mut self, _prompt: &str) -> io::Result<Input> {
        self.buf.clear();
        if self.reader.read_until(b'\n', &mut self.buf)? == 0 {
            return Ok(Input::Eof);
        }
        self.line += 1;
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
        }
        match String::from_utf8(std::mem::take(&mut self.buf)) {
            Ok(s) => Ok(Input::Line(s)),
            Err(e) => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{}: line {} is not valid UTF-8 (byte {} of the line)",
                    self.name,
                    self.line,
                    e.utf8_error().valid_up_to() + 1
                ),
            )),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Normal,
    Quote(u8),
    LineComment,
    BlockComment,
}

/// Collects lines until they form complete statements; see the
/// [module documentation](self).
#[derive(Debug)]
pub struct Accumulator {
    buf: String,
    /// Line number (in the source) of the buffer's first line.
    first_line: u64,
    /// Line number the next pushed line will have.
    next_line: u64,
    state: State,
    /// Significant text after the last `;` (an unterminated statement).
    pending: bool,
    /// Any significant text in the buffer at all.
    significant: bool,
}

impl Default for Accumulator {
    fn default() -> Self {
        Accumulator::new()
    }
}

impl Accumulator {
    /// An empty accumulator whose first line is line 1.
    pub fn new() -> Self {
        Accumulator {
            buf: String::new(),
            first_line: 1,
            next_line: 1,
            state: State::Normal,
            pending: false,
            significant: false,
        }
    }

    /// Append one line (a line end is added). A pasted "line" may hold
    /// line breaks of its own; they are counted.
    pub fn push_line(&mut self, line: &str) {
        let from = self.buf.len();
        self.buf.push_str(line);
        self.buf.push('\n');
        self.next_line += 1 + line.matches('\n').count() as u64;
        self.scan(from);
    }

    fn scan(&mut self, from: usize) {
        let bytes = self.buf.as_bytes();
        let (mut state, mut pending, mut significant) =
            (self.state, self.pending, self.significant);
        let mut i = from;
        while i < bytes.len() {
            let b = bytes[i];
            match state {
                State::Normal => match b {
                    b'\'' | b'"' | b'`' => {
                        (pending, significant) = (true, true);
                        state = State::Quote(b);
                    }
                    b'[' => {
                        (pending, significant) = (true, true);
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
                    b';' => pending = false,
                    _ if b.is_ascii_whitespace() => {}
                    _ => (pending, significant) = (true, true),
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
        self.state = state;
        self.pending = pending;
        self.significant = significant;
    }

    /// True when the buffer holds only complete statements (each ended by
    /// `;`), comments and blanks: time to run it.
    pub fn is_complete(&self) -> bool {
        !self.pending && matches!(self.state, State::Normal | State::LineComment)
    }

    /// True when the buffer holds no statement text (only blanks and
    /// comments, none left open): a meta command may start here.
    pub fn is_blank(&self) -> bool {
        !self.significant && matches!(self.state, State::Normal | State::LineComment)
    }

    /// The quote or comment left open at the end of the buffer, for the
    /// continuation prompt (`'`, `"`, `` ` ``, `]` or `*` for `/* */`).
    pub fn open_delimiter(&self) -> Option<char> {
        match self.state {
            State::Quote(q) => Some(q as char),
            State::BlockComment => Some('*'),
            _ => None,
        }
    }

    /// Take the buffer and the source line number of its first line; the
    /// accumulator starts afresh at the next line.
    pub fn take(&mut self) -> (String, u64) {
        let first = self.first_line;
        self.first_line = self.next_line;
        self.state = State::Normal;
        self.pending = false;
        self.significant = false;
        (std::mem::take(&mut self.buf), first)
    }

    /// Drop whatever is buffered (Ctrl-C), continuing the line count.
    pub fn clear(&mut self) {
        self.take();
    }

    /// Count a line that was consumed elsewhere (a meta command), dropping
    /// the blank buffer before it.
    pub fn skip_line(&mut self) {
        self.next_line += 1;
        self.take();
    }

    /// Number lines from 1 again when nothing is buffered (the prompt
    /// numbers each entry on its own).
    pub fn restart_numbering(&mut self) {
        if self.buf.is_empty() {
            self.first_line = 1;
            self.next_line = 1;
        }
    }

    /// The line number the next line will have.
    pub fn next_line(&self) -> u64 {
        self.next_line
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn complete_after(lines: &[&str]) -> bool {
        let mut a = Accumulator::new();
        for l in lines {
            a.push_line(l);
        }
        a.is_complete()
    }

    #[test]
    fn statements_complete_at_semicolons_outside_quotes_and_comments() {
        assert!(complete_after(&["select 1;"]));
        assert!(!complete_after(&["select 1"]));
        assert!(complete_after(&["select", "1;"]));
        assert!(!complete_after(&["select 'a;", "b'"]));
        assert!(complete_after(&["select 'a;", "b';"]));
        assert!(complete_after(&["select 1; -- trailing ; comment"]));
        assert!(!complete_after(&["select 1 -- not yet;"]));
        assert!(!complete_after(&["select /* open;", "still */"]));
        assert!(complete_after(&["select /* open;", "closed */ 1;"]));
        assert!(complete_after(&["select 'it''s';"]));
        assert!(complete_after(&[""]));
    }

    #[test]
    fn blank_buffers_and_line_numbers() {
        let mut a = Accumulator::new();
        a.push_line("-- comment");
        assert!(a.is_blank() && a.is_complete());
        a.skip_line(); // line 2: a meta command
        a.push_line("");
        a.push_line("select");
        assert!(!a.is_blank());
        assert_eq!(a.open_delimiter(), None);
        a.push_line("'x");
        assert_eq!(a.open_delimiter(), Some('\''));
        a.push_line("';");
        let (text, first) = a.take();
        assert_eq!(first, 3);
        assert_eq!(text, "\nselect\n'x\n';\n");
        assert_eq!(a.next_line(), 7);
        a.push_line("select 1;\nselect 2;");
        assert_eq!((a.take().1, a.next_line()), (7, 9));
    }

    #[test]
    fn reader_source_strips_line_ends_and_rejects_bad_utf8() {
        let mut s = ReaderSource::new("t", &b"a\r\nb\nc"[..]);
        assert_eq!(s.read_line("").unwrap(), Input::Line("a".into()));
        assert_eq!(s.read_line("").unwrap(), Input::Line("b".into()));
        assert_eq!(s.read_line("").unwrap(), Input::Line("c".into()));
        assert_eq!(s.read_line("").unwrap(), Input::Eof);
        let mut bad = ReaderSource::new("in.sql", &b"ok\n\xff\n"[..]);
        bad.read_line("").unwrap();
        let e = bad.read_line("").unwrap_err();
        assert!(e.to_string().contains("in.sql: line 2"), "{e}");
    }

    proptest! {
        /// The incremental scanner agrees with the library's `is_complete`
        /// on any text made of the characters that matter, however it is
        /// cut into lines.
        #[test]
        fn agrees_with_is_complete(
            text in "[a ;'\"`\\[\\]/*\\-\n]{0,40}",
        ) {
            let mut a = Accumulator::new();
            for line in text.split('\n') {
                a.push_line(line);
            }
            let joined: String = text.split('\n').map(|l| format!("{l}\n")).collect();
            prop_assert_eq!(a.is_complete(), sql_shell::is_complete(&joined), "{:?}", joined);
        }
    }
}
