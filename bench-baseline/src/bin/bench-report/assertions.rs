//! The client-assertion scenarios (issue 15): warm issuance with `private_key_jwt`
//! assertions, each sent once, and with Kubernetes-style platform tokens (workload
//! identity), rotating. Their rows of the main table and their targets.

use std::fmt::Write as _;
use std::path::Path;

use crate::rows::Row;
use crate::runs::{Env, Run, refused_delta};
use crate::stats::{fmt_rps, one_shot_verdict, verdict, with_errors};

/// The target of both: this fraction of the baseline, p99 within [`P99_MS`].
const FLOOR: f64 = 0.25;
const P99_MS: f64 = 10.0;

/// The two runs, `assertion` and `workload`.
pub struct AssertionRuns {
    assertion: Run,
    workload: Run,
}

impl AssertionRuns {
    pub fn read(dir: &Path) -> Result<Self, String> {
        Ok(Self {
            assertion: Run::read(dir, "assertion")?,
            workload: Run::read(dir, "workload")?,
        })
    }

    /// Their rows, named `assertion` and `workload`.
    pub fn rows(&self, env: &Env, connections: &str, hz: f64) -> Vec<(String, Row)> {
        let sent = format!(
            "{} of {} assertions sent",
            fmt_rps(self.assertion.summary.num("requests")),
            fmt_rps(env.num("assertions"))
        );
        let assertion = Row::of_run(
            &self.assertion,
            format!(
                "warm issuance, private_key_jwt: EdDSA assertions of {} clients, each sent once",
                fmt_rps(env.num("assertion_clients"))
            ),
            connections.to_owned(),
            &note(&self.assertion, &sent),
            hz,
        );
        let workload = Row::of_run(
            &self.workload,
            format!(
                "warm issuance, workload identity: Kubernetes-style RS256 service-account tokens of {} workloads, rotating",
                fmt_rps(env.num("workloads"))
            ),
            connections.to_owned(),
            &note(&self.workload, "each token verified once before the run"),
            hz,
        );
        vec![
            ("assertion".to_owned(), assertion),
            ("workload".to_owned(), workload),
        ]
    }

    /// Their targets' lines, each starting with a newline, given their rows and the
    /// baseline `base`. A run answered mostly with errors (401s: assertions refused) misses.
    pub fn targets(&self, assertion: &Row, workload: &Row, base: f64, connections: &str) -> String {
        let met = |row: &Row| {
            row.rps >= FLOOR * base && row.p99.parse::<f64>().unwrap_or(f64::INFINITY) <= P99_MS
        };
        let ratio = |row: &Row| format!("{:.2}", row.rps / base);
        let s = &self.assertion.summary;
        let assertion_met = with_errors(
            &one_shot_verdict(
                met(assertion),
                s.num("ran_out") as u64,
                s.text("active_secs").is_some(),
                "assertions",
                "BENCH_ASSERTIONS",
            ),
            s.num("ok"),
            s.num("non2xx"),
        );
        let s = &self.workload.summary;
        let workload_met = with_errors(verdict(met(workload)), s.num("ok"), s.num("non2xx"));
        format!(
            "\n| private_key_jwt: warm issuance, EdDSA client keys, each assertion sent once, {connections} connections ≥ {FLOOR} × baseline, p99 ≤ {P99_MS} ms | {} ×, p99 {} ms | {assertion_met} |\
             \n| workload identity: warm issuance, Kubernetes-style RS256 service-account tokens (each remembered after its first use), {connections} connections ≥ {FLOOR} × baseline, p99 ≤ {P99_MS} ms | {} ×, p99 {} ms | {workload_met} |",
            ratio(assertion),
            assertion.p99,
            ratio(workload),
            workload.p99,
        )
    }
}

/// A row's notes: `first`, the client lookups the run caused (none when every client's
/// keys and grants were cached) and the refusals, if any.
fn note(run: &Run, first: &str) -> String {
    let mut note = format!("{first}; {} client lookups", run.side_num("lookups"));
    let refused = refused_delta(
        &run.side_text("refused-before"),
        &run.side_text("refused-after"),
    );
    if !refused.is_empty() {
        write!(note, "; refused: {refused}").expect("writing to a String");
    }
    note
}
