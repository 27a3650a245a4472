//! One library's catalogue: loading every file once, working out each material's
//! attachments and links, collecting problems instead of failing, and looking things up.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{BuildHasher, RandomState};
use std::path::Path;

use hashbrown::HashTable;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

use super::manifest::Manifest;
use super::*;

/// The catalogue of one library.
#[derive(Debug)]
pub struct Library {
    source: Source,
    materials: Vec<Material>,
    /// Places in `materials`, hashed by their ids: a map of copied ids held 4 MB at 50k
    /// materials, and a binary search over ids was 3% of a results page at 10k.
    by_id: HashTable<u32>,
    ids_hasher: RandomState,
    files: HashMap<String, SourceFile>,
    /// For each attachment path, the material it belongs to (the first, if several link it).
    owners: HashMap<String, usize>,
    /// Smaller copies of pictures, by the original's path, narrowest first.
    copies: HashMap<String, Vec<PictureCopy>>,
    problems: Vec<Problem>,
    fingerprint: String,
    /// [`source::listing_stamp`] of the files as listed before any was read.
    listing_stamp: u64,
}

/// What loading keeps of a material's body.
struct Body {
    /// Relative links and pictures.
    links: Vec<markdown::BodyLink>,
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

/// Why a material file was not loaded: it is larger than [`material::MAX_BYTES`].
fn too_large(bytes: u64) -> String {
    format!(
        "too large ({:.1} MB); a material's text may be at most {:.0} MB: split it, or attach \
         the long document as a PDF",
        bytes as f64 / 1e6,
        material::MAX_BYTES as f64 / 1e6
    )
}

/// URL under `/m/` for a library path (a material id or an attachment path).
pub fn library_url(rel: &str) -> String {
    format!("/m/{}", encode_path(rel))
}

/// A relative path as it goes in a URL: each segment percent-encoded, the slashes kept.
pub fn encode_path(rel: &str) -> String {
    let mut url = String::with_capacity(rel.len());
    for (i, seg) in rel.split('/').enumerate() {
        if i > 0 {
            url.push('/');
        }
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
        Library::load_with(source, hidden, None)
    }

    /// Loads a library as [`Library::load_hiding`] does, reading again only the files that
    /// changed since the manifest at `manifest` was saved (then saving it).
    pub fn load_cached(source: Source, hidden: &BTreeSet<String>, manifest: &Path) -> Library {
        Library::load_with(source, hidden, Some(&mut Manifest::open(manifest)))
    }

    pub(super) fn load_with(
        source: Source,
        hidden: &BTreeSet<String>,
        mut manifest: Option<&mut Manifest>,
    ) -> Library {
        let (listed, list_problems) = source.list();
        let listing_stamp = source::listing_stamp(&listed, hidden);
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
            // A material larger than the editor can save is broken, not loaded: its text would
            // be held, indexed and rendered on every view.
            if file.bytes > material::MAX_BYTES {
                problems.push(error(&file.rel, None, too_large(file.bytes)));
                continue;
            }
            if let Some(known) = manifest.as_deref_mut().and_then(|m| m.take(&file)) {
                fingerprint(&mut hasher, &file.rel, &known.sha256);
                let body = Body {
                    links: known.links,
                    empty_sections: known.empty_sections,
                };
                parsed.push((id, file, known.parsed, body, known.sha256));
                continue;
            }
            if let Some(m) = manifest.as_deref_mut() {
                m.read_anew();
            }
            let bytes = match source.read_at_most(&file, material::MAX_BYTES) {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                    problems.push(error(&file.rel, None, too_large(file.bytes)));
                    continue;
                }
                Err(e) => {
                    problems.push(error(&file.rel, None, format!("cannot read: {e}")));
                    continue;
                }
            };
            let sha256 = hex(&Sha256::digest(&bytes));
            fingerprint(&mut hasher, &file.rel, &sha256);
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
        if let Some(m) = manifest.filter(|m| m.needs_saving()) {
            m.save(parsed.iter().map(|(_, file, p, body, sha256)| {
                (
                    file,
                    sha256.as_str(),
                    p,
                    body.links.as_slice(),
                    body.empty_sections.as_slice(),
                )
            }));
        }
        let mut lib = Library {
            source,
            materials: Vec::with_capacity(parsed.len()),
            by_id: HashTable::new(),
            ids_hasher: RandomState::new(),
            files,
            owners: HashMap::new(),
            copies: HashMap::new(),
            problems: Vec::new(),
            fingerprint: hex(&hasher.finalize()),
            listing_stamp,
        };
        lib.find_copies();
        let links = lib.add_materials(parsed, &mut problems);
        lib.attach_files(&links);
        problems.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
        lib.problems = problems;
        lib
    }

    /// Sets the pictures' smaller copies apart from the files they were made from. A copy whose
    /// original is gone is dropped: neither listed nor served.
    fn find_copies(&mut self) {
        let mut orphans = Vec::new();
        for (rel, file) in &self.files {
            let Some((original, size)) = picture::parse_copy_name(rel) else {
                continue;
            };
            if !self.files.contains_key(original) {
                orphans.push(rel.clone());
                continue;
            }
            self.copies
                .entry(original.to_string())
                .or_default()
                .push(PictureCopy {
                    rel: rel.clone(),
                    url: library_url(rel),
                    width: size.width,
                    height: size.height,
                    bytes: file.bytes,
                });
        }
        for rel in orphans {
            self.files.remove(&rel);
        }
        for copies in self.copies.values_mut() {
            copies.sort_by_key(|c| (c.width, c.height));
        }
    }

    /// Adds parsed materials; returns for each the attachments its body links to (path and
    /// link).
    fn add_materials(
        &mut self,
        parsed: Vec<(String, SourceFile, Parsed, Body, String)>,
        problems: &mut Vec<Problem>,
    ) -> Vec<Vec<(String, markdown::BodyLink)>> {
        let mut bodies_links = Vec::with_capacity(parsed.len());
        // An id already taken by a file listed earlier is refused for the later ones; found
        // by sorting places, not by a map of copied ids.
        let mut order: Vec<usize> = (0..parsed.len()).collect();
        order.sort_by(|a, b| parsed[*a].0.cmp(&parsed[*b].0).then(a.cmp(b)));
        let mut taken = vec![false; parsed.len()];
        for w in order.windows(2) {
            if parsed[w[0]].0 == parsed[w[1]].0 {
                taken[w[1]] = true;
            }
        }
        for ((id, file, p, body, sha256), taken) in parsed.into_iter().zip(taken) {
            if taken {
                problems.push(error(
                    &file.rel,
                    None,
                    format!("another file already has the id {id}"),
                ));
                continue;
            }
            if let Some(from) = p.converted_from {
                problems.push(warning(
                    &file.rel,
                    format!(
                        "typed in {} (an old Vietnamese encoding): read as Unicode (chuyển từ mã {}); save it as UTF-8 to keep it so",
                        from.name(),
                        from.name()
                    ),
                ));
            }
            for heading in body.empty_sections {
                problems.push(warning(
                    &file.rel,
                    format!("section \"{heading}\" is empty"),
                ));
            }
            bodies_links.push(body.links);
            self.materials.push(Material {
                id,
                title: p.title,
                category: p.category,
                language: p.language,
                tags: p.tags,
                summary: p.summary,
                updated: p.updated,
                featured: p.featured,
                document: p.document.map(Box::new),
                attachments: Vec::new(),
                file,
                sha256,
            });
        }
        let mut by_id = HashTable::with_capacity(self.materials.len());
        for (i, m) in self.materials.iter().enumerate() {
            by_id.insert_unique(self.id_hash(&m.id), i as u32, |&j| {
                self.id_hash(&self.materials[j as usize].id)
            });
        }
        self.by_id = by_id;
        // Links to other materials can only be checked once all are known.
        let mut attachment_links = Vec::with_capacity(bodies_links.len());
        for (m, dests) in self.materials.iter().zip(bodies_links) {
            let mut targets = Vec::new();
            for link in dests {
                match join(m.dir(), &link.dest) {
                    Some(t) if self.files.contains_key(&t) => targets.push((t, link)),
                    Some(t) if self.position(t.strip_suffix(".md").unwrap_or(&t)).is_some() => {}
                    _ => problems.push(warning(
                        &m.file.rel,
                        format!("link to missing file {}", link.dest),
                    )),
                }
            }
            attachment_links.push(targets);
        }
        attachment_links
    }

    /// Gives each non-Markdown file to the materials that link to it, or else to the material
    /// in its folder whose name it starts with (`lua.md` owns `lua-lich.svg`, `lua.pdf`).
    /// A picture's copies go with it and are not attachments of their own.
    fn attach_files(&mut self, links: &[Vec<(String, markdown::BodyLink)>]) {
        let mut owners: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, targets) in links.iter().enumerate() {
            for (t, _) in targets {
                owners.entry(t.clone()).or_default().push(i);
            }
        }
        for rel in self.files.keys() {
            if owners.contains_key(rel) || picture::parse_copy_name(rel).is_some() {
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
                label: String::new(),
                in_body: false,
                copies: self.copies.get(&rel).cloned().unwrap_or_default(),
                rel,
            };
            if let Some(&first) = idxs.first() {
                self.owners.insert(att.rel.clone(), first);
            }
            for i in idxs {
                let m = &mut self.materials[i];
                let mine = links[i].iter().filter(|(t, _)| *t == att.rel);
                let mut att = att.clone();
                for (_, link) in mine {
                    att.in_body |= link.picture;
                    if att.label.is_empty() {
                        att.label.clone_from(&link.text);
                    }
                }
                if att.label.is_empty() {
                    att.label = tidy_name(
                        &att.name,
                        m.id.rsplit('/').next().unwrap_or(&m.id),
                        &m.title,
                    );
                }
                m.attachments.push(att);
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

    /// Every material, in the order of their files' paths.
    pub fn materials(&self) -> &[Material] {
        &self.materials
    }

    /// A material by id.
    pub fn get(&self, id: &str) -> Option<&Material> {
        self.position(id).map(|i| &self.materials[i])
    }

    /// Where the material `id` is in [`Library::materials`].
    fn position(&self, id: &str) -> Option<usize> {
        self.by_id
            .find(self.id_hash(id), |&i| self.materials[i as usize].id == id)
            .map(|&i| i as usize)
    }

    /// The hash `by_id` places a material id by.
    fn id_hash(&self, id: &str) -> u64 {
        self.ids_hasher.hash_one(id)
    }

    /// A non-Markdown file by library path.
    pub fn file(&self, rel: &str) -> Option<&SourceFile> {
        self.files.get(rel)
    }

    /// Documents (PDF, Word, LibreOffice) on disk that no material holds: copied into a
    /// library folder or brought by a package, waiting to be read into materials of their own.
    pub fn loose_documents(&self) -> Vec<&SourceFile> {
        let mut out: Vec<&SourceFile> = self
            .files
            .values()
            .filter(|f| f.disk_path.is_some() && !self.owners.contains_key(&f.rel))
            .filter(|f| {
                f.rel.rsplit_once('.').is_some_and(|(_, ext)| {
                    matches!(ext.to_ascii_lowercase().as_str(), "pdf" | "docx" | "odt")
                })
            })
            .collect();
        out.sort_by(|a, b| a.rel.cmp(&b.rel));
        out
    }

    /// The material an attachment belongs to.
    pub fn owner(&self, rel: &str) -> Option<&Material> {
        self.owners.get(rel).map(|&i| &self.materials[i])
    }

    /// What was wrong, sorted by path and line.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// What the listing this catalogue was read from said of the files (see
    /// [`source::listing_stamp`]): a later listing with the same stamp finds nothing changed.
    pub fn listing_stamp(&self) -> u64 {
        self.listing_stamp
    }

    /// A digest of every material file's path and bytes: equal digests, equal index.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Reads and parses a material's file again (for its page or for indexing).
    pub fn read(&self, m: &Material) -> Result<Parsed, crate::Error> {
        let bytes = self.source.read_at_most(&m.file, material::MAX_BYTES)?;
        Ok(material::parse(&bytes)?)
    }

    /// Reads a non-Markdown file's bytes.
    pub fn read_file(&self, file: &SourceFile) -> std::io::Result<FileData> {
        self.source.read(file)
    }

    /// Renders a material's body, with its relative links pointing at served URLs and its
    /// pictures shown by their smaller copies.
    pub fn render(&self, m: &Material, body: &str) -> String {
        markdown::to_html_with_pictures(
            body,
            |dest| self.resolve_link(m.dir(), dest),
            |dest| self.picture(m.dir(), dest),
        )
    }

    /// The picture a relative image destination written in `dir` shows, if it is a library
    /// file.
    fn picture(&self, dir: &str, dest: &str) -> Option<markdown::Picture> {
        let path = dest.split(['#', '?']).next().unwrap_or(dest);
        let rel = join(dir, path)?;
        let file = self.files.get(&rel)?;
        Some(markdown::Picture {
            url: library_url(&rel),
            bytes: file.bytes,
            copies: self.copies.get(&rel).cloned().unwrap_or_default(),
        })
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
        if self.position(id).is_some() {
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

/// Adds a material file's path and digest to the library's fingerprint.
fn fingerprint(hasher: &mut Sha256, rel: &str, sha256: &str) {
    hasher.update(rel.as_bytes());
    hasher.update([0]);
    hasher.update(sha256.as_bytes());
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

/// A file name as a reader can take it, for a file the material does not name: without the
/// extension and the material's own name in front (`lua-vu-xuan-bai-giang.mp3` of `lua-vu-xuan`
/// is "Bai giang"), dashes as spaces; the material's title when nothing else is left.
pub(super) fn tidy_name(name: &str, stem: &str, title: &str) -> String {
    let base = name.rsplit_once('.').map_or(name, |(b, _)| b);
    let rest = match base.strip_prefix(stem) {
        Some(r) => r.trim_start_matches(['-', '_', '.']),
        None => base,
    };
    let words: Vec<&str> = rest
        .split(['-', '_', ' ', '.'])
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return title.to_string();
    }
    let text = words.join(" ");
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Joins a relative link to the folder of the material it is written in, decoding `%xx`.
/// `None` when it climbs out of the library.
pub(super) fn join(dir: &str, dest: &str) -> Option<String> {
    let decoded = percent_encoding::percent_decode_str(dest).decode_utf8_lossy();
    path::resolve(dir, &decoded).map(|p| p.nfc().collect())
}
