//! What an export or import is asked to do: the file format, Parquet
//! compression and row-group size, the CSV header, overwriting, batch
//! commits, the progress bar.
//!
//! The same options come from `COPY ... (FORMAT parquet, COMPRESSION zstd)`
//! and from the shell's `.export`/`.import`; [`ExportOptions::set`] and
//! [`ImportOptions::set`] take them as name/value pairs so every front end
//! parses them alike. Names are case-insensitive.
//!
//! | option           | values                         | default                |
//! |------------------|--------------------------------|------------------------|
//! | FORMAT           | parquet, arrow (ipc), csv      | from the extension     |
//! | COMPRESSION      | snappy, zstd, none             | snappy (Parquet only)  |
//! | ROW_GROUP_SIZE   | rows per Parquet row group     | 122,880 (as DuckDB)    |
//! | HEADER           | true/false (CSV)               | true                   |
//! | OVERWRITE        | true/false                     | false                  |
//! | BATCH_SIZE       | rows per Arrow batch           | 8,192                  |
//! | COMMIT_EVERY     | rows per commit (import)       | none: one transaction  |

use std::path::Path;

use super::batch::DEFAULT_BATCH_SIZE;
use super::error::{ExportError, Result};

/// Rows per Parquet row group unless asked otherwise: DuckDB's default,
/// which keeps the writer's buffered row group to a few megabytes for
/// typical rows while still giving readers large column chunks.
pub const DEFAULT_ROW_GROUP_SIZE: usize = 122_880;

/// A file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Apache Parquet.
    Parquet,
    /// Arrow IPC file format (Feather v2).
    Arrow,
    /// RFC 4180 CSV.
    Csv,
}

impl Format {
    /// The format a path's extension names: `.parquet`/`.pq`, `.arrow`/
    /// `.feather`/`.ipc`, `.csv`.
    ///
    /// ```
    /// use sql_shell::export::Format;
    /// assert_eq!(Format::from_path("out/t.PARQUET".as_ref()), Some(Format::Parquet));
    /// assert_eq!(Format::from_path("t.txt".as_ref()), None);
    /// ```
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "parquet" | "pq" => Some(Format::Parquet),
            "arrow" | "feather" | "ipc" | "arrows" => Some(Format::Arrow),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }

    /// Parse a FORMAT option value.
    ///
    /// ```
    /// use sql_shell::export::Format;
    /// assert_eq!(Format::parse("IPC").unwrap(), Format::Arrow);
    /// assert!(Format::parse("json").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Format> {
        match s.to_ascii_lowercase().as_str() {
            "parquet" => Ok(Format::Parquet),
            "arrow" | "ipc" | "feather" => Ok(Format::Arrow),
            "csv" => Ok(Format::Csv),
            other => Err(ExportError::option(format!(
                "unknown FORMAT {other}; use parquet, arrow or csv"
            ))),
        }
    }

    /// The explicit format, or the one the path's extension names.
    pub fn resolve(explicit: Option<Format>, path: &Path) -> Result<Format> {
        explicit.or_else(|| Format::from_path(path)).ok_or_else(|| {
            ExportError::option(format!(
                "cannot tell the format of {} from its extension; add FORMAT parquet, arrow or csv",
                path.display()
            ))
        })
    }

    /// The lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Arrow => "arrow",
            Format::Csv => "csv",
        }
    }
}

/// Parquet page compression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Snappy: fast, moderate ratio (the default, as in DuckDB and Spark).
    Snappy,
    /// Zstandard at level 3: slower, smaller.
    Zstd,
    /// No compression.
    None,
}

impl Compression {
    /// Parse a COMPRESSION option value.
    pub fn parse(s: &str) -> Result<Compression> {
        match s.to_ascii_lowercase().as_str() {
            "snappy" => Ok(Compression::Snappy),
            "zstd" | "zstandard" => Ok(Compression::Zstd),
            "none" | "uncompressed" => Ok(Compression::None),
            other => Err(ExportError::option(format!(
                "unknown COMPRESSION {other}; use snappy, zstd or none"
            ))),
        }
    }
}

/// Options of an export; see the [module documentation](self).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportOptions {
    /// The format; `None` to infer it from the extension.
    pub format: Option<Format>,
    /// Parquet compression.
    pub compression: Compression,
    /// Rows per Parquet row group.
    pub row_group_size: usize,
    /// Rows per Arrow record batch.
    pub batch_size: usize,
    /// Write a CSV header line.
    pub header: bool,
    /// Replace an existing target.
    pub overwrite: bool,
    /// Show a progress bar on stderr when it is a terminal.
    pub progress: bool,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            format: None,
            compression: Compression::Snappy,
            row_group_size: DEFAULT_ROW_GROUP_SIZE,
            batch_size: DEFAULT_BATCH_SIZE,
            header: true,
            overwrite: false,
            progress: false,
        }
    }
}

impl ExportOptions {
    /// Set an option by name; `value` is `None` for a bare flag
    /// (`OVERWRITE`, `HEADER`), which means true.
    ///
    /// ```
    /// use sql_shell::export::{Compression, ExportOptions};
    /// let mut o = ExportOptions::default();
    /// o.set("compression", Some("zstd"))?;
    /// o.set("OVERWRITE", None)?;
    /// o.set("row_group_size", Some("1000"))?;
    /// assert_eq!((o.compression, o.overwrite, o.row_group_size), (Compression::Zstd, true, 1000));
    /// assert!(o.set("colour", Some("red")).is_err());
    /// # Ok::<(), sql_shell::export::ExportError>(())
    /// ```
    pub fn set(&mut self, name: &str, value: Option<&str>) -> Result<()> {
        match name.to_ascii_lowercase().as_str() {
            "format" => self.format = Some(Format::parse(required(name, value)?)?),
            "compression" | "codec" => {
                self.compression = Compression::parse(required(name, value)?)?
            }
            "row_group_size" => self.row_group_size = positive(name, value)?,
            "batch_size" => self.batch_size = positive(name, value)?,
            "header" => self.header = flag(name, value)?,
            "overwrite" | "overwrite_or_ignore" => self.overwrite = flag(name, value)?,
            "progress" => self.progress = flag(name, value)?,
            _ => {
                return Err(ExportError::option(format!(
                    "unknown export option {name}; known: FORMAT, COMPRESSION, ROW_GROUP_SIZE, \
                     BATCH_SIZE, HEADER, OVERWRITE"
                )));
            }
        }
        Ok(())
    }
}

/// Options of an import; see the [module documentation](self).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportOptions {
    /// The format; `None` to infer it from the extension.
    pub format: Option<Format>,
    /// The CSV file starts with a header line of column names.
    pub header: bool,
    /// Commit every this many rows (rows committed before an error stay);
    /// `None` loads everything in one transaction (nothing stays on error).
    pub commit_every: Option<usize>,
    /// Rows per record batch read from Parquet or Arrow files.
    pub batch_size: usize,
    /// Show a progress bar on stderr when it is a terminal.
    pub progress: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            format: None,
            header: true,
            commit_every: None,
            batch_size: DEFAULT_BATCH_SIZE,
            progress: false,
        }
    }
}

impl ImportOptions {
    /// Set an option by name, as [`ExportOptions::set`] does.
    ///
    /// ```
    /// use sql_shell::export::ImportOptions;
    /// let mut o = ImportOptions::default();
    /// o.set("header", Some("false"))?;
    /// o.set("COMMIT_EVERY", Some("50000"))?;
    /// assert_eq!((o.header, o.commit_every), (false, Some(50_000)));
    /// # Ok::<(), sql_shell::export::ExportError>(())
    /// ```
    pub fn set(&mut self, name: &str, value: Option<&str>) -> Result<()> {
        match name.to_ascii_lowercase().as_str() {
            "format" => self.format = Some(Format::parse(required(name, value)?)?),
            "header" => self.header = flag(name, value)?,
            "commit_every" | "batch_commit" => self.commit_every = Some(positive(name, value)?),
            "batch_size" => self.batch_size = positive(name, value)?,
            "progress" => self.progress = flag(name, value)?,
            _ => {
                return Err(ExportError::option(format!(
                    "unknown import option {name}; known: FORMAT, HEADER, COMMIT_EVERY, BATCH_SIZE"
                )));
            }
        }
        Ok(())
    }
}

fn required<'a>(name: &str, value: Option<&'a str>) -> Result<&'a str> {
    value.ok_or_else(|| ExportError::option(format!("{name} needs a value")))
}

fn positive(name: &str, value: Option<&str>) -> Result<usize> {
    let v = required(name, value)?;
    match v.trim().replace('_', "").parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(ExportError::option(format!(
            "{name} must be a positive whole number, not {v}"
        ))),
    }
}

fn flag(name: &str, value: Option<&str>) -> Result<bool> {
    match value.map(|v| v.to_ascii_lowercase()) {
        None => Ok(true),
        Some(v) => match v.as_str() {
            "true" | "on" | "yes" | "1" => Ok(true),
            "false" | "off" | "no" | "0" => Ok(false),
            _ => Err(ExportError::option(format!(
                "{name} must be true or false, not {v}"
            ))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_resolution() {
        assert_eq!(
            Format::resolve(None, Path::new("a.feather")).unwrap(),
            Format::Arrow
        );
        assert_eq!(
            Format::resolve(Some(Format::Csv), Path::new("a.parquet")).unwrap(),
            Format::Csv
        );
        let e = Format::resolve(None, Path::new("noext")).unwrap_err();
        assert!(e.to_string().contains("noext"), "{e}");
    }

    #[test]
    fn bad_values_are_explained() {
        let mut o = ExportOptions::default();
        assert!(o.set("row_group_size", Some("0")).is_err());
        assert!(o.set("row_group_size", None).is_err());
        assert!(o.set("header", Some("maybe")).is_err());
        assert!(
            o.set("compression", Some("lz4"))
                .unwrap_err()
                .to_string()
                .contains("lz4")
        );
        o.set("header", Some("FALSE")).unwrap();
        assert!(!o.header);
    }
}
