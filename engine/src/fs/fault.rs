//! [`FaultFs`]: an in-memory file system for crash and fault-injection tests.
//!
//! It keeps two views of every directory, the way a real disk does:
//!
//! ```text
//!   live view     what the running process sees: every create, append,
//!                 rename and remove, immediately
//!   durable view  what would survive a power cut: a file's bytes up to its
//!                 last sync, and the directory entries as of the last
//!                 sync_dir of that directory
//! ```
//!
//! [`FaultFs::crash`] throws the live view away and keeps the durable one,
//! so a test can check that the engine fsyncs files *and* directories where
//! its design says it does. Faults: the next write or sync can fail with a
//! chosen error (ENOSPC, EIO), a failing write can be torn (half of it lands),
//! faults can be sticky (a full disk stays full), and bits can be flipped.

use std::collections::{HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;

use super::{FileLock, FileSystem, RandomAccessFile, WritableFile};

type Node = Arc<Mutex<FileData>>;

/// One file. `data[written..]` is a preallocated tail of zeros; a power
/// cut keeps `data[..synced]` and then zeros up to `synced_size` (the size
/// as of the last sync), the way fallocated but unwritten blocks read back.
#[derive(Default)]
struct FileData {
    data: Vec<u8>,
    written: usize,
    synced: usize,
    synced_size: usize,
}

/// A fault to inject into writes or syncs.
#[derive(Clone, Debug)]
pub struct Fault {
    /// Let this many matching operations succeed first.
    pub after: u64,
    /// The error to return (e.g. `StorageFull` for ENOSPC, `Other` for EIO).
    pub kind: io::ErrorKind,
    /// For writes: land the first half of the data before failing.
    pub torn: bool,
    /// Keep failing every matching operation after the first failure.
    pub sticky: bool,
    /// Only operations on paths containing this string match (all when empty).
    pub path_contains: String,
}

impl Fault {
    /// Fail the next matching operation with `kind`, once.
    pub fn once(kind: io::ErrorKind) -> Self {
        Fault {
            after: 0,
            kind,
            torn: false,
            sticky: false,
            path_contains: String::new(),
        }
    }
}

#[derive(Default)]
struct State {
    live: HashMap<PathBuf, Node>,
    durable: HashMap<PathBuf, Node>,
    dirs: HashSet<PathBuf>,
    locks: HashSet<PathBuf>,
    write_fault: Option<(Fault, bool)>,
    sync_fault: Option<(Fault, bool)>,
    writes: u64,
    syncs: u64,
}

/// Decide whether an operation on `path` fails under `slot`.
fn trip(slot: &mut Option<(Fault, bool)>, path: &Path) -> Option<(io::ErrorKind, bool)> {
    let (fault, fired) = slot.as_mut()?;
    if !path
        .to_string_lossy()
        .contains(fault.path_contains.as_str())
    {
        return None;
    }
    if *fired {
        return fault.sticky.then_some((fault.kind, fault.torn));
    }
    if fault.after > 0 {
        fault.after -= 1;
        return None;
    }
    *fired = true;
    Some((fault.kind, fault.torn))
}

/// An in-memory, fault-injecting [`FileSystem`]; clones share one state.
#[derive(Clone, Default)]
pub struct FaultFs {
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for FaultFs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FaultFs")
    }
}

impl FaultFs {
    /// An empty file system.
    pub fn new() -> Self {
        Self::default()
    }

    /// Fail writes as described (replacing any earlier write fault).
    pub fn set_write_fault(&self, fault: Option<Fault>) {
        self.state.lock().write_fault = fault.map(|f| (f, false));
    }

    /// Fail syncs as described (replacing any earlier sync fault).
    pub fn set_sync_fault(&self, fault: Option<Fault>) {
        self.state.lock().sync_fault = fault.map(|f| (f, false));
    }

    /// Simulate a power cut: a new, independent file system holding only
    /// what was durable here (synced bytes, synced directory entries). This
    /// one stays as it was, so a database still running on it (its flush
    /// thread, its close) cannot touch the "rebooted" copy.
    pub fn crash(&self) -> FaultFs {
        let s = self.state.lock();
        let mut files = HashMap::new();
        for (p, node) in &s.durable {
            let d = node.lock();
            let mut data = d.data[..d.synced].to_vec();
            data.resize(d.synced_size.max(d.synced), 0);
            let n = data.len();
            let file = FileData {
                data,
                written: n,
                synced: n,
                synced_size: n,
            };
            files.insert(p.clone(), Arc::new(Mutex::new(file)));
        }
        let state = State {
            live: files.clone(),
            durable: files,
            dirs: s.dirs.clone(),
            ..State::default()
        };
        FaultFs {
            state: Arc::new(Mutex::new(state)),
        }
    }

    /// Cut a file (both views) to `len` bytes, for corruption tests.
    pub fn set_len(&self, path: &Path, len: usize) -> io::Result<()> {
        let s = self.state.lock();
        let node = s.live.get(path).ok_or_else(|| not_found(path))?;
        let mut d = node.lock();
        d.data.truncate(len);
        d.written = d.written.min(len);
        d.synced = d.synced.min(len);
        d.synced_size = d.synced_size.min(len);
        Ok(())
    }

    /// Overwrite `len` bytes of a file (both views) with zeros from
    /// `offset`, for corruption tests (a write whose pages never landed).
    pub fn zero_range(&self, path: &Path, offset: usize, len: usize) -> io::Result<()> {
        let s = self.state.lock();
        let node = s.live.get(path).ok_or_else(|| not_found(path))?;
        let mut d = node.lock();
        let end = offset.checked_add(len).filter(|&e| e <= d.data.len());
        let end =
            end.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "range past end"))?;
        d.data[offset..end].fill(0);
        Ok(())
    }

    /// Flip one bit of a file (both views), for corruption tests.
    pub fn flip_bit(&self, path: &Path, offset: usize, bit: u8) -> io::Result<()> {
        let s = self.state.lock();
        let node = s.live.get(path).ok_or_else(|| not_found(path))?;
        let mut d = node.lock();
        let b = d
            .data
            .get_mut(offset)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "offset past end"))?;
        *b ^= 1 << (bit & 7);
        Ok(())
    }

    /// Names of the files under `dir` in the live view.
    pub fn files(&self, dir: &Path) -> Vec<String> {
        self.list(dir).unwrap_or_default()
    }

    /// Counts of write and sync calls so far (for choosing fault points).
    pub fn op_counts(&self) -> (u64, u64) {
        let s = self.state.lock();
        (s.writes, s.syncs)
    }
}

fn not_found(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("{} not found", path.display()),
    )
}

struct FaultWritable {
    fs: FaultFs,
    path: PathBuf,
    node: Node,
    /// Opened by `open_append` (as `O_APPEND`): preallocation is a no-op.
    append_mode: bool,
}

impl WritableFile for FaultWritable {
    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        let fault = {
            let mut s = self.fs.state.lock();
            s.writes += 1;
            trip(&mut s.write_fault, &self.path)
        };
        let mut d = self.node.lock();
        if let Some((kind, torn)) = fault {
            if torn {
                let half = data.len() / 2;
                d.write(&data[..half]);
            }
            return Err(io::Error::new(kind, "injected write fault"));
        }
        d.write(data);
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        let fault = {
            let mut s = self.fs.state.lock();
            s.syncs += 1;
            trip(&mut s.sync_fault, &self.path)
        };
        if let Some((kind, _)) = fault {
            return Err(io::Error::new(kind, "injected sync fault"));
        }
        let mut d = self.node.lock();
        d.synced = d.written;
        d.synced_size = d.data.len();
        Ok(())
    }

    fn len(&self) -> u64 {
        self.node.lock().written as u64
    }

    fn preallocate(&mut self, size: u64) -> io::Result<()> {
        let size = usize::try_from(size)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "size too large"))?;
        if self.append_mode {
            return Ok(());
        }
        let mut d = self.node.lock();
        if size > d.data.len() {
            d.data.resize(size, 0);
        }
        Ok(())
    }
}

impl FileData {
    /// Write at the write position, over the preallocated zeros.
    fn write(&mut self, bytes: &[u8]) {
        let at = self.written;
        let end = at + bytes.len();
        if end > self.data.len() {
            self.data.resize(end, 0);
        }
        self.data[at..end].copy_from_slice(bytes);
        self.written = end;
    }
}

struct FaultReadable {
    node: Node,
}

impl RandomAccessFile for FaultReadable {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let d = self.node.lock();
        let start = usize::try_from(offset).map_err(|_| eof())?;
        let end = start.checked_add(buf.len()).ok_or_else(eof)?;
        let src = d.data.get(start..end).ok_or_else(eof)?;
        buf.copy_from_slice(src);
        Ok(())
    }

    fn len(&self) -> u64 {
        self.node.lock().data.len() as u64
    }
}

fn eof() -> io::Error {
    io::Error::from(io::ErrorKind::UnexpectedEof)
}

struct FaultLock {
    fs: FaultFs,
    path: PathBuf,
}

impl FileLock for FaultLock {}

impl Drop for FaultLock {
    fn drop(&mut self) {
        self.fs.state.lock().locks.remove(&self.path);
    }
}

impl FileSystem for FaultFs {
    fn create(&self, path: &Path) -> io::Result<Box<dyn WritableFile>> {
        let node: Node = Arc::default();
        self.state
            .lock()
            .live
            .insert(path.to_path_buf(), Arc::clone(&node));
        Ok(Box::new(FaultWritable {
            fs: self.clone(),
            path: path.to_path_buf(),
            node,
            append_mode: false,
        }))
    }

    fn open_append(&self, path: &Path) -> io::Result<Box<dyn WritableFile>> {
        let node = self
            .state
            .lock()
            .live
            .get(path)
            .cloned()
            .ok_or_else(|| not_found(path))?;
        {
            let mut d = node.lock();
            d.written = d.data.len();
        }
        Ok(Box::new(FaultWritable {
            fs: self.clone(),
            path: path.to_path_buf(),
            node,
            append_mode: true,
        }))
    }

    fn open_read(&self, path: &Path) -> io::Result<Arc<dyn RandomAccessFile>> {
        let node = self
            .state
            .lock()
            .live
            .get(path)
            .cloned()
            .ok_or_else(|| not_found(path))?;
        Ok(Arc::new(FaultReadable { node }))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut s = self.state.lock();
        let node = s.live.remove(from).ok_or_else(|| not_found(from))?;
        s.live.insert(to.to_path_buf(), node);
        Ok(())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        self.state
            .lock()
            .live
            .remove(path)
            .map(|_| ())
            .ok_or_else(|| not_found(path))
    }

    fn truncate(&self, path: &Path, len: u64) -> io::Result<()> {
        let s = self.state.lock();
        let node = s.live.get(path).ok_or_else(|| not_found(path))?;
        let mut d = node.lock();
        let len = (len as usize).min(d.data.len());
        d.data.truncate(len);
        d.written = d.written.min(len);
        d.synced = d.written;
        d.synced_size = len;
        Ok(())
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let s = self.state.lock();
        let mut out: Vec<String> = s
            .live
            .keys()
            .filter(|p| p.parent() == Some(dir))
            .filter_map(|p| p.file_name()?.to_str().map(str::to_string))
            .collect();
        out.sort();
        Ok(out)
    }

    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        self.state.lock().dirs.insert(dir.to_path_buf());
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut s = self.state.lock();
        s.syncs += 1;
        if let Some((kind, _)) = trip(&mut s.sync_fault, dir) {
            return Err(io::Error::new(kind, "injected directory sync fault"));
        }
        let s = &mut *s;
        s.durable.retain(|p, _| p.parent() != Some(dir));
        for (p, node) in &s.live {
            if p.parent() == Some(dir) {
                s.durable.insert(p.clone(), Arc::clone(node));
            }
        }
        Ok(())
    }

    fn exists(&self, path: &Path) -> bool {
        let s = self.state.lock();
        s.live.contains_key(path) || s.dirs.contains(path)
    }

    fn lock(&self, path: &Path) -> io::Result<Box<dyn FileLock>> {
        let mut s = self.state.lock();
        if !s.locks.insert(path.to_path_buf()) {
            return Err(io::Error::from(io::ErrorKind::WouldBlock));
        }
        Ok(Box::new(FaultLock {
            fs: self.clone(),
            path: path.to_path_buf(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crash_keeps_only_synced_bytes_and_entries() {
        let fs = FaultFs::new();
        let dir = Path::new("/db");
        let mut a = fs.create(&dir.join("a")).unwrap();
        a.append(b"hello").unwrap();
        a.sync().unwrap();
        a.append(b" world").unwrap();
        fs.sync_dir(dir).unwrap();
        let mut b = fs.create(&dir.join("b")).unwrap();
        b.append(b"unlinked").unwrap();
        b.sync().unwrap(); // synced data, but the directory entry is not
        let fs = fs.crash();
        assert_eq!(fs.read_all(&dir.join("a")).unwrap(), b"hello");
        assert!(!fs.exists(&dir.join("b")));
    }

    #[test]
    fn faults_fire_after_countdown_and_tear() {
        let fs = FaultFs::new();
        let p = Path::new("/x/log");
        let mut f = fs.create(p).unwrap();
        fs.set_write_fault(Some(Fault {
            after: 1,
            kind: io::ErrorKind::StorageFull,
            torn: true,
            sticky: false,
            path_contains: "log".into(),
        }));
        f.append(b"ok").unwrap();
        let e = f.append(b"abcd").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::StorageFull);
        f.append(b"!").unwrap();
        assert_eq!(fs.read_all(p).unwrap(), b"okab!");
    }
}
