//! The bare server: the same transport as `sieve-collector serve` (axum on tokio, HTTP/1.1,
//! multi-threaded runtime) and the same body parse (the batch as JSON), then 204. No
//! verification, no storage: what this machine can do at best for the same requests.
//!
//! Usage: `sieve-bench-bare 127.0.0.1:PORT` (prints `listening on http://ADDR` when ready).
//! Loopback only: any other address is refused. Stops on SIGTERM or Ctrl-C.

use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::post;

async fn events(body: Bytes) -> StatusCode {
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(v) if v.get("events").is_some_and(|e| e.is_array()) => StatusCode::NO_CONTENT,
        _ => StatusCode::BAD_REQUEST,
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr: std::net::SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into())
        .parse()
        .map_err(|e| std::io::Error::other(format!("address: {e}")))?;
    if !addr.ip().is_loopback() {
        return Err(std::io::Error::other(
            "the bare server listens on loopback only",
        ));
    }
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    let app = Router::new().route("/v1/events", post(events));
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("a SIGTERM handler can be installed");
            tokio::select! { _ = term.recv() => {}, _ = tokio::signal::ctrl_c() => {} }
        })
        .await
}
