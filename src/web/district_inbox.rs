//! `POST /api/district/summaries` on a district office's box: a centre's box sends its signed
//! summary over the network (the same file a USB stick carries) and is told what was done
//! with it. Nobody logs in: the signature and the centre's pinned key decide, and a key the
//! district has not pinned yet (even a new centre's) waits for a manager.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::error::AppError;
use super::state::AppState;
use crate::district::{self, Arrival, ImportError, Imported};
use crate::settings::Role;
use crate::summary_transport::Answer;

/// A refusal, in the answer's form.
fn refused(status: StatusCode, e: &ImportError) -> Response {
    tracing::info!(outcome = "refused", "summary received over the network");
    let answer = Answer {
        accepted: false,
        outcome: "refused".into(),
        message: e.to_string(),
    };
    (status, Json(answer)).into_response()
}

/// Largest file taken over the network (a real summary is tens of kB).
pub const MAX_BYTES: usize = district::MAX_HELD_BYTES;

/// Receives one signed summary.
pub async fn receive(State(state): State<AppState>, body: Bytes) -> Response {
    if state.site.settings.role != Role::District {
        return AppError::NotFound.into_json();
    }
    let ours = state.site.settings.district.clone();
    let now = state.now_ms();
    // Checked before the database is touched: a flood of bad files holds up no page.
    let body = std::sync::Arc::new(body);
    let file = std::sync::Arc::clone(&body);
    let checked = super::offload::blocking(move || {
        Ok::<_, std::io::Error>(district::check_file(&file, &ours))
    })
    .await;
    let v = match checked {
        Err(e) => return e.into_json(),
        Ok(Err(e)) => return refused(StatusCode::UNPROCESSABLE_ENTITY, &e),
        Ok(Ok(v)) => v,
    };
    let done = state
        .records
        .db(move |conn| {
            Ok(district::import_checked_file(
                conn,
                &v,
                &body,
                now,
                Arrival::Network,
            ))
        })
        .await;
    let (status, accepted, outcome, message) = match done {
        Err(e) => return e.into_json(),
        Ok(Ok(i)) => {
            let (status, accepted, outcome) = match &i {
                Imported::New { .. } => (StatusCode::OK, true, "new"),
                Imported::Again { .. } => (StatusCode::OK, true, "again"),
                Imported::Older { .. } => (StatusCode::OK, false, "older"),
                Imported::Held { .. } => (StatusCode::ACCEPTED, false, "held"),
            };
            let message = match &i {
                // Whoever sent it is not told the key the district holds for the centre.
                Imported::Held {
                    centre,
                    period,
                    fingerprint,
                    ..
                } => format!(
                    "chờ xác nhận: «{centre}» kỳ {period}, ký bằng khóa {fingerprint}; cán bộ huyện cần xác nhận khóa này"
                ),
                other => other.to_string(),
            };
            (status, accepted, outcome, message)
        }
        Ok(Err(ImportError::Db(e))) => return AppError::from(e).into_json(),
        Ok(Err(e @ ImportError::TooManyWaiting)) => {
            return refused(StatusCode::TOO_MANY_REQUESTS, &e);
        }
        Ok(Err(e)) => return refused(StatusCode::UNPROCESSABLE_ENTITY, &e),
    };
    tracing::info!(outcome, "summary received over the network");
    (
        status,
        Json(Answer {
            accepted,
            outcome: outcome.to_string(),
            message,
        }),
    )
        .into_response()
}
