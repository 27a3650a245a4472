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

/// Receives one signed summary.
pub async fn receive(State(state): State<AppState>, body: Bytes) -> Response {
    if state.site.settings.role != Role::District {
        return AppError::NotFound.into_json();
    }
    let ours = state.site.settings.district.clone();
    let now = state.now_ms();
    let done = state
        .records
        .db(move |conn| {
            Ok(district::import_from(
                conn,
                &body,
                &ours,
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
            (status, accepted, outcome, i.to_string())
        }
        Ok(Err(ImportError::Db(e))) => return AppError::from(e).into_json(),
        Ok(Err(e @ ImportError::TooManyWaiting)) => (
            StatusCode::TOO_MANY_REQUESTS,
            false,
            "refused",
            e.to_string(),
        ),
        Ok(Err(e)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            false,
            "refused",
            e.to_string(),
        ),
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
