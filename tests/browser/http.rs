//! A plain HTTP/1.1 client (hyper) that sends no Accept-Encoding, so the server answers with
//! the bytes themselves: the yardstick the browser's downloads are compared with, and the way
//! the tests record visits quickly.

use std::collections::BTreeMap;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// The client.
#[derive(Clone)]
pub struct Plain {
    client: Client<HttpConnector, Full<Bytes>>,
}

/// A whole answer.
#[derive(Debug)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// The body, read to its end.
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Plain {
    /// A client with no pool tricks: one request, one answer.
    pub fn new() -> Plain {
        Plain {
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// A client whose connections come from `source` (loopback takes any 127.x address), as
    /// another phone on the Wi-Fi would: the server bounds new visitor ids per address.
    pub fn from_address(source: std::net::IpAddr) -> Plain {
        let mut http = HttpConnector::new();
        http.set_local_address(Some(source));
        Plain {
            client: Client::builder(TokioExecutor::new()).build(http),
        }
    }

    /// `GET url`, with `cookie` as the Cookie header; errors are returned.
    pub async fn try_get(&self, url: &str, cookie: Option<&str>) -> Result<Reply, String> {
        let mut req = hyper::Request::get(url);
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        self.send(req.body(Full::new(Bytes::new())).unwrap()).await
    }

    /// `GET url`; panics when the request fails.
    pub async fn get(&self, url: &str, cookie: Option<&str>) -> Reply {
        self.try_get(url, cookie)
            .await
            .unwrap_or_else(|e| panic!("GET {url} failed in the plain client: {e}"))
    }

    /// `POST url` with a form.
    pub async fn post_form(&self, url: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> Reply {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut req = hyper::Request::post(url).header(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        self.send(req.body(Full::new(Bytes::from(body))).unwrap())
            .await
            .unwrap_or_else(|e| panic!("POST {url} failed in the plain client: {e}"))
    }

    async fn send(&self, req: hyper::Request<Full<Bytes>>) -> Result<Reply, String> {
        let res = self.client.request(req).await.map_err(|e| e.to_string())?;
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = res
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes()
            .to_vec();
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}

/// A visitor's phone as far as cookies go: what the server set, sent back.
#[derive(Default)]
pub struct Jar(BTreeMap<String, String>);

impl Jar {
    /// The Cookie header, if any cookie was set.
    pub fn header(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| {
            self.0
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    /// Keeps the cookies a reply sets.
    pub fn keep(&mut self, reply: &Reply) {
        for v in reply.headers.get_all(header::SET_COOKIE) {
            let Ok(v) = v.to_str() else { continue };
            let pair = v.split(';').next().unwrap_or("");
            if let Some((k, val)) = pair.split_once('=') {
                self.0.insert(k.trim().to_string(), val.trim().to_string());
            }
        }
    }
}

/// The `value` of every `<input ... name="NAME" value="...">` in a page, in order (a form
/// token, or the choices of a radio group).
pub fn input_values(html: &str, name: &str) -> Vec<String> {
    let needle = format!("name=\"{name}\"");
    html.match_indices(&needle)
        .filter_map(|(at, _)| {
            let tag_end = html[at..].find('>')? + at;
            let tag = &html[at..tag_end];
            let v = tag.find("value=\"")? + "value=\"".len();
            let len = tag[v..].find('"')?;
            Some(tag[v..v + len].to_string())
        })
        .collect()
}
