//! The per-round warm table: every warm run against its own round's baseline (the faster of
//! the round's two), for the warm target, which holds for every run, not only the median.

use std::fmt::Write as _;
use std::path::Path;

use crate::runs::Run;
use crate::stats::{fmt_rps, ratio};

/// The table, and each warm run as (run name, ratio to its round's baseline, p99 ms).
pub struct WarmRounds {
    pub table: String,
    pub runs: Vec<(String, f64, f64)>,
}

/// Reads the `rounds` rounds' baseline and warm runs of `dir`; `small` and `total` are the
/// database sizes for the header, `hz` the kernel's clock ticks per second.
pub fn warm_rounds(
    dir: &Path,
    rounds: usize,
    small: &str,
    total: &str,
    hz: f64,
) -> Result<WarmRounds, String> {
    let run = |name: &str| Run::read(dir, name);
    let mut table = format!(
        "| round | baseline req/s (faster of 2) | post, {small} clients | post, {total} | basic, {small} | basic, {total} |\n\
         | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    let busy_mark = |runs: &[&Run]| {
        if runs.iter().any(|r| r.busy_secs > 0) {
            "*"
        } else {
            ""
        }
    };
    let mut runs = Vec::new();
    for round in 1..=rounds {
        let (b2, b1) = (
            run(&format!("baseline-{round}"))?,
            run(&format!("baseline1-{round}"))?,
        );
        let round_base = b2.ok_rps().max(b1.ok_rps());
        write!(
            table,
            "\n| {round} | {}{} |",
            fmt_rps(round_base),
            busy_mark(&[&b2, &b1])
        )
        .expect("String");
        for name in ["post-small", "post-large", "basic-small", "basic-large"] {
            let r = run(&format!("{name}-{round}"))?;
            let (per_request, cores) = r.service_cpu(hz, r.summary.num("secs"));
            write!(
                table,
                " {} × / p99 {} ms / {} µs, {cores:.2} cores{} |",
                ratio(r.ok_rps(), round_base),
                r.p99(),
                per_request.map_or_else(|| "n/a".to_owned(), |us| format!("{us:.0}")),
                busy_mark(&[&r])
            )
            .expect("String");
            let p99: f64 = r.p99().parse().unwrap_or(f64::INFINITY);
            let to_base = if round_base > 0.0 {
                r.ok_rps() / round_base
            } else {
                0.0
            };
            runs.push((format!("{name}-{round}"), to_base, p99));
        }
    }
    Ok(WarmRounds { table, runs })
}
