//! What an uploaded file is, decided from its bytes, how large it would be
//! decoded, and what of it is kept: the image and what shows it right, and
//! nothing else. A photo of a poor household must not say where it is (Exif
//! GPS, XMP), which phone took it and when (Exif make, model, time), nor carry
//! text or bytes after the image's end.

use std::io::{BufRead, BufReader, ErrorKind, Read, Seek, SeekFrom, Write};

/// The image types accepted for upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageType {
    Jpeg,
    Png,
    Webp,
}

impl ImageType {
    /// The accepted types, as a 415 answer names them.
    pub const ACCEPTED: &'static str = "image/jpeg, image/png or image/webp";

    /// Leading bytes enough to tell every accepted type apart.
    pub const SNIFF_LEN: usize = 12;

    /// The type from the file's magic number; `None` for anything else.
    pub fn sniff(head: &[u8]) -> Option<Self> {
        if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageType::Jpeg)
        } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageType::Png)
        } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
            Some(ImageType::Webp)
        } else {
            None
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            ImageType::Jpeg => "image/jpeg",
            ImageType::Png => "image/png",
            ImageType::Webp => "image/webp",
        }
    }
}

/// Largest accepted image, decoded: 40 megapixels (a phone's camera takes at
/// most about 50 MP; the mini-program sends its photos compressed, far below).
/// A few kilobytes can declare an image of billions of pixels.
pub const MAX_PIXELS: u64 = 40_000_000;

/// An image's size in pixels, as its header declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dimensions {
    pub width: u32,
    pub height: u32,
}

impl Dimensions {
    pub fn pixels(self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }
}

/// Why an image was not kept.
#[derive(Debug, thiserror::Error)]
pub enum CleanError {
    /// The file's segments or chunks cannot be walked: not an image we can vouch for.
    #[error("not a well-formed image")]
    Malformed,
    /// The header declares more than [`MAX_PIXELS`].
    #[error("{} × {} pixels is over the limit", .0.width, .0.height)]
    TooManyPixels(Dimensions),
    #[error(transparent)]
    Io(std::io::Error),
}

impl From<std::io::Error> for CleanError {
    fn from(err: std::io::Error) -> Self {
        if err.kind() == ErrorKind::UnexpectedEof {
            CleanError::Malformed
        } else {
            CleanError::Io(err)
        }
    }
}

/// Copies the image in `src` to `dst` keeping only what showing it needs, and
/// answers its dimensions, read from its header and checked against
/// [`MAX_PIXELS`] before anything of its pixel data is copied. Nothing is
/// decoded: the compressed image data is copied as it is, so quality is not
/// lost. See [`clean_jpeg`], [`clean_png`] and [`clean_webp`] for what each
/// type keeps.
///
/// # Errors
/// [`CleanError::Malformed`] when the structure cannot be walked,
/// [`CleanError::TooManyPixels`] past the limit.
pub fn clean<R: Read + Seek, W: Write>(
    image: ImageType,
    src: &mut R,
    dst: &mut W,
) -> Result<Dimensions, CleanError> {
    src.seek(SeekFrom::Start(0))?;
    match image {
        ImageType::Jpeg => clean_jpeg(&mut BufReader::with_capacity(64 * 1024, src), dst),
        ImageType::Png => clean_png(src, dst),
        ImageType::Webp => clean_webp(src, dst),
    }
}

fn checked(dimensions: Dimensions) -> Result<Dimensions, CleanError> {
    if dimensions.width == 0 || dimensions.height == 0 {
        return Err(CleanError::Malformed);
    }
    if dimensions.pixels() > MAX_PIXELS {
        return Err(CleanError::TooManyPixels(dimensions));
    }
    Ok(dimensions)
}

/// Most segments or chunks walked in one file. Real images have a few dozen
/// (thousands of small `IDAT`s at worst); a file of millions of empty ones is
/// refused rather than walked a syscall at a time.
const MAX_PARTS: usize = 100_000;

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;
const APP0: u8 = 0xE0;
const APP1: u8 = 0xE1;
const APP2: u8 = 0xE2;
const APP14: u8 = 0xEE;
const COM: u8 = 0xFE;
const EXIF_HEADER: &[u8] = b"Exif\0\0";
const JFIF_HEADER: &[u8] = b"JFIF\0";
const ICC_HEADER: &[u8] = b"ICC_PROFILE\0";
const ADOBE_HEADER: &[u8] = b"Adobe";

/// Whether a marker starts a frame (`SOF0`–`SOF15` but `DHT`, `JPG`, `DAC`),
/// whose header gives the image's size.
fn is_frame(marker: u8) -> bool {
    matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC)
}

/// A JPEG keeps its tables, frame and scans, the JFIF header, the colour
/// profile (`APP2 ICC_PROFILE`) and Adobe's colour transform (`APP14`); of
/// Exif only the orientation, in an Exif block of its own; comments, XMP and
/// every other application segment go, and so does anything after the end
/// of the image.
///
/// # Errors
/// As [`clean`]; a scan before a frame header, or no end of image, is malformed.
pub fn clean_jpeg<R: BufRead, W: Write>(
    src: &mut R,
    dst: &mut W,
) -> Result<Dimensions, CleanError> {
    let mut soi = [0u8; 2];
    src.read_exact(&mut soi)?;
    if soi != [0xFF, SOI] {
        return Err(CleanError::Malformed);
    }
    dst.write_all(&soi)?;
    let mut dimensions = None;
    // The marker that ended a scan, already read.
    let mut pending = None;
    for _ in 0..MAX_PARTS {
        let marker = match pending.take() {
            Some(marker) => marker,
            None => next_marker(src)?,
        };
        match marker {
            EOI => {
                dst.write_all(&[0xFF, EOI])?;
                return dimensions.ok_or(CleanError::Malformed);
            }
            0x00 | SOI => return Err(CleanError::Malformed),
            0x01 | 0xD0..=0xD7 => {
                dst.write_all(&[0xFF, marker])?;
                continue;
            }
            _ => {}
        }
        let mut length = [0u8; 2];
        src.read_exact(&mut length)?;
        let length = u16::from_be_bytes(length);
        if length < 2 {
            return Err(CleanError::Malformed);
        }
        let mut payload = vec![0u8; usize::from(length - 2)];
        src.read_exact(&mut payload)?;
        if is_frame(marker) {
            if payload.len() < 5 {
                return Err(CleanError::Malformed);
            }
            dimensions = Some(checked(Dimensions {
                height: u32::from(u16::from_be_bytes([payload[1], payload[2]])),
                width: u32::from(u16::from_be_bytes([payload[3], payload[4]])),
            })?);
        }
        let kept = match marker {
            APP0 => payload.starts_with(JFIF_HEADER),
            APP2 => payload.starts_with(ICC_HEADER),
            APP14 => payload.starts_with(ADOBE_HEADER),
            APP1 => {
                if let Some(exif) = payload
                    .strip_prefix(EXIF_HEADER)
                    .and_then(orientation)
                    .map(orientation_exif)
                {
                    write_segment(dst, APP1, &exif)?;
                }
                false
            }
            0xE3..=0xEF | COM => false,
            _ => true,
        };
        if kept {
            write_segment(dst, marker, &payload)?;
        }
        if marker == SOS {
            if dimensions.is_none() {
                return Err(CleanError::Malformed);
            }
            pending = Some(copy_entropy_coded(src, dst)?);
        }
    }
    Err(CleanError::Malformed)
}

/// The next marker's code, past the `0xFF` fill bytes that may precede it.
fn next_marker<R: Read>(src: &mut R) -> Result<u8, CleanError> {
    let mut byte = [0u8; 1];
    src.read_exact(&mut byte)?;
    if byte[0] != 0xFF {
        return Err(CleanError::Malformed);
    }
    while byte[0] == 0xFF {
        src.read_exact(&mut byte)?;
    }
    Ok(byte[0])
}

fn write_segment<W: Write>(dst: &mut W, marker: u8, payload: &[u8]) -> Result<(), CleanError> {
    let length = u16::try_from(payload.len() + 2).map_err(|_| CleanError::Malformed)?;
    dst.write_all(&[0xFF, marker])?;
    dst.write_all(&length.to_be_bytes())?;
    dst.write_all(payload)?;
    Ok(())
}

/// Copies a scan's entropy-coded data, with its stuffed bytes and restart
/// markers, up to the marker that ends it; answers that marker's code.
fn copy_entropy_coded<R: BufRead, W: Write>(src: &mut R, dst: &mut W) -> Result<u8, CleanError> {
    loop {
        let buffer = src.fill_buf()?;
        if buffer.is_empty() {
            return Err(CleanError::Malformed);
        }
        let Some(at) = buffer.iter().position(|b| *b == 0xFF) else {
            let n = buffer.len();
            dst.write_all(buffer)?;
            src.consume(n);
            continue;
        };
        dst.write_all(&buffer[..at])?;
        src.consume(at + 1);
        let mut next = [0u8; 1];
        src.read_exact(&mut next)?;
        while next[0] == 0xFF {
            src.read_exact(&mut next)?;
        }
        match next[0] {
            0x00 | 0xD0..=0xD7 => dst.write_all(&[0xFF, next[0]])?,
            marker => return Ok(marker),
        }
    }
}

const ORIENTATION: u16 = 0x0112;
const SHORT: u16 = 3;

/// The orientation (1–8) in IFD0 of a TIFF block (an Exif segment's body),
/// when it says anything but the default.
fn orientation(tiff: &[u8]) -> Option<u16> {
    let order = match tiff.get(..4)? {
        b"II*\0" => ByteOrder::Little,
        b"MM\0*" => ByteOrder::Big,
        _ => return None,
    };
    let tiff = Tiff { bytes: tiff, order };
    let ifd = usize::try_from(tiff.u32_at(4).ok()?).ok()?;
    let count = usize::from(tiff.u16_at(ifd).ok()?);
    (0..count)
        .map(|i| ifd + 2 + i * ENTRY_LEN)
        .find(|entry| tiff.u16_at(*entry).ok() == Some(ORIENTATION))
        .and_then(|entry| {
            (tiff.u16_at(entry + 2).ok()? == SHORT).then_some(())?;
            tiff.u16_at(entry + 8).ok()
        })
        .filter(|o| (2..=8).contains(o))
}

/// An Exif segment's payload that says only `orientation`.
fn orientation_exif(orientation: u16) -> Vec<u8> {
    let mut exif = EXIF_HEADER.to_vec();
    exif.extend(b"II*\0");
    exif.extend(8u32.to_le_bytes());
    exif.extend(1u16.to_le_bytes());
    exif.extend(ORIENTATION.to_le_bytes());
    exif.extend(SHORT.to_le_bytes());
    exif.extend(1u32.to_le_bytes());
    exif.extend(orientation.to_le_bytes());
    exif.extend([0, 0]);
    exif.extend(0u32.to_le_bytes());
    exif
}

#[derive(Clone, Copy)]
enum ByteOrder {
    Little,
    Big,
}

/// A TIFF (Exif) block, read in its own byte order.
struct Tiff<'a> {
    bytes: &'a [u8],
    order: ByteOrder,
}

const ENTRY_LEN: usize = 12;

impl Tiff<'_> {
    fn at<const N: usize>(&self, at: usize) -> Result<[u8; N], ()> {
        let end = at.checked_add(N).ok_or(())?;
        self.bytes
            .get(at..end)
            .and_then(|b| b.try_into().ok())
            .ok_or(())
    }

    fn u16_at(&self, at: usize) -> Result<u16, ()> {
        let b = self.at::<2>(at)?;
        Ok(match self.order {
            ByteOrder::Little => u16::from_le_bytes(b),
            ByteOrder::Big => u16::from_be_bytes(b),
        })
    }

    fn u32_at(&self, at: usize) -> Result<u32, ()> {
        let b = self.at::<4>(at)?;
        Ok(match self.order {
            ByteOrder::Little => u32::from_le_bytes(b),
            ByteOrder::Big => u32::from_be_bytes(b),
        })
    }
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Chunks a PNG keeps: the critical ones, transparency and colour
/// (`tRNS`, `gAMA`, `cHRM`, `sRGB`, `iCCP`, `sBIT`, `bKGD`), pixel density
/// (`pHYs`), and an animated PNG's frames. Text (`tEXt`, `zTXt`, `iTXt`),
/// `eXIf`, `tIME` and anything unknown go.
const PNG_KEPT: [&[u8; 4]; 14] = [
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT",
    b"bKGD", b"pHYs", b"acTL", b"fcTL",
];

/// A PNG keeps the chunks in [`PNG_KEPT`] (and `fdAT`, an animation's frame
/// data), unchanged with their checksums, up to `IEND`; nothing after it.
///
/// # Errors
/// As [`clean`]; a first chunk other than `IHDR`, or no `IEND`, is malformed.
pub fn clean_png<R: Read + Seek, W: Write>(
    src: &mut R,
    dst: &mut W,
) -> Result<Dimensions, CleanError> {
    let end = src.seek(SeekFrom::End(0))?;
    src.seek(SeekFrom::Start(0))?;
    let mut signature = [0u8; 8];
    src.read_exact(&mut signature)?;
    if signature != PNG_SIGNATURE {
        return Err(CleanError::Malformed);
    }
    dst.write_all(&signature)?;
    let mut pos = PNG_SIGNATURE.len() as u64;
    let mut dimensions = None;
    for _ in 0..MAX_PARTS {
        src.seek(SeekFrom::Start(pos))?;
        let mut header = [0u8; 8];
        src.read_exact(&mut header)?;
        let length = u64::from(u32::from_be_bytes([
            header[0], header[1], header[2], header[3],
        ]));
        let kind = [header[4], header[5], header[6], header[7]];
        let next = pos + 8 + length + 4;
        if next > end {
            return Err(CleanError::Malformed);
        }
        if dimensions.is_none() {
            if &kind != b"IHDR" || length < 8 {
                return Err(CleanError::Malformed);
            }
            let mut size = [0u8; 8];
            src.read_exact(&mut size)?;
            dimensions = Some(checked(Dimensions {
                width: u32::from_be_bytes([size[0], size[1], size[2], size[3]]),
                height: u32::from_be_bytes([size[4], size[5], size[6], size[7]]),
            })?);
            src.seek(SeekFrom::Start(pos + 8))?;
        }
        if PNG_KEPT.contains(&&kind) || &kind == b"fdAT" {
            dst.write_all(&header)?;
            let copied = std::io::copy(&mut src.by_ref().take(length + 4), dst)?;
            if copied != length + 4 {
                return Err(CleanError::Malformed);
            }
        }
        if &kind == b"IEND" {
            return dimensions.ok_or(CleanError::Malformed);
        }
        pos = next;
    }
    Err(CleanError::Malformed)
}

/// Chunks a WebP keeps: the image (`VP8 `, `VP8L`, `ALPH`), its extended
/// header (`VP8X`, with the Exif and XMP flags cleared), its colour profile
/// (`ICCP`) and animation (`ANIM`, `ANMF`). `EXIF`, `XMP ` and anything
/// unknown go, and so does anything past the RIFF container.
const WEBP_KEPT: [&[u8; 4]; 7] = [
    b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ICCP", b"ANIM", b"ANMF",
];
const VP8X_EXIF: u8 = 0x08;
const VP8X_XMP: u8 = 0x04;

/// A WebP keeps the chunks in [`WEBP_KEPT`], in a RIFF container sized anew.
///
/// # Errors
/// As [`clean`]; a file whose size cannot be read from its first image
/// chunk, or chunks running past the container, is malformed.
pub fn clean_webp<R: Read + Seek, W: Write>(
    src: &mut R,
    dst: &mut W,
) -> Result<Dimensions, CleanError> {
    let file_end = src.seek(SeekFrom::End(0))?;
    src.seek(SeekFrom::Start(0))?;
    let mut riff = [0u8; 12];
    src.read_exact(&mut riff)?;
    if &riff[..4] != b"RIFF" || &riff[8..] != b"WEBP" {
        return Err(CleanError::Malformed);
    }
    let declared = u64::from(u32::from_le_bytes([riff[4], riff[5], riff[6], riff[7]])) + 8;
    let end = declared.min(file_end);
    // First the chunks to keep and the size, then the copy.
    let mut kept: Vec<(u64, [u8; 4], u64)> = Vec::new();
    let mut dimensions = None;
    let mut pos: u64 = 12;
    let mut parts = 0;
    while pos + 8 <= end {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(CleanError::Malformed);
        }
        src.seek(SeekFrom::Start(pos))?;
        let mut header = [0u8; 8];
        src.read_exact(&mut header)?;
        let fourcc = [header[0], header[1], header[2], header[3]];
        let size = u64::from(u32::from_le_bytes([
            header[4], header[5], header[6], header[7],
        ]));
        let padded = size + (size & 1);
        if pos + 8 + size > end {
            return Err(CleanError::Malformed);
        }
        if dimensions.is_none() {
            let mut head = [0u8; 10];
            let n = usize::try_from(size.min(10)).map_err(|_| CleanError::Malformed)?;
            src.read_exact(&mut head[..n])?;
            dimensions = webp_dimensions(&fourcc, &head[..n])
                .map(checked)
                .transpose()?;
        }
        if WEBP_KEPT.contains(&&fourcc) {
            kept.push((pos, fourcc, size));
        }
        pos += 8 + padded.min(end - pos - 8);
    }
    let dimensions = dimensions.ok_or(CleanError::Malformed)?;
    let body: u64 = kept.iter().map(|(_, _, size)| 8 + size + (size & 1)).sum();
    let riff_size = u32::try_from(body + 4).map_err(|_| CleanError::Malformed)?;
    dst.write_all(b"RIFF")?;
    dst.write_all(&riff_size.to_le_bytes())?;
    dst.write_all(b"WEBP")?;
    for (at, fourcc, size) in kept {
        src.seek(SeekFrom::Start(at))?;
        let mut header = [0u8; 8];
        src.read_exact(&mut header)?;
        dst.write_all(&header)?;
        let mut data = src.by_ref().take(size);
        if &fourcc == b"VP8X" {
            let mut flags = [0u8; 1];
            data.read_exact(&mut flags)?;
            dst.write_all(&[flags[0] & !(VP8X_EXIF | VP8X_XMP)])?;
        }
        std::io::copy(&mut data, dst)?;
        if size & 1 == 1 {
            dst.write_all(&[0])?;
        }
    }
    Ok(dimensions)
}

/// The canvas size from a WebP's first chunk (`VP8X`, `VP8 ` or `VP8L`).
fn webp_dimensions(fourcc: &[u8; 4], data: &[u8]) -> Option<Dimensions> {
    let u24 = |b: &[u8]| u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16;
    match fourcc {
        b"VP8X" if data.len() >= 10 => Some(Dimensions {
            width: u24(&data[4..7]) + 1,
            height: u24(&data[7..10]) + 1,
        }),
        // A key frame: a 3-byte tag, the start code, 14-bit width and height.
        b"VP8 " if data.len() >= 10 && data[3..6] == [0x9D, 0x01, 0x2A] => Some(Dimensions {
            width: u32::from(u16::from_le_bytes([data[6], data[7]]) & 0x3FFF),
            height: u32::from(u16::from_le_bytes([data[8], data[9]]) & 0x3FFF),
        }),
        // The signature, then width − 1 and height − 1 in 14 bits each.
        b"VP8L" if data.len() >= 5 && data[0] == 0x2F => {
            let bits = u32::from_le_bytes([data[1], data[2], data[3], data[4]]);
            Some(Dimensions {
                width: (bits & 0x3FFF) + 1,
                height: ((bits >> 14) & 0x3FFF) + 1,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    fn cleaned(image: ImageType, bytes: Vec<u8>) -> Result<(Dimensions, Vec<u8>), CleanError> {
        let mut out = Vec::new();
        let dimensions = clean(image, &mut Cursor::new(bytes), &mut out)?;
        Ok((dimensions, out))
    }

    fn entry(tag: u16, kind: u16, count: u32, value: [u8; 4]) -> Vec<u8> {
        let mut e = Vec::new();
        e.extend(tag.to_le_bytes());
        e.extend(kind.to_le_bytes());
        e.extend(count.to_le_bytes());
        e.extend(value);
        e
    }

    /// Latitude 39°54'27.12" as three RATIONALs: distinctive bytes to look for.
    fn latitude() -> Vec<u8> {
        [(39u32, 1u32), (54, 1), (2712, 100)]
            .iter()
            .flat_map(|(n, d)| n.to_le_bytes().into_iter().chain(d.to_le_bytes()))
            .collect()
    }

    /// A little-endian TIFF block: IFD0 with orientation 6, the camera's make
    /// ("Canon") and a GPS pointer; then the GPS directory and the values.
    fn camera_exif() -> Vec<u8> {
        let mut tiff = b"II*\0".to_vec();
        tiff.extend(8u32.to_le_bytes());
        // IFD0 at 8: three entries → ends at 8 + 2 + 36 + 4 = 50.
        tiff.extend(3u16.to_le_bytes());
        tiff.extend(entry(0x010F, 2, 6, 74u32.to_le_bytes()));
        tiff.extend(entry(ORIENTATION, SHORT, 1, [6, 0, 0, 0]));
        tiff.extend(entry(0x8825, 4, 1, 50u32.to_le_bytes()));
        tiff.extend(0u32.to_le_bytes());
        // GPS IFD at 50: one entry → ends at 50 + 2 + 12 + 4 = 68.
        tiff.extend(1u16.to_le_bytes());
        tiff.extend(entry(0x0002, 5, 3, 80u32.to_le_bytes()));
        tiff.extend(0u32.to_le_bytes());
        tiff.extend(b"Canon\0");
        tiff.extend([0; 6]);
        tiff.extend(latitude());
        [EXIF_HEADER, &tiff].concat()
    }

    fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        let mut s = vec![0xFF, marker];
        s.extend(u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
        s.extend(payload);
        s
    }

    fn sof(width: u16, height: u16) -> Vec<u8> {
        let mut frame = vec![8];
        frame.extend(height.to_be_bytes());
        frame.extend(width.to_be_bytes());
        frame.extend([1, 1, 0x11, 0]);
        segment(0xC0, &frame)
    }

    /// SOI, what `before` holds, a frame, two scans with a table between
    /// them (as a progressive JPEG has), EOI and `after`.
    fn jpeg(before: &[Vec<u8>], width: u16, height: u16, after: &[u8]) -> Vec<u8> {
        let mut jpeg = vec![0xFF, SOI];
        for part in before {
            jpeg.extend(part);
        }
        jpeg.extend(segment(0xDB, &[0; 65]));
        jpeg.extend(sof(width, height));
        jpeg.extend(segment(0xC4, &[0; 20]));
        jpeg.extend(segment(SOS, &[1, 1, 0, 0, 63, 0]));
        jpeg.extend(SCAN);
        jpeg.extend(segment(0xC4, &[1; 20]));
        jpeg.extend(segment(SOS, &[1, 1, 0, 1, 63, 0]));
        jpeg.extend(SCAN);
        jpeg.extend([0xFF, EOI]);
        jpeg.extend(after);
        jpeg
    }

    /// Entropy-coded bytes with a stuffed 0xFF and a restart marker.
    const SCAN: &[u8] = &[0x12, 0x34, 0xFF, 0x00, 0x56, 0xFF, 0xD0, 0x78];

    const XMP: &[u8] = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta exif:GPSLatitude=\"39,54N\"/>";

    #[test]
    fn sniffs_types_from_magic_numbers_only() {
        assert_eq!(
            ImageType::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(ImageType::Jpeg)
        );
        assert_eq!(
            ImageType::sniff(b"\x89PNG\r\n\x1a\n\0\0\0\x0d"),
            Some(ImageType::Png)
        );
        assert_eq!(
            ImageType::sniff(b"RIFF\x24\0\0\0WEBPVP8 "),
            Some(ImageType::Webp)
        );
        assert_eq!(ImageType::sniff(b"RIFF\x24\0\0\0WAVEfmt "), None);
        assert_eq!(ImageType::sniff(b"GIF89a\x01\0\x01\0\0\0"), None);
        assert_eq!(ImageType::sniff(b""), None);
    }

    #[test]
    fn a_jpeg_keeps_its_image_and_orientation_and_nothing_else() {
        let jfif = segment(APP0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        let icc = segment(APP2, b"ICC_PROFILE\0\x01\x01profile");
        let original = jpeg(
            &[
                jfif.clone(),
                segment(APP1, &camera_exif()),
                segment(APP1, XMP),
                icc.clone(),
                segment(0xED, b"Photoshop 3.0\0IPTC city"),
                segment(COM, b"taken at the household"),
            ],
            640,
            480,
            b"hidden after the end",
        );

        let (dimensions, kept) = cleaned(ImageType::Jpeg, original.clone()).unwrap();

        assert_eq!(
            dimensions,
            Dimensions {
                width: 640,
                height: 480
            }
        );
        for gone in [
            &latitude()[..],
            b"Canon",
            b"GPSLatitude",
            b"IPTC",
            b"taken at",
            b"hidden",
        ] {
            assert!(!contains(&kept, gone), "{}", String::from_utf8_lossy(gone));
        }
        let exif = kept.windows(6).position(|w| w == EXIF_HEADER).unwrap() + 6;
        assert_eq!(orientation(&kept[exif..]), Some(6), "orientation kept");
        assert!(contains(&kept, &jfif) && contains(&kept, &icc));
        assert!(kept.ends_with(&[0xFF, EOI]));
        let from_tables = |bytes: &[u8]| {
            let at = bytes.windows(2).position(|w| w == [0xFF, 0xDB]).unwrap();
            bytes[at..].to_vec()
        };
        assert_eq!(
            from_tables(&kept),
            from_tables(&original[..original.len() - b"hidden after the end".len()]),
            "tables, frame and scans copied as they were"
        );
    }

    #[test]
    fn a_jpeg_without_orientation_gets_no_exif() {
        let original = jpeg(&[segment(APP1, XMP)], 8, 8, b"");

        let (_, kept) = cleaned(ImageType::Jpeg, original).unwrap();

        assert!(!contains(&kept, b"Exif"));
        assert!(!contains(&kept, b"xmpmeta"));
    }

    #[test]
    fn a_jpeg_declaring_too_many_pixels_is_refused_before_its_scan() {
        let original = jpeg(&[], 30_000, 30_000, b"");

        let result = cleaned(ImageType::Jpeg, original);

        assert!(
            matches!(
                result,
                Err(CleanError::TooManyPixels(Dimensions {
                    width: 30_000,
                    height: 30_000
                }))
            ),
            "{result:?}"
        );
    }

    #[test]
    fn broken_jpegs_are_malformed() {
        let whole = jpeg(&[], 8, 8, b"");
        let truncated = whole[..whole.len() - 4].to_vec();
        let mut no_marker = whole.clone();
        no_marker[2] = 0x00;
        let mut scan_first = vec![0xFF, SOI];
        scan_first.extend(segment(SOS, &[1, 1, 0, 0, 63, 0]));
        scan_first.extend([0x12, 0xFF, EOI]);

        for bytes in [truncated, no_marker, scan_first, vec![0xFF, 0xD8, 0xFF]] {
            let result = cleaned(ImageType::Jpeg, bytes);
            assert!(matches!(result, Err(CleanError::Malformed)), "{result:?}");
        }
    }

    fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(data);
        [
            &u32::try_from(data.len()).unwrap().to_be_bytes()[..],
            kind,
            data,
            &crc.finalize().to_be_bytes(),
        ]
        .concat()
    }

    fn ihdr(width: u32, height: u32) -> Vec<u8> {
        let mut data = width.to_be_bytes().to_vec();
        data.extend(height.to_be_bytes());
        data.extend([8, 6, 0, 0, 0]);
        png_chunk(b"IHDR", &data)
    }

    fn png(width: u32, height: u32, extra: &[Vec<u8>], after: &[u8]) -> Vec<u8> {
        let mut png = PNG_SIGNATURE.to_vec();
        png.extend(ihdr(width, height));
        png.extend(png_chunk(b"sRGB", &[0]));
        for chunk in extra {
            png.extend(chunk);
        }
        png.extend(png_chunk(b"IDAT", &[0x78, 0x9c, 0x63, 0x60, 0x00, 0x00]));
        png.extend(png_chunk(b"IEND", &[]));
        png.extend(after);
        png
    }

    fn png_kinds(png: &[u8]) -> Vec<String> {
        let mut kinds = Vec::new();
        let mut pos = 8;
        while pos < png.len() {
            let length = u32::from_be_bytes(png[pos..pos + 4].try_into().unwrap()) as usize;
            kinds.push(String::from_utf8_lossy(&png[pos + 4..pos + 8]).into_owned());
            pos += 12 + length;
        }
        kinds
    }

    #[test]
    fn a_png_keeps_its_image_chunks_and_nothing_after_the_end() {
        let original = png(
            64,
            32,
            &[
                png_chunk(b"tEXt", b"Comment\0the Wang household, group 3"),
                png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0GPSLatitude"),
                png_chunk(b"eXIf", &camera_exif()[EXIF_HEADER.len()..]),
                png_chunk(b"tIME", &[7, 234, 12, 6, 1, 2, 3]),
            ],
            b"trailing bytes",
        );

        let (dimensions, kept) = cleaned(ImageType::Png, original).unwrap();

        assert_eq!(
            dimensions,
            Dimensions {
                width: 64,
                height: 32
            }
        );
        assert_eq!(png_kinds(&kept), ["IHDR", "sRGB", "IDAT", "IEND"]);
        assert!(!contains(&kept, b"Wang") && !contains(&kept, b"trailing"));
        assert_eq!(kept, png(64, 32, &[], b""), "kept chunks unchanged");
    }

    #[test]
    fn a_png_declaring_too_many_pixels_is_refused() {
        let result = cleaned(ImageType::Png, png(30_000, 30_000, &[], b""));

        assert!(
            matches!(result, Err(CleanError::TooManyPixels(_))),
            "{result:?}"
        );
    }

    #[test]
    fn broken_pngs_are_malformed() {
        let whole = png(4, 4, &[], b"");
        let truncated = whole[..whole.len() - 6].to_vec();
        let mut no_header = PNG_SIGNATURE.to_vec();
        no_header.extend(png_chunk(b"IDAT", &[1, 2, 3]));
        no_header.extend(png_chunk(b"IEND", &[]));
        let mut countless = PNG_SIGNATURE.to_vec();
        countless.extend(ihdr(1, 1));
        let empty = png_chunk(b"tEXt", &[]);
        for _ in 0..=MAX_PARTS {
            countless.extend(&empty);
        }

        for bytes in [truncated, no_header, countless, png(0, 4, &[], b"")] {
            let result = cleaned(ImageType::Png, bytes);
            assert!(matches!(result, Err(CleanError::Malformed)), "{result:?}");
        }
    }

    fn webp_chunk(fourcc: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut chunk = fourcc.to_vec();
        chunk.extend(u32::try_from(data.len()).unwrap().to_le_bytes());
        chunk.extend(data);
        if data.len() % 2 == 1 {
            chunk.push(0);
        }
        chunk
    }

    fn webp(chunks: &[Vec<u8>], after: &[u8]) -> Vec<u8> {
        let body: Vec<u8> = chunks.concat();
        let mut webp = b"RIFF".to_vec();
        webp.extend(u32::try_from(body.len() + 4).unwrap().to_le_bytes());
        webp.extend(b"WEBP");
        webp.extend(body);
        webp.extend(after);
        webp
    }

    /// A VP8X header for a canvas of `width` × `height` with `flags`.
    fn vp8x(flags: u8, width: u32, height: u32) -> Vec<u8> {
        let mut data = vec![flags, 0, 0, 0];
        data.extend(&(width - 1).to_le_bytes()[..3]);
        data.extend(&(height - 1).to_le_bytes()[..3]);
        webp_chunk(b"VP8X", &data)
    }

    /// A lossless image's header: 100 × 50.
    fn vp8l() -> Vec<u8> {
        let bits: u32 = 99 | (49 << 14);
        let mut data = vec![0x2F];
        data.extend(bits.to_le_bytes());
        data.extend([0x10, 0x07]);
        webp_chunk(b"VP8L", &data)
    }

    #[test]
    fn a_webp_keeps_its_image_and_clears_the_metadata_flags() {
        let original = webp(
            &[
                vp8x(VP8X_EXIF | VP8X_XMP | 0x10, 100, 50),
                vp8l(),
                webp_chunk(b"EXIF", &camera_exif()),
                webp_chunk(b"XMP ", XMP),
            ],
            b"trailing bytes",
        );

        let (dimensions, kept) = cleaned(ImageType::Webp, original).unwrap();

        assert_eq!(
            dimensions,
            Dimensions {
                width: 100,
                height: 50
            }
        );
        assert_eq!(kept, webp(&[vp8x(0x10, 100, 50), vp8l()], b""));
    }

    #[test]
    fn a_simple_webp_takes_its_size_from_the_image_chunk() {
        let (dimensions, _) = cleaned(ImageType::Webp, webp(&[vp8l()], b"")).unwrap();

        assert_eq!(
            dimensions,
            Dimensions {
                width: 100,
                height: 50
            }
        );
    }

    #[test]
    fn a_webp_declaring_too_many_pixels_is_refused_and_a_broken_one_is_malformed() {
        let huge = webp(&[vp8x(0, 16_000, 16_000), vp8l()], b"");
        let mut truncated = webp(&[vp8l()], b"");
        truncated.truncate(truncated.len() - 4);
        let no_image = webp(&[webp_chunk(b"EXIF", &camera_exif())], b"");

        assert!(matches!(
            cleaned(ImageType::Webp, huge),
            Err(CleanError::TooManyPixels(_))
        ));
        for bytes in [truncated, no_image] {
            let result = cleaned(ImageType::Webp, bytes);
            assert!(matches!(result, Err(CleanError::Malformed)), "{result:?}");
        }
    }
}
