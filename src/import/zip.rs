//! A store-only zip of import files, for hosts that hand over one download (the page): no compression, fixed dates, so the same files make the same bytes.
//!
//! Import files are at most 500,000 bytes, so each is given whole: its CRC-32 and size are
//! known before its local header is written, and the archive needs no data descriptors. The
//! classic (zip32) format is enough for a page's export and is read by every unzip; an archive
//! that would pass its 4 GiB or 65,535-entry limits is refused with an error, never cut short.

use flate2::Crc;

use crate::error::{Error, ErrorCode, Result};

/// MS-DOS date of 1980-01-01 (the format's earliest), with time 00:00:00: reproducible archives.
const DOS_DATE: u16 = (1 << 5) | 1;
/// "Version needed to extract" 2.0: stored entries and folders.
const VERSION: u16 = 20;
/// General purpose flag bit 11: the names are UTF-8.
const UTF8_NAMES: u16 = 1 << 11;

/// A zip being written: entries go out as they are added, the central directory at the end.
#[derive(Default)]
pub struct StoredZip {
    /// Bytes written so far (where the next local header starts).
    offset: u64,
    central: Vec<u8>,
    entries: u32,
}

fn too_big(what: &str) -> Error {
    Error::new(
        ErrorCode::InvalidState,
        format!("the zip would pass the zip format's {what}: use the CLI (--for-import), which writes the files into a folder"),
    )
}

impl StoredZip {
    /// An empty archive.
    pub fn new() -> StoredZip {
        StoredZip::default()
    }

    /// Appends the local header and the bytes of the file `name` to `out`.
    pub fn add(&mut self, name: &str, data: &[u8], out: &mut Vec<u8>) -> Result<()> {
        let mut crc = Crc::new();
        crc.update(data);
        let size = u32::try_from(data.len()).map_err(|_| too_big("4 GiB limit for one file"))?;
        let offset = u32::try_from(self.offset).map_err(|_| too_big("4 GiB limit"))?;
        if self.entries == u32::from(u16::MAX) {
            return Err(too_big("limit of 65,535 files"));
        }
        let name_len = u16::try_from(name.len()).map_err(|_| too_big("name length limit"))?;
        let start = out.len();
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        common(out, crc.sum(), size, name_len);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        self.offset += (out.len() - start) as u64;

        let c = &mut self.central;
        c.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        c.extend_from_slice(&VERSION.to_le_bytes()); // made by: MS-DOS attributes, 2.0
        common(c, crc.sum(), size, name_len);
        c.extend_from_slice(&[0; 8]); // comment length, disk number, internal and external attributes
        c.extend_from_slice(&[0; 2]);
        c.extend_from_slice(&offset.to_le_bytes());
        c.extend_from_slice(name.as_bytes());
        self.entries += 1;
        Ok(())
    }

    /// Appends the central directory and the end record to `out`: the archive is complete.
    pub fn finish(self, out: &mut Vec<u8>) -> Result<()> {
        let at = u32::try_from(self.offset).map_err(|_| too_big("4 GiB limit"))?;
        let size = u32::try_from(self.central.len()).map_err(|_| too_big("4 GiB limit"))?;
        at.checked_add(size).ok_or_else(|| too_big("4 GiB limit"))?;
        out.extend_from_slice(&self.central);
        let entries = self.entries as u16;
        out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        out.extend_from_slice(&[0; 4]); // this disk, the directory's disk
        out.extend_from_slice(&entries.to_le_bytes());
        out.extend_from_slice(&entries.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&at.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes()); // no comment
        Ok(())
    }
}

/// The fields a local header and a central directory entry share, from "version needed" to
/// "extra field length".
fn common(out: &mut Vec<u8>, crc: u32, size: u32, name_len: u16) {
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&UTF8_NAMES.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // stored
    out.extend_from_slice(&0u16.to_le_bytes()); // 00:00:00
    out.extend_from_slice(&DOS_DATE.to_le_bytes());
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes()); // compressed = uncompressed: stored
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&name_len.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // no extra field
}
