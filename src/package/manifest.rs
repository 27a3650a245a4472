//! The manifest, `hoclieu-package.toml`: what a package says it holds. Parsed and checked on its
//! own before any file is read, and written by hand so that the same content gives the same
//! bytes.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::paths::check_paths;
use super::{FORMAT, Limits, PackageError};

/// The manifest is parsed in memory, so it gets its own bound; 16 MiB is far above what
/// 10,000 files need (about 150 bytes each).
pub(super) const MAX_MANIFEST_BYTES: u64 = 16 << 20;

/// The package description, `hoclieu-package.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Package format, [`FORMAT`].
    pub format: u32,
    /// When the package was made, as the exporter wrote it.
    pub created: String,
    /// The centre that made it; may be empty.
    #[serde(default)]
    pub centre: String,
    /// Materials in the package, sorted by id.
    #[serde(default, rename = "material")]
    pub materials: Vec<MaterialInfo>,
    /// Lessons in the package, sorted by code.
    #[serde(default, rename = "lesson")]
    pub lessons: Vec<LessonInfo>,
    /// Every file in the package, sorted by path.
    #[serde(default, rename = "file")]
    pub files: Vec<FileInfo>,
}

/// A material listed in a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaterialInfo {
    /// Material id: library path without `.md`.
    pub id: String,
    /// Title.
    pub title: String,
    /// Date the facts were last checked, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
}

/// A lesson listed in a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LessonInfo {
    /// Lesson code; its file is `lessons/<code>.toml`.
    pub code: String,
    /// Title.
    pub title: String,
}

/// A file listed in a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileInfo {
    /// Path inside the package.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the contents, 64 lowercase hex digits.
    pub sha256: String,
}

/// `updated` dates are compared as text, which is only right for `YYYY-MM-DD`.
pub(super) fn check_materials(materials: &[MaterialInfo]) -> Result<(), PackageError> {
    match materials
        .iter()
        .find(|m| m.updated.as_deref().is_some_and(|d| !is_iso_date(d)))
    {
        Some(m) => Err(PackageError::BadManifest {
            detail: format!(
                "material {:?}: updated must be a date like 2026-11-29",
                m.id
            ),
        }),
        None => Ok(()),
    }
}

fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, &c)| match i {
            4 | 7 => c == b'-',
            _ => c.is_ascii_digit(),
        })
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Checks the manifest on its own, before any file is read, and indexes its files by path.
pub(super) fn check_manifest(
    manifest: &Manifest,
    limits: &Limits,
) -> Result<HashMap<String, usize>, PackageError> {
    if manifest.files.len() > limits.max_files {
        return Err(PackageError::TooManyFiles {
            limit: limits.max_files,
        });
    }
    check_paths(manifest.files.iter().map(|f| f.path.as_str()), limits.areas)?;
    check_materials(&manifest.materials)?;
    let mut total = 0u64;
    for f in &manifest.files {
        if f.size > limits.max_file_bytes {
            return Err(PackageError::FileTooLarge {
                path: f.path.clone(),
                size: f.size,
                limit: limits.max_file_bytes,
            });
        }
        total = total.saturating_add(f.size);
        if total > limits.max_total_bytes {
            return Err(PackageError::TooLarge {
                limit: limits.max_total_bytes,
            });
        }
        if !is_sha256_hex(&f.sha256) {
            return Err(PackageError::BadManifest {
                detail: format!("{:?}: sha256 must be 64 lowercase hex digits", f.path),
            });
        }
    }
    let index = manifest.files.iter().enumerate();
    Ok(index.map(|(i, f)| (f.path.clone(), i)).collect())
}

/// Parses the manifest text, checking `format` first so that a newer package gets "update
/// hoclieu" rather than whatever field format 1 happens to miss.
pub(super) fn parse_manifest(bytes: &[u8]) -> Result<Manifest, PackageError> {
    #[derive(Deserialize)]
    struct Probe {
        format: Option<i64>,
    }
    let bad = |detail: String| PackageError::BadManifest { detail };
    let text = std::str::from_utf8(bytes).map_err(|_| bad("it is not UTF-8 text".into()))?;
    let probe: Probe = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
    match probe.format {
        None => return Err(bad("it has no format number".into())),
        Some(found) if found != i64::from(FORMAT) => {
            return Err(PackageError::UnsupportedFormat { found });
        }
        Some(_) => {}
    }
    toml::from_str(text).map_err(|e| bad(e.to_string()))
}

/// The manifest as TOML. Written by hand because the crate's `toml` has no serializer enabled,
/// and a fixed layout keeps packages byte-identical across versions of `toml`.
pub(super) fn manifest_toml(m: &Manifest) -> String {
    let mut out = String::new();
    out.push_str(&format!("format = {}\n", m.format));
    push_kv(&mut out, "created", &m.created);
    push_kv(&mut out, "centre", &m.centre);
    for mat in &m.materials {
        out.push_str("\n[[material]]\n");
        push_kv(&mut out, "id", &mat.id);
        push_kv(&mut out, "title", &mat.title);
        if let Some(updated) = &mat.updated {
            push_kv(&mut out, "updated", updated);
        }
    }
    for lesson in &m.lessons {
        out.push_str("\n[[lesson]]\n");
        push_kv(&mut out, "code", &lesson.code);
        push_kv(&mut out, "title", &lesson.title);
    }
    for f in &m.files {
        out.push_str("\n[[file]]\n");
        push_kv(&mut out, "path", &f.path);
        out.push_str(&format!("size = {}\n", f.size));
        push_kv(&mut out, "sha256", &f.sha256);
    }
    out
}

fn push_kv(out: &mut String, key: &str, value: &str) {
    out.push_str(key);
    out.push_str(" = \"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // TOML forbids the other C0 controls and DEL in basic strings.
            c if c < ' ' || c == '\u{7f}' => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push_str("\"\n");
}
