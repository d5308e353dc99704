//! What the driver (scripts/bench) leaves in its work directory, read back: each wrk run's
//! summary line and side files, and the run-wide figures of `report.env`.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

/// `KEY=VALUE` pairs: a wrk summary line (`BENCH k=v ...`), a `.cpu` file or `report.env`.
#[derive(Debug, Default)]
pub struct Fields(HashMap<String, String>);

impl Fields {
    /// Parses whitespace-separated `key=value` words (the first of each key wins).
    pub fn parse_words(text: &str) -> Self {
        let mut map = HashMap::new();
        for (key, value) in text.split_whitespace().filter_map(|w| w.split_once('=')) {
            map.entry(key.to_owned())
                .or_insert_with(|| value.to_owned());
        }
        Self(map)
    }

    /// Parses one `KEY=VALUE` per line; the value is the rest of the line, spaces and all.
    pub fn parse_lines(text: &str) -> Self {
        let map = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Self(map)
    }

    pub fn text(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// The field as text, "" when missing.
    pub fn str(&self, key: &str) -> &str {
        self.text(key).unwrap_or("")
    }

    /// The field as a number, 0 when missing or not a number (as awk reads it).
    pub fn num(&self, key: &str) -> f64 {
        self.text(key)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0)
    }
}

/// One wrk run: `NAME.out` (wrk's output with the `BENCH` summary line of report.lua),
/// `NAME.cpu` (clock ticks of the loaded service, PostgreSQL and Redis), `NAME.busy` (a line
/// per second another build or test ran) and, for some runs, `NAME.misses`, `NAME.bcrypt`,
/// `NAME.lookups`, `NAME.refused-before` and `NAME.refused-after`.
#[derive(Debug)]
pub struct Run {
    pub name: String,
    pub summary: Fields,
    pub cpu: Fields,
    pub busy_secs: usize,
    dir: PathBuf,
}

impl Run {
    pub fn read(dir: &Path, name: &str) -> Result<Self, String> {
        let out = read(dir, name, "out")?;
        let line = out
            .lines()
            .find_map(|l| l.strip_prefix("BENCH "))
            .ok_or_else(|| format!("{name}: wrk produced no summary: {out}"))?;
        Ok(Self {
            name: name.to_owned(),
            summary: Fields::parse_words(line),
            cpu: Fields::parse_words(&read(dir, name, "cpu").unwrap_or_default()),
            busy_secs: read(dir, name, "busy").map_or(0, |b| b.lines().count()),
            dir: dir.to_owned(),
        })
    }

    pub fn ok_rps(&self) -> f64 {
        self.summary.num("ok_rps")
    }

    pub fn p99(&self) -> &str {
        self.summary.str("p99_ms")
    }

    /// The loaded service's CPU per successful request in µs (`None` without one), and the
    /// cores it used over `secs`; `hz` is the kernel's clock ticks per second. Per round,
    /// the two tell a slower service (more CPU a request) from a service given less of the
    /// machine (fewer cores at the same CPU a request).
    pub fn service_cpu(&self, hz: f64, secs: f64) -> (Option<f64>, f64) {
        let (ok, service) = (self.summary.num("ok"), self.cpu.num("service"));
        let per_request = (ok > 0.0).then(|| service / hz * 1e6 / ok);
        (per_request, service / hz / secs)
    }

    /// A side file of the run (`NAME.EXT`) as a number, 0 when missing.
    pub fn side_num(&self, ext: &str) -> f64 {
        read(&self.dir, &self.name, ext)
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0.0)
    }

    /// A side file of the run as text, "" when missing.
    pub fn side_text(&self, ext: &str) -> String {
        read(&self.dir, &self.name, ext).unwrap_or_default()
    }
}

fn read(dir: &Path, name: &str, ext: &str) -> Result<String, String> {
    let path = dir.join(format!("{name}.{ext}"));
    fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The change of each `oauth_token_requests_refused_total{reason="..."}` between two
/// scrapes of /metrics, as "reason count" pairs joined by ", " (only those that grew).
pub fn refused_delta(before: &str, after: &str) -> String {
    fn by_reason(text: &str) -> Vec<(String, f64)> {
        text.lines()
            .filter_map(|l| {
                let reason = l.split_once("reason=\"")?.1.split_once('"')?.0;
                let value = l.split_whitespace().last()?.parse().ok()?;
                Some((reason.to_owned(), value))
            })
            .collect()
    }
    let before: HashMap<String, f64> = by_reason(before).into_iter().collect();
    by_reason(after)
        .into_iter()
        .filter_map(|(reason, value)| {
            let delta = value - before.get(&reason).copied().unwrap_or(0.0);
            (delta > 0.0).then(|| format!("{reason} {delta}"))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The run-wide figures of `report.env`, written by scripts/bench:
///
/// | key | meaning |
/// | --- | --- |
/// | `started_at`, `rev`, `dirty`, `elapsed` | when, which commit (and ", uncommitted changes"), seconds taken |
/// | `threads`, `duration`, `timeout`, `nproc`, `hz` | wrk threads, seconds per scenario, wrk timeout, cores, clock ticks/s |
/// | `connections`, `flood_connections`, `rounds` | wrk connections, the flood's, rounds |
/// | `warm_clients`, `small_clients`, `total_clients`, `cold_clients`, `replica_clients` | client counts |
/// | `imported_clients`, `imported_cost`, `imported_asks` | imported bcrypt clients, their cost, tokens asked of each |
/// | `assertion_clients`, `assertions`, `workloads` | private_key_jwt clients, their one-shot assertions, workloads (platform tokens) |
/// | `response_bytes`, `token_processes` | the token response's size, token-service processes started |
/// | `crit_busy`, `crit_fresh`, `crit_repeated`, `crit_extractor_fresh`, `crit_issue`, `crit_encode`, `crit_dalek` | criterion: "*" if another build ran, ops/s per core |
/// | `replica_ticks`, `replica_wall_ms`, `replica_busy` | the fresh replica's CPU ticks, wall milliseconds, 1 if another build ran |
/// | `imported_bcrypt_a`, `imported_bcrypt_b`, `imported_upgrades_a`, `imported_upgrades_b`, `imported_left` | per process, and hashes left not SHA-256 |
/// | `token_hwm_kb`, `admin_hwm_kb`, `example_hwm_kb`, `baseline_hwm_kb` | peak RSS (VmHWM) |
pub type Env = Fields;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_words_first_key_wins() {
        let f = Fields::parse_words("requests=10 ok=9 ok_rps=4.5 ok=1");
        assert_eq!(f.num("ok"), 9.0);
        assert_eq!(f.num("ok_rps"), 4.5);
        assert_eq!(f.text("ran_out"), None);
    }

    #[test]
    fn refused_counts_are_differences_per_reason() {
        let before = "oauth_token_requests_refused_total{reason=\"bad_secret\"} 5\n";
        let after = "oauth_token_requests_refused_total{reason=\"bad_secret\"} 12\n\
                     oauth_token_requests_refused_total{reason=\"rate_limited\"} 3\n\
                     oauth_token_requests_refused_total{reason=\"other\"} 0\n";
        assert_eq!(refused_delta(before, after), "bad_secret 7, rate_limited 3");
    }
}
