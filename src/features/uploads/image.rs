//! What an uploaded file is, decided from its bytes, and the location data a
//! photo must not carry: a photo of a poor household must not say where it is.

use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};

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

/// Why location data could not be removed.
#[derive(Debug, thiserror::Error)]
pub enum StripError {
    /// The file's segments or chunks cannot be walked: not an image we can vouch for.
    #[error("not a well-formed image")]
    Malformed,
    #[error(transparent)]
    Io(std::io::Error),
}

impl From<std::io::Error> for StripError {
    fn from(err: std::io::Error) -> Self {
        if err.kind() == ErrorKind::UnexpectedEof {
            StripError::Malformed
        } else {
            StripError::Io(err)
        }
    }
}

/// Removes location data from an image of type `image` in place, keeping its
/// length; whether anything changed. See [`strip_jpeg_location`],
/// [`strip_png_location`] and [`strip_webp_location`].
///
/// # Errors
/// [`StripError::Malformed`] when the file's structure cannot be walked.
pub fn strip_location<F: Read + Write + Seek>(
    image: ImageType,
    file: &mut F,
) -> Result<bool, StripError> {
    match image {
        ImageType::Jpeg => strip_jpeg_location(file),
        ImageType::Png => strip_png_location(file),
        ImageType::Webp => strip_webp_location(file),
    }
}

/// Most segments or chunks walked in one file. Real images have a few dozen
/// (thousands of small `IDAT`s at worst); a file of millions of empty ones is
/// refused rather than walked a syscall at a time.
const MAX_PARTS: usize = 100_000;

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;
const APP1: u8 = 0xE1;
const EXIF_HEADER: &[u8] = b"Exif\0\0";
const XMP_HEADERS: [&[u8]; 2] = [
    b"http://ns.adobe.com/xap/1.0/\0",
    b"http://ns.adobe.com/xmp/extension/\0",
];

/// Removes location data from a JPEG in place, keeping its length and every
/// other byte: in each Exif segment the GPS directory and the values it points
/// to are zeroed and its pointer (tag 0x8825) is taken out of IFD0, so the
/// orientation and the rest of Exif survive; an Exif block that cannot be
/// parsed is blanked whole, and so are XMP packets (they may repeat the
/// location). Returns whether anything changed.
///
/// Only the segments before the first scan are read, where Exif and XMP live.
///
/// # Errors
/// [`StripError::Malformed`] when the file is not a walkable JPEG.
pub fn strip_jpeg_location<F: Read + Write + Seek>(file: &mut F) -> Result<bool, StripError> {
    let mut soi = [0u8; 2];
    file.seek(SeekFrom::Start(0))?;
    file.read_exact(&mut soi)?;
    if soi != [0xFF, SOI] {
        return Err(StripError::Malformed);
    }
    let mut changed = false;
    let mut pos: u64 = 2;
    for _ in 0..MAX_PARTS {
        file.seek(SeekFrom::Start(pos))?;
        let mut byte = [0u8; 1];
        file.read_exact(&mut byte)?;
        if byte[0] != 0xFF {
            return Err(StripError::Malformed);
        }
        // Any number of 0xFF fill bytes may precede a marker.
        let mut marker = 0xFF;
        while marker == 0xFF {
            file.read_exact(&mut byte)?;
            marker = byte[0];
            pos += 1;
        }
        pos += 1;
        match marker {
            SOS | EOI => return Ok(changed),
            0x00 | SOI => return Err(StripError::Malformed),
            // Markers that stand alone, without a length.
            0x01 | 0xD0..=0xD7 => continue,
            _ => {}
        }
        let mut length = [0u8; 2];
        file.read_exact(&mut length)?;
        let length = u16::from_be_bytes(length);
        if length < 2 {
            return Err(StripError::Malformed);
        }
        let payload_at = pos + 2;
        let payload_len = u64::from(length - 2);
        if marker == APP1 {
            let mut payload = vec![0u8; usize::from(length - 2)];
            file.read_exact(&mut payload)?;
            if scrub_app1(&mut payload) {
                file.seek(SeekFrom::Start(payload_at))?;
                file.write_all(&payload)?;
                changed = true;
            }
        }
        pos = payload_at + payload_len;
    }
    Err(StripError::Malformed)
}

/// Scrubs one APP1 payload; whether it changed.
fn scrub_app1(payload: &mut [u8]) -> bool {
    if payload.starts_with(EXIF_HEADER) {
        return scrub_exif(payload);
    }
    if XMP_HEADERS.iter().any(|h| payload.starts_with(h)) {
        payload.fill(0);
        return true;
    }
    false
}

/// Takes the GPS directory out of an Exif block (a TIFF structure, with or
/// without the `Exif\0\0` header); whether it changed. A block that cannot
/// be parsed is blanked whole.
fn scrub_exif(exif: &mut [u8]) -> bool {
    let header = if exif.starts_with(EXIF_HEADER) {
        EXIF_HEADER.len()
    } else {
        0
    };
    match strip_tiff_gps(&mut exif[header..]) {
        Ok(changed) => changed,
        // Whatever was half-done, nothing of it is left.
        Err(Unreadable) => {
            exif.fill(0);
            true
        }
    }
}

const PNG_SIGNATURE_LEN: u64 = 8;
const PNG_XMP_KEYWORD: &[u8] = b"XML:com.adobe.xmp\0";

/// Removes location data from a PNG in place, keeping its length: the GPS
/// directory of an `eXIf` chunk as in [`strip_jpeg_location`], and the text of
/// an XMP `iTXt` chunk (replaced by spaces, keyword kept); checksums are
/// recomputed. Returns whether anything changed.
///
/// # Errors
/// [`StripError::Malformed`] when the chunks cannot be walked.
pub fn strip_png_location<F: Read + Write + Seek>(file: &mut F) -> Result<bool, StripError> {
    let end = file.seek(SeekFrom::End(0))?;
    let mut changed = false;
    let mut pos = PNG_SIGNATURE_LEN;
    for _ in 0..MAX_PARTS {
        if pos >= end {
            return Ok(changed);
        }
        file.seek(SeekFrom::Start(pos))?;
        let mut header = [0u8; 8];
        file.read_exact(&mut header)?;
        let length = u64::from(u32::from_be_bytes([
            header[0], header[1], header[2], header[3],
        ]));
        let kind = [header[4], header[5], header[6], header[7]];
        let data_at = pos + 8;
        let next = data_at + length + 4;
        if next > end {
            return Err(StripError::Malformed);
        }
        if &kind == b"IEND" {
            return Ok(changed);
        }
        if &kind == b"eXIf" || &kind == b"iTXt" {
            let mut data = vec![0u8; usize::try_from(length).map_err(|_| StripError::Malformed)?];
            file.read_exact(&mut data)?;
            let scrubbed = if &kind == b"eXIf" {
                scrub_exif(&mut data)
            } else {
                scrub_png_xmp(&mut data)
            };
            if scrubbed {
                let mut crc = crc32fast::Hasher::new();
                crc.update(&kind);
                crc.update(&data);
                file.seek(SeekFrom::Start(data_at))?;
                file.write_all(&data)?;
                file.write_all(&crc.finalize().to_be_bytes())?;
                changed = true;
            }
        }
        pos = next;
    }
    Err(StripError::Malformed)
}

/// An XMP `iTXt` chunk keeps its keyword and becomes uncompressed spaces, so
/// it stays a valid chunk that says nothing.
fn scrub_png_xmp(data: &mut [u8]) -> bool {
    if !data.starts_with(PNG_XMP_KEYWORD) {
        return false;
    }
    // Compression flag and method 0, an empty language tag and translated
    // keyword (their terminators), then the text.
    for (i, byte) in data[PNG_XMP_KEYWORD.len()..].iter_mut().enumerate() {
        *byte = if i < 4 { 0 } else { b' ' };
    }
    true
}

/// Removes location data from a WebP in place, keeping its length: the GPS
/// directory of the `EXIF` chunk as in [`strip_jpeg_location`]; the `XMP `
/// chunk is blanked. Returns whether anything changed.
///
/// # Errors
/// [`StripError::Malformed`] when the chunks cannot be walked.
pub fn strip_webp_location<F: Read + Write + Seek>(file: &mut F) -> Result<bool, StripError> {
    let end = file.seek(SeekFrom::End(0))?;
    let mut changed = false;
    let mut pos: u64 = 12;
    for _ in 0..MAX_PARTS {
        if pos + 8 > end {
            return Ok(changed);
        }
        file.seek(SeekFrom::Start(pos))?;
        let mut header = [0u8; 8];
        file.read_exact(&mut header)?;
        let fourcc = [header[0], header[1], header[2], header[3]];
        let size = u64::from(u32::from_le_bytes([
            header[4], header[5], header[6], header[7],
        ]));
        let data_at = pos + 8;
        if data_at + size > end {
            return Err(StripError::Malformed);
        }
        if &fourcc == b"EXIF" || &fourcc == b"XMP " {
            let mut data = vec![0u8; usize::try_from(size).map_err(|_| StripError::Malformed)?];
            file.read_exact(&mut data)?;
            let scrubbed = if &fourcc == b"EXIF" {
                scrub_exif(&mut data)
            } else {
                data.fill(0);
                true
            };
            if scrubbed {
                file.seek(SeekFrom::Start(data_at))?;
                file.write_all(&data)?;
                changed = true;
            }
        }
        // Chunks are padded to an even length.
        pos = data_at + size + (size & 1);
    }
    Err(StripError::Malformed)
}

/// A TIFF structure whose offsets lead outside it.
#[derive(Debug)]
struct Unreadable;

#[derive(Clone, Copy)]
enum ByteOrder {
    Little,
    Big,
}

/// A TIFF (Exif) block, read and written in its own byte order.
struct Tiff<'a> {
    bytes: &'a mut [u8],
    order: ByteOrder,
}

const GPS_IFD_POINTER: u16 = 0x8825;
const ENTRY_LEN: usize = 12;

impl Tiff<'_> {
    fn range(&self, at: usize, len: usize) -> Result<std::ops::Range<usize>, Unreadable> {
        let end = at.checked_add(len).ok_or(Unreadable)?;
        if end > self.bytes.len() {
            return Err(Unreadable);
        }
        Ok(at..end)
    }

    fn u16_at(&self, at: usize) -> Result<u16, Unreadable> {
        let range = self.range(at, 2)?;
        let b = [self.bytes[range.start], self.bytes[range.start + 1]];
        Ok(match self.order {
            ByteOrder::Little => u16::from_le_bytes(b),
            ByteOrder::Big => u16::from_be_bytes(b),
        })
    }

    fn u32_at(&self, at: usize) -> Result<u32, Unreadable> {
        let range = self.range(at, 4)?;
        let mut b = [0u8; 4];
        b.copy_from_slice(&self.bytes[range]);
        Ok(match self.order {
            ByteOrder::Little => u32::from_le_bytes(b),
            ByteOrder::Big => u32::from_be_bytes(b),
        })
    }

    fn put_u16(&mut self, at: usize, value: u16) -> Result<(), Unreadable> {
        let range = self.range(at, 2)?;
        let b = match self.order {
            ByteOrder::Little => value.to_le_bytes(),
            ByteOrder::Big => value.to_be_bytes(),
        };
        self.bytes[range].copy_from_slice(&b);
        Ok(())
    }

    fn put_u32(&mut self, at: usize, value: u32) -> Result<(), Unreadable> {
        let range = self.range(at, 4)?;
        let b = match self.order {
            ByteOrder::Little => value.to_le_bytes(),
            ByteOrder::Big => value.to_be_bytes(),
        };
        self.bytes[range].copy_from_slice(&b);
        Ok(())
    }

    fn zero(&mut self, at: usize, len: usize) -> Result<(), Unreadable> {
        let range = self.range(at, len)?;
        self.bytes[range].fill(0);
        Ok(())
    }

    /// The entry count of the directory at `ifd`, checked to fit.
    fn entries(&self, ifd: usize) -> Result<usize, Unreadable> {
        let count = usize::from(self.u16_at(ifd)?);
        self.range(ifd, 2 + count * ENTRY_LEN + 4)?;
        Ok(count)
    }

    /// Zeroes the GPS directory at `ifd`, its entries and the values they point to.
    fn zero_directory(&mut self, ifd: usize) -> Result<(), Unreadable> {
        let count = self.entries(ifd)?;
        for i in 0..count {
            let entry = ifd + 2 + i * ENTRY_LEN;
            let kind = self.u16_at(entry + 2)?;
            let n = usize::try_from(self.u32_at(entry + 4)?).map_err(|_| Unreadable)?;
            let size = value_size(kind).and_then(|s| s.checked_mul(n));
            if let Some(size) = size.filter(|s| *s > 4) {
                let at = usize::try_from(self.u32_at(entry + 8)?).map_err(|_| Unreadable)?;
                self.zero(at, size)?;
            }
        }
        self.zero(ifd, 2 + count * ENTRY_LEN + 4)
    }

    /// Takes the GPS pointer out of the directory at `ifd` (zeroing what it
    /// points to); whether there was one.
    fn unlink_gps(&mut self, ifd: usize) -> Result<bool, Unreadable> {
        let count = self.entries(ifd)?;
        let entry_at = |i: usize| ifd + 2 + i * ENTRY_LEN;
        let mut found = None;
        for i in 0..count {
            if self.u16_at(entry_at(i))? == GPS_IFD_POINTER {
                found = Some(i);
                break;
            }
        }
        let Some(k) = found else {
            return Ok(false);
        };
        let gps = usize::try_from(self.u32_at(entry_at(k) + 8)?).map_err(|_| Unreadable)?;
        self.zero_directory(gps)?;
        let next = self.u32_at(entry_at(count))?;
        self.bytes
            .copy_within(entry_at(k + 1)..entry_at(count), entry_at(k));
        let shrunk = u16::try_from(count - 1).map_err(|_| Unreadable)?;
        self.put_u16(ifd, shrunk)?;
        self.put_u32(entry_at(count - 1), next)?;
        self.zero(entry_at(count - 1) + 4, ENTRY_LEN)?;
        Ok(true)
    }
}

/// Bytes per value of a TIFF field type; `None` for unknown types.
fn value_size(kind: u16) -> Option<usize> {
    match kind {
        1 | 2 | 6 | 7 => Some(1),
        3 | 8 => Some(2),
        4 | 9 | 11 | 13 => Some(4),
        5 | 10 | 12 => Some(8),
        _ => None,
    }
}

/// Removes the GPS directory from a TIFF block (the body of an Exif segment);
/// whether there was one.
fn strip_tiff_gps(bytes: &mut [u8]) -> Result<bool, Unreadable> {
    let order = match bytes.get(..4) {
        Some(b"II*\0") => ByteOrder::Little,
        Some(b"MM\0*") => ByteOrder::Big,
        _ => return Err(Unreadable),
    };
    let mut tiff = Tiff { bytes, order };
    let mut changed = false;
    let mut ifd = tiff.u32_at(4)?;
    // IFD0 holds the GPS pointer; IFD1 (the thumbnail's) is checked too. A
    // bound on the chain guards against directories that point at each other.
    for _ in 0..2 {
        if ifd == 0 {
            break;
        }
        let at = usize::try_from(ifd).map_err(|_| Unreadable)?;
        changed |= tiff.unlink_gps(at)?;
        let count = tiff.entries(at)?;
        ifd = tiff.u32_at(at + 2 + count * ENTRY_LEN)?;
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    /// Latitude 39°54'27.12" as three little-endian RATIONALs: distinctive bytes
    /// to look for after stripping.
    fn latitude() -> Vec<u8> {
        [(39u32, 1u32), (54, 1), (2712, 100)]
            .iter()
            .flat_map(|(n, d)| n.to_le_bytes().into_iter().chain(d.to_le_bytes()))
            .collect()
    }

    fn entry(tag: u16, kind: u16, count: u32, value: [u8; 4]) -> Vec<u8> {
        let mut e = Vec::new();
        e.extend(tag.to_le_bytes());
        e.extend(kind.to_le_bytes());
        e.extend(count.to_le_bytes());
        e.extend(value);
        e
    }

    /// A little-endian TIFF block: IFD0 with orientation 6 and a GPS pointer,
    /// then a GPS directory with latitude and its reference.
    fn exif_with_gps() -> Vec<u8> {
        let mut tiff = b"II*\0".to_vec();
        tiff.extend(8u32.to_le_bytes());
        // IFD0 at 8: two entries → ends at 8 + 2 + 24 + 4 = 38.
        let gps_at = 38u32;
        tiff.extend(2u16.to_le_bytes());
        tiff.extend(entry(0x0112, 3, 1, [6, 0, 0, 0]));
        tiff.extend(entry(0x8825, 4, 1, gps_at.to_le_bytes()));
        tiff.extend(0u32.to_le_bytes());
        // GPS IFD at 38: two entries → ends at 38 + 2 + 24 + 4 = 68.
        let latitude_at = 68u32;
        tiff.extend(2u16.to_le_bytes());
        tiff.extend(entry(0x0001, 2, 2, *b"N\0\0\0"));
        tiff.extend(entry(0x0002, 5, 3, latitude_at.to_le_bytes()));
        tiff.extend(0u32.to_le_bytes());
        tiff.extend(latitude());
        tiff
    }

    fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        let mut s = vec![0xFF, marker];
        s.extend(u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
        s.extend(payload);
        s
    }

    /// SOI, APP1 Exif, a comment, a scan header and a few bytes of scan, EOI.
    fn jpeg_with(app1: &[u8]) -> Vec<u8> {
        let mut jpeg = vec![0xFF, SOI];
        jpeg.extend(segment(APP1, app1));
        jpeg.extend(segment(0xFE, b"made in a test"));
        jpeg.extend(segment(SOS, &[1, 1, 0, 0, 63, 0]));
        jpeg.extend([0x12, 0x34, 0xFF, 0x00, 0x56]);
        jpeg.extend([0xFF, EOI]);
        jpeg
    }

    fn exif_segment(tiff: &[u8]) -> Vec<u8> {
        [EXIF_HEADER, tiff].concat()
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    fn ifd0_tags(jpeg: &[u8]) -> Vec<u16> {
        // SOI (2) + marker (2) + length (2) + "Exif\0\0" (6) = the TIFF block.
        let tiff = &jpeg[12..];
        let count = u16::from_le_bytes([tiff[8], tiff[9]]);
        (0..usize::from(count))
            .map(|i| u16::from_le_bytes([tiff[10 + i * 12], tiff[11 + i * 12]]))
            .collect()
    }

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
        assert_eq!(ImageType::sniff(b"just some text"), None);
        assert_eq!(ImageType::sniff(b""), None);
    }

    #[test]
    fn gps_is_removed_and_orientation_kept() {
        let original = jpeg_with(&exif_segment(&exif_with_gps()));
        assert!(contains(&original, &latitude()));
        let mut file = Cursor::new(original.clone());

        let changed = strip_jpeg_location(&mut file).unwrap();

        let stripped = file.into_inner();
        assert!(changed);
        assert!(!contains(&stripped, &latitude()), "latitude still there");
        assert!(
            !contains(&stripped, b"N\0\0\0"),
            "latitude reference still there"
        );
        assert_eq!(ifd0_tags(&stripped), [0x0112], "GPS pointer still in IFD0");
        assert_eq!(stripped.len(), original.len());
        assert_eq!(&stripped[..2], [0xFF, 0xD8]);
        assert_eq!(&stripped[stripped.len() - 2..], [0xFF, 0xD9]);
        let app1_end = 4 + usize::from(u16::from_be_bytes([original[4], original[5]]));
        assert_eq!(
            &stripped[app1_end..],
            &original[app1_end..],
            "what follows the Exif segment is untouched"
        );
    }

    #[test]
    fn big_endian_exif_is_stripped_too() {
        let mut tiff = b"MM\0*".to_vec();
        tiff.extend(8u32.to_be_bytes());
        tiff.extend(1u16.to_be_bytes());
        tiff.extend(0x8825u16.to_be_bytes());
        tiff.extend(4u16.to_be_bytes());
        tiff.extend(1u32.to_be_bytes());
        tiff.extend(26u32.to_be_bytes());
        tiff.extend(0u32.to_be_bytes());
        // GPS IFD at 26: one longitude entry pointing at 44.
        tiff.extend(1u16.to_be_bytes());
        tiff.extend(0x0004u16.to_be_bytes());
        tiff.extend(5u16.to_be_bytes());
        tiff.extend(3u32.to_be_bytes());
        tiff.extend(44u32.to_be_bytes());
        tiff.extend(0u32.to_be_bytes());
        let longitude: Vec<u8> = [116u32, 1, 23, 1, 4567, 100]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect();
        tiff.extend(&longitude);
        let mut file = Cursor::new(jpeg_with(&exif_segment(&tiff)));

        assert!(strip_jpeg_location(&mut file).unwrap());

        assert!(!contains(&file.into_inner(), &longitude));
    }

    #[test]
    fn exif_with_offsets_outside_it_is_blanked_whole() {
        let mut tiff = exif_with_gps();
        // Point the latitude far past the end of the block.
        let pointer = 38 + 2 + 12 + 8;
        tiff[pointer..pointer + 4].copy_from_slice(&0x00FF_FFFFu32.to_le_bytes());
        let mut file = Cursor::new(jpeg_with(&exif_segment(&tiff)));

        assert!(strip_jpeg_location(&mut file).unwrap());

        let stripped = file.into_inner();
        assert!(!contains(&stripped, &latitude()));
        assert!(!contains(&stripped, b"Exif"));
        assert_eq!(&stripped[stripped.len() - 2..], [0xFF, 0xD9]);
    }

    #[test]
    fn xmp_packets_are_blanked() {
        let xmp = [XMP_HEADERS[0], XMP_WITH_GPS].concat();
        let mut file = Cursor::new(jpeg_with(&xmp));

        assert!(strip_jpeg_location(&mut file).unwrap());

        assert!(!contains(&file.into_inner(), b"GPSLatitude"));
    }

    #[test]
    fn a_jpeg_without_location_is_left_alone() {
        let mut tiff = b"II*\0".to_vec();
        tiff.extend(8u32.to_le_bytes());
        tiff.extend(1u16.to_le_bytes());
        tiff.extend(entry(0x0112, 3, 1, [1, 0, 0, 0]));
        tiff.extend(0u32.to_le_bytes());
        let original = jpeg_with(&exif_segment(&tiff));
        let mut file = Cursor::new(original.clone());

        assert!(!strip_jpeg_location(&mut file).unwrap());

        assert_eq!(file.into_inner(), original);
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

    const XMP_WITH_GPS: &[u8] =
        b"<x:xmpmeta><rdf:Description exif:GPSLatitude=\"39,54.452N\"/></x:xmpmeta>";

    fn png_with(chunks: &[Vec<u8>]) -> Vec<u8> {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(png_chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]));
        for chunk in chunks {
            png.extend(chunk);
        }
        png.extend(png_chunk(b"IDAT", &[0x78, 0x9c, 0x63, 0x60, 0x00, 0x00]));
        png.extend(png_chunk(b"IEND", &[]));
        png
    }

    /// Every chunk's checksum, checked: (type, checksum right).
    fn png_chunks(png: &[u8]) -> Vec<(String, bool)> {
        let mut chunks = Vec::new();
        let mut pos = 8;
        while pos < png.len() {
            let length = u32::from_be_bytes(png[pos..pos + 4].try_into().unwrap()) as usize;
            let kind = &png[pos + 4..pos + 8];
            let data = &png[pos + 8..pos + 8 + length];
            let stored =
                u32::from_be_bytes(png[pos + 8 + length..pos + 12 + length].try_into().unwrap());
            let mut crc = crc32fast::Hasher::new();
            crc.update(kind);
            crc.update(data);
            chunks.push((
                String::from_utf8_lossy(kind).into_owned(),
                crc.finalize() == stored,
            ));
            pos += 12 + length;
        }
        chunks
    }

    #[test]
    fn png_exif_gps_and_xmp_are_removed_with_valid_checksums() {
        let itxt = [PNG_XMP_KEYWORD, &[0, 0, 0, 0], XMP_WITH_GPS].concat();
        let original = png_with(&[
            png_chunk(b"eXIf", &exif_with_gps()),
            png_chunk(b"iTXt", &itxt),
        ]);
        let mut file = Cursor::new(original.clone());

        assert!(strip_location(ImageType::Png, &mut file).unwrap());

        let stripped = file.into_inner();
        assert!(!contains(&stripped, &latitude()), "latitude still there");
        assert!(!contains(&stripped, b"GPSLatitude"), "XMP still there");
        assert!(
            contains(&stripped, PNG_XMP_KEYWORD),
            "the iTXt chunk stays valid"
        );
        assert_eq!(stripped.len(), original.len());
        let chunks = png_chunks(&stripped);
        assert_eq!(
            chunks.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            ["IHDR", "eXIf", "iTXt", "IDAT", "IEND"]
        );
        assert!(chunks.iter().all(|(_, ok)| *ok), "{chunks:?}");
    }

    #[test]
    fn a_png_without_metadata_is_left_alone() {
        let original = png_with(&[png_chunk(b"tEXt", b"Title\0a household")]);
        let mut file = Cursor::new(original.clone());

        assert!(!strip_location(ImageType::Png, &mut file).unwrap());

        assert_eq!(file.into_inner(), original);
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

    fn webp_with(chunks: &[Vec<u8>]) -> Vec<u8> {
        let body: Vec<u8> = chunks.concat();
        let mut webp = b"RIFF".to_vec();
        webp.extend(u32::try_from(body.len() + 4).unwrap().to_le_bytes());
        webp.extend(b"WEBP");
        webp.extend(body);
        webp
    }

    #[test]
    fn webp_exif_gps_and_xmp_are_removed() {
        let original = webp_with(&[
            webp_chunk(b"VP8X", &[0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            // An odd length, so the next chunk starts after a pad byte.
            webp_chunk(b"VP8L", &[0x2f, 0, 0, 0, 0x10, 0x07, 0x10]),
            webp_chunk(b"EXIF", &exif_segment(&exif_with_gps())),
            webp_chunk(b"XMP ", XMP_WITH_GPS),
        ]);
        let mut file = Cursor::new(original.clone());

        assert!(strip_location(ImageType::Webp, &mut file).unwrap());

        let stripped = file.into_inner();
        assert!(!contains(&stripped, &latitude()), "latitude still there");
        assert!(!contains(&stripped, b"GPSLatitude"), "XMP still there");
        assert_eq!(stripped.len(), original.len());
        assert_eq!(
            &stripped[..30],
            &original[..30],
            "headers and image data untouched"
        );
    }

    #[test]
    fn chunks_running_past_the_end_are_malformed() {
        let mut png = png_with(&[]);
        png.truncate(png.len() - 6);
        let mut webp = webp_with(&[webp_chunk(b"VP8L", &[1, 2, 3, 4])]);
        webp.truncate(webp.len() - 2);

        for (image, bytes) in [(ImageType::Png, png), (ImageType::Webp, webp)] {
            let result = strip_location(image, &mut Cursor::new(bytes));
            assert!(
                matches!(result, Err(StripError::Malformed)),
                "{image:?}: {result:?}"
            );
        }
    }

    #[test]
    fn a_file_of_countless_empty_chunks_is_refused() {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        let empty = png_chunk(b"tEXt", &[]);
        for _ in 0..=MAX_PARTS {
            png.extend(&empty);
        }

        let result = strip_location(ImageType::Png, &mut Cursor::new(png));

        assert!(matches!(result, Err(StripError::Malformed)), "{result:?}");
    }

    #[test]
    fn truncated_or_broken_jpegs_are_malformed() {
        let whole = jpeg_with(&exif_segment(&exif_with_gps()));
        let truncated = &whole[..20];
        let mut no_marker = whole.clone();
        no_marker[2] = 0x00;

        for bytes in [truncated.to_vec(), no_marker, vec![0xFF, 0xD8, 0xFF]] {
            let result = strip_jpeg_location(&mut Cursor::new(bytes));
            assert!(matches!(result, Err(StripError::Malformed)), "{result:?}");
        }
    }
}
