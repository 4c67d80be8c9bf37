//! Upload request and response bodies.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::entities::upload;

/// A stored upload, as its uploader attaches it to a submission (`photo_ids`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UploadView {
    pub id: Uuid,
    /// Decided from the bytes, not from what the client said.
    #[schema(example = "image/jpeg")]
    pub content_type: String,
    /// Bytes, as stored.
    #[schema(example = 482_113)]
    pub size: i64,
    /// SHA-256 of the stored bytes (after metadata is removed), hex.
    #[schema(example = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    pub sha256: String,
}

impl From<upload::Model> for UploadView {
    fn from(u: upload::Model) -> Self {
        UploadView {
            id: u.id,
            content_type: u.content_type,
            size: u.size,
            sha256: u.sha256,
        }
    }
}

/// The multipart form of `POST /api/v1/uploads`.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the form; the handler streams it
pub struct UploadForm {
    /// A JPEG, PNG or WebP image of at most 10 MiB and 40 megapixels. Its type
    /// is read from its bytes; metadata (Exif but the orientation, XMP, text)
    /// and bytes after the image's end are removed before it is stored.
    #[schema(value_type = String, format = Binary, content_media_type = "application/octet-stream")]
    pub file: Vec<u8>,
}
