//! `bench-report WORKDIR`: the statistics and the markdown report of scripts/bench.
//!
//! The driver (scripts/bench) starts the services, runs wrk and leaves raw measurements in
//! its work directory; this reads them back and prints the dated section that the driver
//! appends to docs/BENCHMARKS.md. Each row is logged to stderr as well.
//!
//! Inputs, all in WORKDIR:
//! - `NAME.out`, `NAME.cpu`, `NAME.busy` of every wrk run, and `NAME.misses` (warm runs),
//!   `NAME.bcrypt` (cold and attack runs), `NAME.lookups` (client-assertion runs),
//!   `NAME.refused-before`/`-after` (attack and client-assertion runs); see [`runs::Run`].
//!   The runs' names are scripts/bench's: `admin`, `whoami`, `cold`, `admin_100k`,
//!   `baseline-R`, `baseline1-R`, `{post,basic}-{small,large}-R` for each round R,
//!   `assertion` (private_key_jwt), `workload` (platform tokens), `attack_spread`,
//!   `attack_one` and their `-flood` runs.
//! - `report.env`: one `KEY=VALUE` a line, the run-wide figures (settings, criterion
//!   results, the replica and imported-client counts, peak memory); see [`runs::Env`].

mod assertions;
mod report;
mod rounds;
mod rows;
mod runs;
mod stats;
mod tables;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: bench-report WORKDIR");
        return ExitCode::from(2);
    };
    match report::build(&dir) {
        Ok(text) => match std::io::stdout().write_all(text.as_bytes()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("bench-report: writing the report: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("bench-report: {e}");
            ExitCode::FAILURE
        }
    }
}
