//! Run a SQL script from stdin through the library API and print results:
//! the smallest complete use of [`sql_shell::Session`].
//!
//! ```text
//! cargo run --release -p sql-shell --example run_sql -- [PATH | :memory:] < script.sql
//! ```

use std::io::Read;

use sql_shell::{Output, Session, display, split_statements};

fn main() {
    let path = std::env::args().nth(1);
    let mut session = match Session::open(path.as_deref().map(std::path::Path::new)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let mut script = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut script) {
        eprintln!("error: reading stdin: {e}");
        std::process::exit(1);
    }
    let mut failed = false;
    for stmt in split_statements(&script) {
        match session.execute(stmt.text) {
            Ok(Output::Rows(rows)) => {
                for r in rows {
                    match r {
                        Ok(r) => {
                            let cells: Vec<String> =
                                r.iter().map(|v| display(v).into_owned()).collect();
                            println!("{}", cells.join("|"));
                        }
                        Err(e) => {
                            eprintln!("error at line {}: {e}", stmt.line);
                            failed = true;
                            break;
                        }
                    }
                }
            }
            Ok(Output::Affected { verb, count }) => println!("{verb} {count}"),
            Ok(Output::Message(m)) => println!("{m}"),
            Ok(Output::Explain(lines)) => lines.iter().for_each(|l| println!("{l}")),
            Err(e) => {
                eprintln!("error at line {}: {e}", stmt.line);
                failed = true;
            }
        }
    }
    if failed {
        std::process::exit(1);
    }
}
