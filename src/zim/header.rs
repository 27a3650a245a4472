//! The fixed 80-byte header at the start of a ZIM archive, checked against the archive's length
//! before any pointer in it is followed.

use super::ZimError;

/// "ZIM\x04" read as a little-endian u32.
const MAGIC: u32 = 72_173_914;
/// A title pointer list position meaning "none" (libzim 9.3 writes either).
const NO_LIST: [u64; 2] = [0, u64::MAX];

/// What the header says, checked.
#[derive(Debug, Clone)]
pub(super) struct Header {
    pub major: u16,
    pub minor: u16,
    pub uuid: [u8; 16],
    pub entry_count: u32,
    pub cluster_count: u32,
    pub path_ptr_pos: u64,
    pub title_ptr_pos: Option<u64>,
    pub cluster_ptr_pos: u64,
    pub mime_list_pos: u64,
    pub main_page: Option<u32>,
    pub checksum_pos: Option<u64>,
}

fn read_u16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

pub(super) fn read_u32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

pub(super) fn read_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// Whether a table of `count` items of `size` bytes at `pos` lies within `len` bytes.
fn fits(pos: u64, count: u32, size: u64, len: u64) -> bool {
    (count as u64)
        .checked_mul(size)
        .and_then(|n| n.checked_add(pos))
        .is_some_and(|end| end <= len)
}

impl Header {
    /// Parses and checks the header of an archive of `len` bytes, whose first bytes are `b`
    /// (at least 80 of them when the archive has that many).
    pub(super) fn parse(b: &[u8], len: u64) -> Result<Header, ZimError> {
        if b.len() < 8 || read_u32(b, 0) != MAGIC {
            return Err(ZimError::NotZim);
        }
        if b.len() < 72 {
            return Err(ZimError::Damaged("tệp ngắn hơn phần đầu của ZIM".into()));
        }
        let major = read_u16(b, 4);
        if !(5..=6).contains(&major) {
            return Err(ZimError::Unsupported(format!("phiên bản ZIM {major}")));
        }
        let mime_list_pos = read_u64(b, 56);
        // Very old archives have a 72-byte header and no checksum.
        let checksum_pos = match mime_list_pos {
            80 if b.len() >= 80 => Some(read_u64(b, 72)),
            72 => None,
            _ => {
                return Err(ZimError::Damaged(format!(
                    "vị trí danh sách kiểu tệp sai ({mime_list_pos})"
                )));
            }
        };
        let title = read_u64(b, 40);
        let main = read_u32(b, 64);
        let h = Header {
            major,
            minor: read_u16(b, 6),
            uuid: b[8..24].try_into().unwrap_or_default(),
            entry_count: read_u32(b, 24),
            cluster_count: read_u32(b, 28),
            path_ptr_pos: read_u64(b, 32),
            title_ptr_pos: (!NO_LIST.contains(&title)).then_some(title),
            cluster_ptr_pos: read_u64(b, 48),
            mime_list_pos,
            main_page: (main != u32::MAX).then_some(main),
            checksum_pos,
        };
        h.check(len)?;
        Ok(h)
    }

    fn check(&self, len: u64) -> Result<(), ZimError> {
        let bad = |what: &str| Err(ZimError::Damaged(what.to_string()));
        if (self.entry_count == 0) != (self.cluster_count == 0) {
            return bad("số mục và số cụm không khớp");
        }
        if self.cluster_count > self.entry_count {
            return bad("nhiều cụm hơn số mục");
        }
        if let Some(c) = self.checksum_pos
            && c.checked_add(16) != Some(len)
        {
            return bad("vị trí mã kiểm tra không ở cuối tệp");
        }
        // The tables end before the checksum, or the archive's end when it has none.
        let end = self.checksum_pos.unwrap_or(len);
        let table = |pos: u64, size: u64, what: &str| {
            if pos < self.mime_list_pos || !fits(pos, self.entry_count, size, end) {
                return Err(ZimError::Damaged(format!("{what} nằm ngoài tệp")));
            }
            Ok(())
        };
        table(self.path_ptr_pos, 8, "bảng vị trí các mục")?;
        if let Some(t) = self.title_ptr_pos {
            table(t, 4, "bảng tên theo thứ tự")?;
        }
        if self.cluster_ptr_pos < self.mime_list_pos
            || !fits(self.cluster_ptr_pos, self.cluster_count, 8, end)
        {
            return bad("bảng vị trí các cụm nằm ngoài tệp");
        }
        if self.main_page.is_some_and(|m| m >= self.entry_count) {
            return bad("trang chính trỏ ra ngoài các mục");
        }
        Ok(())
    }

    /// Whether URLs have no namespace (`C/` for all content; minor version 1 on).
    pub(super) fn new_layout(&self) -> bool {
        self.minor >= 1
    }
}
