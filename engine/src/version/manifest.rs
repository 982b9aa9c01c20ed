//! The manifest: a log of [`VersionEdit`]s, and `CURRENT`, which names the
//! manifest in use.
//!
//! Every open writes a fresh manifest whose first record is a snapshot of
//! the whole state, then switches `CURRENT` to it atomically: write
//! `CURRENT.dbtmp`, fsync it, rename it over `CURRENT`, fsync the directory.
//! A crash at any point leaves `CURRENT` naming either the old manifest or
//! the new, complete one. Later edits (one per flush) are appended and
//! fsynced before the change they describe is used.
//!
//! Reading is strict: only a record cut short at the very end of the file
//! (an append torn by a crash, so its change was never used) is ignored;
//! any other damage is an `Error::Corruption` naming the file and offset.

use std::path::{Path, PathBuf};

use kv_api::{Error, Result};

use super::Version;
use super::edit::{MANIFEST_FORMAT_VERSION, MIN_MANIFEST_FORMAT_VERSION, VersionEdit};
use crate::db::files;
use crate::fs::{FileSystem, WritableFile};
use crate::wal::record::{self, RecordReader};

/// State rebuilt from a manifest.
#[derive(Debug, Default)]
pub struct Recovered {
    /// The live tables.
    pub version: Version,
    /// Logs below this number are fully flushed.
    pub log_number: u64,
    /// Next unused file number.
    pub next_file: u64,
    /// Last sequence number recorded.
    pub last_sequence: u64,
    /// Offset of a record cut short at the end of the file, if any.
    pub torn_tail: Option<u64>,
    /// Bytes of the manifest file.
    pub size: u64,
}

/// Read `CURRENT`: the manifest file name it points to, or `None` when it
/// does not exist.
pub fn read_current(fs: &dyn FileSystem, dir: &Path) -> Result<Option<String>> {
    let path = dir.join(files::CURRENT);
    if !fs.exists(&path) {
        return Ok(None);
    }
    let data = fs
        .read_all(&path)
        .map_err(|e| Error::io("read CURRENT", &path, e))?;
    let name = std::str::from_utf8(&data)
        .ok()
        .and_then(|s| s.strip_suffix('\n'))
        .filter(|s| files::parse(s).is_some_and(|k| matches!(k, files::FileKind::Manifest(_))))
        .ok_or_else(|| Error::corruption(&path, 0, "CURRENT does not name a manifest"))?;
    Ok(Some(name.to_string()))
}

/// Replay the manifest at `path`.
pub fn replay(fs: &dyn FileSystem, path: &Path) -> Result<Recovered> {
    let data = fs.read_all(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::corruption(path, 0, "the manifest named by CURRENT does not exist")
        } else {
            Error::io("read manifest", path, e)
        }
    })?;
    let mut r = RecordReader::new(&data);
    let mut out = Recovered {
        size: data.len() as u64,
        ..Recovered::default()
    };
    let mut first = true;
    loop {
        let (offset, payload) = match r.next_record() {
            Ok(Some(x)) => x,
            Ok(None) => break,
            Err(bad) if bad.incomplete && !first => {
                // Torn by a crash during an append, so (probably) never
                // used; `open` double-checks that the log it would have
                // retired still exists.
                out.torn_tail = Some(bad.offset);
                break;
            }
            Err(bad) => return Err(Error::corruption(path, bad.offset, bad.detail)),
        };
        let edit = VersionEdit::decode(payload).map_err(|d| Error::corruption(path, offset, d))?;
        if first {
            match edit.format_version {
                Some(v) if (MIN_MANIFEST_FORMAT_VERSION..=MANIFEST_FORMAT_VERSION).contains(&v) => {
                }
                Some(v) => {
                    return Err(Error::corruption(
                        path,
                        offset,
                        format!(
                            "manifest format version {v} is not supported (this build reads {MIN_MANIFEST_FORMAT_VERSION} to {MANIFEST_FORMAT_VERSION})"
                        ),
                    ));
                }
                None => {
                    return Err(Error::corruption(
                        path,
                        offset,
                        "manifest lacks a format version",
                    ));
                }
            }
            first = false;
        }
        out.version = out.version.apply(&edit);
        if let Some(n) = edit.log_number {
            out.log_number = n;
        }
        if let Some(n) = edit.next_file {
            out.next_file = n;
        }
        if let Some(n) = edit.last_sequence {
            out.last_sequence = n;
        }
    }
    if first {
        return Err(Error::corruption(path, 0, "manifest holds no record"));
    }
    Ok(out)
}

/// An open manifest being appended to. It remembers the log number and
/// last sequence recorded so far, so that it can rewrite itself as a
/// snapshot ([`rollover`](Self::rollover)) when it grows large.
pub struct ManifestWriter {
    file: Box<dyn WritableFile>,
    path: PathBuf,
    number: u64,
    size: u64,
    log_number: u64,
    last_sequence: u64,
}

/// Why a manifest rollover failed.
#[derive(Debug)]
pub enum RolloverError {
    /// Before `CURRENT` was switched: the old manifest is still the live
    /// one and the writer keeps appending to it.
    Abandoned(Error),
    /// After the rename of `CURRENT`: which manifest survives a power cut
    /// is unknown; the handle must stop writing.
    Fatal(Error),
}

impl ManifestWriter {
    /// Create manifest `number` in `dir` holding `snapshot` (which must carry
    /// every counter), fsync it and switch `CURRENT` to it.
    pub fn create(
        fs: &dyn FileSystem,
        dir: &Path,
        number: u64,
        snapshot: &VersionEdit,
    ) -> Result<ManifestWriter> {
        let path = files::manifest_path(dir, number);
        let file = fs
            .create(&path)
            .map_err(|e| Error::io("create manifest", &path, e))?;
        let mut w = ManifestWriter {
            file,
            path,
            number,
            size: 0,
            log_number: 0,
            last_sequence: 0,
        };
        let mut edit = snapshot.clone();
        edit.format_version = Some(MANIFEST_FORMAT_VERSION);
        w.append(&edit)?;
        set_current(fs, dir, number)?;
        Ok(w)
    }

    /// Bytes written to this manifest.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Replace this manifest by manifest `number` holding one snapshot of
    /// `version` (with the counters recorded so far and `next_file`), switch
    /// `CURRENT` to it and remove the old file.
    pub fn rollover(
        &mut self,
        fs: &dyn FileSystem,
        dir: &Path,
        number: u64,
        version: &Version,
        next_file: u64,
    ) -> std::result::Result<(), RolloverError> {
        let mut snap = version.snapshot_edit();
        snap.format_version = Some(MANIFEST_FORMAT_VERSION);
        snap.log_number = Some(self.log_number);
        snap.last_sequence = Some(self.last_sequence);
        snap.next_file = Some(next_file);
        let path = files::manifest_path(dir, number);
        let abandon = |e: Error| {
            let _ = fs.remove(&path);
            RolloverError::Abandoned(e)
        };
        let file = fs
            .create(&path)
            .map_err(|e| abandon(Error::io("create manifest", &path, e)))?;
        let mut w = ManifestWriter {
            file,
            path: path.clone(),
            number,
            size: 0,
            log_number: 0,
            last_sequence: 0,
        };
        w.append(&snap).map_err(abandon)?;
        match set_current(fs, dir, number) {
            Ok(()) => {}
            Err(SetCurrent::Before(e)) => return Err(abandon(e)),
            Err(SetCurrent::After(e)) => return Err(RolloverError::Fatal(e)),
        }
        let old = std::mem::replace(self, w);
        let _ = fs.remove(&old.path);
        Ok(())
    }

    /// The manifest's file number.
    pub fn number(&self) -> u64 {
        self.number
    }

    /// Append an edit and fsync it.
    pub fn append(&mut self, edit: &VersionEdit) -> Result<()> {
        let mut buf = Vec::new();
        record::encode(&mut buf, &edit.encode());
        self.file
            .append(&buf)
            .map_err(|e| Error::io("append to manifest", &self.path, e))?;
        self.size += buf.len() as u64;
        self.file
            .sync()
            .map_err(|e| Error::io("fsync manifest", &self.path, e))?;
        if let Some(n) = edit.log_number {
            self.log_number = n;
        }
        if let Some(n) = edit.last_sequence {
            self.last_sequence = n;
        }
        Ok(())
    }
}

/// Where switching `CURRENT` failed.
enum SetCurrent {
    /// Before the rename: `CURRENT` still names the old manifest.
    Before(Error),
    /// At or after the rename: unknown which manifest a power cut keeps.
    After(Error),
}

impl From<SetCurrent> for Error {
    fn from(e: SetCurrent) -> Error {
        match e {
            SetCurrent::Before(e) | SetCurrent::After(e) => e,
        }
    }
}

/// Point `CURRENT` at manifest `number` atomically.
fn set_current(fs: &dyn FileSystem, dir: &Path, number: u64) -> Result<(), SetCurrent> {
    let tmp = dir.join(format!("CURRENT.{}", files::TEMP_SUFFIX));
    let cur = dir.join(files::CURRENT);
    let body = format!("{}\n", files::manifest_name(number));
    let before = |op, e| {
        let _ = fs.remove(&tmp);
        SetCurrent::Before(Error::io(op, &tmp, e))
    };
    let mut f = fs
        .create(&tmp)
        .map_err(|e| before("create CURRENT.dbtmp", e))?;
    f.append(body.as_bytes())
        .map_err(|e| before("write CURRENT.dbtmp", e))?;
    f.sync().map_err(|e| before("fsync CURRENT.dbtmp", e))?;
    drop(f);
    fs.rename(&tmp, &cur)
        .map_err(|e| SetCurrent::After(Error::io("rename CURRENT.dbtmp to CURRENT", &cur, e)))?;
    fs.sync_dir(dir)
        .map_err(|e| SetCurrent::After(Error::io("fsync database directory", dir, e)))
}
