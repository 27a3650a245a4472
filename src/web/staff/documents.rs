//! `POST /admin/materials/documents`: staff drop in PDF, Word and LibreOffice files (several at
//! once); each is read in a bounded worker and becomes a material of the chosen field, its
//! text searchable and readable on a phone, the original kept beside it for "Tải tệp gốc".
//! A file that cannot be read is refused with its reason; the others are kept.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::materials::free_id;
use super::session::{Staff, StaffError, StaffNav, check_token, framed};
use super::uploads::receive;
use crate::content::material;
use crate::documents;
use crate::web::error::AppError;
use crate::web::extract::category_field;
use crate::web::offload::blocking;
use crate::web::page::{Site, render};
use crate::web::state::AppState;

/// What became of one file.
struct Outcome {
    /// The name it was sent with.
    name: String,
    /// The material made of it, when it was read.
    id: Option<String>,
    /// Its title, or why it was refused.
    text: String,
    /// What staff should know about a read file (scanned pages, old encoding, cut).
    notes: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin_documents.html")]
struct DonePage {
    site: Site,
    nav: StaffNav,
    outcomes: Vec<Outcome>,
}

/// `POST /admin/materials/documents` (multipart: `token`, `category`, `file`…).
pub async fn upload(
    State(state): State<AppState>,
    Staff(s): Staff,
    multipart: axum::extract::Multipart,
) -> Result<Response, StaffError> {
    framed(&s, async {
        let centre = state.centre_library()?;
        let reader = state
            .site
            .documents
            .clone()
            .ok_or_else(|| {
                AppError::internal(std::io::Error::other("no program to read documents with"))
            })?;
        let up = receive(multipart, centre.root(), &s.csrf, state.site.upload_limit).await?;
        check_token(&s, up.fields.get("token").map(String::as_str))?;
        let category = category_field(up.fields.get("category").map(String::as_str))?;
        if up.files.is_empty() {
            return Err(AppError::bad("Hãy chọn ít nhất một tệp."));
        }
        let mut outcomes = Vec::new();
        let mut taken: Vec<String> = Vec::new();
        let today = crate::clock::iso(super::dashboard::today(&state));
        for file in up.files {
            let name = file.name.clone();
            let refused = |text: String| Outcome {
                name: name.clone(),
                id: None,
                text,
                notes: Vec::new(),
            };
            // One at a time: each worker may take the memory the box can spare.
            let doc = match reader.read(&file.path).await {
                Ok(d) => d,
                Err(e) => {
                    tracing::info!(file = %name, error = %e, "document refused");
                    outcomes.push(refused(e.to_string()));
                    continue;
                }
            };
            let catalog = state.catalog()?;
            let title_stem = doc
                .best_title()
                .unwrap_or_else(|| documents::material::title_of_file_name(&name));
            let id = free_id(&catalog.library, category, &title_stem, &taken);
            let own = id.rsplit('/').next().unwrap_or(&id).to_string();
            let original = format!("{own}.{}", doc.kind.ext());
            let notes = doc.notes();
            let (rel_md, rel_file) = (format!("{id}.md"), format!("{id}.{}", doc.kind.ext()));
            let (centre, today, title) = (centre.clone(), today.clone(), title_stem.clone());
            let saved = blocking(move || -> Result<String, AppError> {
                let sha = documents::sha256_of(&file.path)?;
                let mut p =
                    documents::material::parsed(&doc, &original, &sha, Some(&title), category);
                // Dated today: the home page lists new materials by their date.
                p.updated = Some(today);
                let text = material::write(&p).map_err(|e| AppError::bad(e.to_string()))?;
                // The original and pictures first: a material is never shown without them.
                centre.put_file(&rel_file, &file.path)?;
                documents::material::save_pictures(&centre, &rel_md, &doc, &original)?;
                centre.save(&rel_md, text.as_bytes())?;
                Ok(p.title)
            })
            .await;
            match saved {
                Ok(title) => {
                    tracing::info!(user = ?s.user, file = %name, %id, "document added as a material");
                    taken.push(id.clone());
                    outcomes.push(Outcome {
                        name,
                        id: Some(id),
                        text: title,
                        notes,
                    });
                }
                Err(AppError::BadRequest(m)) => outcomes.push(refused(m)),
                Err(e) => return Err(e),
            }
        }
        if !taken.is_empty() {
            state.reload_library().await?;
        }
        Ok(render(&DonePage {
            site: Site::new(),
            nav: StaffNav::of(&s),
            outcomes,
        })?
        .into_response())
    })
    .await
}
