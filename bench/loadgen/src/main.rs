//! An open-loop HTTP/1.1 load generator, because Debian's `wrk` is closed-loop only (wrk2's
//! `-R` is not packaged). Requests are scheduled at a fixed offered rate, `i / rate` seconds
//! after the start, spread round-robin over `--connections` keep-alive connections; latency is
//! measured from the *scheduled* send time, so a stalled server is charged for the requests
//! it delayed (coordinated omission corrected, as wrk2 does). `--rate 0` is closed loop.
//!
//! The body is a template: every `@@ID@@` becomes a fresh 32-hex event id, so each request
//! carries new events (duplicates would be cheap for the collector), random in its first half
//! like the SDK's (ids in order would be cheap for the store's id index).
//!
//! Bounded: it stops scheduling at `--duration`, and abandons whatever is still pending two
//! seconds later (reported as `unsent`). Loopback targets only.
//!
//! Output: one JSON object on stdout.
//!
//! ```text
//! sieve-bench-loadgen --url http://127.0.0.1:8080/v1/events?key=K --body batch.tmpl \
//!     --rate 2000 --duration 10 --connections 64
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

const GRACE: Duration = Duration::from_secs(2);

struct Args {
    url: hyper::Uri,
    body: String,
    rate: f64,
    duration: Duration,
    connections: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut a = std::env::args().skip(1);
    let (mut url, mut body, mut rate, mut duration, mut connections) = (None, None, 0.0, 10.0, 32);
    while let Some(flag) = a.next() {
        let mut val = || a.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => url = Some(val()?),
            "--body" => {
                let path = val()?;
                body = Some(std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?)
            }
            "--rate" => rate = val()?.parse().map_err(|e| format!("--rate: {e}"))?,
            "--duration" => duration = val()?.parse().map_err(|e| format!("--duration: {e}"))?,
            "--connections" => {
                connections = val()?.parse().map_err(|e| format!("--connections: {e}"))?
            }
            other => return Err(format!("unknown flag {other}")),
        }
    }
    let url: hyper::Uri = url
        .ok_or("--url is required")?
        .parse()
        .map_err(|e| format!("--url: {e}"))?;
    let host = url.host().unwrap_or_default();
    if !(host == "127.0.0.1" || host == "localhost" || host == "[::1]") {
        return Err("loopback targets only".into());
    }
    if !(1..=8192).contains(&connections) || !(0.1..=600.0).contains(&duration) || rate < 0.0 {
        return Err("connections 1..=8192, duration 0.1..=600 s, rate >= 0".into());
    }
    Ok(Args {
        url,
        body: body.ok_or("--body is required")?,
        rate,
        duration: Duration::from_secs_f64(duration),
        connections,
    })
}

#[derive(Default)]
struct Tally {
    /// Latency from the scheduled (open loop) or actual (closed loop) send time, in µs.
    latency_us: Vec<u32>,
    /// Latency from the actual send time, in µs (server time, not corrected).
    service_us: Vec<u32>,
    status: BTreeMap<u16, u64>,
    errors: u64,
    unsent: u64,
}

struct Shared {
    args: Args,
    parts: Vec<String>,
    nonce: u64,
    counter: AtomicU64,
    start: Instant,
}

impl Shared {
    fn body(&self) -> Bytes {
        let mut s = String::with_capacity(self.args.body.len());
        for (i, part) in self.parts.iter().enumerate() {
            if i > 0 {
                let n = self.counter.fetch_add(1, Ordering::Relaxed);
                // Random in its first half, as the SDK's ids are: ids that grow in order
                // would let the store's id index append to one page instead of touching a
                // page per event. The counter in the second half keeps them unique.
                s.push_str(&format!("{:016x}{:016x}", splitmix64(self.nonce ^ n), n));
            }
            s.push_str(part);
        }
        Bytes::from(s)
    }
}

/// SplitMix64's output function: a bijection of `u64` that scatters consecutive inputs.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

async fn connect(sh: &Shared) -> Option<http1::SendRequest<Full<Bytes>>> {
    let authority = sh.args.url.authority()?.as_str().to_owned();
    let stream = TcpStream::connect(&authority).await.ok()?;
    stream.set_nodelay(true).ok()?;
    let (send, conn) = http1::handshake(TokioIo::new(stream)).await.ok()?;
    tokio::spawn(conn);
    Some(send)
}

async fn worker(sh: Arc<Shared>, k: usize) -> Tally {
    let mut t = Tally::default();
    let end = sh.start + sh.args.duration;
    let hard_end = end + GRACE;
    let mut conn = None;
    let mut i = k as u64;
    loop {
        let scheduled = if sh.args.rate > 0.0 {
            sh.start + Duration::from_secs_f64(i as f64 / sh.args.rate)
        } else {
            Instant::now()
        };
        if scheduled >= end {
            break;
        }
        if Instant::now() >= hard_end {
            // Behind schedule past the grace period: count what was never sent.
            let last = (sh.args.duration.as_secs_f64() * sh.args.rate) as u64;
            t.unsent += (last.saturating_sub(i)) / sh.args.connections as u64 + 1;
            break;
        }
        tokio::time::sleep_until(scheduled.into()).await;
        if conn.is_none() {
            conn = connect(&sh).await;
        }
        let Some(send) = conn.as_mut() else {
            t.errors += 1;
            tokio::time::sleep(Duration::from_millis(10)).await;
            i += sh.args.connections as u64;
            continue;
        };
        let req = Request::post(sh.args.url.clone())
            .header(
                "host",
                sh.args
                    .url
                    .authority()
                    .map(|a| a.as_str())
                    .unwrap_or("127.0.0.1"),
            )
            .header("content-type", "application/json")
            .body(Full::new(sh.body()))
            .expect("a valid request");
        let sent = Instant::now();
        let left = hard_end.saturating_duration_since(sent);
        let res = tokio::time::timeout(left, async {
            let r = send.send_request(req).await?;
            let status = r.status().as_u16();
            r.into_body().collect().await?;
            Ok::<u16, hyper::Error>(status)
        })
        .await;
        let done = Instant::now();
        match res {
            Ok(Ok(status)) => {
                *t.status.entry(status).or_default() += 1;
                t.latency_us.push(micros(done - scheduled));
                t.service_us.push(micros(done - sent));
            }
            Ok(Err(_)) => {
                t.errors += 1;
                conn = None;
            }
            Err(_) => {
                t.unsent += 1;
                break;
            }
        }
        i += sh.args.connections as u64;
    }
    t
}

fn micros(d: Duration) -> u32 {
    d.as_micros().min(u32::MAX as u128) as u32
}

fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[idx] as f64 / 1000.0
}

#[tokio::main]
async fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::exit(2);
        }
    };
    let events_per_request = args.body.matches("@@ID@@").count();
    let parts = args.body.split("@@ID@@").map(str::to_owned).collect();
    let nonce = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1);
    let sh = Arc::new(Shared {
        args,
        parts,
        nonce,
        counter: AtomicU64::new(0),
        start: Instant::now() + Duration::from_millis(50),
    });
    let tasks: Vec<_> = (0..sh.args.connections)
        .map(|k| tokio::spawn(worker(sh.clone(), k)))
        .collect();
    let mut all = Tally::default();
    for task in tasks {
        let Ok(t) = task.await else { continue };
        all.latency_us.extend(t.latency_us);
        all.service_us.extend(t.service_us);
        for (k, v) in t.status {
            *all.status.entry(k).or_default() += v;
        }
        all.errors += t.errors;
        all.unsent += t.unsent;
    }
    let elapsed = sh
        .start
        .elapsed()
        .as_secs_f64()
        .min(sh.args.duration.as_secs_f64() + 2.0);
    all.latency_us.sort_unstable();
    all.service_us.sort_unstable();
    let completed = all.latency_us.len() as u64;
    let ok: u64 = all
        .status
        .iter()
        .filter(|(s, _)| **s < 300)
        .map(|(_, n)| n)
        .sum();
    let status: Vec<String> = all
        .status
        .iter()
        .map(|(s, n)| format!("\"{s}\":{n}"))
        .collect();
    println!(
        "{{\"offered_rps\":{},\"duration_s\":{:.3},\"connections\":{},\"events_per_request\":{},\
         \"completed\":{},\"ok\":{},\"errors\":{},\"unsent\":{},\"status\":{{{}}},\
         \"achieved_rps\":{:.1},\"ok_events_per_s\":{:.1},\"p50_ms\":{:.3},\"p90_ms\":{:.3},\
         \"p99_ms\":{:.3},\"max_ms\":{:.3},\"service_p50_ms\":{:.3},\"service_p99_ms\":{:.3}}}",
        sh.args.rate,
        elapsed,
        sh.args.connections,
        events_per_request,
        completed,
        ok,
        all.errors,
        all.unsent,
        status.join(","),
        completed as f64 / elapsed,
        (ok * events_per_request as u64) as f64 / elapsed,
        pct(&all.latency_us, 50.0),
        pct(&all.latency_us, 90.0),
        pct(&all.latency_us, 99.0),
        pct(&all.latency_us, 100.0),
        pct(&all.service_us, 50.0),
        pct(&all.service_us, 99.0),
    )
}
