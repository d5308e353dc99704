//! The tables that only restate run-wide figures: criterion's per-core rates and the
//! services' peak memory, and the rows of their targets.

use crate::runs::Env;
use std::fmt::Write as _;

use crate::stats::{fmt_rps, mb, ratio, verdict};

/// Criterion's rates (one core), each also as a ratio to the HTTP baseline `base`.
pub fn criterion(env: &Env, base: f64) -> String {
    let crit = |key: &str| env.num(key);
    let crit_line = |label: &str, key: &str| {
        format!(
            "\n| {label} | {} | {} |",
            fmt_rps(crit(key)),
            ratio(crit(key), base)
        )
    };
    format!(
        "| criterion (one core) | per second | × baseline |\n| --- | ---: | ---: |{}{}{}{}{}{}",
        crit_line(
            "`TokenVerifier::verify`, fresh tokens (EdDSA)",
            "crit_fresh"
        ),
        crit_line(
            "extractor (`ResourceServer::authenticate`), repeated token",
            "crit_repeated"
        ),
        crit_line(
            "extractor, fresh tokens (signature; revocation from the local copy)",
            "crit_extractor_fresh"
        ),
        crit_line(
            "`TokenIssuer::issue`: a whole token, aws-lc-rs, key parsed once",
            "crit_issue"
        ),
        crit_line(
            "`jsonwebtoken::encode` of the same claims (key parsed per call)",
            "crit_encode"
        ),
        crit_line(
            "ed25519-dalek with a kept key, the signature alone",
            "crit_dalek"
        ),
    )
}

/// Peak RSS (VmHWM) of each service; `workers` is the reference baseline's worker count.
pub fn memory(env: &Env, workers: u64) -> String {
    let mb = |key: &str| mb(env.num(key));
    format!(
        "| peak RSS (VmHWM) | MB |\n| --- | ---: |\n\
         | token-service (largest of {} processes) | {} |\n\
         | admin-service | {} |\n\
         | example-service | {} |\n\
         | bench-baseline (reference, {workers} workers) | {} |",
        env.str("token_processes"),
        mb("token_hwm_kb"),
        mb("admin_hwm_kb"),
        mb("example_hwm_kb"),
        mb("baseline_hwm_kb")
    )
}

/// The peak-memory targets' rows (each service within 64 MB), each starting with a newline.
pub fn memory_targets(env: &Env) -> String {
    let mut rows = String::new();
    for svc in ["token", "admin", "example"] {
        let key = format!("{svc}_hwm_kb");
        write!(
            rows,
            "\n| {svc}-service peak RSS ≤ 64 MB | {} MB | {} |",
            mb(env.num(&key)),
            verdict(env.num(&key) <= 65536.0)
        )
        .expect("String");
    }
    rows
}

/// The criterion targets' rows (per-core floors), each starting with a newline.
pub fn criterion_targets(env: &Env) -> String {
    let mut rows = String::new();
    for (label, key, floor) in [
        (
            "extractor, repeated token ≥ 200,000/s per core",
            "crit_repeated",
            200_000.0,
        ),
        (
            "extractor, fresh token ≥ 10,000/s per core",
            "crit_extractor_fresh",
            10_000.0,
        ),
        (
            "`TokenVerifier::verify` alone, fresh token ≥ 10,000/s per core",
            "crit_fresh",
            10_000.0,
        ),
    ] {
        write!(
            rows,
            "\n| {label} | {}/s | {} |",
            fmt_rps(env.num(key)),
            verdict(env.num(key) >= floor)
        )
        .expect("String");
    }
    rows
}
