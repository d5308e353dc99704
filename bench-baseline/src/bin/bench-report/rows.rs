//! The rows of the main table: one wrk run each (or the median of a scenario's rounds),
//! with its rate, latencies, CPU per request, cores and the notes that qualify it.

use crate::runs::Run;
use crate::stats::{fmt_rps, median};

/// One row of the main table.
#[derive(Debug)]
pub struct Row {
    pub what: String,
    pub connections: String,
    pub rps: f64,
    pub p50: String,
    pub p99: String,
    /// Service CPU µs per successful request, or "n/a".
    pub cpu_us: String,
    /// "service / PostgreSQL / Redis" cores.
    pub cores: String,
    /// "; "-separated notes, without a trailing separator.
    pub note: String,
}

impl Row {
    /// The row of one run; `note` (may be empty) is appended to the notes the run itself
    /// calls for. `hz` is the kernel's clock ticks per second.
    pub fn of_run(run: &Run, what: String, connections: String, note: &str, hz: f64) -> Self {
        let s = &run.summary;
        let mut notes = Vec::new();
        let mut rps = run.ok_rps();
        let mut secs = s.num("secs");
        // One-shot modes (token.lua's cold and assertion): threads that sent every client
        // (or assertion) of their share stopped early.
        let used = s.text("one_shot").unwrap_or("clients");
        if let Some(active) = s.text("active_secs") {
            secs = s.num("active_secs");
            rps = round1(s.num("ok") / secs);
            notes.push(format!(
                "all its {used} were used after {active} s: rates over those seconds"
            ));
        } else if let Some(ran_out) = s.text("ran_out").filter(|n| *n != "0") {
            notes.push(format!(
                "{ran_out} wrk thread(s) used all their {used} early: requests/s understated"
            ));
        }
        let ok = s.num("ok");
        let (per_request, service_cores) = run.service_cpu(hz, secs);
        let cpu_us = per_request.map_or_else(|| "n/a".to_owned(), |us| format!("{us:.0}"));
        let cores = format!(
            "{:.2} / {:.2} / {:.2}",
            service_cores,
            run.cpu.num("pg") / hz / secs,
            run.cpu.num("redis") / hz / secs
        );
        // Requests/s count successful answers only; a run answered mostly with errors (a
        // 401 for each request whose credentials or assertion the service refused) measured
        // the refusal path, which the row must not pass for.
        let non2xx = s.num("non2xx");
        if non2xx > 0.0 && non2xx >= ok {
            notes.push(format!(
                "MOSTLY ERRORS: {} of {} answers non-2xx (not counted)",
                s.str("non2xx"),
                s.str("requests")
            ));
        } else if non2xx > 0.0 {
            notes.push(format!("{} non-2xx (not counted)", s.str("non2xx")));
        }
        if s.str("timeout") != "0" {
            notes.push(format!("{} timeouts", s.str("timeout")));
        }
        if run.busy_secs != 0 {
            notes.push(format!(
                "UNRELIABLE: another build or test ran {} s of it",
                run.busy_secs
            ));
        }
        if !note.is_empty() {
            notes.push(note.to_owned());
        }
        Self {
            what,
            connections,
            rps,
            p50: s.str("p50_ms").to_owned(),
            p99: run.p99().to_owned(),
            cpu_us,
            cores,
            note: notes.join("; "),
        }
    }

    /// The row of the run with the median requests/s (its latencies and CPU with it),
    /// noting the range of all the runs.
    pub fn median_of(
        runs: &[Run],
        what: String,
        connections: String,
        note: &str,
        hz: f64,
    ) -> Result<Self, String> {
        let rates: Vec<f64> = runs.iter().map(Run::ok_rps).collect();
        let middle = median(&rates).ok_or_else(|| format!("{what}: no runs"))?;
        let run = runs
            .iter()
            .find(|r| r.ok_rps() == middle)
            .expect("the median is one of the runs");
        let lowest = rates.iter().copied().fold(f64::INFINITY, f64::min);
        let highest = rates.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut range = format!(
            "median of {} runs ({}–{} req/s)",
            runs.len(),
            fmt_rps(lowest),
            fmt_rps(highest)
        );
        if !note.is_empty() {
            range.push_str("; ");
            range.push_str(note);
        }
        Ok(Self::of_run(run, what, connections, &range, hz))
    }

    /// The row as a line of the main table, with its ratio to the baseline `base`.
    pub fn line(&self, base: f64) -> String {
        format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            self.what,
            self.connections,
            fmt_rps(self.rps),
            self.p50,
            self.p99,
            crate::stats::ratio(self.rps, base),
            self.cpu_us,
            self.cores,
            self.note
        )
    }

    /// A one-line summary for the driver's log.
    pub fn log_line(&self, name: &str) -> String {
        format!(
            "{name}: {} req/s, p50 {} ms, p99 {} ms, {} µs CPU/req, cores {} {}",
            self.rps, self.p50, self.p99, self.cpu_us, self.cores, self.note
        )
    }
}

/// `value` rounded to one decimal, as the driver's `printf "%.1f"` did.
fn round1(value: f64) -> f64 {
    format!("{value:.1}").parse().unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// A run written as the driver writes it, in a directory of its own.
    fn run(test: &str, summary: &str, busy: &str) -> Run {
        let dir = std::env::temp_dir().join(format!("bench-report-{test}-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("r.out"), format!("wrk output\nBENCH {summary}\n")).unwrap();
        fs::write(dir.join("r.cpu"), "service=200 pg=50 redis=0").unwrap();
        fs::write(dir.join("r.busy"), busy).unwrap();
        let run = Run::read(&dir, "r").unwrap();
        fs::remove_dir_all(&dir).unwrap();
        run
    }

    #[test]
    fn cold_run_that_used_all_clients_is_rated_over_its_active_seconds() {
        let r = run(
            "active",
            "requests=1000 ok=1000 non2xx=0 timeout=0 secs=2.000 ok_rps=500.0 p50_ms=1.000 p99_ms=4.000 ran_out=2 active_secs=0.400",
            "",
        );
        let row = Row::of_run(&r, "cold".into(), "64".into(), "extra", 100.0);
        assert_eq!(row.rps, 2500.0);
        assert_eq!(row.cpu_us, "2000");
        assert_eq!(row.cores, "5.00 / 1.25 / 0.00");
        assert_eq!(
            row.note,
            "all its clients were used after 0.400 s: rates over those seconds; extra"
        );
    }

    #[test]
    fn service_cpu_is_per_successful_request_and_absent_without_one() {
        let r = run(
            "cpu",
            "requests=100 ok=100 non2xx=0 timeout=0 secs=2.000 ok_rps=50.0 p50_ms=1.000 p99_ms=4.000",
            "",
        );
        // 200 ticks at 100 Hz: 2 s of CPU over 100 requests and over 2 s.
        assert_eq!(r.service_cpu(100.0, 2.0), (Some(20_000.0), 1.0));
        let none = run(
            "cpu-none",
            "requests=100 ok=0 non2xx=100 timeout=0 secs=2.000 ok_rps=0.0 p50_ms=1.000 p99_ms=4.000",
            "",
        );
        assert_eq!(none.service_cpu(100.0, 2.0), (None, 1.0));
        let row = Row::of_run(&none, "refused".into(), "64".into(), "", 100.0);
        assert_eq!(row.cpu_us, "n/a");
    }

    #[test]
    fn one_shot_assertions_are_named_in_the_notes() {
        let r = run(
            "assertions",
            "requests=1000 ok=1000 non2xx=0 timeout=0 secs=2.000 ok_rps=500.0 p50_ms=1.000 p99_ms=4.000 one_shot=assertions ran_out=2 active_secs=0.400",
            "",
        );
        let row = Row::of_run(&r, "assertion".into(), "64".into(), "", 100.0);
        assert_eq!(
            row.note,
            "all its assertions were used after 0.400 s: rates over those seconds"
        );
    }

    #[test]
    fn a_run_answered_mostly_with_errors_says_so() {
        let r = run(
            "errors",
            "requests=1000 ok=10 non2xx=990 timeout=0 secs=2.000 ok_rps=5.0 p50_ms=200.000 p99_ms=201.000",
            "",
        );
        let row = Row::of_run(&r, "workload".into(), "64".into(), "", 100.0);
        assert_eq!(
            row.note,
            "MOSTLY ERRORS: 990 of 1000 answers non-2xx (not counted)"
        );
    }

    #[test]
    fn threads_that_ran_out_early_and_busy_seconds_are_noted() {
        let r = run(
            "ranout",
            "requests=10 ok=8 non2xx=2 timeout=0 secs=2.000 ok_rps=4.0 p50_ms=1.000 p99_ms=4.000 ran_out=1",
            "busy\nbusy\n",
        );
        let row = Row::of_run(&r, "cold".into(), "64".into(), "", 100.0);
        assert_eq!(row.rps, 4.0);
        assert_eq!(
            row.note,
            "1 wrk thread(s) used all their clients early: requests/s understated; \
             2 non-2xx (not counted); UNRELIABLE: another build or test ran 2 s of it"
        );
    }
}
