//! The one error type every backend returns.
//!
//! The variants say whose fault a failure was, so a caller can decide what to
//! do without parsing messages: the environment ([`Error::Io`]), the data on
//! disk ([`Error::Corruption`]), the caller ([`Error::InvalidArgument`]), a
//! concurrent transaction ([`Error::Conflict`], the only retryable one), or the
//! lifecycle of the handle ([`Error::Closed`], [`Error::Locked`],
//! [`Error::Poisoned`]).

use std::fmt;
use std::path::PathBuf;

/// Result alias used throughout the contract.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A typed failure of a [`KvStore`](crate::KvStore) operation.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// An operating-system I/O call failed.
    Io {
        /// What we were doing, for example `"append to log"`.
        op: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error (its kind tells ENOSPC from EIO).
        source: std::io::Error,
    },
    /// Data read back from storage failed a check.
    Corruption {
        /// The file holding the bad bytes.
        file: PathBuf,
        /// Byte offset of the bad record or block within `file`.
        offset: u64,
        /// What check failed.
        detail: String,
    },
    /// The caller passed something the contract does not allow, such as a key
    /// over [`Limits::max_key_len`](crate::Limits::max_key_len). Nothing was
    /// written.
    InvalidArgument(String),
    /// A transaction lost a write-write race: another writer committed a change
    /// to a key it writes after it began. Nothing of the transaction was
    /// written; run it again from the start.
    Conflict {
        /// One of the conflicting keys.
        key: Vec<u8>,
    },
    /// The store was closed; open it again to continue.
    Closed,
    /// Another process (or handle) holds the database's lock file.
    Locked {
        /// The lock file.
        path: PathBuf,
    },
    /// An earlier failure (for example a failed fsync) left the handle unable
    /// to promise durability; it refuses writes until the database is reopened,
    /// which recovers the last durable state.
    Poisoned(String),
}

impl Error {
    /// Build an [`Error::Io`].
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// Build an [`Error::Corruption`].
    pub fn corruption(file: impl Into<PathBuf>, offset: u64, detail: impl Into<String>) -> Self {
        Error::Corruption {
            file: file.into(),
            offset,
            detail: detail.into(),
        }
    }

    /// Build an [`Error::InvalidArgument`].
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidArgument(msg.into())
    }

    /// True when running the same operation again may succeed without any
    /// change by the caller (today: transaction conflicts).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Conflict { .. })
    }

    /// True for [`Error::Corruption`].
    pub fn is_corruption(&self) -> bool {
        matches!(self, Error::Corruption { .. })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { op, path, source } => {
                write!(f, "I/O error during {op} on {}: {source}", path.display())
            }
            Error::Corruption {
                file,
                offset,
                detail,
            } => write!(
                f,
                "corruption in {} at offset {offset}: {detail}; the file is damaged, restore it from a backup",
                file.display()
            ),
            Error::InvalidArgument(msg) => write!(f, "invalid argument: {msg}"),
            Error::Conflict { key } => write!(
                f,
                "transaction conflict on key {}: another transaction committed a write to it first; retry the transaction",
                crate::display_key(key)
            ),
            Error::Closed => write!(f, "the store is closed; open it again"),
            Error::Locked { path } => write!(
                f,
                "the database is in use: lock file {} is held by another process or handle; close it first",
                path.display()
            ),
            Error::Poisoned(why) => write!(
                f,
                "the store refuses writes after an earlier failure ({why}); reopen it to recover the last durable state"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_what_and_where() {
        let e = Error::corruption("/db/000001.sst", 4096, "block checksum mismatch");
        let s = e.to_string();
        assert!(s.contains("/db/000001.sst") && s.contains("4096") && s.contains("checksum"));
        assert!(e.is_corruption() && !e.is_retryable());

        let e = Error::Conflict {
            key: b"k\x00".to_vec(),
        };
        assert!(e.is_retryable());
        assert!(e.to_string().contains("retry"));

        let e = Error::io(
            "sync",
            "/db/LOG",
            std::io::Error::from(std::io::ErrorKind::StorageFull),
        );
        assert!(e.to_string().contains("/db/LOG"));
        assert!(std::error::Error::source(&e).is_some());
    }
}
