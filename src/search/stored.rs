//! The stored part of a search document (id, sections, snippet text), read as slices of the
//! document store's decompressed block instead of through tantivy's deserializer, which copies
//! a byte field one byte at a time (an eighth of a results page for the snippet texts).
//!
//! The layout read here is tantivy's document store format (version 2): a VInt count of values,
//! then for each its field (u32, little-endian), a type code and the value (VInt length and
//! bytes, for text and bytes). `reads_what_tantivy_reads` checks it against tantivy's own
//! reader, so an upgrade that changes it fails a test rather than a search.

use std::sync::{Arc, Mutex};

use tantivy::store::StoreReader;
use tantivy::{DocAddress, Searcher, TantivyError};

use super::schema::{SECTIONS_ID, SNIPPET_HEAD_ID, SNIPPET_TEXT_ID};

/// tantivy's type codes of the two kinds of values the schema stores.
const TEXT_CODE: u8 = 0;
const BYTES_CODE: u8 = 4;

/// The store readers of one searcher generation, kept across searches so that their caches of
/// decompressed blocks are (the searcher's own are private to its `doc`); clones of an index
/// share them.
#[derive(Default, Clone)]
pub(super) struct Stores {
    current: Arc<Mutex<Option<Generation>>>,
}

/// A searcher generation's id and its store readers.
type Generation = (u64, Arc<Vec<StoreReader>>);

impl Stores {
    /// The store readers of `searcher`'s segments, in segment order.
    pub(super) fn of(
        &self,
        searcher: &Searcher,
        cache_blocks: usize,
    ) -> tantivy::Result<Arc<Vec<StoreReader>>> {
        let generation = searcher.generation().generation_id();
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((g, readers)) = current.as_ref()
            && *g == generation
        {
            return Ok(readers.clone());
        }
        let readers = searcher
            .segment_readers()
            .iter()
            .map(|s| s.get_store_reader(cache_blocks))
            .collect::<std::io::Result<Vec<_>>>()?;
        let readers = Arc::new(readers);
        *current = Some((generation, readers.clone()));
        Ok(readers)
    }
}

/// One stored document's values, borrowed from its bytes.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Stored<'a> {
    pub id: Option<&'a str>,
    pub sections: &'a [u8],
    pub head: &'a [u8],
    pub rest: &'a [u8],
}

/// The raw bytes of the document at `addr`.
pub(super) fn bytes(
    readers: &[StoreReader],
    addr: DocAddress,
) -> tantivy::Result<tantivy::directory::OwnedBytes> {
    let reader = readers
        .get(addr.segment_ord as usize)
        .ok_or_else(|| TantivyError::InvalidArgument(format!("no segment {}", addr.segment_ord)))?;
    reader.get_document_bytes(addr.doc_id)
}

impl<'a> Stored<'a> {
    /// Reads a document's values from its stored bytes.
    pub(super) fn parse(mut b: &'a [u8]) -> tantivy::Result<Stored<'a>> {
        let mut out = Stored::default();
        let n = vint(&mut b)?;
        for _ in 0..n {
            let field = take(&mut b, 4)?;
            let field = u32::from_le_bytes([field[0], field[1], field[2], field[3]]);
            let code = take(&mut b, 1)?[0];
            if code != TEXT_CODE && code != BYTES_CODE {
                return Err(corrupt(&format!("stored value of type {code}")));
            }
            let len = usize::try_from(vint(&mut b)?).map_err(|_| corrupt("length"))?;
            let value = take(&mut b, len)?;
            match (code, field) {
                (TEXT_CODE, _) => {
                    out.id = Some(std::str::from_utf8(value).map_err(|_| corrupt("id"))?)
                }
                (_, SECTIONS_ID) => out.sections = value,
                (_, SNIPPET_HEAD_ID) => out.head = value,
                (_, SNIPPET_TEXT_ID) => out.rest = value,
                _ => {}
            }
        }
        Ok(out)
    }
}

fn take<'a>(b: &mut &'a [u8], n: usize) -> tantivy::Result<&'a [u8]> {
    if b.len() < n {
        return Err(corrupt("document cut short"));
    }
    let (head, tail) = b.split_at(n);
    *b = tail;
    Ok(head)
}

/// tantivy's variable-length integer: seven bits a byte, least significant first, the last
/// byte marked by its high bit.
fn vint(b: &mut &[u8]) -> tantivy::Result<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = take(b, 1)?[0];
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 != 0 {
            return Ok(value);
        }
    }
    Err(corrupt("integer too long"))
}

fn corrupt(what: &str) -> TantivyError {
    TantivyError::InternalError(format!("stored document unreadable: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::TantivyDocument;
    use tantivy::schema::Value;

    #[test]
    fn reads_what_tantivy_reads() {
        let (index, f, mut w) = crate::search::test_index();
        // Long enough for a rest after the head, and a length needing a VInt of two bytes.
        let body = "Trồng lúa nước cần giữ nước trong ruộng. ".repeat(200);
        let sections = [(0, "mo-dau"), (120, "cach-trong")];
        w.add_document(crate::search::document(
            &f,
            "nong-nghiep/lua",
            "agriculture",
            "Trồng lúa",
            &body,
            &sections,
        ))
        .unwrap();
        w.add_document(crate::search::document(
            &f,
            "ngan",
            "health",
            "Ngắn",
            "Một câu.",
            &[],
        ))
        .unwrap();
        w.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let stores = Stores::default();
        let readers = stores.of(&searcher, 10).unwrap();
        assert!(Arc::ptr_eq(&readers, &stores.of(&searcher, 10).unwrap()));
        for doc_id in 0..2 {
            let addr = DocAddress::new(0, doc_id);
            let raw = bytes(&readers, addr).unwrap();
            let ours = Stored::parse(&raw).unwrap();
            let theirs: TantivyDocument = searcher.doc(addr).unwrap();
            let bytes_of = |field| {
                theirs
                    .get_first(field)
                    .and_then(|v| v.as_bytes())
                    .unwrap_or_default()
                    .to_vec()
            };
            assert_eq!(ours.id, theirs.get_first(f.id).and_then(|v| v.as_str()));
            assert_eq!(ours.sections, bytes_of(f.sections));
            assert_eq!(ours.head, bytes_of(f.snippet_head));
            assert_eq!(ours.rest, bytes_of(f.snippet_text));
            let whole = [ours.head, ours.rest].concat();
            assert_eq!(
                whole,
                if doc_id == 0 {
                    body.as_bytes()
                } else {
                    "Một câu.".as_bytes()
                }
            );
        }
        // A document cut anywhere is an error, never a panic.
        let raw = bytes(&readers, DocAddress::new(0, 0)).unwrap();
        for cut in [0, 1, 3, 7, 20, raw.len() - 1] {
            assert!(Stored::parse(&raw[..cut]).is_err(), "cut at {cut}");
        }
    }
}
