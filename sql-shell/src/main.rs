//! `sql-shell`: the SQL shell binary. Everything lives in the [`shell`]
//! module; see its documentation and `sql-shell --help`.

mod shell;

fn main() -> std::process::ExitCode {
    shell::main()
}
