//! Sending a signed summary to the district office's box over the network, when one is
//! reachable (the same file a USB stick carries, `POST /api/district/summaries`), and the
//! district's answer. Plain HTTP on the district's own network: the file is signed, not secret.

use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use serde::{Deserialize, Serialize};

/// Where the district's box listens for summaries, under its address.
pub const PATH: &str = "/api/district/summaries";
/// Longest wait to reach the district's box.
const CONNECT: Duration = Duration::from_secs(5);
/// Longest wait for the whole exchange.
const EXCHANGE: Duration = Duration::from_secs(30);
/// Largest answer read.
const MAX_ANSWER: usize = 64 * 1024;

/// What the district answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// Kept (or already held): the district has this period's numbers.
    pub accepted: bool,
    /// `new`, `again`, `older`, `held` or `refused`.
    pub outcome: String,
    /// What happened, in Vietnamese, for the centre's manager.
    pub message: String,
}

/// Why the file did not reach the district.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The address in the settings is not one this can send to.
    #[error("địa chỉ máy của huyện «{0}» không dùng được (cần dạng http://192.168.1.10:8080)")]
    BadUrl(String),
    /// Nothing answered there.
    #[error("không kết nối được máy của huyện: {0}")]
    Connect(std::io::Error),
    /// It took too long.
    #[error("máy của huyện không trả lời kịp")]
    Timeout,
    /// The exchange broke.
    #[error("trao đổi với máy của huyện bị lỗi: {0}")]
    Http(#[from] hyper::Error),
    /// The answer was cut off or too long.
    #[error("câu trả lời của máy huyện không đọc được")]
    Answer,
    /// Something answered, but not a district's hoclieu.
    #[error("máy ở địa chỉ đó không phải máy hoclieu của huyện (trả lời {0})")]
    NotDistrict(u16),
}

/// Posts `file` to the district's box at `base` (e.g. `http://192.168.1.10:8080`).
pub async fn send(base: &str, file: Vec<u8>) -> Result<Answer, SendError> {
    let bad = || SendError::BadUrl(base.to_string());
    let uri: http::Uri = base.trim().parse().map_err(|_| bad())?;
    if uri.scheme_str() != Some("http") {
        return Err(bad());
    }
    let host = uri.host().ok_or_else(bad)?.to_string();
    // An IPv6 address is written in brackets in a URL, not when connecting.
    let connect_host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = uri.port_u16().unwrap_or(80);
    let path = format!("{}{PATH}", uri.path().trim_end_matches('/'));
    let exchange = async {
        let stream = tokio::time::timeout(
            CONNECT,
            tokio::net::TcpStream::connect((connect_host.as_str(), port)),
        )
        .await
        .map_err(|_| SendError::Timeout)?
        .map_err(SendError::Connect)?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
        let driver = tokio::spawn(conn);
        let req = http::Request::post(path)
            .header(
                http::header::HOST,
                uri.authority().map_or(host.clone(), |a| a.to_string()),
            )
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(bytes::Bytes::from(file)))
            .map_err(|_| bad())?;
        let res = sender.send_request(req).await?;
        let status = res.status();
        let body = Limited::new(res.into_body(), MAX_ANSWER)
            .collect()
            .await
            .map_err(|_| SendError::Answer)?
            .to_bytes();
        driver.abort();
        match serde_json::from_slice::<Answer>(&body) {
            Ok(a) => Ok(a),
            Err(_) => Err(SendError::NotDistrict(status.as_u16())),
        }
    };
    tokio::time::timeout(EXCHANGE, exchange)
        .await
        .map_err(|_| SendError::Timeout)?
}
