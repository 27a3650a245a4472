//! Documents copied into the centre's library folder (from a USB stick, or brought by a
//! package) become materials without anyone filling a form: after each load, every PDF, Word
//! or LibreOffice file that no material holds is read in the bounded worker, one at a time,
//! and a material file is written beside it. Its field is the folder's, when the folder is
//! named after one; staff can change it, and its title, in the editor. Where the box has
//! Tesseract with its Vietnamese data, the scanned pages of materials read from PDFs are then
//! read too, in the background, and marked as machine-read.

use std::time::Duration;

use crate::content::{Category, material};
use crate::documents;
use crate::web::state::AppState;

/// How often the catalogue is looked at for a new load.
const POLL: Duration = Duration::from_secs(3);

/// Runs for as long as the server: reads the loose documents of each new catalogue.
pub async fn run(state: AppState) {
    let Some(reader) = state.site.documents.clone() else {
        return;
    };
    let ocr = tokio::task::spawn_blocking(documents::ocr::Ocr::find)
        .await
        .ok()
        .flatten()
        .is_some();
    let mut seen_loads = 0;
    loop {
        let loads = state.library.loads();
        if loads != seen_loads && state.library.current().is_some() {
            seen_loads = loads;
            let mut made = read_pass(&state, &reader).await;
            if ocr {
                made += scan_pass(&state, &reader).await;
            }
            if made > 0 {
                let l = std::sync::Arc::clone(&state.library);
                match tokio::task::spawn_blocking(move || l.reload()).await {
                    Ok(Ok(_)) => seen_loads = state.library.loads(),
                    Ok(Err(e)) => {
                        tracing::error!(error = %e, "reloading after reading documents failed")
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "reloading after reading documents failed")
                    }
                }
            }
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Reads the loose documents of the current catalogue; returns how many materials it wrote.
pub async fn read_pass(state: &AppState, reader: &documents::worker::Reader) -> usize {
    let (Some(catalog), Some(centre)) = (state.library.current(), state.library.centre().cloned())
    else {
        return 0;
    };
    let loose: Vec<(String, u64, std::path::PathBuf)> = catalog
        .library
        .loose_documents()
        .into_iter()
        .filter_map(|f| Some((f.rel.clone(), f.bytes, f.disk_path.clone()?)))
        .filter(|(_, _, path)| path.starts_with(centre.root()))
        .collect();
    let mut made = 0;
    for (rel, bytes, path) in loose {
        let known = state
            .staff
            .unread_documents
            .lock()
            .ok()
            .and_then(|m| m.get(&rel).cloned());
        if known.is_some_and(|(size, _)| size == bytes) {
            continue;
        }
        let (stem, _) = rel.rsplit_once('.').unwrap_or((&rel, ""));
        let md = format!("{stem}.md");
        if catalog.library.file(&md).is_some() || catalog.library.get(stem).is_some() {
            continue;
        }
        let doc = match reader.read(&path).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(file = %rel, error = %e, "document in the library folder not read");
                if let Ok(mut m) = state.staff.unread_documents.lock() {
                    m.insert(rel.clone(), (bytes, e.to_string()));
                }
                continue;
            }
        };
        let category = rel
            .split('/')
            .next()
            .and_then(|dir| dir.parse::<Category>().ok())
            .unwrap_or(Category::LifeSkills);
        let file_name = rel.rsplit('/').next().unwrap_or(&rel).to_string();
        let today = crate::clock::iso(crate::web::staff::dashboard::today(state));
        let centre = centre.clone();
        let written = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let sha = documents::sha256_of(&path)?;
            let mut p = documents::material::parsed(&doc, &file_name, &sha, None, category);
            p.updated = Some(today);
            let text = material::write(&p)?;
            documents::material::save_pictures(&centre, &md, &doc, &file_name)?;
            centre.save(&md, text.as_bytes())?;
            Ok(())
        })
        .await;
        match written {
            Ok(Ok(())) => {
                tracing::info!(file = %rel, "document in the library folder read into a material");
                made += 1;
            }
            Ok(Err(e)) => {
                tracing::error!(file = %rel, error = %e, "material for a document not written")
            }
            Err(e) => {
                tracing::error!(file = %rel, error = %e, "material for a document not written")
            }
        }
    }
    made
}

/// Reads the scanned pages of the current catalogue's materials made from PDFs that have
/// pages nobody read yet, with Tesseract; rewrites each material with that text, keeping what
/// staff set (title, field, tags, summary, date). Returns how many it rewrote.
pub async fn scan_pass(state: &AppState, reader: &documents::worker::Reader) -> usize {
    let (Some(catalog), Some(centre)) = (state.library.current(), state.library.centre().cloned())
    else {
        return 0;
    };
    let mut made = 0;
    for m in catalog.library.materials() {
        let Some(info) = &m.document else { continue };
        if info.unread_scans().is_empty() || !info.machine_read.is_empty() {
            continue;
        }
        let key = format!("{}#scan", m.id);
        if state
            .staff
            .unread_documents
            .lock()
            .is_ok_and(|u| u.contains_key(&key))
        {
            continue;
        }
        let Some(original) = m.original().and_then(|a| catalog.library.file(&a.rel)) else {
            continue;
        };
        let Some(path) = original
            .disk_path
            .clone()
            .filter(|p| p.starts_with(centre.root()))
        else {
            continue;
        };
        let Ok(old) = catalog.library.read(m) else {
            continue;
        };
        tracing::info!(id = %m.id, pages = info.unread_scans().len(), "reading scanned pages");
        let doc = match reader.read_scanned(&path).await {
            Ok(d) if !d.machine_read.is_empty() => d,
            Ok(_) | Err(_) => {
                // Not tried again until a restart: Tesseract found nothing it could read.
                if let Ok(mut u) = state.staff.unread_documents.lock() {
                    u.insert(
                        key,
                        (0, "Tesseract không đọc được trang ảnh quét nào".into()),
                    );
                }
                continue;
            }
        };
        let mut p = documents::material::parsed(
            &doc,
            &info.file,
            &info.sha256,
            Some(&old.title),
            old.category,
        );
        p.tags = old.tags;
        p.summary = old.summary;
        p.updated = old.updated;
        p.featured = old.featured;
        p.language = old.language;
        let rel = m.file.rel.clone();
        let centre = centre.clone();
        let id = m.id.clone();
        let written = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            centre.save(&rel, material::write(&p)?.as_bytes())?;
            Ok(())
        })
        .await;
        match written {
            Ok(Ok(())) => {
                tracing::info!(%id, pages = doc.machine_read.len(), "scanned pages read by Tesseract");
                made += 1;
            }
            Ok(Err(e)) => {
                tracing::error!(%id, error = %e, "material with scanned pages not written")
            }
            Err(e) => tracing::error!(%id, error = %e, "material with scanned pages not written"),
        }
    }
    made
}
