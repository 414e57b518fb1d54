//! The demo site and the SDK package, served as static files so one collector process is a
//! complete demo: `GET /demo/*` from the demo directory (a single-page app, so a path that is
//! not a file gets its `index.html`), `GET /demo/sieve-demo.json` (the write key the demo page
//! needs: public by design, it ships in every page), and `GET /sdk/*` from the SDK package
//! directory. Nothing is routed unless the directory is configured.
//!
//! Files come from tower-http's `ServeDir`, which percent-decodes the path and refuses any
//! `..`, root or drive-prefix component (so `/demo/../Cargo.toml` and `/demo/%2e%2e/...` never
//! leave the directory), and handles `HEAD`, ranges and conditional requests. This is not a
//! web server for a site's own pages: no compression, no directory listings, no caching
//! beyond revalidation.

use std::path::Path;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use tower_http::services::{ServeDir, ServeFile};

use crate::app::AppState;

/// The routes for whichever of the demo and SDK directories are configured.
pub fn routes(st: &AppState) -> Router {
    let mut router = Router::new();
    if let Some(dir) = &st.demo_dir {
        // A demo page needs a write key before it can `init`; the first accepted one will do.
        let body = json!({ "writeKey": st.write_keys.first() }).to_string();
        let demo_json = get(move || async move {
            ([(header::CONTENT_TYPE, "application/json")], body).into_response()
        });
        router = router
            .route("/demo/sieve-demo.json", demo_json)
            .nest_service("/demo", spa(dir));
    }
    if let Some(dir) = &st.sdk_dir {
        // Directories are not files: no index, no redirect (which `nest_service` would point at
        // the wrong path), just 404.
        router = router.nest_service(
            "/sdk",
            ServeDir::new(dir).append_index_html_on_directories(false),
        );
    }
    router.layer(axum::middleware::map_response(static_headers))
}

/// A single-page app: a path that is not a file (an app route such as `/demo/orgs/8812`, a
/// directory, or a refused `..` path) gets `index.html`, and the app's router takes over.
fn spa(dir: &Path) -> ServeDir<ServeFile> {
    ServeDir::new(dir)
        .append_index_html_on_directories(false)
        .fallback(ServeFile::new(dir.join("index.html")))
}

/// `no-cache` (revalidate every time: a rebuilt SDK or edited demo shows at the next load),
/// `nosniff`, and content types fixed where the guess by extension is wrong for a browser.
async fn static_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let fixed = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(content_type);
    if let Some(ct) = fixed {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    response
}

/// The type to send instead of the one guessed from the extension, if any. `application/wasm`
/// (needed by `WebAssembly.instantiateStreaming`) and `application/json` are guessed right.
fn content_type(guessed: &str) -> Option<&'static str> {
    Some(match guessed {
        // `.ts` guesses an MPEG transport stream; here it is only ever `.d.ts` type declarations.
        "video/vnd.dlna.mpeg-tts" | "video/mp2t" | "text/markdown" | "text/plain" => {
            "text/plain; charset=utf-8"
        }
        "text/javascript" | "application/javascript" => "text/javascript; charset=utf-8",
        "text/html" => "text/html; charset=utf-8",
        "text/css" => "text/css; charset=utf-8",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::content_type;

    #[test]
    fn content_types_are_what_browsers_need() {
        let cases = [
            ("video/vnd.dlna.mpeg-tts", Some("text/plain; charset=utf-8")),
            ("video/mp2t", Some("text/plain; charset=utf-8")),
            ("text/markdown", Some("text/plain; charset=utf-8")),
            (
                "application/javascript",
                Some("text/javascript; charset=utf-8"),
            ),
            ("text/html", Some("text/html; charset=utf-8")),
            ("application/wasm", None),
            ("application/json", None),
            ("text/html; charset=utf-8", None),
        ];
        for (guessed, want) in cases {
            assert_eq!(content_type(guessed), want, "{guessed}");
        }
    }
}
