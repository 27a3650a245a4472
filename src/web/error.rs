//! The one place where failures become HTTP responses.
//!
//! Pages get a friendly Vietnamese error page, the JSON API gets `{"error": ...}`; a 5xx logs
//! the cause once and never shows internal details to the client.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::web::visitor::pages;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No such page, material or file.
    #[error("not found")]
    NotFound,
    /// The request itself is wrong; the message says how (shown to the user).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Logged in, but not allowed to do this.
    #[error("forbidden")]
    Forbidden,
    /// An upload or form is larger than allowed.
    #[error("too large")]
    TooLarge,
    /// The library is still being indexed.
    #[error("starting")]
    Starting,
    /// Something broke on our side.
    #[error(transparent)]
    Internal(#[from] crate::Error),
}

impl AppError {
    /// A failure on our side described only by a message (logged once, shown as a 500).
    pub fn internal(e: impl std::fmt::Display) -> AppError {
        AppError::Internal(crate::Error::Io(std::io::Error::other(e.to_string())))
    }

    /// The status code of each kind of failure.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Starting => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Heading and explanation for a reader, in Vietnamese.
    fn words(&self) -> (&'static str, String) {
        match self {
            AppError::NotFound => (
                "Không tìm thấy trang này",
                "Địa chỉ có thể bị gõ sai, hoặc tài liệu đã được chuyển đi. Hãy thử tìm lại."
                    .into(),
            ),
            AppError::BadRequest(msg) => ("Yêu cầu không hợp lệ", msg.clone()),
            AppError::Forbidden => (
                "Không có quyền",
                "Tài khoản của bạn không được xem trang này. Hãy hỏi người quản lý trung tâm."
                    .into(),
            ),
            AppError::TooLarge => (
                "Tệp quá lớn",
                "Tệp lớn hơn mức cho phép (300 MB). Hãy nén nhỏ lại hoặc chia thành nhiều tệp."
                    .into(),
            ),
            AppError::Starting => (
                "Thư viện đang khởi động",
                "Máy chủ đang chuẩn bị tài liệu. Xin đợi một chút rồi tải lại trang.".into(),
            ),
            AppError::Internal(_) => (
                "Có lỗi trong máy chủ",
                "Xin lỗi, đã có lỗi. Hãy thử lại sau hoặc báo cho cán bộ trung tâm.".into(),
            ),
        }
    }

    fn log(&self) {
        if let AppError::Internal(e) = self {
            tracing::error!(error = %e, source = ?std::error::Error::source(e), "request failed");
        }
    }

    /// The JSON form, for `/api/*`.
    pub fn into_json(self) -> Response {
        self.log();
        let status = self.status();
        let (_, message) = self.words();
        let code = match &self {
            AppError::BadRequest(m) => m.clone(),
            _ => status.canonical_reason().unwrap_or("error").to_string(),
        };
        let mut r = (
            status,
            Json(serde_json::json!({ "error": code, "message": message })),
        )
            .into_response();
        add_retry_after(&self, &mut r);
        r
    }
}

fn add_retry_after(e: &AppError, r: &mut Response) {
    if matches!(e, AppError::Starting) {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let status = self.status();
        let (heading, message) = self.words();
        let mut r = (status, Html(pages::error_page(heading, &message))).into_response();
        add_retry_after(&self, &mut r);
        r
    }
}

/// Wraps an error so it answers as JSON.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.into_json()
    }
}
