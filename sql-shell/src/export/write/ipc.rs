//! Record batches to an Arrow IPC file (the random-access "file" format,
//! also known as Feather v2): a schema message, one message per batch,
//! and a footer indexing them. Uncompressed, so readers can memory-map it.

use arrow_array::RecordBatch;
use arrow_ipc::writer::FileWriter;
use arrow_schema::SchemaRef;

use super::FormatWriter;
use crate::export::error::{ExportError, Result};
use crate::export::target::TargetWriter;

pub(super) struct IpcWriter {
    inner: FileWriter<TargetWriter>,
    path: std::path::PathBuf,
}

impl IpcWriter {
    pub(super) fn new(
        out: TargetWriter,
        schema: SchemaRef,
        path: &std::path::Path,
    ) -> Result<IpcWriter> {
        let inner = FileWriter::try_new(out, &schema)
            .map_err(|e| ExportError::format(path, None, format!("starting Arrow file: {e}")))?;
        Ok(IpcWriter {
            inner,
            path: path.to_owned(),
        })
    }
}

impl FormatWriter for IpcWriter {
    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.inner
            .write(batch)
            .map_err(|e| ExportError::format(&self.path, None, format!("writing Arrow IPC: {e}")))
    }

    fn finish(mut self: Box<Self>) -> Result<TargetWriter> {
        let path = self.path.clone();
        self.inner
            .finish()
            .map_err(|e| ExportError::format(&path, None, format!("finishing Arrow file: {e}")))?;
        self.inner
            .into_inner()
            .map_err(|e| ExportError::format(&path, None, format!("finishing Arrow file: {e}")))
    }
}
