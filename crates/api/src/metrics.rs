//! Prometheus metrics of the server (`GET /metrics`, text format 0.0.4):
//! events appended and replayed, rejections by stable code, append latency,
//! HTTP request latency by route, the head seq, the writer's group commits
//! and their time by phase, and, on a shared store
//! (replicas on KurrentDB), lost races, exhausted retries and events
//! followed from other replicas; and, on Linux, the standard process metrics
//! (`process_resident_memory_bytes`, `process_cpu_seconds_total`,
//! `process_open_fds`, `process_max_fds`, `process_start_time_seconds`,
//! `process_virtual_memory_bytes`, `process_threads`) from the prometheus
//! crate's process collector, read from `/proc/self` at each scrape.

use prometheus::{
    CounterVec, Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

/// Append latency buckets, in seconds: a group commit is one fsync (about a
/// millisecond on a good disk, tens on a slow one).
const APPEND_BUCKETS_S: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// The server's metrics, registered in their own registry.
pub struct Metrics {
    registry: Registry,
    appended_events: IntCounter,
    replayed_events: IntCounter,
    rejections: IntCounterVec,
    append_latency_s: Histogram,
    http_latency_s: HistogramVec,
    head_seq: IntGauge,
    head_hash48: IntGauge,
    group_commits: IntCounter,
    writer_seconds: CounterVec,
    lost_races: IntCounter,
    retries_exhausted: IntCounter,
    followed_events: IntCounter,
    chain_ok: IntGauge,
    checkpoint_size: IntGauge,
    /// Serializes `ledger_stats`, so that concurrent scrapes add each delta once.
    stats_lock: std::sync::Mutex<()>,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let appended_events =
            IntCounter::with_opts(Opts::new("govledger_appended_events_total", "Events newly stored by appends."))?;
        let replayed_events = IntCounter::with_opts(Opts::new(
            "govledger_replayed_events_total",
            "Submitted events that were idempotent retries of stored events.",
        ))?;
        let rejections = IntCounterVec::new(
            Opts::new("govledger_rejections_total", "Refused requests, by stable error code."),
            &["code"],
        )?;
        let append_latency_s = Histogram::with_opts(
            HistogramOpts::new(
                "govledger_append_latency_seconds",
                "Time from handing a batch to the ledger until it is durable (or refused).",
            )
            .buckets(APPEND_BUCKETS_S.to_vec()),
        )?;
        let http_latency_s = HistogramVec::new(
            HistogramOpts::new("govledger_http_request_duration_seconds", "HTTP request latency by route and status.")
                .buckets(APPEND_BUCKETS_S.to_vec()),
            &["method", "route", "status"],
        )?;
        let head_seq = IntGauge::with_opts(Opts::new("govledger_head_seq", "The seq of the ledger's head."))?;
        let head_hash48 = IntGauge::with_opts(Opts::new(
            "govledger_head_hash48",
            "The first 48 bits of the head's hash, as a number: replicas at one head seq must show the same value \
             (a fork otherwise).",
        ))?;
        let chain_ok = IntGauge::with_opts(Opts::new(
            "govledger_chain_ok",
            "1 while the chain verifies as far as checked (SPEC 6); 0 when it is broken or a witness refused a checkpoint.",
        ))?;
        let checkpoint_size = IntGauge::with_opts(Opts::new(
            "govledger_checkpoint_size",
            "The tree size of the latest signed checkpoint.",
        ))?;
        let group_commits = IntCounter::with_opts(Opts::new(
            "govledger_group_commits_total",
            "Group commits that stored events: one store transaction (one fsync) each.",
        ))?;
        let writer_seconds = CounterVec::new(
            Opts::new(
                "govledger_writer_seconds_total",
                "Time of those group commits by phase: check (the rules), write (beginning the store transaction, sealing and writing the events), \
                 commit (the store transaction and its fsync).",
            ),
            &["phase"],
        )?;
        let lost_races = IntCounter::with_opts(Opts::new(
            "govledger_store_lost_races_total",
            "Group commits that lost the race to another replica of a shared store and were checked again.",
        ))?;
        let retries_exhausted = IntCounter::with_opts(Opts::new(
            "govledger_store_retries_exhausted_total",
            "Group commits that lost every retry; their requests were answered 503 (retry).",
        ))?;
        let followed_events = IntCounter::with_opts(Opts::new(
            "govledger_followed_events_total",
            "Events appended by other replicas of a shared store that this server folded in.",
        ))?;
        registry.register(Box::new(appended_events.clone()))?;
        registry.register(Box::new(replayed_events.clone()))?;
        registry.register(Box::new(rejections.clone()))?;
        registry.register(Box::new(append_latency_s.clone()))?;
        registry.register(Box::new(http_latency_s.clone()))?;
        registry.register(Box::new(head_seq.clone()))?;
        registry.register(Box::new(head_hash48.clone()))?;
        registry.register(Box::new(group_commits.clone()))?;
        registry.register(Box::new(writer_seconds.clone()))?;
        registry.register(Box::new(lost_races.clone()))?;
        registry.register(Box::new(retries_exhausted.clone()))?;
        registry.register(Box::new(followed_events.clone()))?;
        registry.register(Box::new(chain_ok.clone()))?;
        registry.register(Box::new(checkpoint_size.clone()))?;
        #[cfg(target_os = "linux")]
        registry.register(Box::new(prometheus::process_collector::ProcessCollector::for_self()))?;
        Ok(Metrics {
            registry,
            appended_events,
            replayed_events,
            rejections,
            append_latency_s,
            http_latency_s,
            head_seq,
            head_hash48,
            group_commits,
            writer_seconds,
            lost_races,
            retries_exhausted,
            followed_events,
            chain_ok,
            checkpoint_size,
            stats_lock: std::sync::Mutex::new(()),
        })
    }

    /// Brings the writer's counters up to the ledger's own counts.
    pub fn ledger_stats(&self, stats: &govledger_ledger::LedgerStats) {
        let _guard = self.stats_lock.lock().unwrap_or_else(|e| e.into_inner());
        for (phase, nanos) in
            [("check", stats.check_nanos), ("write", stats.write_nanos), ("commit", stats.commit_nanos)]
        {
            let counter = self.writer_seconds.with_label_values(&[phase]);
            counter.inc_by((nanos as f64 / 1e9 - counter.get()).max(0.0));
        }
        for (counter, total) in [
            (&self.group_commits, stats.group_commits),
            (&self.lost_races, stats.lost_races),
            (&self.retries_exhausted, stats.retries_exhausted),
            (&self.followed_events, stats.followed_events),
        ] {
            counter.inc_by(total.saturating_sub(counter.get()));
        }
    }

    /// The transparency log's state (SPEC 6): whether the chain verifies,
    /// and the size of the latest signed checkpoint.
    pub fn transparency(&self, chain_ok: bool, checkpoint_size: u64) {
        self.chain_ok.set(i64::from(chain_ok));
        self.checkpoint_size.set(i64::try_from(checkpoint_size).unwrap_or(i64::MAX));
    }

    /// Records a finished append: `new` events stored, `replayed` retries.
    pub fn appended(&self, new: u64, replayed: u64, latency_s: f64) {
        self.appended_events.inc_by(new);
        self.replayed_events.inc_by(replayed);
        self.append_latency_s.observe(latency_s);
    }

    /// Records the latency of an append that stored nothing.
    pub fn append_failed(&self, latency_s: f64) {
        self.append_latency_s.observe(latency_s);
    }

    /// Counts a refused request by its stable code.
    pub fn rejected(&self, code: &str) {
        self.rejections.with_label_values(&[code]).inc();
    }

    /// Records one HTTP request.
    pub fn http_request(&self, method: &str, route: &str, status: u16, latency_s: f64) {
        self.http_latency_s.with_label_values(&[method, route, &status.to_string()]).observe(latency_s);
    }

    /// Records the head's hash (its first 48 bits, for the fork alert).
    pub fn head_hash(&self, hash: &str) {
        let bits = hash.get(..12).and_then(|h| i64::from_str_radix(h, 16).ok()).unwrap_or(0);
        self.head_hash48.set(bits);
    }

    /// The text exposition, with the head seq as of now.
    pub fn render(&self, head_seq: u64) -> String {
        self.head_seq.set(i64::try_from(head_seq).unwrap_or(i64::MAX));
        let mut out = Vec::new();
        // Encoding into a Vec fails only on a malformed metric, which the
        // constructors above rule out; an empty page is the fallback.
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %e, "cannot encode metrics");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_by_code_and_the_head() {
        let m = Metrics::new().unwrap();
        m.appended(3, 1, 0.002);
        m.rejected("freeze.already_answered");
        m.rejected("freeze.already_answered");
        m.head_hash("0000000000ff9e5d7c0f2c8c8ab1a22eb6b0b2b06c4f0f5a4f3c8f1f2e3d4c5b");
        let text = m.render(42);
        assert!(text.contains("govledger_head_hash48 255"), "{text}");
        assert!(text.contains("govledger_appended_events_total 3"), "{text}");
        assert!(text.contains("govledger_replayed_events_total 1"), "{text}");
        assert!(text.contains("govledger_rejections_total{code=\"freeze.already_answered\"} 2"), "{text}");
        assert!(text.contains("govledger_head_seq 42"), "{text}");
        assert!(text.contains("govledger_append_latency_seconds_count 1"), "{text}");
        let stats = |lost_races, followed_events, commit_nanos| govledger_ledger::LedgerStats {
            group_commits: 7,
            check_nanos: 250_000_000,
            write_nanos: 500_000_000,
            commit_nanos,
            lost_races,
            retries_exhausted: 1,
            followed_events,
            ..govledger_ledger::LedgerStats::default()
        };
        m.ledger_stats(&stats(3, 40, 1_000_000_000));
        m.ledger_stats(&stats(5, 41, 1_500_000_000));
        let text = m.render(42);
        assert!(text.contains("govledger_store_lost_races_total 5"), "{text}");
        assert!(text.contains("govledger_store_retries_exhausted_total 1"), "{text}");
        assert!(text.contains("govledger_followed_events_total 41"), "{text}");
        assert!(text.contains("govledger_group_commits_total 7"), "{text}");
        assert!(text.contains("govledger_writer_seconds_total{phase=\"check\"} 0.25"), "{text}");
        assert!(text.contains("govledger_writer_seconds_total{phase=\"write\"} 0.5"), "{text}");
        assert!(text.contains("govledger_writer_seconds_total{phase=\"commit\"} 1.5"), "{text}");
        m.transparency(false, 40);
        let text = m.render(42);
        assert!(text.contains("govledger_chain_ok 0"), "{text}");
        assert!(text.contains("govledger_checkpoint_size 40"), "{text}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn process_metrics_are_exported() {
        let text = Metrics::new().unwrap().render(0);
        let value = |name: &str| -> f64 {
            let line =
                text.lines().find(|l| l.starts_with(&format!("{name} "))).unwrap_or_else(|| panic!("{name}: {text}"));
            line[name.len() + 1..].trim().parse().unwrap()
        };
        assert!(value("process_resident_memory_bytes") > 1e6, "{text}");
        assert!(value("process_cpu_seconds_total") >= 0.0, "{text}");
        assert!(value("process_open_fds") >= 3.0, "{text}");
        // Started within the last day, in seconds since the epoch.
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
        let started = value("process_start_time_seconds");
        assert!(started <= now + 1.0 && started > now - 86_400.0, "{started} vs {now}");
    }
}
