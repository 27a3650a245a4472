//! The index schema: every field named once, and the version that forces a rebuild when it changes.

use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};

use super::analyzer;

/// Bump whenever the schema or the analyzers change; an index with another version is rebuilt.
pub const SCHEMA_VERSION: u32 = 7;

/// Handles on every field.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// Material id (stored, exact match).
    pub id: Field,
    /// Category slug (exact match, used as a filter).
    pub category: Field,
    /// Title and tags, folded syllables.
    pub title_fold: Field,
    /// Title, syllables with marks.
    pub title_exact: Field,
    /// Title, folded syllable pairs.
    pub title_pair: Field,
    /// Summary and body as plain text, folded.
    pub body_fold: Field,
    /// The same text, syllables with marks.
    pub body_exact: Field,
    /// The same text, folded syllable pairs.
    pub body_pair: Field,
    /// The same text stored as UTF-8 bytes for snippets, after its first [`HEAD_BYTES`]: a text
    /// field would be validated whole on every read, which cost a quarter of a results page;
    /// snippets validate only what they scan.
    pub snippet_text: Field,
    /// The first [`HEAD_BYTES`] of that text: most snippets are found there, and the rest is
    /// read only when they are not.
    pub snippet_head: Field,
    /// The stored text's length on a first line, then where each of its sections begins:
    /// `offset anchor` lines, so a hit can link to the heading above its snippet.
    pub sections: Field,
    /// Title, tags and body together, folded, with positions: whether a material holds a
    /// syllable at all, and where (one posting list to seek, not two; phrases of
    /// `query::full_filter`).
    pub all_fold: Field,
    /// Title, tags and body together, syllables with marks, documents only.
    pub all_exact: Field,
    /// Title, tags and body together, folded pairs, documents only.
    pub all_pair: Field,
}

/// Field numbers of the two stored byte fields, for reading stored documents without the
/// schema at hand (checked in [`build`]).
pub(super) const SNIPPET_TEXT_ID: u32 = 8;
pub(super) const SECTIONS_ID: u32 = 9;
pub(super) const SNIPPET_HEAD_ID: u32 = 13;
/// Length of the stored head of a text (one docstore block).
pub(super) const HEAD_BYTES: usize = 4096;

fn text(analyzer: &str, record: IndexRecordOption) -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(analyzer)
            .set_index_option(record),
    )
}

/// Ranking fields: adjacent syllables are weighed by the pair fields, which is cheaper than
/// phrases. Only the `all_` fields, which say whether a material holds something, keep
/// positions (`all_fold`) or nothing but the documents.
const FREQS: IndexRecordOption = IndexRecordOption::WithFreqs;
const POSITIONS: IndexRecordOption = IndexRecordOption::WithFreqsAndPositions;
const DOCS: IndexRecordOption = IndexRecordOption::Basic;

/// Builds the schema and its field handles.
pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        category: b.add_text_field("category", STRING),
        title_fold: b.add_text_field("title_fold", text(analyzer::FOLD, FREQS)),
        title_exact: b.add_text_field("title_exact", text(analyzer::EXACT, FREQS)),
        title_pair: b.add_text_field("title_pair", text(analyzer::PAIR, FREQS)),
        body_fold: b.add_text_field("body_fold", text(analyzer::FOLD, FREQS)),
        body_exact: b.add_text_field("body_exact", text(analyzer::EXACT, FREQS)),
        body_pair: b.add_text_field("body_pair", text(analyzer::PAIR, FREQS)),
        snippet_text: b.add_bytes_field("snippet_text", STORED),
        sections: b.add_bytes_field("sections", STORED),
        all_fold: b.add_text_field("all_fold", text(analyzer::FOLD, POSITIONS)),
        all_exact: b.add_text_field("all_exact", text(analyzer::EXACT, DOCS)),
        all_pair: b.add_text_field("all_pair", text(analyzer::PAIR, DOCS)),
        snippet_head: b.add_bytes_field("snippet_head", STORED),
    };
    debug_assert_eq!(fields.snippet_text.field_id(), SNIPPET_TEXT_ID);
    debug_assert_eq!(fields.sections.field_id(), SECTIONS_ID);
    debug_assert_eq!(fields.snippet_head.field_id(), SNIPPET_HEAD_ID);
    (b.build(), fields)
}
