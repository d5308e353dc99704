//! Token verification throughput, single-threaded, so each figure is per core.
//!
//! - `verify/fresh_token`: [`TokenVerifier::verify`] (EdDSA signature, claims) on distinct
//!   tokens, none seen before by anything that could cache it.
//! - `verify/extractor_repeated_token`: the resource-server extractor path,
//!   [`ResourceServer::authenticate`], on one token presented again and again: the
//!   verified-token cache and the local copy of the revocation cache (loaded from, and kept
//!   current by, a real Redis) answer.
//! - `verify/extractor_fresh_token`: the same path on tokens it has never seen: signature,
//!   claims, and the revocation check answered by the local copy, without a round trip.
//!
//! Run: `cargo bench -p auth-core --bench verify`. The extractor benchmarks need Redis at
//! `TEST_REDIS_URL` (default `redis://127.0.0.1:6379`) and are skipped without it (a failure
//! under `CI`); their keys live under a fresh prefix, removed at the end.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_core::ids::ClientId;
use auth_core::metrics::Metrics;
use auth_core::resource::{JwksVerifier, ResourceServer};
use auth_core::revocation::{RevocationConfig, Revocations};
use auth_core::scopes::Scope;
use auth_core::shared_redis::RedisSettings;
use auth_core::testing::{redis_prefix, redis_url};
use auth_core::time::Timestamp;
use auth_core::token::{SigningKey, TokenIssuer, TokenVerifier};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures_util::FutureExt as _;

const ISSUER: &str = "http://auth.bench";
const LIFETIME_SECS: i64 = 11_520 * 60;
/// Distinct tokens cycled through by `fresh_token` (the verifier keeps no cache).
const POOL: usize = 4096;

fn issuer_and_verifier() -> (TokenIssuer, TokenVerifier) {
    let (key, _pem) = SigningKey::generate_ed25519().expect("an Ed25519 key");
    let verifier = TokenVerifier::new(
        [key.verifying_key().clone()],
        ISSUER.to_owned(),
        ISSUER.to_owned(),
    );
    let issuer = TokenIssuer::new(key, ISSUER.to_owned(), ISSUER.to_owned(), LIFETIME_SECS);
    (issuer, verifier)
}

/// A token shaped like the benchmark's HTTP runs: a generated client id, two scopes.
fn issue(issuer: &TokenIssuer, client: &ClientId) -> String {
    let scopes = [
        Scope::parse("dataset:read").expect("scope"),
        Scope::parse("policy:read").expect("scope"),
    ];
    issuer
        .issue(client, &scopes, Timestamp::now())
        .expect("signing")
        .access_token
}

fn fresh_token(c: &mut Criterion) {
    let (issuer, verifier) = issuer_and_verifier();
    let client = ClientId::generate();
    let tokens: Vec<String> = (0..POOL).map(|_| issue(&issuer, &client)).collect();
    let mut group = c.benchmark_group("verify");
    group.throughput(Throughput::Elements(1));
    let mut next = 0;
    group.bench_function("fresh_token", |b| {
        b.iter(|| {
            next = (next + 1) % POOL;
            let verified = verifier.verify(black_box(&tokens[next]), Timestamp::now());
            black_box(verified.expect("a valid token"))
        })
    });
    group.finish();
}

/// Deletes the benchmark's keys from Redis.
fn remove_keys(url: &str, prefix: &str) {
    let Ok(mut conn) = redis::Client::open(url).and_then(|c| c.get_connection()) else {
        return;
    };
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query(&mut conn)
        .unwrap_or_default();
    if !keys.is_empty() {
        let _ = redis::cmd("DEL").arg(&keys).query::<i64>(&mut conn);
    }
}

fn extractor(c: &mut Criterion) {
    let Some(url) = redis_url() else {
        return;
    };
    let prefix = redis_prefix();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime");

    let (issuer, verifier) = issuer_and_verifier();
    let metrics = Arc::new(Metrics::new());
    let revocations = Revocations::new(
        &RevocationConfig {
            redis: Some(RedisSettings::new(url.clone(), prefix.clone())),
            token_lifetime_secs: LIFETIME_SECS,
            fail_open: false,
        },
        Arc::clone(&metrics),
    )
    .expect("a Redis client");
    let jwks = JwksVerifier::with_keys(
        "http://127.0.0.1:9/.well-known/jwks.json".to_owned(),
        verifier,
        ISSUER.to_owned(),
        ISSUER.to_owned(),
    )
    .expect("a JWKS verifier");
    let server = ResourceServer::from_parts(jwks, revocations.clone());

    // The shared cache counts as complete only with `rev:ready` (a database process sets
    // it after a rebuild; there is none here), and the local copy is used only once it is
    // loaded while subscribed: set the key, start following, and wait until the copy answers.
    {
        let mut conn = redis::Client::open(url.as_str())
            .and_then(|c| c.get_connection())
            .expect("a Redis connection");
        redis::cmd("SET")
            .arg(format!("{prefix}:rev:ready"))
            .arg("1")
            .query::<()>(&mut conn)
            .expect("SET rev:ready");
    }
    let client = ClientId::generate();
    let token = issue(&issuer, &client);
    runtime.block_on(async {
        revocations.start();
        let deadline = Instant::now() + Duration::from_secs(10);
        while revocations.shared_state().await != auth_core::revocation::SharedCacheState::Up {
            assert!(
                Instant::now() < deadline,
                "the revocation cache never came up"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        loop {
            server.authenticate(&token).await.expect("an active token");
            if metrics
                .render()
                .contains(r#"revocation_checks_total{source="cache",outcome="active"}"#)
            {
                break;
            }
            assert!(Instant::now() < deadline, "the local cache never answered");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });

    let mut group = c.benchmark_group("verify");
    group.throughput(Throughput::Elements(1));
    group.bench_function("extractor_repeated_token", |b| {
        b.iter(|| {
            // Every step of a hit is synchronous: the future completes on its first poll.
            // Should it ever wait (an expired cache entry asks Redis), the runtime drives it.
            let result = match server.authenticate(black_box(&token)).now_or_never() {
                Some(result) => result,
                None => runtime.block_on(server.authenticate(&token)),
            };
            black_box(result.expect("an active token"))
        })
    });
    group.bench_function("extractor_fresh_token", |b| {
        b.iter_custom(|iters| {
            let count = usize::try_from(iters).expect("iteration count");
            let tokens: Vec<String> = (0..count).map(|_| issue(&issuer, &client)).collect();
            runtime.block_on(async {
                let start = Instant::now();
                for token in &tokens {
                    black_box(server.authenticate(token).await.expect("an active token"));
                }
                start.elapsed()
            })
        })
    });
    group.finish();
    drop(server);
    drop(revocations);
    remove_keys(&url, &prefix);
}

criterion_group!(benches, fresh_token, extractor);
criterion_main!(benches);
