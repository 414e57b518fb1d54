//! ClickHouse's HTTP interface, as the store uses it: one SQL statement per request, basic
//! auth, gzip-compressed insert bodies, timeouts, and a few quick retries for errors that are
//! transient by nature (connection refused or reset, timeouts, 502/503/504 from a proxy).
//!
//! It does not retry anything else: a syntax error or a missing table will not heal in a
//! second, and the outer retry (the SDK's, after the collector's 503) is the one that rides
//! out a long outage. Nor does it put server error bodies verbatim into errors for inserts:
//! ClickHouse's parse errors quote the input, and the input is event rows.

use std::io::{BufRead, BufReader, Write};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::{Client as Http, RequestBuilder, Response};
use reqwest::header::CONTENT_ENCODING;

use crate::store::StoreError;
use crate::store::failed;

/// Connecting to a healthy server on a private network takes milliseconds; two seconds rides
/// out a busy accept queue without holding the group-commit writer for long when the server is
/// down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// One statement's whole round trip. An insert of a full group (10,000 events) takes well under
/// a second on a healthy server; past this the collector answers 503 and the SDK retries.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Attempts per call, the first included, and the pause before each retry: short, because the
/// writer thread (and every request queued behind it) waits meanwhile.
const BACKOFF: [Duration; 2] = [Duration::from_millis(100), Duration::from_millis(400)];

/// A secret that never prints.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a password.
    pub fn new(value: String) -> Secret {
        Secret(value)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Whether an error body may be quoted in the error message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    /// The statement carries no row contents: quote the server's message (shortened).
    Message,
    /// An insert of rows: name only ClickHouse's error code.
    CodeOnly,
}

/// A ClickHouse HTTP endpoint with credentials.
pub struct Client {
    http: Http,
    url: reqwest::Url,
    user: String,
    password: Secret,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("url", &self.url.as_str())
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for the server at `url` (`http://host:8123` or `https://...`).
    pub fn new(url: reqwest::Url, user: String, password: Secret) -> Result<Client, StoreError> {
        let http = Http::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| failed("clickhouse: build http client", e))?;
        Ok(Client {
            http,
            url,
            user,
            password,
        })
    }

    fn post(&self) -> RequestBuilder {
        self.http
            .post(self.url.clone())
            .basic_auth(&self.user, Some(&self.password.0))
    }

    /// Send with retries of transient failures; a non-2xx answer becomes an error.
    fn send(
        &self,
        op: &'static str,
        echo: Echo,
        build: &dyn Fn() -> RequestBuilder,
    ) -> Result<Response, StoreError> {
        let mut attempt = 0;
        loop {
            let transient = match build().send() {
                Ok(r) if r.status().is_success() => return Ok(r),
                Ok(r) => {
                    let status = r.status();
                    let retry = matches!(
                        status,
                        StatusCode::BAD_GATEWAY
                            | StatusCode::SERVICE_UNAVAILABLE
                            | StatusCode::GATEWAY_TIMEOUT
                    );
                    let err = failed(op, server_error(status, r.text().unwrap_or_default(), echo));
                    if !retry {
                        return Err(err);
                    }
                    err
                }
                Err(e) if e.is_connect() || e.is_timeout() => failed(op, e.without_url()),
                Err(e) => return Err(failed(op, e.without_url())),
            };
            match BACKOFF.get(attempt) {
                Some(pause) => std::thread::sleep(*pause),
                None => return Err(transient),
            }
            attempt += 1;
        }
    }

    /// Run a statement; returns the whole answer.
    pub fn execute(&self, op: &'static str, sql: &str) -> Result<String, StoreError> {
        self.execute_with(op, sql, &[])
    }

    /// Run a statement with query-level `settings` (URL parameters: they hold for this
    /// statement whatever the user's profile says); returns the whole answer.
    pub fn execute_with(
        &self,
        op: &'static str,
        sql: &str,
        settings: &[(&str, &str)],
    ) -> Result<String, StoreError> {
        let sql = sql.to_owned();
        let url = self.url_with(settings);
        let r = self.send(op, Echo::Message, &|| {
            self.http
                .post(url.clone())
                .basic_auth(&self.user, Some(&self.password.0))
                .body(sql.clone())
        })?;
        r.text().map_err(|e| failed(op, e.without_url()))
    }

    /// The endpoint with `settings` as URL parameters.
    fn url_with(&self, settings: &[(&str, &str)]) -> reqwest::Url {
        let mut url = self.url.clone();
        if !settings.is_empty() {
            url.query_pairs_mut().extend_pairs(settings);
        }
        url
    }

    /// Run a query and hand each line of the answer (`FORMAT JSONEachRow`: one row a line) to
    /// `visit` as it arrives, so memory does not grow with the result.
    pub fn lines(
        &self,
        op: &'static str,
        sql: &str,
        visit: &mut dyn FnMut(&str) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let sql = sql.to_owned();
        let r = self.send(op, Echo::Message, &|| self.post().body(sql.clone()))?;
        let mut reader = BufReader::new(r);
        let mut line = String::new();
        loop {
            line.clear();
            let n = reader.read_line(&mut line).map_err(|e| failed(op, e))?;
            if n == 0 {
                return Ok(());
            }
            let row = line.trim_end_matches('\n');
            if row.starts_with("Code: ") {
                // An exception after the answer began: ClickHouse writes it into the body.
                return Err(failed(
                    op,
                    server_error(StatusCode::OK, row.to_owned(), Echo::Message),
                ));
            }
            if !row.is_empty() {
                visit(row)?;
            }
        }
    }

    /// `INSERT ... FORMAT JSONEachRow` with `rows` (one JSON object a line) as the gzip-compressed
    /// body, and query-level `settings`. Returns once the server answered 200: a synchronous
    /// insert has then written its parts.
    pub fn insert(
        &self,
        op: &'static str,
        insert_sql: &str,
        rows: &[u8],
        settings: &[(&str, &str)],
    ) -> Result<(), StoreError> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(rows).map_err(|e| failed(op, e))?;
        let body = gz.finish().map_err(|e| failed(op, e))?;
        let mut url = self.url_with(settings);
        url.query_pairs_mut().append_pair("query", insert_sql);
        self.send(op, Echo::CodeOnly, &|| {
            self.http
                .post(url.clone())
                .basic_auth(&self.user, Some(&self.password.0))
                .header(CONTENT_ENCODING, "gzip")
                .body(body.clone())
        })
        .map(drop)
    }
}

/// The server's complaint, as much of it as may be shown.
fn server_error(status: StatusCode, body: String, echo: Echo) -> String {
    let code = body
        .strip_prefix("Code: ")
        .and_then(|rest| rest.split([',', '.', ' ']).next())
        .unwrap_or("?");
    match echo {
        Echo::CodeOnly => format!("clickhouse answered {status} (error code {code})"),
        Echo::Message => {
            let text: String = body.trim().chars().take(300).collect();
            format!("clickhouse answered {status}: {text}")
        }
    }
}

/// A string literal for ClickHouse SQL: quotes and backslashes escaped.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_escapes_quotes_and_backslashes() {
        assert_eq!(quote("a'b\\c"), "'a\\'b\\\\c'");
        assert_eq!(quote(""), "''");
    }

    #[test]
    fn insert_errors_name_only_the_code() {
        let body = "Code: 26, e.displayText() = DB::Exception: Cannot parse JSON string: \
                    expected opening quote: (at row 1) {\"id\":\"secret-row\"}";
        let text = server_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            body.to_owned(),
            Echo::CodeOnly,
        );
        assert!(text.contains("error code 26"), "{text}");
        assert!(!text.contains("secret-row"), "{text}");
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("hunter2".to_owned());
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
