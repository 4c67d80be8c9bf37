//! An upload's request body, streamed to a scratch file while it is counted
//! and its type read from its first bytes; then copied to a second scratch
//! file keeping only the image (its size checked first), and the digest of
//! that copy taken. At no point is the whole file in memory.

use std::io::{BufWriter as StdBufWriter, Read, Write};

use actix_multipart::{Field, Multipart};
use actix_web::http::header;
use actix_web::{HttpRequest, web};
use anyhow::Context;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncWriteExt, BufWriter};

use super::image::{CleanError, ImageType, MAX_PIXELS, clean};
use crate::domain::FieldErrors;
use crate::platform::error::ApiError;
use crate::platform::storage::ScratchFile;

/// Largest accepted file (SPEC §4).
pub const MAX_UPLOAD_BYTES: u64 = 10 * 1024 * 1024;

/// Room for multipart boundaries and small fields beside the file, when the
/// declared `Content-Length` alone decides 413.
const MULTIPART_OVERHEAD: u64 = 64 * 1024;

/// A received file, checked for type and size, on local disk.
#[derive(Debug)]
pub struct Received {
    pub scratch: ScratchFile,
    pub image: ImageType,
}

/// A file ready to store: only the image kept, digest taken.
#[derive(Debug)]
pub struct Prepared {
    pub scratch: ScratchFile,
    pub image: ImageType,
    pub size: u64,
    /// Of the bytes as they will be stored, hex.
    pub sha256: String,
}

fn too_large() -> ApiError {
    ApiError::PayloadTooLarge {
        limit: MAX_UPLOAD_BYTES as usize,
    }
}

fn unsupported() -> ApiError {
    ApiError::UnsupportedMediaType(ImageType::ACCEPTED)
}

fn unreadable(err: actix_multipart::MultipartError) -> ApiError {
    ApiError::BadRequest(err.to_string())
}

/// Reads multipart field `file` of the request into a scratch file in `dir`.
///
/// # Errors
/// 413 past [`MAX_UPLOAD_BYTES`] (from `Content-Length` before reading when it
/// says so), 415 for a body that is not multipart or a file that is not a JPEG,
/// PNG or WebP image, 422 without a `file` field, 400 for a broken body.
pub async fn file_field(
    req: &HttpRequest,
    payload: web::Payload,
    dir: &std::path::Path,
) -> Result<Received, ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD) {
        return Err(too_large());
    }
    let multipart_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !multipart_form {
        return Err(ApiError::UnsupportedMediaType("multipart/form-data"));
    }
    let mut multipart = Multipart::new(req.headers(), payload);
    while let Some(field) = multipart.next().await {
        let field = field.map_err(unreadable)?;
        if field.name() == Some("file") {
            return write_field(field, dir).await;
        }
    }
    Err(FieldErrors::single(
        "file",
        "required",
        "缺少文件字段 file",
        "multipart field `file` is missing",
    )
    .into())
}

/// Streams one field to a scratch file, stopping at the first byte past the
/// limit and as soon as its first bytes show it is not an accepted image.
async fn write_field(mut field: Field, dir: &std::path::Path) -> Result<Received, ApiError> {
    let (scratch, file) = ScratchFile::create(dir)
        .await
        .context("creating a scratch file for an upload")?;
    let mut out = BufWriter::with_capacity(64 * 1024, file);
    let mut head: Vec<u8> = Vec::with_capacity(ImageType::SNIFF_LEN);
    let mut image = None;
    let mut size: u64 = 0;
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(unreadable)?;
        size += chunk.len() as u64;
        if size > MAX_UPLOAD_BYTES {
            return Err(too_large());
        }
        if image.is_none() {
            let wanted = (ImageType::SNIFF_LEN - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..wanted]);
            if head.len() == ImageType::SNIFF_LEN {
                image = Some(ImageType::sniff(&head).ok_or_else(unsupported)?);
            }
        }
        out.write_all(&chunk)
            .await
            .context("writing an upload's scratch file")?;
    }
    out.flush()
        .await
        .context("writing an upload's scratch file")?;
    let image = match image {
        Some(image) => image,
        None => ImageType::sniff(&head).ok_or_else(unsupported)?,
    };
    Ok(Received { scratch, image })
}

impl Received {
    /// Copies the image to a new scratch file keeping only what showing it
    /// needs (see [`clean`]), and takes the digest of the copy.
    ///
    /// # Errors
    /// 415 for an image whose structure cannot be walked, 422 naming `file`
    /// for one of more than [`MAX_PIXELS`]; I/O failures.
    pub async fn prepare(self) -> Result<Prepared, ApiError> {
        let Received { scratch, image } = self;
        let dir = scratch
            .path()
            .parent()
            .context("a scratch file has a directory")?
            .to_owned();
        let (cleaned, file) = ScratchFile::create(&dir)
            .await
            .context("creating a scratch file for an upload")?;
        let mut out = file.into_std().await;
        let source = scratch.path().to_owned();
        let cleaned_path = cleaned.path().to_owned();
        let (size, sha256) = web::block(move || {
            let mut original = std::fs::File::open(&source)?;
            let mut writer = StdBufWriter::with_capacity(64 * 1024, &mut out);
            clean(image, &mut original, &mut writer)?;
            writer.flush()?;
            drop(writer);
            drop(out);
            digest(&mut std::fs::File::open(&cleaned_path)?)
        })
        .await
        .map_err(|e| anyhow::anyhow!("blocking pool: {e}"))?
        .map_err(|err| match err {
            CleanError::Malformed => unsupported(),
            CleanError::TooManyPixels(dimensions) => FieldErrors::single(
                "file",
                "too_many_pixels",
                format!(
                    "图片尺寸 {} × {} 超过上限（{} 万像素）",
                    dimensions.width,
                    dimensions.height,
                    MAX_PIXELS / 10_000
                ),
                format!(
                    "an image of {} × {} pixels is over the limit of {} megapixels",
                    dimensions.width,
                    dimensions.height,
                    MAX_PIXELS / 1_000_000
                ),
            )
            .into(),
            CleanError::Io(io) => {
                ApiError::Internal(anyhow::Error::new(io).context("preparing an upload"))
            }
        })?;
        drop(scratch);
        Ok(Prepared {
            scratch: cleaned,
            image,
            size,
            sha256,
        })
    }
}

/// Length and SHA-256 (hex) of everything `reader` yields.
fn digest(reader: &mut impl Read) -> Result<(u64, String), CleanError> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = reader.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buffer[..n]);
    }
    Ok((size, hex::encode(hasher.finalize())))
}
