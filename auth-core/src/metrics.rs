//! Prometheus metrics: one registry per process, handed to the parts that count.
//!
//! Names follow Prometheus conventions (`_total` counters, `_seconds` histograms). Labels
//! carry routes (patterns, not paths), reasons and outcomes: never a client id, a token or
//! anything from a request body, so cardinality stays bounded.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: String,
    pub method: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabel {
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabel {
    pub state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabel {
    pub operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HowLabel {
    pub how: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LimitLabel {
    /// `tokens` (issued per minute) or `revocations` (per minute).
    pub limit: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CheckLabels {
    /// Which answered: `cache`, `redis`, `database`, or `none`.
    pub source: &'static str,
    /// `active`, `revoked`, or `unavailable`.
    pub outcome: &'static str,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms to ~4 s.
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.0005, 2.0, 14,
    ))
}

/// Every metric this service exports.
pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Histogram, fn() -> Histogram>,
    pub tokens_issued: Counter,
    pub tokens_refused: Family<ReasonLabel, Counter>,
    pub secret_cache: Family<ResultLabel, Counter>,
    pub bcrypt_waiting: Gauge,
    pub bcrypt_verifications: Counter,
    pub secret_upgrades: Counter,
    /// JWKS documents fetched for client assertions (trusted issuers', clients').
    pub jwks_fetches: Counter,
    /// Cold client lookups asked of the database, and the queries that answered them
    /// (concurrent lookups share a query).
    pub client_lookups: Counter,
    pub client_lookup_queries: Counter,
    pub db_pool: Family<StateLabel, Gauge>,
    pub redis_errors: Family<OperationLabel, Counter>,
    pub revocation_checks: Family<CheckLabels, Counter>,
    /// How the revocation copy was brought up to date after starting or missing changes:
    /// `snapshot` (every key read) or `log` (the missed changes read back).
    pub revocation_copy_loads: Family<HowLabel, Counter>,
    /// Requests refused because a client reached one of its per-client limits.
    pub client_limit_refusals: Family<LimitLabel, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            requests.clone(),
        );
        let tokens_issued = Counter::default();
        registry.register(
            "oauth_tokens_issued",
            "Access tokens issued",
            tokens_issued.clone(),
        );
        let tokens_refused = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "oauth_token_requests_refused",
            "Token requests refused, by error code",
            tokens_refused.clone(),
        );
        let secret_cache = Family::<ResultLabel, Counter>::default();
        registry.register(
            "secret_verification_cache",
            "Client secret checks answered from the verified-credentials cache (hit) or by the stored hash (miss)",
            secret_cache.clone(),
        );
        let bcrypt_waiting = Gauge::default();
        registry.register(
            "bcrypt_waiting",
            "checks of imported bcrypt hashes waiting for their turn",
            bcrypt_waiting.clone(),
        );
        let bcrypt_verifications = Counter::default();
        registry.register(
            "bcrypt_verifications",
            "bcrypt verifications run (imported hashes only)",
            bcrypt_verifications.clone(),
        );
        let secret_upgrades = Counter::default();
        registry.register(
            "secret_hash_upgrades",
            "Imported secret hashes replaced by SHA-256 after their secret verified",
            secret_upgrades.clone(),
        );
        let jwks_fetches = Counter::default();
        registry.register(
            "jwks_fetches",
            "JWKS documents fetched to verify client assertions (trusted issuers' and clients')",
            jwks_fetches.clone(),
        );
        let client_lookups = Counter::default();
        registry.register(
            "client_lookups",
            "Client lookups of token requests that missed the credentials cache",
            client_lookups.clone(),
        );
        let client_lookup_queries = Counter::default();
        registry.register(
            "client_lookup_queries",
            "Database queries that answered client lookups (each answers every lookup queued while the previous one ran)",
            client_lookup_queries.clone(),
        );
        let db_pool = Family::<StateLabel, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Database pool connections by state",
            db_pool.clone(),
        );
        let redis_errors = Family::<OperationLabel, Counter>::default();
        registry.register(
            "redis_errors",
            "Redis commands that failed or timed out",
            redis_errors.clone(),
        );
        let revocation_checks = Family::<CheckLabels, Counter>::default();
        registry.register(
            "revocation_checks",
            "Revocation checks by answering source and outcome",
            revocation_checks.clone(),
        );
        let revocation_copy_loads = Family::<HowLabel, Counter>::default();
        registry.register(
            "revocation_copy_loads",
            "Times this process brought its revocation copy up to date: from a snapshot of every key (start, rebuild, long gap) or by reading missed changes back from the log",
            revocation_copy_loads.clone(),
        );
        let client_limit_refusals = Family::<LimitLabel, Counter>::default();
        registry.register(
            "oauth_client_limit_refusals",
            "Requests refused because their client reached a per-client limit, by limit",
            client_limit_refusals.clone(),
        );
        Self {
            registry,
            requests,
            tokens_issued,
            tokens_refused,
            secret_cache,
            bcrypt_waiting,
            bcrypt_verifications,
            secret_upgrades,
            jwks_fetches,
            client_lookups,
            client_lookup_queries,
            db_pool,
            redis_errors,
            revocation_checks,
            revocation_copy_loads,
            client_limit_refusals,
        }
    }

    pub fn redis_error(&self, operation: &'static str) {
        self.redis_errors
            .get_or_create(&OperationLabel { operation })
            .inc();
    }

    pub fn revocation_check(&self, source: &'static str, outcome: &'static str) {
        self.revocation_checks
            .get_or_create(&CheckLabels { source, outcome })
            .inc();
    }

    pub fn revocation_copy_load(&self, how: &'static str) {
        self.revocation_copy_loads
            .get_or_create(&HowLabel { how })
            .inc();
    }

    /// Sets the pool gauges (sampled at scrape time).
    pub fn set_pool(&self, open: u32, idle: u32) {
        let active = i64::from(open.saturating_sub(idle));
        self.db_pool
            .get_or_create(&StateLabel { state: "active" })
            .set(active);
        self.db_pool
            .get_or_create(&StateLabel { state: "idle" })
            .set(i64::from(idle));
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_family_with_labels() {
        let metrics = Metrics::new();
        metrics.tokens_issued.inc();
        metrics
            .tokens_refused
            .get_or_create(&ReasonLabel {
                reason: "invalid_client",
            })
            .inc();
        metrics.revocation_check("redis", "active");
        metrics.set_pool(3, 1);
        metrics
            .requests
            .get_or_create(&RequestLabels {
                route: "/x".into(),
                method: "GET".into(),
                status: 200,
            })
            .observe(0.002);
        let text = metrics.render();
        assert!(text.contains("oauth_tokens_issued_total 1"), "{text}");
        assert!(
            text.contains("oauth_token_requests_refused_total{reason=\"invalid_client\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("revocation_checks_total{source=\"redis\",outcome=\"active\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("db_pool_connections{state=\"active\"} 2"),
            "{text}"
        );
        assert!(
            text.contains(
                "http_request_duration_seconds_count{route=\"/x\",method=\"GET\",status=\"200\"} 1"
            ),
            "{text}"
        );
    }
}
