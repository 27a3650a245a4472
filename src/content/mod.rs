//! The library catalogue: which materials and attachments exist, and what is wrong with the rest.
//!
//! Loading reads every file once, parses front matter, works out each material's attachments
//! and collects problems instead of failing, so one broken file never hides the others. The
//! catalogue keeps metadata only; bodies are read again when a page is shown.

pub mod centre;
pub mod markdown;
pub mod material;
pub mod path;
pub mod source;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

pub use markdown::Link;
pub use material::{MaterialError, Parsed};
pub use source::{FileData, Source, SourceFile};

/// The four fields of the library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Nông nghiệp.
    Agriculture,
    /// Sức khỏe.
    Health,
    /// Pháp luật.
    Law,
    /// Kỹ năng sống.
    LifeSkills,
}

impl Category {
    /// All fields, in the order the home page shows them.
    pub const ALL: [Category; 4] = [
        Category::Agriculture,
        Category::Health,
        Category::Law,
        Category::LifeSkills,
    ];

    /// The slug used in files, URLs and the API.
    pub fn slug(self) -> &'static str {
        match self {
            Category::Agriculture => "agriculture",
            Category::Health => "health",
            Category::Law => "law",
            Category::LifeSkills => "life-skills",
        }
    }

    /// The Vietnamese name shown to readers.
    pub fn name_vi(self) -> &'static str {
        match self {
            Category::Agriculture => "Nông nghiệp",
            Category::Health => "Sức khỏe",
            Category::Law => "Pháp luật",
            Category::LifeSkills => "Kỹ năng sống",
        }
    }

    /// A one-line Vietnamese description for the home page.
    pub fn blurb_vi(self) -> &'static str {
        match self {
            Category::Agriculture => "Trồng trọt, chăn nuôi, giữ rừng, bán nông sản",
            Category::Health => "Phòng bệnh, mẹ và bé, sơ cứu, bảo hiểm y tế",
            Category::Law => "Đất đai, hôn nhân, giấy tờ, quyền của bạn",
            Category::LifeSkills => "Đọc viết, tiền bạc, an toàn, thiên tai",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

/// The text is not one of the four category slugs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown category")]
pub struct UnknownCategory;

impl FromStr for Category {
    type Err = UnknownCategory;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .into_iter()
            .find(|c| c.slug() == s.trim())
            .ok_or(UnknownCategory)
    }
}

/// A file that belongs to a material: a recording, a leaflet, a picture.
#[derive(Debug, Clone, Serialize)]
pub struct Attachment {
    /// File name.
    pub name: String,
    /// Path relative to the library root.
    #[serde(skip)]
    pub rel: String,
    /// URL where it is served.
    pub url: String,
    /// MIME type.
    pub content_type: String,
    /// Size in bytes.
    pub bytes: u64,
}

impl Attachment {
    /// The broad kind of media, which decides how the page shows it.
    pub fn kind(&self) -> &'static str {
        match self.content_type.split('/').next() {
            Some("audio") => "audio",
            Some("video") => "video",
            Some("image") => "image",
            _ => "file",
        }
    }
}

/// A material in the catalogue (metadata only).
#[derive(Debug, Clone)]
pub struct Material {
    /// Path without `.md`, `/`-separated.
    pub id: String,
    /// Title.
    pub title: String,
    /// Field.
    pub category: Category,
    /// BCP 47 language tag.
    pub language: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Summary, possibly empty.
    pub summary: String,
    /// Date the facts were last checked, `YYYY-MM-DD`.
    pub updated: Option<String>,
    /// Recommended reading, listed first.
    pub featured: bool,
    /// Attachments, sorted by name.
    pub attachments: Vec<Attachment>,
    /// The `.md` file.
    pub file: SourceFile,
    /// SHA-256 of the `.md` file, hex: its version.
    pub sha256: String,
}

impl Material {
    /// The page URL, `/m/{id}` with each segment percent-encoded.
    pub fn url(&self) -> String {
        library_url(&self.id)
    }

    /// The update date as Vietnamese readers write it (29/11/2026), if known.
    pub fn updated_vi(&self) -> Option<String> {
        let d = self.updated.as_deref()?;
        let mut parts = d.split('-');
        let (y, m, day) = (parts.next()?, parts.next()?, parts.next()?);
        Some(format!("{day}/{m}/{y}"))
    }

    /// The folder part of the id (`agriculture` for `agriculture/lua`), empty at the root.
    pub fn dir(&self) -> &str {
        self.id.rsplit_once('/').map_or("", |(d, _)| d)
    }
}

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The file was skipped.
    Error,
    /// The file is served, but something in it should be fixed.
    Warning,
}

/// Something wrong with one file, reported to the author.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// Path relative to the library root.
    pub path: String,
    /// Line, when known.
    pub line: Option<usize>,
    /// Whether the file was skipped.
    pub severity: Severity,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error (skipped)",
            Severity::Warning => "warning",
        };
        match self.line {
            Some(l) => write!(f, "{}:{}: {sev}: {}", self.path, l, self.message),
            None => write!(f, "{}: {sev}: {}", self.path, self.message),
        }
    }
}

/// The catalogue of one library.
#[derive(Debug)]
pub struct Library {
    source: Source,
    materials: Vec<Material>,
    by_id: HashMap<String, usize>,
    files: HashMap<String, SourceFile>,
    /// For each attachment path, the material it belongs to (the first, if several link it).
    owners: HashMap<String, usize>,
    problems: Vec<Problem>,
    fingerprint: String,
}

/// What loading keeps of a material's body.
struct Body {
    /// Relative link destinations.
    links: Vec<String>,
    /// Headings of empty sections.
    empty_sections: Vec<String>,
}

/// Characters escaped in one path segment of a URL.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/')
    .add(b'\\')
    .add(b'^')
    .add(b'|')
    .add(b'[')
    .add(b']');

/// URL under `/m/` for a library path (a material id or an attachment path).
pub fn library_url(rel: &str) -> String {
    let mut url = String::from("/m");
    for seg in rel.split('/') {
        url.push('/');
        url.extend(utf8_percent_encode(seg, SEGMENT));
    }
    url
}

impl Library {
    /// Reads and checks a whole library. Never fails: what cannot be read becomes a problem.
    pub fn load(source: Source) -> Library {
        Library::load_hiding(source, &BTreeSet::new())
    }

    /// Loads a library leaving out the materials whose ids are in `hidden` (starter materials a
    /// centre chose not to show).
    pub fn load_hiding(source: Source, hidden: &BTreeSet<String>) -> Library {
        let (listed, list_problems) = source.list();
        let mut problems: Vec<Problem> = list_problems
            .into_iter()
            .map(|p| Problem {
                path: p.rel,
                line: None,
                severity: Severity::Error,
                message: p.message,
            })
            .collect();
        let mut hasher = Sha256::new();
        let mut parsed = Vec::new();
        let mut files = HashMap::new();
        for file in listed {
            let Some(id) = file.rel.strip_suffix(".md") else {
                files.insert(file.rel.clone(), file);
                continue;
            };
            let id = id.to_string();
            if hidden.contains(&id) {
                continue;
            }
            let bytes = match source.read(&file) {
                Ok(b) => b,
                Err(e) => {
                    problems.push(error(&file.rel, None, format!("cannot read: {e}")));
                    continue;
                }
            };
            let sha256 = hex(&Sha256::digest(&bytes));
            hasher.update(file.rel.as_bytes());
            hasher.update([0]);
            hasher.update(sha256.as_bytes());
            match material::parse(&bytes) {
                Ok(mut p) => {
                    // Only what the body says about the catalogue is kept: holding every body
                    // until the end made the heap of a 50k library grow to 200 MB for good.
                    let body = Body {
                        links: markdown::relative_links(&p.body),
                        empty_sections: markdown::empty_sections(&p.body),
                    };
                    p.body = String::new();
                    parsed.push((id, file, p, body, sha256));
                }
                Err(e) => problems.push(error(&file.rel, Some(e.line()), e.to_string())),
            }
        }
        let mut lib = Library {
            source,
            materials: Vec::with_capacity(parsed.len()),
            by_id: HashMap::with_capacity(parsed.len()),
            files,
            owners: HashMap::new(),
            problems: Vec::new(),
            fingerprint: hex(&hasher.finalize()),
        };
        let links = lib.add_materials(parsed, &mut problems);
        lib.attach_files(&links);
        problems.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
        lib.problems = problems;
        lib
    }

    /// Adds parsed materials; returns for each the attachment paths its body links to.
    fn add_materials(
        &mut self,
        parsed: Vec<(String, SourceFile, Parsed, Body, String)>,
        problems: &mut Vec<Problem>,
    ) -> Vec<Vec<String>> {
        let mut bodies_links = Vec::with_capacity(parsed.len());
        for (id, file, p, body, sha256) in parsed {
            if self.by_id.contains_key(&id) {
                problems.push(error(
                    &file.rel,
                    None,
                    format!("another file already has the id {id}"),
                ));
                continue;
            }
            for heading in body.empty_sections {
                problems.push(warning(
                    &file.rel,
                    format!("section \"{heading}\" is empty"),
                ));
            }
            bodies_links.push(body.links);
            self.by_id.insert(id.clone(), self.materials.len());
            self.materials.push(Material {
                id,
                title: p.title,
                category: p.category,
                language: p.language,
                tags: p.tags,
                summary: p.summary,
                updated: p.updated,
                featured: p.featured,
                attachments: Vec::new(),
                file,
                sha256,
            });
        }
        // Links to other materials can only be checked once all are known.
        let mut attachment_links = Vec::with_capacity(bodies_links.len());
        for (m, dests) in self.materials.iter().zip(bodies_links) {
            let mut targets = Vec::new();
            for dest in dests {
                match join(m.dir(), &dest) {
                    Some(t) if self.files.contains_key(&t) => targets.push(t),
                    Some(t) if self.by_id.contains_key(t.strip_suffix(".md").unwrap_or(&t)) => {}
                    _ => {
                        problems.push(warning(&m.file.rel, format!("link to missing file {dest}")))
                    }
                }
            }
            attachment_links.push(targets);
        }
        attachment_links
    }

    /// Gives each non-Markdown file to the materials that link to it, or else to the material
    /// in its folder whose name it starts with (`lua.md` owns `lua-lich.svg`, `lua.pdf`).
    fn attach_files(&mut self, links: &[Vec<String>]) {
        let mut owners: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, targets) in links.iter().enumerate() {
            for t in targets {
                owners.entry(t.clone()).or_default().push(i);
            }
        }
        for rel in self.files.keys() {
            if owners.contains_key(rel) {
                continue;
            }
            let (dir, name) = rel.rsplit_once('/').unwrap_or(("", rel));
            let owner = self
                .materials
                .iter()
                .enumerate()
                .filter(|(_, m)| m.dir() == dir)
                .filter(|(_, m)| {
                    let stem = m.id.rsplit('/').next().unwrap_or(&m.id);
                    name.strip_prefix(stem)
                        .is_some_and(|rest| rest.starts_with(['.', '-', '_']))
                })
                .max_by_key(|(_, m)| m.id.len());
            if let Some((i, _)) = owner {
                owners.entry(rel.clone()).or_default().push(i);
            }
        }
        for (rel, idxs) in owners {
            let Some(file) = self.files.get(&rel) else {
                continue;
            };
            let att = Attachment {
                name: rel.rsplit('/').next().unwrap_or(&rel).to_string(),
                url: library_url(&rel),
                content_type: content_type(&rel),
                bytes: file.bytes,
                rel,
            };
            if let Some(&first) = idxs.first() {
                self.owners.insert(att.rel.clone(), first);
            }
            for i in idxs {
                self.materials[i].attachments.push(att.clone());
            }
        }
        for m in &mut self.materials {
            m.attachments.sort_by(|a, b| a.name.cmp(&b.name));
            m.attachments.dedup_by(|a, b| a.rel == b.rel);
        }
    }

    /// Where the library lives.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// Whether a material comes from the embedded starter library (read-only).
    pub fn is_starter(&self, m: &Material) -> bool {
        m.file.disk_path.is_none()
    }

    /// Every material, sorted by id.
    pub fn materials(&self) -> &[Material] {
        &self.materials
    }

    /// A material by id.
    pub fn get(&self, id: &str) -> Option<&Material> {
        self.by_id.get(id).map(|&i| &self.materials[i])
    }

    /// A non-Markdown file by library path.
    pub fn file(&self, rel: &str) -> Option<&SourceFile> {
        self.files.get(rel)
    }

    /// The material an attachment belongs to.
    pub fn owner(&self, rel: &str) -> Option<&Material> {
        self.owners.get(rel).map(|&i| &self.materials[i])
    }

    /// What was wrong, sorted by path and line.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// A digest of every material file's path and bytes: equal digests, equal index.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Reads and parses a material's file again (for its page or for indexing).
    pub fn read(&self, m: &Material) -> Result<Parsed, crate::Error> {
        let bytes = self.source.read(&m.file)?;
        Ok(material::parse(&bytes)?)
    }

    /// Reads a non-Markdown file's bytes.
    pub fn read_file(&self, file: &SourceFile) -> std::io::Result<FileData> {
        self.source.read(file)
    }

    /// Renders a material's body, with its relative links pointing at served URLs.
    pub fn render(&self, m: &Material, body: &str) -> String {
        markdown::to_html(body, |dest| self.resolve_link(m.dir(), dest))
    }

    /// Where a relative link written in a material in `dir` should go.
    pub fn resolve_link(&self, dir: &str, dest: &str) -> Link {
        let (path, suffix) = match dest.find(['#', '?']) {
            Some(i) => dest.split_at(i),
            None => (dest, ""),
        };
        let Some(target) = join(dir, path) else {
            return Link::Blocked;
        };
        let id = target.strip_suffix(".md").unwrap_or(&target);
        if self.by_id.contains_key(id) {
            return Link::Url(format!("{}{suffix}", library_url(id)));
        }
        if self.files.contains_key(&target) {
            return Link::Url(format!("{}{suffix}", library_url(&target)));
        }
        Link::Url(dest.to_string())
    }

    /// Materials of one field, sorted by title as a reader expects.
    pub fn in_category(&self, c: Category) -> Vec<&Material> {
        let mut v: Vec<&Material> = self.materials.iter().filter(|m| m.category == c).collect();
        v.sort_by_cached_key(|m| sort_key(&m.title));
        v
    }

    /// Recommended materials (front matter `featured = true`), by field then title.
    pub fn featured(&self) -> Vec<&Material> {
        let mut v: Vec<&Material> = self.materials.iter().filter(|m| m.featured).collect();
        v.sort_by_cached_key(|m| (m.category, sort_key(&m.title)));
        v
    }

    /// The most recently updated materials, newest first; empty when dates do not tell
    /// materials apart (a library written all on one day has no "newest").
    pub fn recently_updated(&self, n: usize) -> Vec<&Material> {
        let mut dated: Vec<&Material> = self
            .materials
            .iter()
            .filter(|m| m.updated.is_some())
            .collect();
        let distinct: std::collections::BTreeSet<&str> =
            dated.iter().filter_map(|m| m.updated.as_deref()).collect();
        if distinct.len() < 2 {
            return Vec::new();
        }
        dated.sort_by(|a, b| {
            b.updated
                .cmp(&a.updated)
                .then_with(|| sort_key(&a.title).cmp(&sort_key(&b.title)))
        });
        dated.truncate(n);
        dated
    }

    /// Number of materials per field.
    pub fn counts(&self) -> BTreeMap<Category, usize> {
        let mut out: BTreeMap<Category, usize> = Category::ALL.iter().map(|&c| (c, 0)).collect();
        for m in &self.materials {
            *out.entry(m.category).or_default() += 1;
        }
        out
    }
}

/// A key that sorts Vietnamese titles in dictionary order: letters by the Vietnamese alphabet
/// (a ă â b c d đ e ê …), tones only to break ties (ngang, huyền, hỏi, ngã, sắc, nặng).
pub fn sort_key(s: &str) -> (String, String) {
    // A marker above every letter makes "ă" sort after all "a…" words, "đ" after all "d…".
    const AFTER: char = '\u{7f}';
    const AFTER2: char = '\u{80}';
    let mut primary = String::with_capacity(s.len() + 8);
    let mut tones = String::new();
    for c in s.nfd().flat_map(char::to_lowercase) {
        match c {
            // a < ă < â, o < ô < ơ, u < ư, e < ê
            '\u{0306}' => primary.push(AFTER),
            '\u{0302}' => primary.push(if primary.ends_with('a') {
                AFTER2
            } else {
                AFTER
            }),
            '\u{031b}' => primary.push(if primary.ends_with('o') {
                AFTER2
            } else {
                AFTER
            }),
            '\u{0300}' => tones.push('1'),
            '\u{0309}' => tones.push('2'),
            '\u{0303}' => tones.push('3'),
            '\u{0301}' => tones.push('4'),
            '\u{0323}' => tones.push('5'),
            'đ' => {
                primary.push('d');
                primary.push(AFTER);
            }
            c if unicode_normalization::char::is_combining_mark(c) => {}
            c => {
                primary.push(c);
                tones.push('0');
            }
        }
    }
    (primary, tones)
}

fn warning(path: &str, message: String) -> Problem {
    Problem {
        path: path.to_string(),
        line: None,
        severity: Severity::Warning,
        message,
    }
}

fn error(path: &str, line: Option<usize>, message: String) -> Problem {
    Problem {
        path: path.to_string(),
        line,
        severity: Severity::Error,
        message,
    }
}

/// Joins a relative link to the folder of the material it is written in, decoding `%xx`.
/// `None` when it climbs out of the library.
fn join(dir: &str, dest: &str) -> Option<String> {
    let decoded = percent_encoding::percent_decode_str(dest).decode_utf8_lossy();
    path::resolve(dir, &decoded).map(|p| p.nfc().collect())
}

/// MIME type from the file name, as served.
pub fn content_type(name: &str) -> String {
    mime_guess::from_path(name)
        .first_or_octet_stream()
        .essence_str()
        .to_string()
}

/// Bytes as lower-case hex (digests in manifests and fingerprints).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_round_trip() {
        for c in Category::ALL {
            assert_eq!(c.slug().parse::<Category>(), Ok(c));
        }
        assert!("cooking".parse::<Category>().is_err());
    }

    #[test]
    fn join_stays_inside() {
        assert_eq!(join("a/b", "c.svg").as_deref(), Some("a/b/c.svg"));
        assert_eq!(join("a/b", "../c.md").as_deref(), Some("a/c.md"));
        assert_eq!(join("a", "l%E1%BB%8Bch.svg").as_deref(), Some("a/lịch.svg"));
        assert_eq!(join("a", "../../etc/passwd"), None);
    }

    #[test]
    fn urls_are_encoded_per_segment() {
        assert_eq!(
            library_url("health/sốt rét"),
            "/m/health/s%E1%BB%91t%20r%C3%A9t"
        );
    }

    #[test]
    fn sort_key_orders_like_a_dictionary() {
        let mut v = vec![
            "Đất", "Bò", "Dê", "Ăn", "Ấm", "An", "Ơn", "Ông", "Ốm", "Bà", "Ba", "Bá",
        ];
        v.sort_by_key(|s| sort_key(s));
        assert_eq!(
            v,
            [
                "An", "Ăn", "Ấm", "Ba", "Bà", "Bá", "Bò", "Dê", "Đất", "Ốm", "Ông", "Ơn"
            ]
        );
    }
}
