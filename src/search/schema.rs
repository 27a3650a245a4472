//! The index schema: every field named once, and the version that forces a rebuild when it changes.

use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};

use super::analyzer;

/// Bump whenever the schema or the analyzers change; an index with another version is rebuilt.
pub const SCHEMA_VERSION: u32 = 6;

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
}

fn text(analyzer: &str) -> TextOptions {
    // Frequencies without positions: phrases are handled by the pair fields, which is cheaper.
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(analyzer)
            .set_index_option(IndexRecordOption::WithFreqs),
    )
}

/// Builds the schema and its field handles.
pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        category: b.add_text_field("category", STRING),
        title_fold: b.add_text_field("title_fold", text(analyzer::FOLD)),
        title_exact: b.add_text_field("title_exact", text(analyzer::EXACT)),
        title_pair: b.add_text_field("title_pair", text(analyzer::PAIR)),
        body_fold: b.add_text_field("body_fold", text(analyzer::FOLD)),
        body_exact: b.add_text_field("body_exact", text(analyzer::EXACT)),
        body_pair: b.add_text_field("body_pair", text(analyzer::PAIR)),
        snippet_text: b.add_bytes_field("snippet_text", STORED),
    };
    (b.build(), fields)
}
