//! Writing a file so that it appears whole or not at all.
//!
//! ```text
//!   dir/.out.parquet.tmp-<pid>-<n>   created new, written, flushed, fsynced
//!        │ commit
//!        ├─ OVERWRITE:  rename(tmp, out)          (atomic replace)
//!        └─ otherwise:  link(tmp, out); unlink(tmp)  (fails if out exists,
//!                                                    atomically: no race)
//!   fsync(dir)                                    (the new name is durable)
//! ```
//!
//! The temporary file lives in the target's directory so the rename never
//! crosses file systems. If the export fails or is dropped half-way the
//! temporary file is removed and an existing target is untouched. A crash
//! can leave a `.tmp-` file behind (never a half-written target); its name
//! says what it was.
//!
//! For file systems without hard links the no-overwrite commit falls back
//! to "check, then rename", which has a small window in which a file
//! created concurrently by another process could be replaced.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::error::{ExportError, Result};

/// Size of the write buffer in front of the file.
const BUFFER: usize = 256 * 1024;

/// Distinguishes temporary files of concurrent exports in one process.
static SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// A buffered writer into the temporary file that counts the bytes written.
pub(crate) struct TargetWriter {
    inner: BufWriter<File>,
    bytes: u64,
}

impl Write for TargetWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.inner.write_all(buf)?;
        self.bytes += buf.len() as u64;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The target path and its temporary file; removes the temporary file on
/// drop unless committed.
pub(crate) struct Target {
    path: PathBuf,
    tmp: PathBuf,
    overwrite: bool,
    committed: bool,
}

impl Target {
    /// Create the temporary file for `path`. Fails at once when `path`
    /// exists and `overwrite` is false, or its directory does not exist.
    pub(crate) fn create(path: &Path, overwrite: bool) -> Result<(Target, TargetWriter)> {
        if !overwrite && path.symlink_metadata().is_ok() {
            return Err(ExportError::Exists {
                path: path.to_owned(),
            });
        }
        let name = path.file_name().ok_or_else(|| {
            ExportError::option(format!("{} does not name a file", path.display()))
        })?;
        let dir = parent_dir(path);
        let tmp = dir.join(format!(
            ".{}.tmp-{}-{}",
            name.to_string_lossy(),
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        ));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| {
                // Name the target the user gave, not our temporary name,
                // unless the temporary name is what clashed.
                if e.kind() == io::ErrorKind::AlreadyExists {
                    ExportError::io(&tmp, "creating temporary file", e)
                } else {
                    ExportError::io(path, "creating", e)
                }
            })?;
        let target = Target {
            path: path.to_owned(),
            tmp,
            overwrite,
            committed: false,
        };
        let writer = TargetWriter {
            inner: BufWriter::with_capacity(BUFFER, file),
            bytes: 0,
        };
        Ok((target, writer))
    }

    /// The target path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Flush and fsync the written file, move it into place and fsync the
    /// directory. Returns the file's size.
    pub(crate) fn commit(mut self, writer: TargetWriter) -> Result<u64> {
        let bytes = writer.bytes;
        let file = writer
            .inner
            .into_inner()
            .map_err(|e| ExportError::io(&self.path, "writing", e.into_error()))?;
        file.sync_all()
            .map_err(|e| ExportError::io(&self.path, "syncing", e))?;
        drop(file);
        if self.overwrite {
            std::fs::rename(&self.tmp, &self.path)
                .map_err(|e| ExportError::io(&self.path, "renaming into place", e))?;
        } else {
            match std::fs::hard_link(&self.tmp, &self.path) {
                Ok(()) => {
                    // The target now holds the data; failing to remove the
                    // temporary name leaves a stray file, not a wrong one.
                    let _ = std::fs::remove_file(&self.tmp);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    return Err(ExportError::Exists {
                        path: self.path.clone(),
                    });
                }
                Err(_) => {
                    // No hard links here: check, then rename (see the
                    // module documentation for the window this leaves).
                    if self.path.symlink_metadata().is_ok() {
                        return Err(ExportError::Exists {
                            path: self.path.clone(),
                        });
                    }
                    std::fs::rename(&self.tmp, &self.path)
                        .map_err(|e| ExportError::io(&self.path, "renaming into place", e))?;
                }
            }
        }
        self.committed = true;
        sync_dir(&parent_dir(&self.path))
            .map_err(|e| ExportError::io(&parent_dir(&self.path), "syncing directory", e))?;
        Ok(bytes)
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// The directory holding `path` (`.` for a bare file name).
fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Make a directory entry change durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp_files(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp-"))
            .collect()
    }

    #[test]
    fn commit_moves_into_place_and_counts_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        let (t, mut w) = Target::create(&path, false).unwrap();
        w.write_all(b"hello\n").unwrap();
        assert!(!path.exists(), "nothing visible before commit");
        assert_eq!(t.commit(w).unwrap(), 6);
        assert_eq!(std::fs::read(&path).unwrap(), b"hello\n");
        assert!(tmp_files(dir.path()).is_empty());
    }

    #[test]
    fn existing_target_is_kept_without_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        std::fs::write(&path, b"old").unwrap();
        let e = Target::create(&path, false).err().unwrap();
        assert!(matches!(e, ExportError::Exists { .. }));
        assert!(e.to_string().contains("out.csv") && e.to_string().contains("OVERWRITE"));
        // Created after the check: the commit still refuses.
        std::fs::remove_file(&path).unwrap();
        let (t, mut w) = Target::create(&path, false).unwrap();
        std::fs::write(&path, b"raced").unwrap();
        w.write_all(b"new").unwrap();
        assert!(matches!(t.commit(w), Err(ExportError::Exists { .. })));
        assert_eq!(std::fs::read(&path).unwrap(), b"raced");
        assert!(tmp_files(dir.path()).is_empty());
    }

    #[test]
    fn overwrite_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        std::fs::write(&path, b"old").unwrap();
        let (t, mut w) = Target::create(&path, true).unwrap();
        w.write_all(b"new").unwrap();
        t.commit(w).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
    }

    #[test]
    fn dropped_export_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        {
            let (_t, mut w) = Target::create(&path, false).unwrap();
            w.write_all(b"partial").unwrap();
        }
        assert!(!path.exists());
        assert!(tmp_files(dir.path()).is_empty());
    }

    #[test]
    fn missing_directory_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/dir/out.csv");
        let e = Target::create(&path, false).err().unwrap();
        assert!(e.to_string().contains("no/such/dir/out.csv"), "{e}");
    }
}
