//! Opening the whole stack the way the campaigns need it: the engine (on
//! the operating system or on a [`FaultFs`](engine::fs::FaultFs)), the table
//! layer over it with `sync` or buffered commits, and a SQL session.

use std::path::Path;
use std::sync::Arc;

use engine::fs::FileSystem;
use kv_api::{KvStore, WriteOptions};
use sql_shell::Session;
use table_layer::Database;

/// Engine options small enough that a workload of a few hundred commits
/// crosses many memtable flushes and compactions (so table, manifest and
/// compaction-output writes), with levels of a few KiB.
pub fn small_options(write_buffer: usize) -> engine::Options {
    let mut o = engine::Options::with_write_buffer(write_buffer).tiny_levels();
    o.block_size = 1024;
    o.block_cache_bytes = 256 * 1024;
    o
}

/// Open the engine in `dir` with `opts`, and a table-layer database over
/// it whose commits are `sync` (durable on return) or buffered.
pub fn open_database(dir: &Path, opts: engine::Options, sync: bool) -> Result<Database, String> {
    let db = engine::Db::open(dir, opts).map_err(|e| format!("engine open: {e}"))?;
    let store: Arc<dyn KvStore> = Arc::new(db);
    let w = if sync {
        WriteOptions::SYNC
    } else {
        WriteOptions::BUFFERED
    };
    Database::open_with(store, w).map_err(|e| format!("table-layer open: {e}"))
}

/// [`open_database`] on `fs`, wrapped in a session.
pub fn open_session(
    fs: Arc<dyn FileSystem>,
    dir: &Path,
    write_buffer: usize,
    sync: bool,
) -> Result<Session, String> {
    open_database(dir, small_options(write_buffer).fs(fs), sync).map(Session::new)
}
