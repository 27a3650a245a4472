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
    /// The same text stored as UTF-8 bytes for snippets: a text field would be validated whole
    /// on every read, which cost a quarter of a results page; snippets validate only what they scan.
    pub snippet_text: Field,
    /// Where each section of the stored text begins: `offset anchor` lines, so a hit can link
    /// to the heading above its snippet.
    pub sections: Field,
}

/// Field numbers of the two stored byte fields, for reading stored documents without the
/// schema at hand (checked in [`build`]).
pub(super) const SNIPPET_TEXT_ID: u32 = 8;
pub(super) const SECTIONS_ID: u32 = 9;

fn text(analyzer: &str, record: IndexRecordOption) -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(analyzer)
            .set_index_option(record),
    )
}

/// Adjacent syllables are weighed by the pair fields, which is cheaper than phrases; the
/// folded fields keep positions too, only to tell whether a short query's syllables stand
/// near each other in a material (see `query::Built::full`).
const FREQS: IndexRecordOption = IndexRecordOption::WithFreqs;
const POSITIONS: IndexRecordOption = IndexRecordOption::WithFreqsAndPositions;

/// Builds the schema and its field handles.
pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        category: b.add_text_field("category", STRING),
        title_fold: b.add_text_field("title_fold", text(analyzer::FOLD, POSITIONS)),
        title_exact: b.add_text_field("title_exact", text(analyzer::EXACT, FREQS)),
        title_pair: b.add_text_field("title_pair", text(analyzer::PAIR, FREQS)),
        body_fold: b.add_text_field("body_fold", text(analyzer::FOLD, POSITIONS)),
        body_exact: b.add_text_field("body_exact", text(analyzer::EXACT, FREQS)),
        body_pair: b.add_text_field("body_pair", text(analyzer::PAIR, FREQS)),
        snippet_text: b.add_bytes_field("snippet_text", STORED),
        sections: b.add_bytes_field("sections", STORED),
    };
    debug_assert_eq!(fields.snippet_text.field_id(), SNIPPET_TEXT_ID);
    debug_assert_eq!(fields.sections.field_id(), SECTIONS_ID);
    (b.build(), fields)
}
