//! What the server benches share: a load generator over keep-alive HTTP
//! connections (bounded in time, 127.0.0.1 only), its statistics, and the
//! demo city they serve.

#![allow(dead_code)]

pub mod raw;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

pub fn env_f64(name: &str, default: f64) -> f64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

pub struct Stats {
    pub requests: u64,
    pub events: u64,
    pub seconds: f64,
    pub latencies_us: Vec<u64>,
}

impl Stats {
    pub fn pct(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        self.latencies_us[i] as f64 / 1000.0
    }
    pub fn rps(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
    pub fn eps(&self) -> f64 {
        self.events as f64 / self.seconds
    }
}

/// One request of a scenario: (path, content type, body, events it carries); an
/// empty content type means GET.
pub type MakeRequest = Arc<dyn Fn(u64, u64) -> (String, &'static str, String, u64) + Send + Sync>;

/// Runs `worker(w, stop)` for `w` in `0..connections`, each on its own
/// task, for `seconds`, then gathers what each returns: its request
/// latencies (µs) and the events they carried.
pub async fn run_workers<Fut>(connections: usize, seconds: f64, worker: impl Fn(u64, Arc<AtomicBool>) -> Fut) -> Stats
where
    Fut: std::future::Future<Output = (Vec<u64>, u64)> + Send + 'static,
{
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..connections).map(|w| tokio::spawn(worker(w as u64, stop.clone()))).collect();
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut stats = Stats { requests: 0, events: 0, seconds: 0.0, latencies_us: Vec::new() };
    for w in workers {
        let (lat, events) = w.await.expect("a connection's task failed");
        stats.requests += lat.len() as u64;
        stats.events += events;
        stats.latencies_us.extend(lat);
    }
    stats.seconds = started.elapsed().as_secs_f64();
    stats.latencies_us.sort_unstable();
    stats
}

/// Runs `connections` reqwest workers for `seconds`, each on its own keep-alive connection.
pub async fn drive(base: &str, token: &str, connections: usize, seconds: f64, make: MakeRequest) -> Stats {
    run_workers(connections, seconds, |w, stop| {
        let (base, token, make) = (base.to_owned(), token.to_owned(), make.clone());
        async move {
            let client = reqwest::Client::builder().pool_max_idle_per_host(1).build().unwrap();
            let (mut lat, mut events, mut k) = (Vec::new(), 0u64, 0u64);
            while !stop.load(Ordering::Relaxed) {
                let (path, content_type, body, n) = make(w, k);
                k += 1;
                let t = Instant::now();
                let request = if content_type.is_empty() {
                    client.get(format!("{base}{path}"))
                } else {
                    client.post(format!("{base}{path}")).header("content-type", content_type).body(body)
                };
                let resp = request.bearer_auth(&token).send().await.expect("request failed");
                let status = resp.status();
                let bytes = resp.bytes().await.expect("no body");
                assert!(status.is_success(), "{status}: {}", String::from_utf8_lossy(&bytes));
                if path == "/graphql" {
                    assert!(!bytes.starts_with(b"{\"errors\""), "{}", String::from_utf8_lossy(&bytes));
                }
                lat.push(t.elapsed().as_micros() as u64);
                events += n;
            }
            (lat, events)
        }
    })
    .await
}

pub fn publicity(actor: &str, w: u64, k: u64, i: u64) -> String {
    json!({"type": "PublicityDelivered", "actor": actor, "occurred_at": "2026-10-01T00:00:00Z",
           "data": {"activity_id": format!("BENCH-{}-{w}-{k}-{i}", std::process::id()), "audience": "residents", "reach": 10}})
    .to_string()
}

pub fn ingest(actor: &str, batch: u64) -> MakeRequest {
    let actor = actor.to_owned();
    static RUN: AtomicU64 = AtomicU64::new(0);
    let run = RUN.fetch_add(1, Ordering::Relaxed);
    Arc::new(move |w, k| {
        let w = run * 1000 + w;
        if batch == 1 {
            ("/v1/events".into(), "application/json", publicity(&actor, w, k, 0), 1)
        } else {
            let body: String = (0..batch).map(|i| publicity(&actor, w, k, i) + "\n").collect();
            ("/v1/events".into(), "application/x-ndjson", body, batch)
        }
    })
}
