//! Prometheus metrics of the server (`GET /metrics`, text format 0.0.4):
//! events appended and replayed, rejections by stable code, append latency,
//! HTTP request latency by route, and the head seq.

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
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
        registry.register(Box::new(appended_events.clone()))?;
        registry.register(Box::new(replayed_events.clone()))?;
        registry.register(Box::new(rejections.clone()))?;
        registry.register(Box::new(append_latency_s.clone()))?;
        registry.register(Box::new(http_latency_s.clone()))?;
        registry.register(Box::new(head_seq.clone()))?;
        Ok(Metrics {
            registry,
            appended_events,
            replayed_events,
            rejections,
            append_latency_s,
            http_latency_s,
            head_seq,
        })
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
        let text = m.render(42);
        assert!(text.contains("govledger_appended_events_total 3"), "{text}");
        assert!(text.contains("govledger_replayed_events_total 1"), "{text}");
        assert!(text.contains("govledger_rejections_total{code=\"freeze.already_answered\"} 2"), "{text}");
        assert!(text.contains("govledger_head_seq 42"), "{text}");
        assert!(text.contains("govledger_append_latency_seconds_count 1"), "{text}");
    }
}
