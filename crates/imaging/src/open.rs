//! Objects from stored bytes. Stored files keep the file meta group the
//! sender wrote, which dicom-object sometimes refuses (over-long values,
//! odd group lengths); the index already knows the three values rendering
//! needs, so callers skip the stored meta group and pass those instead.

use std::io::Read;

use dicom_object::meta::FileMetaTableBuilder;
use dicom_object::{DefaultDicomObject, InMemDicomObject};
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;
use dicom_encoding::transfer_syntax::TransferSyntaxIndex;

use crate::RenderError;

/// Reads a whole data set (the bytes after the file meta group, pixel data
/// included). Blocking.
pub fn read_dataset<R: Read>(dataset: R, transfer_syntax: &str, sop_class: &str, sop_uid: &str) -> Result<DefaultDicomObject, RenderError> {
    let ts = TransferSyntaxRegistry
        .get(transfer_syntax.trim_end_matches('\0'))
        .ok_or_else(|| RenderError::Unsupported(format!("transfer syntax {transfer_syntax}")))?;
    let obj = crate::contain(|| {
        InMemDicomObject::read_dataset_with_ts(dataset, ts).map_err(|e| RenderError::Invalid(format!("unreadable data set: {e}")))
    })?;
    with_meta(obj, ts.uid(), sop_class, sop_uid)
}

/// Wraps a data set read elsewhere (e.g. a header without pixel data, for
/// [`render_cut`](crate::render_cut)) with the file meta rendering reads.
pub fn with_meta(obj: InMemDicomObject, transfer_syntax: &str, sop_class: &str, sop_uid: &str) -> Result<DefaultDicomObject, RenderError> {
    let meta = FileMetaTableBuilder::new()
        .transfer_syntax(transfer_syntax)
        .media_storage_sop_class_uid(sop_class)
        .media_storage_sop_instance_uid(sop_uid)
        .build()
        .map_err(|e| RenderError::Invalid(format!("file meta: {e}")))?;
    Ok(obj.with_exact_meta(meta))
}
