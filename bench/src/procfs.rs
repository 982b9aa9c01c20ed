//! What the kernel says about this process: CPU time of a thread and bytes
//! the process wrote (`/proc/self/io`). Each engine runs its phases in a child
//! process of its own, so the process counters belong to one engine only and
//! measure every engine the same way, whatever it reports itself.

/// CPU time of the calling thread in seconds (Linux; 0 elsewhere).
pub fn thread_cpu() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0.0, |ns| ns as f64 / 1e9)
}

/// Counters of `/proc/self/io` (all threads of the process).
#[derive(Clone, Copy, Debug, Default)]
pub struct Io {
    /// Bytes passed to write-like system calls.
    pub wchar: u64,
    /// Bytes the process caused to be sent to the storage layer (page-cache
    /// pages it dirtied), whenever they are actually written back.
    pub write_bytes: u64,
    /// Of those, bytes that never reached the disk because the file was
    /// truncated or deleted first.
    pub cancelled_write_bytes: u64,
}

impl Io {
    /// Read the counters now (zeros where unavailable).
    pub fn now() -> Io {
        let mut io = Io::default();
        if let Ok(s) = std::fs::read_to_string("/proc/self/io") {
            for line in s.lines() {
                let mut parts = line.split(':');
                let (Some(name), Some(v)) = (parts.next(), parts.next()) else {
                    continue;
                };
                let v = v.trim().parse().unwrap_or(0);
                match name {
                    "wchar" => io.wchar = v,
                    "write_bytes" => io.write_bytes = v,
                    "cancelled_write_bytes" => io.cancelled_write_bytes = v,
                    _ => {}
                }
            }
        }
        io
    }

    /// Counters accumulated since `earlier`.
    pub fn since(self, earlier: Io) -> Io {
        Io {
            wchar: self.wchar.saturating_sub(earlier.wchar),
            write_bytes: self.write_bytes.saturating_sub(earlier.write_bytes),
            cancelled_write_bytes: self
                .cancelled_write_bytes
                .saturating_sub(earlier.cancelled_write_bytes),
        }
    }
}

/// Space allocated to every file under `p`, recursively (what `du` says:
/// preallocated but unwritten parts of sparse files do not count).
pub fn dir_bytes(p: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(rd) = std::fs::read_dir(p) else {
        return 0;
    };
    rd.filter_map(Result::ok)
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.blocks() * 512,
            Err(_) => 0,
        })
        .sum()
}

/// The 1-minute load average, as the machine is shared.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}
