//! The one place where failures become HTTP responses.
//!
//! Pages get a friendly Vietnamese error page, the JSON API gets `{"error": ...}`; a 5xx logs
//! its cause chain once and never shows internal details (or an OS error's text) to the client.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::page;

/// A failure on our side, with its cause chain kept for the log.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

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
    /// A text field of a form is longer than allowed.
    #[error("field too long")]
    FieldTooLong,
    /// The box is doing this already for someone else; the message says what (shown).
    #[error("busy: {0}")]
    Busy(String),
    /// The library is still being indexed.
    #[error("starting")]
    Starting,
    /// The usage database could not be opened, so accounts and reports are unavailable.
    #[error("usage records unavailable")]
    NoRecords,
    /// The centre's own library folder could not be opened (read-only or damaged disk).
    #[error("centre library unavailable")]
    NoCentreLibrary,
    /// A write failed because the data disk (the SD card) is full; nothing was changed.
    #[error("disk full: {0}")]
    DiskFull(#[source] BoxError),
    /// The data folder could not be written at start (the memory card is read-only, full or
    /// failing): the library is served, nothing is recorded, the staff area is closed.
    #[error("data folder read-only")]
    ReadOnlyData,
    /// Something broke on our side.
    #[error("internal error: {0}")]
    Internal(#[source] BoxError),
}

impl AppError {
    /// A failure on our side (logged once with its causes, shown as a 500).
    pub fn internal(e: impl Into<BoxError>) -> AppError {
        let e = e.into();
        if crate::fsutil::is_disk_full(&*e) {
            AppError::DiskFull(e)
        } else {
            AppError::Internal(e)
        }
    }

    /// A request the user can correct, with what to do.
    pub fn bad(message: impl Into<String>) -> AppError {
        AppError::BadRequest(message.into())
    }

    /// The status code of each kind of failure.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::TooLarge | AppError::FieldTooLong => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Starting
            | AppError::NoRecords
            | AppError::NoCentreLibrary
            | AppError::Busy(_)
            | AppError::ReadOnlyData => StatusCode::SERVICE_UNAVAILABLE,
            AppError::DiskFull(_) => StatusCode::INSUFFICIENT_STORAGE,
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
            AppError::FieldTooLong => (
                "Nội dung quá dài",
                "Một ô trong biểu mẫu dài hơn mức cho phép. Hãy viết ngắn lại rồi gửi lại.".into(),
            ),
            AppError::Busy(msg) => ("Máy chủ đang bận", msg.clone()),
            AppError::Starting => (
                "Thư viện đang khởi động",
                "Máy chủ đang chuẩn bị tài liệu. Xin đợi một chút rồi tải lại trang.".into(),
            ),
            AppError::NoRecords => (
                "Sổ ghi chép chưa mở được",
                "Máy chủ không mở được cơ sở dữ liệu, nên phần quản lý tạm thời không dùng được. \
                 Thư viện vẫn đọc được. Hãy chạy «hoclieu doctor» hoặc báo cho cán bộ kỹ thuật."
                    .into(),
            ),
            AppError::NoCentreLibrary => (
                "Chưa ghi được tài liệu của trung tâm",
                "Máy chủ không mở được thư mục tài liệu riêng của trung tâm (ổ đĩa chỉ đọc hoặc \
                 bị hỏng). Thư viện vẫn đọc được. Hãy chạy «hoclieu doctor»."
                    .into(),
            ),
            AppError::DiskFull(_) => (
                "Thẻ nhớ đã đầy",
                "Thẻ nhớ của máy chủ đã đầy nên chưa lưu được gì: việc vừa làm chưa được ghi. \
                 Hãy xóa bớt tài liệu hoặc tệp không dùng nữa, hoặc tải bản sao lưu về \
                 USB rồi giải phóng chỗ, sau đó thử lại. Thư viện vẫn đọc được."
                    .into(),
            ),
            AppError::ReadOnlyData => (
                "Thẻ nhớ đang ở chế độ chỉ đọc",
                "Máy chủ không ghi được vào thẻ nhớ (thẻ có thể sắp hỏng hoặc đã đầy). Người dân \
                 vẫn xem và tìm tài liệu được, nhưng lượt xem KHÔNG được ghi lại, và phần quản lý \
                 (đăng nhập, sửa tài liệu, tải lên, báo cáo) tạm đóng. Cách làm: tắt máy, thay \
                 thẻ nhớ mới rồi khôi phục bản sao lưu gần nhất (hoặc nhờ cán bộ kỹ thuật chép \
                 dữ liệu sang thẻ mới), sau đó bật lại máy. «hoclieu doctor» cho biết chi tiết."
                    .into(),
            ),
            AppError::Internal(_) => (
                "Có lỗi trong máy chủ",
                "Xin lỗi, đã có lỗi. Hãy thử lại sau hoặc báo cho cán bộ trung tâm.".into(),
            ),
        }
    }

    fn log(&self) {
        if let AppError::DiskFull(e) = self {
            tracing::error!(error = %e, "write refused: the data disk is full");
        }
        if let AppError::Internal(e) = self {
            let mut causes = Vec::new();
            let mut next = e.source();
            while let Some(c) = next {
                causes.push(c.to_string());
                next = c.source();
            }
            tracing::error!(error = %e, causes = ?causes, "request failed");
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
    if matches!(e, AppError::Starting | AppError::Busy(_)) {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
}

impl AppError {
    /// The HTML answer, its page drawn by `page` from the heading and the explanation: the
    /// villagers' error page, or the staff area's frame (`web::staff::session::StaffError`).
    pub fn into_page(self, page: impl FnOnce(&str, &str) -> String) -> Response {
        self.log();
        let status = self.status();
        let (heading, message) = self.words();
        let mut r = (status, Html(page(heading, &message))).into_response();
        add_retry_after(&self, &mut r);
        r
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.into_page(page::error_page)
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

/// Failures of the library code that are ours, not the client's: kept whole as the cause.
macro_rules! internal_from {
    ($($ty:ty),* $(,)?) => {$(
        impl From<$ty> for AppError {
            fn from(e: $ty) -> AppError {
                AppError::internal(e)
            }
        }
    )*};
}

internal_from!(
    std::io::Error,
    rusqlite::Error,
    askama::Error,
    tokio::task::JoinError,
    csv::Error,
);

// The wrappers below are `#[error(transparent)]` around an `io::Error`, which hides it from the
// cause chain: it is taken out by hand, so a full disk is told as such.
impl From<crate::Error> for AppError {
    fn from(e: crate::Error) -> AppError {
        match e {
            crate::Error::Io(e) => e.into(),
            other => AppError::internal(other),
        }
    }
}

impl From<crate::district::ImportError> for AppError {
    fn from(e: crate::district::ImportError) -> AppError {
        match e {
            crate::district::ImportError::Db(e) => e.into(),
            // A refused file is the file's fault, told as it is.
            other => AppError::bad(other.to_string()),
        }
    }
}

impl From<crate::district::report::PlanError> for AppError {
    fn from(e: crate::district::report::PlanError) -> AppError {
        AppError::bad(e.to_string())
    }
}

impl From<crate::package::backup::BackupError> for AppError {
    fn from(e: crate::package::backup::BackupError) -> AppError {
        use crate::package::backup::BackupError as E;
        match e {
            E::Io(e) => e.into(),
            E::Database(e) => e.into(),
            other => AppError::internal(other),
        }
    }
}

impl From<crate::content::centre::CentreError> for AppError {
    fn from(e: crate::content::centre::CentreError) -> AppError {
        use crate::content::centre::CentreError as E;
        match e {
            E::BadPath(_) => AppError::bad("Tên tệp này không dùng được trong thư viện."),
            E::NoHistory(_) => AppError::bad("Không còn bản trước để trở lại."),
            E::Io(e) => e.into(),
            other => AppError::internal(other),
        }
    }
}

impl From<crate::content::picture::PictureError> for AppError {
    fn from(e: crate::content::picture::PictureError) -> AppError {
        use crate::content::picture::{MAX_PIXELS, MAX_SIDE, PictureError as E};
        match e {
            E::TooLarge => AppError::bad(format!(
                "Ảnh quá lớn (hơn {} triệu điểm ảnh, hoặc một cạnh dài hơn {MAX_SIDE} điểm). \
                 Hãy thu nhỏ ảnh rồi tải lên lại.",
                MAX_PIXELS / 1_000_000
            )),
            E::Unreadable(_) => {
                AppError::bad("Không đọc được ảnh này. Hãy chụp hoặc lưu lại ảnh rồi thử lại.")
            }
            E::Io(e) => e.into(),
        }
    }
}

impl From<crate::lessons::LessonError> for AppError {
    fn from(e: crate::lessons::LessonError) -> AppError {
        match e {
            crate::lessons::LessonError::Invalid(m) => AppError::BadRequest(m),
            crate::lessons::LessonError::Io(e) => e.into(),
            other => AppError::internal(other),
        }
    }
}

impl From<crate::package::local::PackageIoError> for AppError {
    fn from(e: crate::package::local::PackageIoError) -> AppError {
        match e {
            crate::package::local::PackageIoError::Missing(m) => AppError::BadRequest(m),
            crate::package::local::PackageIoError::Io(e) => e.into(),
            e @ crate::package::local::PackageIoError::Refused { .. } => {
                AppError::BadRequest(e.to_string())
            }
            other => AppError::internal(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::fsutil::disk_full_tests::enospc;

    #[test]
    fn a_full_disk_is_507_whichever_write_met_it() {
        use crate::content::centre::CentreError;
        use crate::lessons::LessonError;
        use crate::package::backup::BackupError;
        use crate::package::local::PackageIoError;
        let errors: Vec<AppError> = vec![
            enospc().into(),
            std::io::Error::other(enospc()).into(),
            crate::Error::Io(enospc()).into(),
            CentreError::Io(enospc()).into(),
            LessonError::Io(enospc()).into(),
            PackageIoError::Io(enospc()).into(),
            BackupError::Io(enospc()).into(),
            AppError::internal(enospc()),
            rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
                None,
            )
            .into(),
        ];
        for e in errors {
            assert_eq!(e.status(), StatusCode::INSUFFICIENT_STORAGE, "{e:?}");
            assert!(e.words().0.contains("Thẻ nhớ đã đầy"));
        }
        let other: AppError = std::io::Error::from(std::io::ErrorKind::PermissionDenied).into();
        assert_eq!(other.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
