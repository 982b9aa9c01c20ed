//! Test doubles for the shell's unit tests: a scripted line source that
//! records prompts and history, and output buffers the test can read.

use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;

use sql_shell::Session;

use super::input::{Input, LineSource};
use super::progress::{Interrupt, Progress};
use super::runner::Shell;
use super::settings::Settings;

/// A line source that plays back inputs and records what the shell did.
pub struct ScriptedSource {
    inputs: std::vec::IntoIter<Input>,
    /// Prompts shown, one per read.
    pub prompts: Vec<String>,
    /// History entries added.
    pub history: Vec<String>,
}

impl ScriptedSource {
    /// Play back `inputs`, then end.
    pub fn new(inputs: Vec<Input>) -> Self {
        ScriptedSource {
            inputs: inputs.into_iter(),
            prompts: Vec::new(),
            history: Vec::new(),
        }
    }

    /// Play back lines, then end.
    pub fn lines(lines: &[&str]) -> Self {
        ScriptedSource::new(
            lines
                .iter()
                .map(|l| Input::Line((*l).to_string()))
                .collect(),
        )
    }
}

impl LineSource for ScriptedSource {
    fn read_line(&mut self, prompt: &str) -> io::Result<Input> {
        self.prompts.push(prompt.to_string());
        Ok(self.inputs.next().unwrap_or(Input::Eof))
    }

    fn add_history(&mut self, entry: &str) {
        self.history.push(entry.to_string());
    }
}

/// A shared in-memory output stream.
#[derive(Clone, Default)]
pub struct Buffer(Rc<RefCell<Vec<u8>>>);

impl Buffer {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.borrow().clone()).unwrap()
    }

    /// Everything written so far, emptying the buffer.
    pub fn take(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.0.borrow_mut())).unwrap()
    }
}

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A non-interactive shell over `session` writing into buffers.
pub fn shell_over(session: Session) -> (Shell, Buffer, Buffer) {
    let out = Buffer::default();
    let err = Buffer::default();
    let interrupt = Interrupt::new();
    let shell = Shell::new(
        session,
        ":memory:".into(),
        Settings::default(),
        Box::new(out.clone()),
        Box::new(err.clone()),
        interrupt.clone(),
        Progress::new(false, interrupt),
    );
    (shell, out, err)
}
