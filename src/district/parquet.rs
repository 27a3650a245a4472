//! Every summary a district (or province) holds, as Parquet files for a national engine: one
//! table per kind of count, each row keyed by centre and period. These are the exact tallies,
//! small counts included, as the district keeps them; whoever shows them applies the
//! small-group rule to what they show (`docs/SCALE.md`).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parquet::basic::Compression;
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;
use rusqlite::Connection;

use super::ImportError;
use crate::summary::Summary;

/// Rows buffered per table before they are written as one row group.
const ROW_GROUP: usize = 100_000;

/// Why the export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Writing a file failed.
    #[error("writing {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The Parquet writer refused.
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// Reading the district's database failed.
    #[error(transparent)]
    Read(#[from] ImportError),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
}

/// A column's type.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Text,
    Int,
    Bool,
}

/// One column's buffered values.
enum Values {
    Text(Vec<ByteArray>),
    Int(Vec<i64>),
    Bool(Vec<bool>),
}

/// One value of a row.
pub enum Cell<'a> {
    /// A string.
    Text(&'a str),
    /// A number.
    Int(i64),
    /// Yes or no.
    Bool(bool),
}

/// A table being written.
struct Table {
    path: PathBuf,
    writer: SerializedFileWriter<File>,
    columns: Vec<Values>,
    rows: usize,
    written: u64,
}

impl Table {
    fn create(dir: &Path, name: &str, columns: &[(&str, Kind)]) -> Result<Table, ExportError> {
        use parquet::basic::{LogicalType, Repetition, Type as Physical};
        let fields = columns
            .iter()
            .map(|(n, k)| {
                let b = match k {
                    Kind::Text => Type::primitive_type_builder(n, Physical::BYTE_ARRAY)
                        .with_logical_type(Some(LogicalType::String)),
                    Kind::Int => Type::primitive_type_builder(n, Physical::INT64),
                    Kind::Bool => Type::primitive_type_builder(n, Physical::BOOLEAN),
                };
                b.with_repetition(Repetition::REQUIRED)
                    .build()
                    .map(Arc::new)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let schema = Type::group_type_builder("schema")
            .with_fields(fields)
            .build()?;
        let path = dir.join(format!("{name}.parquet"));
        let file = File::create(&path).map_err(|source| ExportError::Io {
            path: path.clone(),
            source,
        })?;
        let props = WriterProperties::builder()
            .set_compression(Compression::UNCOMPRESSED)
            .set_created_by(format!("hoclieu {}", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Table {
            writer: SerializedFileWriter::new(file, Arc::new(schema), Arc::new(props))?,
            columns: columns
                .iter()
                .map(|(_, k)| match k {
                    Kind::Text => Values::Text(Vec::new()),
                    Kind::Int => Values::Int(Vec::new()),
                    Kind::Bool => Values::Bool(Vec::new()),
                })
                .collect(),
            path,
            rows: 0,
            written: 0,
        })
    }

    fn push(&mut self, row: &[Cell<'_>]) -> Result<(), ExportError> {
        debug_assert_eq!(row.len(), self.columns.len());
        for (col, cell) in self.columns.iter_mut().zip(row) {
            match (col, cell) {
                (Values::Text(v), Cell::Text(s)) => v.push(ByteArray::from(*s)),
                (Values::Int(v), Cell::Int(n)) => v.push(*n),
                (Values::Bool(v), Cell::Bool(b)) => v.push(*b),
                // The tables below are written by this module only; a mismatch is a bug here.
                _ => unreachable!("a cell of the wrong kind for its column"),
            }
        }
        self.rows += 1;
        if self.rows >= ROW_GROUP {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ExportError> {
        if self.rows == 0 {
            return Ok(());
        }
        let mut rg = self.writer.next_row_group()?;
        for values in &mut self.columns {
            let Some(mut col) = rg.next_column()? else {
                break;
            };
            match values {
                Values::Text(v) => {
                    col.typed::<ByteArrayType>().write_batch(v, None, None)?;
                    v.clear();
                }
                Values::Int(v) => {
                    col.typed::<Int64Type>().write_batch(v, None, None)?;
                    v.clear();
                }
                Values::Bool(v) => {
                    col.typed::<BoolType>().write_batch(v, None, None)?;
                    v.clear();
                }
            }
            col.close()?;
        }
        rg.close()?;
        self.written += self.rows as u64;
        self.rows = 0;
        Ok(())
    }

    fn finish(mut self) -> Result<(PathBuf, u64), ExportError> {
        self.flush()?;
        self.writer.close()?;
        Ok((self.path, self.written))
    }
}

use Kind::{Bool, Int, Text};

/// The key columns every table starts with.
const KEY: [(&str, Kind); 2] = [("centre", Text), ("period", Text)];

fn with_key(rest: &[(&'static str, Kind)]) -> Vec<(&'static str, Kind)> {
    KEY.iter().copied().chain(rest.iter().copied()).collect()
}

/// Writes every held summary into `dir` (created if needed); returns each file with its rows.
pub fn export(conn: &Connection, dir: &Path) -> Result<Vec<(PathBuf, u64)>, ExportError> {
    std::fs::create_dir_all(dir).map_err(|source| ExportError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut summaries = Table::create(
        dir,
        "summaries",
        &with_key(&[
            ("name", Text),
            ("commune", Text),
            ("district", Text),
            ("province", Text),
            ("first_day", Text),
            ("last_day", Text),
            ("revision", Int),
            ("complete", Bool),
            ("made_at", Text),
            ("clock_trusted", Bool),
            ("days", Int),
            ("days_on", Int),
            ("days_trusted", Int),
            ("participants", Int),
            ("sessions", Int),
            ("views", Int),
            ("searches", Int),
        ]),
    )?;
    let mut fields = Table::create(
        dir,
        "fields",
        &with_key(&[("field", Text), ("participants", Int), ("views", Int)]),
    )?;
    let mut groups = Table::create(
        dir,
        "groups",
        &with_key(&[
            ("question", Text),
            ("answer", Text),
            ("label", Text),
            ("participants", Int),
        ]),
    )?;
    let uses = with_key(&[
        ("id", Text),
        ("title", Text),
        ("views", Int),
        ("participants", Int),
    ]);
    let mut materials = Table::create(dir, "materials", &uses)?;
    let mut lessons = Table::create(dir, "lessons", &uses)?;
    let mut collections = Table::create(dir, "collections", &uses)?;
    let mut searches = Table::create(
        dir,
        "searches",
        &with_key(&[
            ("list", Text),
            ("query", Text),
            ("searches", Int),
            ("participants", Int),
        ]),
    )?;
    let mut days = Table::create(
        dir,
        "days",
        &with_key(&[("day", Text), ("participants", Int)]),
    )?;
    let mut st =
        conn.prepare("SELECT centre, body FROM district_summaries ORDER BY centre, period")?;
    let mut rows = st.query([])?;
    while let Some(row) = rows.next()? {
        let centre: String = row.get(0)?;
        let body: String = row.get(1)?;
        let s: Summary = match serde_json::from_str(&body) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(centre, error = %e, "a held summary could not be read; left out");
                continue;
            }
        };
        let (c, p) = (Cell::Text(&centre), Cell::Text(&s.period));
        let key = || [Cell::Text(&centre), Cell::Text(&s.period)];
        let n = |v: u64| Cell::Int(i64::try_from(v).unwrap_or(i64::MAX));
        summaries.push(&[
            c,
            p,
            Cell::Text(&s.centre.name),
            Cell::Text(&s.centre.commune),
            Cell::Text(&s.centre.district),
            Cell::Text(&s.centre.province),
            Cell::Text(&s.from),
            Cell::Text(&s.to),
            n(s.revision),
            Cell::Bool(s.complete),
            Cell::Text(&s.made_at),
            Cell::Bool(s.clock_trusted),
            n(s.box_days.days),
            n(s.box_days.on),
            n(s.box_days.trusted),
            n(s.counts.participants),
            n(s.counts.sessions),
            n(s.counts.views),
            n(s.counts.searches),
        ])?;
        for (field, f) in &s.counts.fields {
            let [a, b] = key();
            fields.push(&[a, b, Cell::Text(field), n(f.participants), n(f.views)])?;
        }
        for (q, cells) in &s.counts.groups {
            for g in cells {
                let [a, b] = key();
                groups.push(&[
                    a,
                    b,
                    Cell::Text(q),
                    Cell::Text(&g.group),
                    Cell::Text(&g.label),
                    n(g.participants),
                ])?;
            }
        }
        for (table, list) in [
            (&mut materials, &s.counts.materials),
            (&mut lessons, &s.counts.lessons),
            (&mut collections, &s.counts.collections),
        ] {
            for u in list {
                let [a, b] = key();
                table.push(&[
                    a,
                    b,
                    Cell::Text(&u.id),
                    Cell::Text(&u.title),
                    n(u.views),
                    n(u.participants),
                ])?;
            }
        }
        // "searched": every search of the text; "not_found": those that found nothing.
        for (which, list) in [
            ("searched", &s.counts.top_searches),
            ("not_found", &s.counts.not_found),
        ] {
            for q in list {
                let [a, b] = key();
                searches.push(&[
                    a,
                    b,
                    Cell::Text(which),
                    Cell::Text(&q.query),
                    n(q.searches),
                    n(q.participants),
                ])?;
            }
        }
        for d in &s.counts.days {
            let [a, b] = key();
            days.push(&[a, b, Cell::Text(&d.date), n(d.participants)])?;
        }
    }
    [
        summaries,
        fields,
        groups,
        materials,
        lessons,
        collections,
        searches,
        days,
    ]
    .into_iter()
    .map(Table::finish)
    .collect()
}
