//! The arithmetic of the report: medians, ratios to the baseline, verdicts and the number
//! formats, kept apart from file reading so that each rule has a unit test.

/// The median of `values` as scripts/bench has always taken it: the lower middle one
/// (index `(n + 1) / 2`, counting from 1) of the sorted values; `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len().div_ceil(2);
    middle.checked_sub(1).map(|i| sorted[i])
}

/// `a / b` with two decimals, or "n/a" when there is no baseline to divide by.
pub fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.2}", a / b)
    } else {
        "n/a".to_owned()
    }
}

/// Requests per second for the tables: below 100 with one decimal (4.66 -> 4.7), otherwise
/// rounded to a whole number with thousands separators (12345.6 -> 12,346).
pub fn fmt_rps(value: f64) -> String {
    if value < 100.0 {
        return format!("{value:.1}");
    }
    let digits = format!("{value:.0}");
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Kibibytes as mebibytes with one decimal.
pub fn mb(kb: f64) -> String {
    format!("{:.1}", kb / 1024.0)
}

/// How far `a` is from `b`, as a signed percentage with one decimal ("+3.2 %").
pub fn within(a: f64, b: f64) -> String {
    format!("{:+.1} %", (a / b - 1.0) * 100.0)
}

/// "met" or "MISSED".
pub fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

/// The size comparison's verdict: within ±10 % is met; faster by more than that is no
/// regression, but outside the band (noise).
pub fn verdict_within(ratio: f64) -> &'static str {
    if (0.9..=1.1).contains(&ratio) {
        "met"
    } else if ratio > 1.1 {
        "outside the band, faster (noise)"
    } else {
        "MISSED"
    }
}

/// The verdict of a row whose requests each use a fixture once (the cold clients, the
/// private_key_jwt assertions), given whether its target was `met`. Threads that used their
/// whole share of the `fixtures` before the end understate the rate, so a miss is
/// inconclusive when some ran out, unless all did (`all_ran_out`: the rate was then taken
/// over the seconds the fixtures lasted); `knob` is the setting that makes more of them.
pub fn one_shot_verdict(
    met: bool,
    ran_out: u64,
    all_ran_out: bool,
    fixtures: &str,
    knob: &str,
) -> String {
    if met {
        "met".to_owned()
    } else if !all_ran_out && ran_out != 0 {
        format!("inconclusive: the {fixtures} ran out (raise {knob})")
    } else {
        "MISSED".to_owned()
    }
}

/// A row's `verdict` qualified by its error answers (`errors` non-2xx beside `ok`
/// successful ones): a run answered mostly with errors measured the refusal path and misses
/// whatever its rate; fewer errors are flagged beside the verdict.
pub fn with_errors(verdict: &str, ok: f64, errors: f64) -> String {
    let total = ok + errors;
    if errors <= 0.0 {
        verdict.to_owned()
    } else if errors >= ok {
        format!("MISSED: {errors} of {total} answers were errors (non-2xx)")
    } else {
        format!("{verdict}, but {errors} of {total} answers were errors (non-2xx)")
    }
}

/// The worst of several warm runs: the lowest ratio to its round's baseline and the highest
/// p99, each over all the runs (they need not come from the same run).
pub fn worst(runs: &[(f64, f64)]) -> Option<(f64, f64)> {
    let lowest = runs.iter().map(|r| r.0).min_by(f64::total_cmp)?;
    let highest = runs.iter().map(|r| r.1).max_by(f64::total_cmp)?;
    Some((lowest, highest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_takes_the_lower_middle() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.0));
        assert_eq!(median(&[7.0]), Some(7.0));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn ratio_has_two_decimals_and_no_division_by_zero() {
        assert_eq!(ratio(1.0, 3.0), "0.33");
        assert_eq!(ratio(5.0, 0.0), "n/a");
    }

    #[test]
    fn rates_are_grouped_by_thousands() {
        assert_eq!(fmt_rps(4.66), "4.7");
        assert_eq!(fmt_rps(100.0), "100");
        assert_eq!(fmt_rps(12345.6), "12,346");
        assert_eq!(fmt_rps(1001.0), "1,001");
        assert_eq!(fmt_rps(100000.0), "100,000");
        assert_eq!(fmt_rps(1234567.0), "1,234,567");
    }

    #[test]
    fn within_is_signed() {
        assert_eq!(within(1.032, 1.0), "+3.2 %");
        assert_eq!(within(0.95, 1.0), "-5.0 %");
    }

    #[test]
    fn size_band_is_ten_percent_either_way() {
        assert_eq!(verdict_within(0.95), "met");
        assert_eq!(verdict_within(1.1), "met");
        assert_eq!(verdict_within(1.2), "outside the band, faster (noise)");
        assert_eq!(verdict_within(0.85), "MISSED");
    }

    #[test]
    fn one_shot_miss_is_inconclusive_only_when_some_threads_ran_out() {
        let verdict = |met, ran_out, all| {
            one_shot_verdict(met, ran_out, all, "cold clients", "BENCH_COLD_CLIENTS")
        };
        assert_eq!(verdict(true, 1, false), "met");
        assert_eq!(verdict(false, 0, false), "MISSED");
        assert_eq!(
            verdict(false, 1, false),
            "inconclusive: the cold clients ran out (raise BENCH_COLD_CLIENTS)"
        );
        assert_eq!(verdict(false, 2, true), "MISSED");
    }

    #[test]
    fn errors_fail_a_verdict_when_they_dominate_and_are_flagged_otherwise() {
        assert_eq!(with_errors("met", 100.0, 0.0), "met");
        assert_eq!(
            with_errors("met", 100.0, 3.0),
            "met, but 3 of 103 answers were errors (non-2xx)"
        );
        assert_eq!(
            with_errors("met", 0.0, 5000.0),
            "MISSED: 5000 of 5000 answers were errors (non-2xx)"
        );
        assert_eq!(
            with_errors("met", 40.0, 60.0),
            "MISSED: 60 of 100 answers were errors (non-2xx)"
        );
    }

    #[test]
    fn worst_round_combines_lowest_ratio_and_highest_p99() {
        assert_eq!(
            worst(&[(0.6, 3.0), (0.55, 2.0), (0.7, 9.0)]),
            Some((0.55, 9.0))
        );
        assert_eq!(worst(&[]), None);
    }
}
