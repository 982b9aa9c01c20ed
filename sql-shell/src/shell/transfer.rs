//! `.export` and `.import`: tables and query results to and from Parquet,
//! Arrow IPC and CSV files, through the same code as `COPY ... TO/FROM`
//! ([`copy::export_source`], [`copy::import_table`]).
//!
//! ```text
//! .export [--format F] [--compression C] [--row-group-size N] [--overwrite] [--no-header] FILE TABLE|QUERY
//! .import [--format F] [--no-header] [--commit-every N] FILE TABLE
//! ```
//!
//! The format comes from the file's extension (`.parquet`, `.arrow`,
//! `.csv`) unless `--format` says otherwise. An export writes a temporary
//! file and renames it into place when complete, and never replaces an
//! existing file without `--overwrite`. An import checks every value
//! against the table's columns and loads nothing if one does not fit
//! (naming its row and column), unless `--commit-every N` asks for batches.
//!
//! A table is exported with its declared types and nullability, as the
//! session sees it (an open transaction's changes included; outside a
//! transaction through the fast snapshot scan, as `COPY t TO`). On a
//! terminal a progress bar shows rows and rows per second; Ctrl-C stops an
//! export (no file is left behind) or an import (nothing more committed).

use std::path::Path;

use sql_shell::export::copy::{self, CopySource};
use sql_shell::export::{ExportOptions, ImportOptions, Progress};

use super::diagnostic::message;
use super::runner::Shell;

/// The first word of `s` (quotes group, as in other meta commands) and
/// the text after it.
fn next_word(s: &str) -> Option<(String, &str)> {
    let s = s.trim_start();
    let mut chars = s.char_indices();
    let (_, first) = chars.next()?;
    if first == '\'' || first == '"' {
        let end = s[1..].find(first)? + 1;
        return Some((s[1..end].to_string(), &s[end + 1..]));
    }
    let end = s.find(char::is_whitespace).unwrap_or(s.len());
    Some((s[..end].to_string(), &s[end..]))
}

/// Leading `--option [value]` words, then the file, then the rest.
fn parse<'a>(
    rest: &'a str,
    flags: &[&str],
    mut set: impl FnMut(&str, Option<&str>) -> Result<(), String>,
) -> Result<(String, &'a str), String> {
    let mut rest = rest;
    loop {
        let (word, after) = next_word(rest).ok_or("a file name is missing")?;
        let Some(name) = word.strip_prefix("--") else {
            return Ok((word, after));
        };
        let key = name.replace('-', "_");
        if flags.contains(&key.as_str()) {
            set(&key, None)?;
            rest = after;
        } else {
            let (value, after) =
                next_word(after).ok_or_else(|| format!("--{name} needs a value"))?;
            set(&key, Some(&value))?;
            rest = after;
        }
    }
}

/// `.export ...`; see the [module documentation](self).
pub fn export(shell: &mut Shell, rest: &str) -> Result<(), String> {
    let mut opts = ExportOptions::default();
    let (file, source) = parse(rest, &["overwrite", "no_header"], |k, v| {
        if k == "no_header" {
            opts.header = false;
            return Ok(());
        }
        opts.set(k, v).map_err(|e| e.to_string())
    })?;
    let source = source.trim().trim_end_matches(';').trim();
    if source.is_empty() {
        return Err(".export needs a table name or a query after the file name".into());
    }
    let catalog = shell.session.catalog();
    let source = match catalog.find_table(source) {
        Some(t) => CopySource::Table {
            name: t.name().to_string(),
            columns: Vec::new(),
        },
        None if source.split_whitespace().count() == 1 && !source.contains('(') => {
            return Err(super::schema::no_table(&catalog, source));
        }
        None => CopySource::Query(source.to_string()),
    };
    let path = Path::new(&file);
    if path.exists() && !opts.overwrite {
        return Err(format!(
            "{} already exists (use .export --overwrite to replace it)",
            path.display()
        ));
    }
    shell.interrupt.clear();
    let interrupt = shell.interrupt.clone();
    let mut progress =
        Progress::bar(shell.progress.enabled(), "exporting").with_cancel(interrupt.flag());
    let summary = copy::export_source(&mut shell.session, &source, path, &opts, &mut progress)
        .map_err(|e| message(&e))?;
    drop(progress);
    shell.tag(&summary.to_string())
}

/// `.import ...`; see the [module documentation](self).
pub fn import(shell: &mut Shell, rest: &str) -> Result<(), String> {
    let mut opts = ImportOptions::default();
    let (file, table) = parse(rest, &["no_header"], |k, v| {
        if k == "no_header" {
            opts.header = false;
            return Ok(());
        }
        opts.set(k, v).map_err(|e| e.to_string())
    })?;
    let (table, extra) =
        next_word(table).ok_or(".import needs a table name after the file name")?;
    if !extra.trim().is_empty() {
        return Err(format!(
            ".import takes FILE TABLE; unexpected {:?}",
            extra.trim()
        ));
    }
    if shell.session.in_transaction() {
        return Err(".import runs in its own transaction: COMMIT or ROLLBACK first".into());
    }
    let catalog = shell.session.catalog();
    if catalog.find_table(&table).is_none() {
        return Err(super::schema::no_table(&catalog, &table));
    }
    shell.interrupt.clear();
    let interrupt = shell.interrupt.clone();
    let mut progress =
        Progress::bar(shell.progress.enabled(), "importing").with_cancel(interrupt.flag());
    let summary = copy::import_table(
        &mut shell.session,
        &table,
        &[],
        Path::new(&file),
        &opts,
        &mut progress,
    )
    .map_err(|e| message(&e))?;
    drop(progress);
    shell.tag(&summary.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::testing::shell_over;
    use sql_shell::Session;

    #[test]
    fn words_and_options() {
        assert_eq!(next_word("  a b"), Some(("a".into(), " b")));
        assert_eq!(next_word("'x y' z"), Some(("x y".into(), " z")));
        assert_eq!(next_word("   "), None);
        let mut seen = Vec::new();
        let (file, rest) = parse(
            "--overwrite --format csv out.csv select 'a b'",
            &["overwrite"],
            |k, v| {
                seen.push((k.to_string(), v.map(str::to_string)));
                Ok(())
            },
        )
        .unwrap();
        assert_eq!((file.as_str(), rest), ("out.csv", " select 'a b'"));
        assert_eq!(
            seen,
            vec![
                ("overwrite".into(), None),
                ("format".into(), Some("csv".into()))
            ]
        );
        assert!(parse("--format", &[], |_, _| Ok(())).is_err());
    }

    /// `.export` and `COPY ... TO` run one code path: both see an open
    /// transaction's rows, both write the same file, and a Ctrl-C that
    /// came before the command does not cancel it.
    #[test]
    fn export_and_copy_agree_inside_and_outside_transactions() {
        let dir = tempfile::tempdir().unwrap();
        let (mut sh, out, err) = shell_over(Session::open(None).unwrap());
        sh.run_chunk(
            "create table t (id integer primary key, v text);
             insert into t values (1, 'a'), (2, 'b');
             begin; insert into t values (3, 'uncommitted');",
            1,
            "t",
        );
        out.take();
        sh.interrupt.set();
        let a = dir.path().join("a.csv");
        let b = dir.path().join("b.csv");
        sh.run_meta(&format!(".export {} t", a.display()), "t", 1);
        sh.run_chunk(&format!("COPY t TO '{}';", b.display()), 1, "t");
        let o = out.take();
        assert_eq!(o.matches("COPY 3 rows to ").count(), 2, "{o}{}", err.text());
        let want = "id,v\n1,a\n2,b\n3,uncommitted\n";
        assert_eq!(std::fs::read_to_string(&a).unwrap(), want);
        assert_eq!(std::fs::read_to_string(&b).unwrap(), want);
        sh.run_chunk("rollback;", 1, "t");
        sh.run_meta(&format!(".export --overwrite {} t", a.display()), "t", 1);
        sh.run_chunk(&format!("COPY t TO '{}' (OVERWRITE);", b.display()), 1, "t");
        let want = "id,v\n1,a\n2,b\n";
        assert_eq!(std::fs::read_to_string(&a).unwrap(), want);
        assert_eq!(std::fs::read_to_string(&b).unwrap(), want);
        // A query, and an import into a table through COPY FROM.
        sh.run_meta(
            &format!(
                ".export --overwrite {} select v, id * 10 as x from t",
                a.display()
            ),
            "t",
            1,
        );
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "v,x\na,10\nb,20\n");
        assert_eq!(err.text(), "");
        assert_eq!(sh.failures(), 0);
    }

    #[test]
    fn export_then_import_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let (mut sh, out, err) = shell_over(Session::open(None).unwrap());
        sh.run_chunk(
            "create table t (id integer primary key, name text, score real not null);
             insert into t values (1, 'a', 1.5), (2, NULL, 2.5), (3, 'it''s', -1.0);
             create table u (id integer primary key, name text, score real not null);",
            1,
            "t",
        );
        out.take();
        for ext in ["parquet", "arrow", "csv"] {
            let file = dir.path().join(format!("t.{ext}"));
            let f = file.display();
            sh.run_meta(&format!(".export {f} t"), "t", 1);
            assert!(out.take().starts_with("COPY 3 rows to "), "{}", err.text());
            // Without --overwrite the file is kept.
            sh.run_meta(&format!(".export {f} select 1"), "t", 1);
            assert!(err.take().contains("exists"));
            sh.run_meta(
                &format!(".export --overwrite {f} select id, name from t where id > 1"),
                "t",
                1,
            );
            assert!(out.take().starts_with("COPY 2 rows to "));
            sh.run_meta(&format!(".export --overwrite {f} t"), "t", 1);
            out.take();
            sh.run_chunk("delete from u;", 1, "t");
            sh.run_meta(&format!(".import {f} u"), "t", 1);
            assert!(
                out.take().contains("COPY 3 rows from "),
                "{ext}: {}",
                err.text()
            );
            sh.settings.mode = crate::shell::settings::Mode::Csv;
            sh.run_chunk("select * from u order by id;", 1, "t");
            sh.settings.mode = crate::shell::settings::Mode::Table;
            assert_eq!(
                out.take(),
                "id,name,score\r\n1,a,1.5\r\n2,,2.5\r\n3,it's,-1.0\r\n",
                "{ext}"
            );
        }
        assert_eq!(err.text(), "");
        sh.run_meta(".export x.parquet nosuch", "t", 1);
        sh.run_meta(".import x.parquet nosuch", "t", 1);
        sh.run_meta(".export", "t", 1);
        assert!(
            err.text().contains("no such table: nosuch"),
            "{}",
            err.text()
        );
        assert_eq!(sh.failures(), 6);
    }
}
