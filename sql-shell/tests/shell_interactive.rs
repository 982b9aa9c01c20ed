//! The interactive shell under a pseudo-terminal, driven like a person at
//! a keyboard: prompts, statements over several lines, Ctrl-C to drop a
//! half-typed statement, errors that do not end the session, `.timer`, tab
//! completion, the transaction prompt, Ctrl-D to leave, history kept across
//! sessions, and Ctrl-C while results stream or a statement runs (with the
//! spinner that a long statement shows).

mod common;

use std::fs::File;
use std::io::{Read, Write};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Env;
use nix::pty::{Winsize, openpty};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// A shell running on the slave side of a pty; we hold the master.
struct Term {
    child: Child,
    master: File,
    seen: Arc<Mutex<Vec<u8>>>,
    /// Everything before this offset has been matched already.
    cursor: usize,
}

impl Term {
    fn spawn(env: &Env, args: &[&str]) -> Term {
        let size = Winsize {
            ws_row: 40,
            ws_col: 120,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = openpty(Some(&size), None).expect("openpty");
        let slave = File::from(pty.slave);
        let child = common::command(env.home())
            .args(args)
            .env("TERM", "xterm")
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave))
            .spawn()
            .expect("spawn sql-shell on a pty");
        let master = File::from(pty.master);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut reader = master.try_clone().unwrap();
        let sink = Arc::clone(&seen);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // Ends with EIO once the child has exited and the slave is closed.
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Term {
            child,
            master,
            seen,
            cursor: 0,
        }
    }

    fn send(&mut self, keys: &str) {
        self.master.write_all(keys.as_bytes()).unwrap();
        self.master.flush().unwrap();
    }

    /// Wait until `needle` appears after the last match; return what came
    /// before it.
    fn expect(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            {
                let seen = self.seen.lock().unwrap();
                let text = String::from_utf8_lossy(&seen[self.cursor..]).into_owned();
                if let Some(i) = text.find(needle) {
                    let before = text[..i].to_string();
                    self.cursor += text[..i + needle.len()].len();
                    return before;
                }
                if Instant::now() > deadline {
                    panic!(
                        "timed out waiting for {needle:?}; the screen since the last match:\n{text}"
                    );
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn wait(mut self) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the shell did not exit");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn signal(&self, sig: Signal) {
        kill(Pid::from_raw(self.child.id() as i32), sig).unwrap();
    }
}

#[test]
fn a_session_at_the_keyboard() {
    let env = Env::new();
    let db = env.db("kb.db");
    let mut t = Term::spawn(&env, &[&db]);
    let banner = t.expect("Enter .help for help.");
    assert!(
        banner.contains(&db),
        "the banner names the database: {banner}"
    );
    t.expect("hive> ");

    t.send("create table t (a integer primary key, b text);\r");
    t.expect("CREATE TABLE");
    t.expect("hive> ");

    // A statement over two lines: the continuation prompt, then the result.
    t.send("insert into t values\r");
    t.expect("   ...> ");
    t.send("(1, 'x'), (2, 'y');\r");
    t.expect("INSERT 2");
    t.expect("hive> ");

    // Ctrl-C drops the half-typed statement, the shell goes on.
    t.send("select * from t where");
    t.send("\x03");
    t.expect("hive> ");
    t.send("select count(*) as n from t;\r");
    let shown = t.expect("(1 row)");
    assert!(shown.contains(" n\r\n---\r\n 2\r\n"), "{shown:?}");
    t.expect("hive> ");

    // Errors are reported and the session continues.
    t.send("select nope from t;\r");
    t.expect("no such column: nope");
    t.expect("hive> ");

    // Tab completes meta commands and keywords.
    t.send(".tab\t\r");
    t.expect(".tables");
    t.expect("\r\nt\r\n");
    t.expect("hive> ");
    t.send("select coun\t(*) as c from t;\r");
    let shown = t.expect("(1 row)");
    assert!(shown.contains(" c\r\n---\r\n 2\r\n"), "{shown:?}");
    t.expect("hive> ");

    // .timer on prints the time after each statement.
    t.send(".timer on\r");
    t.expect("Timer is on.");
    t.expect("hive> ");
    t.send("select 1 as one;\r");
    t.expect("(1 row)");
    t.expect("Time: ");
    t.expect(" ms");
    t.expect("hive> ");
    t.send(".timer off\r");
    t.expect("Timer is off.");
    t.expect("hive> ");

    // The prompt shows an open transaction.
    t.send("begin;\r");
    t.expect("BEGIN");
    t.expect("hive*> ");
    t.send("rollback;\r");
    t.expect("ROLLBACK");
    t.expect("hive> ");

    t.send("select 'from history' as h;\r");
    t.expect("(1 row)");
    t.expect("hive> ");
    // Ctrl-D leaves with status 0, even after errors.
    t.send("\x04");
    assert_eq!(t.wait(), 0);

    let history = std::fs::read_to_string(env.home().join("state/hive/history")).unwrap();
    assert!(history.contains("insert into t values"), "{history}");
    assert!(history.contains("select 'from history' as h;"), "{history}");

    // A new session: the up arrow brings back the last statement.
    let mut t = Term::spawn(&env, &[&db]);
    t.expect("hive> ");
    t.send("\x1b[A");
    t.expect("select 'from history' as h;");
    t.send("\r");
    let shown = t.expect("(1 row)");
    assert!(shown.contains(" from history\r\n"), "{shown:?}");
    t.send(".quit\r");
    assert_eq!(t.wait(), 0);
}

#[test]
fn ctrl_c_stops_streaming_output_and_twice_leaves() {
    let env = Env::new();
    let db = env.db("big.db");
    env.run(
        &[
            &db,
            "-q",
            "-c",
            "create table d (x integer primary key); insert into d values (0),(1),(2),(3),(4),(5),(6),(7),(8),(9); \
             create table n (x integer primary key); \
             insert into n select a.x * 1000 + b.x * 100 + c.x * 10 + e.x from d a, d b, d c, d e",
        ],
        "",
    )
    .ok();
    let mut t = Term::spawn(&env, &[&db, "--csv"]);
    t.expect("hive> ");
    // 100 million rows: only Ctrl-C ends this in time.
    t.send("select a.x, b.x from n a, n b;\r");
    t.expect("\n0,5000\r");
    t.signal(Signal::SIGINT);
    t.expect("interrupted: output stopped after ");
    t.expect("hive> ");
    t.send("select 'still here' as s;\r");
    t.expect("still here");
    t.expect("hive> ");

    // A statement that computes before printing cannot be stopped midway;
    // a second Ctrl-C leaves the shell (status 130).
    // The spinner shows it running, then that a cancel was asked for.
    t.send("select count(*) from n a, n b, d c;\r");
    t.expect("select count(*) ... ");
    t.signal(Signal::SIGINT);
    t.expect("cannot be interrupted");
    t.signal(Signal::SIGINT);
    assert_eq!(t.wait(), 130);

    // The database is intact afterwards.
    let r = env
        .run(
            &[
                &db,
                "--no-header",
                "-c",
                "select count(*) from n",
                "-c",
                ".check",
            ],
            "",
        )
        .ok();
    assert!(r.stdout.starts_with(" 10000\n"), "{r:#?}");
    assert!(r.stdout.contains(": ok"), "{r:#?}");
}

/// `.export` and `COPY ... TO` at the prompt: a progress bar with rows and
/// a clean rate on the terminal, Ctrl-C stops them with no file (and no
/// temporary file) left, and the shell goes on.
#[test]
fn exports_show_progress_and_stop_at_ctrl_c() {
    let env = Env::new();
    let db = env.db("x.db");
    env.run(
        &[
            &db,
            "-q",
            "-c",
            "create table d (x integer primary key); insert into d values (0),(1),(2),(3),(4),(5),(6),(7),(8),(9); \
             create table n (x integer primary key); \
             insert into n select a.x * 1000 + b.x * 100 + c.x * 10 + e.x from d a, d b, d c, d e",
        ],
        "",
    )
    .ok();
    let out = env.home().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let a = out.join("a.csv");
    let b = out.join("b.parquet");
    let mut t = Term::spawn(&env, &[&db]);
    t.expect("hive> ");
    // 100 million rows: only Ctrl-C ends these in time.
    t.send(&format!(
        ".export {} select a.x, b.x from n a, n b\r",
        a.display()
    ));
    t.expect("exporting ");
    let bar = t.expect(" rows/s");
    assert!(!bar.contains("/s rows"), "{bar:?}");
    t.signal(Signal::SIGINT);
    t.expect("interrupted after ");
    t.expect("hive> ");
    t.send(&format!(
        "COPY (select a.x, b.x from n a, n b) TO '{}';\r",
        b.display()
    ));
    t.expect("exporting ");
    t.expect(" rows/s");
    t.signal(Signal::SIGINT);
    t.expect("interrupted after ");
    t.expect("hive> ");
    // Nothing was left behind, not even a temporary file.
    let left: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    t.send(&format!("COPY d TO '{}';\r", a.display()));
    t.expect("COPY 10 rows to ");
    t.expect("hive> ");
    t.send(".quit\r");
    assert_eq!(t.wait(), 0);
    assert!(
        std::fs::read_to_string(&a)
            .unwrap()
            .starts_with("x\n0\n1\n")
    );
}
