//! `.stats`: the store's statistics in a form a person reads.
//!
//! A store reports an ordered list of named counters ([`kv_api::Stats`]):
//! dotted names such as `bytes.written.user` or `level.1.files`, each
//! backend documenting its own. The engine adds counters as it grows, so
//! nothing here depends on a particular list; the rendering follows the
//! naming conventions only:
//!
//! ```text
//!   name                          shown as
//!   first dotted segment          the group (in order of first appearance;
//!                                 names without a dot go to "general")
//!   a segment "bytes"             a size: 12.4 MB
//!   ends in "_micros" / ".micros" a duration: 1.25 s
//!   ends in ".x1000"              a ratio: 1.234 (the suffix dropped)
//!   level.N.files / level.N.bytes one table row per level (L0, L1, ...)
//!   cache.X.hits + cache.X.misses an extra "hit ratio" line
//!   anything else                 a count with thousands separators
//! ```
//!
//! `.stats raw` prints the list as it is (`name value`, one a line) for
//! scripts.

use std::fmt::Write as _;

use kv_api::Stats;

/// Every counter of `stats` as `name value` lines, after a `backend` line.
pub fn raw(stats: &Stats) -> String {
    let mut out = format!("backend {}\n", stats.backend());
    for (n, v) in stats.entries() {
        let _ = writeln!(out, "{n} {v}");
    }
    out
}

/// The grouped, human form; see the [module documentation](self).
pub fn render(stats: &Stats) -> String {
    let mut groups: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let mut levels: Vec<(u64, Option<u64>, Option<u64>)> = Vec::new();
    for (name, value) in stats.entries() {
        if let Some((level, what)) = level_entry(name) {
            let at = match levels.iter().position(|(l, _, _)| *l == level) {
                Some(i) => i,
                None => {
                    levels.push((level, None, None));
                    levels.len() - 1
                }
            };
            match what {
                "files" => levels[at].1 = Some(*value),
                _ => levels[at].2 = Some(*value),
            }
            continue;
        }
        let (name, ratio) = match name.strip_suffix(".x1000") {
            Some(n) => (n, true),
            None => (name.as_str(), false),
        };
        let (group, rest) = match name.split_once('.') {
            Some((g, r)) => (g.to_string(), r.to_string()),
            None => ("general".to_string(), name.to_string()),
        };
        let shown = show(name, *value, ratio);
        let label = rest;
        match groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, entries)) => entries.push((label, shown)),
            None => groups.push((group, vec![(label, shown)])),
        }
    }
    for (group, entries) in &mut groups {
        entries.extend(hit_ratios(group, stats));
    }

    let mut out = format!("backend: {}\n", stats.backend());
    for (group, entries) in &groups {
        let w = entries
            .iter()
            .map(|(l, _)| l.chars().count())
            .max()
            .unwrap_or(0);
        let vw = entries
            .iter()
            .map(|(_, v)| v.chars().count())
            .max()
            .unwrap_or(0);
        let _ = writeln!(out, "{group}:");
        for (label, value) in entries {
            let _ = writeln!(out, "  {label:<w$}  {value:>vw$}");
        }
    }
    if !levels.is_empty() {
        levels.sort_by_key(|(l, _, _)| *l);
        let rows: Vec<(String, String, String)> = levels
            .iter()
            .map(|(l, files, bytes)| {
                (
                    format!("L{l}"),
                    files.map_or_else(|| "-".into(), count),
                    bytes.map_or_else(|| "-".into(), size),
                )
            })
            .collect();
        let fw = rows.iter().map(|r| r.1.len()).max().unwrap_or(0).max(5);
        let bw = rows.iter().map(|r| r.2.len()).max().unwrap_or(0).max(5);
        let _ = writeln!(out, "levels:");
        let _ = writeln!(out, "  {:<5} {:>fw$}  {:>bw$}", "", "files", "bytes");
        for (l, f, b) in rows {
            let _ = writeln!(out, "  {l:<5} {f:>fw$}  {b:>bw$}");
        }
    }
    out
}

/// `level.3.files` → `(3, "files")`.
fn level_entry(name: &str) -> Option<(u64, &str)> {
    let rest = name.strip_prefix("level.")?;
    let (n, what) = rest.split_once('.')?;
    let n = n.parse().ok()?;
    matches!(what, "files" | "bytes").then_some((n, what))
}

/// The text of one counter's value, by its name (`ratio`: the name ended
/// in `.x1000`).
fn show(name: &str, v: u64, ratio: bool) -> String {
    if ratio {
        format!("{:.3}", v as f64 / 1000.0)
    } else if name.ends_with("_micros") || name.ends_with(".micros") || name == "micros" {
        micros(v)
    } else if name
        .split('.')
        .any(|s| s == "bytes" || s.ends_with("_bytes"))
    {
        size(v)
    } else {
        count(v)
    }
}

/// For each `GROUP.X.hits` with a `GROUP.X.misses`, an `X hit ratio`
/// line.
fn hit_ratios(group: &str, stats: &Stats) -> Vec<(String, String)> {
    let prefix = format!("{group}.");
    let mut out = Vec::new();
    for (name, hits) in stats.entries() {
        let Some(kind) = name
            .strip_prefix(&prefix)
            .and_then(|r| r.strip_suffix(".hits"))
        else {
            continue;
        };
        if let Some(misses) = stats.get(&format!("{prefix}{kind}.misses")) {
            let total = hits.saturating_add(misses);
            let ratio = if total == 0 {
                "-".to_string()
            } else {
                format!("{:.1}%", 100.0 * *hits as f64 / total as f64)
            };
            out.push((format!("{kind}.hit_ratio"), ratio));
        }
    }
    out
}

/// `1234567` → `1,234,567`.
pub fn count(n: u64) -> String {
    sql_shell::export::progress::group_thousands(n)
}

/// `12400000` → `12.4 MB` (decimal units, as the export summary).
fn size(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    if b < 1000 {
        return format!("{b} B");
    }
    let mut v = b as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// Microseconds as `850 µs`, `12.3 ms`, `4.56 s`.
fn micros(us: u64) -> String {
    if us < 1000 {
        format!("{us} µs")
    } else if us < 1_000_000 {
        format!("{:.1} ms", us as f64 / 1e3)
    } else {
        format!("{:.2} s", us as f64 / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rendering rules on made-up names (the contract: conventions,
    /// not a list of engine counters).
    #[test]
    fn golden_rendering() {
        let mut s = Stats::new("engine");
        s.push("sequence", 1_234_567);
        s.push("bytes.written.user", 12_400_000);
        s.push("bytes.written.log", 512);
        s.push("write_amplification.x1000", 2_345);
        s.push("writes.stall_micros", 1_500_000);
        s.push("writes.slowdowns", 3);
        s.push("cache.block.hits", 90);
        s.push("cache.block.misses", 10);
        s.push("cache.block.bytes", 8_388_608);
        s.push("level.0.files", 4);
        s.push("level.0.bytes", 16_000_000);
        s.push("level.1.files", 12);
        s.push("level.1.bytes", 1_200_000_000);
        s.push("memtable.approx_bytes", 2_000);
        let want = "\
backend: engine
general:
  sequence             1,234,567
  write_amplification      2.345
bytes:
  written.user  12.4 MB
  written.log     512 B
writes:
  stall_micros  1.50 s
  slowdowns          3
cache:
  block.hits           90
  block.misses         10
  block.bytes      8.4 MB
  block.hit_ratio   90.0%
memtable:
  approx_bytes  2.0 kB
levels:
        files    bytes
  L0        4  16.0 MB
  L1       12   1.2 GB
";
        assert_eq!(render(&s), want);
        assert_eq!(
            raw(&s).lines().take(3).collect::<Vec<_>>(),
            [
                "backend engine",
                "sequence 1234567",
                "bytes.written.user 12400000"
            ]
        );
    }

    /// The engine's real statistics: whatever names it reports, every
    /// counter is shown (by its last name segment) and the few stable ones
    /// are where a user looks for them.
    #[test]
    fn engine_statistics_are_all_shown() {
        let dir = tempfile::tempdir().unwrap();
        let mut session = sql_shell::Session::open(Some(&dir.path().join("db"))).unwrap();
        session
            .execute("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)")
            .unwrap();
        session
            .execute("INSERT INTO t VALUES (1, 'x'), (2, 'y')")
            .unwrap();
        let stats = session.store().stats();
        let text = render(&stats);
        assert!(text.starts_with("backend: engine\n"), "{text}");
        assert!(
            text.contains("\nlevels:\n") && text.contains("\n  L0 "),
            "{text}"
        );
        assert!(text.contains("\nbytes:\n  written.user "), "{text}");
        for (name, _) in stats.entries() {
            let last = name
                .trim_end_matches(".x1000")
                .rsplit('.')
                .next()
                .unwrap_or(name);
            assert!(
                name.starts_with("level.") || text.contains(last),
                "{name} missing from\n{text}"
            );
        }
        let r = raw(&stats);
        assert_eq!(r.lines().count(), stats.entries().len() + 1);
        assert!(r.contains("\nbytes.written.user "), "{r}");
        session.database().close().unwrap();
    }

    #[test]
    fn number_forms() {
        assert_eq!(count(0), "0");
        assert_eq!(count(1000), "1,000");
        assert_eq!(size(999), "999 B");
        assert_eq!(size(1_000), "1.0 kB");
        assert_eq!(size(u64::MAX), "18446744.1 TB");
        assert_eq!(micros(999), "999 µs");
        assert_eq!(micros(12_345), "12.3 ms");
        assert_eq!(show("compaction.micros", 2_000_000, false), "2.00 s");
        assert_eq!(show("level.9.bytes", 1, false), "1 B");
        assert_eq!(show("a.x", 1_000, false), "1,000");
        let mut s = Stats::new("x");
        s.push("cache.row.hits", 0);
        s.push("cache.row.misses", 0);
        assert!(render(&s).contains("row.hit_ratio  -"), "{}", render(&s));
    }
}
