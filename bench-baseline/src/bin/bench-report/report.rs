//! The report itself: the main table, the per-round warm table ([`rounds`]), the replica,
//! criterion and memory tables and the targets with their verdicts, laid out and worded as
//! the earlier runs recorded in docs/BENCHMARKS.md, so that they stay comparable.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use crate::assertions::AssertionRuns;
use crate::rounds;
use crate::rows::Row;
use crate::runs::{Env, Run, refused_delta};
use crate::stats::{
    fmt_rps, one_shot_verdict, verdict, verdict_within, with_errors, within, worst,
};
use crate::tables;

/// Reads the work directory `dir` and renders the report.
pub fn build(dir: &Path) -> Result<String, String> {
    let env_path = dir.join("report.env");
    let env = Env::parse_lines(
        &fs::read_to_string(&env_path).map_err(|e| format!("{}: {e}", env_path.display()))?,
    );
    let run = |name: &str| Run::read(dir, name);
    let hz = env.num("hz");
    let nproc = env.str("nproc");
    let workers = 2 * env.num("nproc") as u64;
    let rounds = env.num("rounds") as usize;
    let conns = env.str("connections").to_owned();
    let [warm, small, total] =
        ["warm_clients", "small_clients", "total_clients"].map(|k| fmt_rps(env.num(k)));
    let round_runs = |prefix: &str| {
        (1..=rounds)
            .map(|r| run(&format!("{prefix}-{r}")))
            .collect::<Result<Vec<_>, _>>()
    };

    // --- the main table's rows, the baselines first, then in the order they ran ---------
    let mut rows: Vec<(String, Row)> = Vec::new();
    let baseline2 = Row::median_of(
        &round_runs("baseline")?,
        format!(
            "baseline: actix-web, same form parsing, fixed {}-byte JSON body, {workers} workers (the services' default)",
            env.str("response_bytes")
        ),
        conns.clone(),
        "",
        hz,
    )?;
    rows.push(("baseline2".into(), baseline2));
    let baseline1 = Row::median_of(
        &round_runs("baseline1")?,
        format!("baseline, {nproc} workers (actix's default)"),
        conns.clone(),
        "",
        hz,
    )?;
    rows.push(("baseline1".into(), baseline1));
    let admin = "admin-service GET /api/v1/oauth/client?size=10";
    rows.push((
        "admin".into(),
        Row::of_run(
            &run("admin")?,
            format!("{admin} ({small} clients)"),
            conns.clone(),
            "",
            hz,
        ),
    ));
    rows.push((
        "whoami".into(),
        Row::of_run(
            &run("whoami")?,
            "example-service GET /whoami, one repeated token (auth-core extractor)".to_owned(),
            conns.clone(),
            "",
            hz,
        ),
    ));
    let cold_run = run("cold")?;
    let cold_note = format!(
        "{} of {} cold clients asked; {} bcrypt verifications",
        fmt_rps(cold_run.summary.num("requests")),
        fmt_rps(env.num("cold_clients")),
        cold_run.side_num("bcrypt")
    );
    rows.push((
        "cold".into(),
        Row::of_run(
            &cold_run,
            "cold: first token of never-seen clients (generated secrets), freshly started token-service".to_owned(),
            conns.clone(),
            &cold_note,
            hz,
        ),
    ));
    rows.push((
        "admin_100k".into(),
        Row::of_run(
            &run("admin_100k")?,
            format!("{admin} ({total} clients)"),
            conns.clone(),
            "",
            hz,
        ),
    ));
    for mode in ["post", "basic"] {
        for (size, name, what) in [
            (
                "small",
                mode.to_owned(),
                format!(
                    "warm issuance, client_secret_{mode}, {warm} clients ({small} in the database)"
                ),
            ),
            (
                "large",
                format!("{mode}_100k"),
                format!("warm issuance, client_secret_{mode}, {warm} of {total} clients"),
            ),
        ] {
            let runs = round_runs(&format!("{mode}-{size}"))?;
            let misses: f64 = runs.iter().map(|r| r.side_num("misses")).sum();
            let row = Row::median_of(
                &runs,
                what,
                conns.clone(),
                &format!("{misses} cache misses"),
                hz,
            )?;
            rows.push((name, row));
        }
    }
    let assertion_runs = AssertionRuns::read(dir)?;
    rows.extend(assertion_runs.rows(&env, &conns, hz));
    for (name, what) in [
        (
            "attack_spread",
            "legitimate warm issuance under a distributed wrong-secret flood (one address per request)",
        ),
        (
            "attack_one",
            "legitimate warm issuance under a wrong-secret flood from one address (per-address limit: 30 failures a minute)",
        ),
    ] {
        let legit = run(name)?;
        let flood = run(&format!("{name}-flood"))?;
        let note = format!(
            "flood: {} req/s answered, {} refused ({}); {} bcrypt verifications",
            flood.summary.str("rps"),
            flood.summary.str("non2xx"),
            refused_delta(
                &legit.side_text("refused-before"),
                &legit.side_text("refused-after")
            ),
            legit.side_num("bcrypt")
        );
        let connections = format!("{conns} + {} flood", env.str("flood_connections"));
        rows.push((
            name.to_owned(),
            Row::of_run(&legit, what.to_owned(), connections, &note, hz),
        ));
    }
    for (name, row) in &rows {
        eprintln!("[bench-report] {}", row.log_line(name));
    }
    let row = |name: &str| {
        &rows
            .iter()
            .find(|(n, _)| *n == name)
            .expect("every row is built above")
            .1
    };

    // The ceiling: the faster of the two baselines.
    let base = row("baseline1").rps.max(row("baseline2").rps);
    let mut table = "| scenario | connections | requests/s | p50 ms | p99 ms | × baseline | service CPU µs/request | cores: service / PostgreSQL / Redis | notes |\n\
                     | --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |"
        .to_owned();
    for (_, r) in &rows {
        write!(table, "\n{}", r.line(base)).expect("writing to a String");
    }

    let crit_table = tables::criterion(&env, base);
    let rss_table = tables::memory(&env, workers);

    let rounds::WarmRounds {
        table: rounds_table,
        runs: warm_runs,
    } = rounds::warm_rounds(dir, rounds, &small, &total, hz)?;

    // --- the fresh replica and the imported clients ---------------------------------------
    let replica_cpu = format!("{:.2}", env.num("replica_ticks") / hz);
    let replica_us = format!(
        "{:.0}",
        env.num("replica_ticks") / hz * 1e6 / env.num("replica_clients")
    );
    let bcrypt = [env.num("imported_bcrypt_a"), env.num("imported_bcrypt_b")];
    let upgrades = [
        env.num("imported_upgrades_a"),
        env.num("imported_upgrades_b"),
    ];
    let imported = env.num("imported_clients");
    let left = env.num("imported_left");
    let replica_wall = env.num("replica_wall_ms") / 1000.0;
    let replica_table = format!(
        "| freshly started token-service replica, same database and Redis | measured |\n| --- | --- |\n\
         | first tokens of {} distinct never-seen clients (generated secrets), 32 at a time | {replica_cpu} s of its CPU ({replica_us} µs per client), {replica_wall:.2} s wall{} |\n\
         | {imported} imported clients (bcrypt cost {}), each asked {} times over 2 token-service processes | bcrypt verifications {} + {} = {}, hash upgrades {} + {} = {}, {left} hashes left not SHA-256 |",
        fmt_rps(env.num("replica_clients")),
        if env.str("replica_busy").is_empty() {
            ""
        } else {
            "; UNRELIABLE: another build or test ran meanwhile"
        },
        env.str("imported_cost"),
        env.str("imported_asks"),
        bcrypt[0],
        bcrypt[1],
        bcrypt[0] + bcrypt[1],
        upgrades[0],
        upgrades[1],
        upgrades[0] + upgrades[1],
    );

    // --- targets --------------------------------------------------------------------------
    let p99 = |name: &str| row(name).p99.parse::<f64>().unwrap_or(f64::INFINITY);
    let r = |name: &str| format!("{:.2}", row(name).rps / base);
    let mut targets = "| target | measured | verdict |\n| --- | --- | --- |".to_owned();
    let cold = &cold_run.summary;
    let cold_met = with_errors(
        &one_shot_verdict(
            row("cold").rps >= 0.3 * base && p99("cold") <= 10.0,
            cold.num("ran_out") as u64,
            cold.text("active_secs").is_some(),
            "cold clients",
            "BENCH_COLD_CLIENTS",
        ),
        cold.num("ok"),
        cold.num("non2xx"),
    );
    write!(
        targets,
        "\n| cold: first token of never-seen clients, freshly started token-service, {conns} connections ≥ 0.3 × baseline, p99 ≤ 10 ms | {} ×, p99 {} ms | {cold_met} |",
        r("cold"),
        row("cold").p99
    )
    .expect("String");
    for mode in ["post", "basic"] {
        let runs: Vec<(f64, f64)> = warm_runs
            .iter()
            .filter(|(n, ..)| n.starts_with(mode))
            .map(|(_, ratio, p99)| (*ratio, *p99))
            .collect();
        let (lo, hi) = worst(&runs).ok_or("no warm runs")?;
        let (lo, hi) = (format!("{lo:.2}"), format!("{hi:.3}"));
        let met = verdict(
            lo.parse::<f64>().unwrap_or(0.0) >= 0.5
                && hi.parse::<f64>().unwrap_or(f64::INFINITY) <= 10.0,
        );
        write!(
            targets,
            "\n| warm {mode} ≥ 0.5 × baseline, p99 ≤ 10 ms, in every run ({rounds} rounds × 2 database sizes, each against its round's baseline) | lowest {lo} ×, highest p99 {hi} ms (median row {} ×, p99 {} ms) | {met} |",
            r(mode),
            row(mode).p99
        )
        .expect("String");
    }
    // The size comparison pairs the two runs of each round (measured a minute apart) and
    // takes the median of the rounds' ratios, so drift of this shared machine between
    // rounds cancels.
    for mode in ["post", "basic"] {
        let mut ratios = Vec::new();
        for round in 1..=rounds {
            let large = run(&format!("{mode}-large-{round}"))?.ok_rps();
            let small_rps = run(&format!("{mode}-small-{round}"))?.ok_rps();
            ratios.push(format!("{:.4}", large / small_rps).parse().unwrap_or(0.0));
        }
        let paired = crate::stats::median(&ratios).ok_or("no rounds")?;
        write!(
            targets,
            "\n| warm {mode}, {total} clients in the database, within 10 % of the {small}-client figure (median of {rounds} paired rounds; the rows' medians differ by {}) | {} | {} |",
            within(row(&format!("{mode}_100k")).rps, row(mode).rps),
            within(paired, 1.0),
            verdict_within(paired)
        )
        .expect("String");
    }
    let replica_clients = fmt_rps(env.num("replica_clients"));
    write!(
        targets,
        "\n| attack spread: legitimate ≥ 0.45 × baseline, p99 ≤ 10 ms | {} ×, p99 {} ms | {} |\
         \n| attack one: legitimate ≥ 0.3 × baseline, p99 ≤ 20 ms | {} ×, p99 {} ms | {} |\
         \n| a freshly started replica serves {replica_clients} distinct clients' first tokens in < 2 s of its CPU | {replica_cpu} s | {} |\
         \n| imported bcrypt clients: bcrypt once per client across 2 processes ({imported} clients) | {} verifications, {} upgrades, {left} left | {} |",
        r("attack_spread"),
        row("attack_spread").p99,
        verdict(row("attack_spread").rps >= 0.45 * base && p99("attack_spread") <= 10.0),
        r("attack_one"),
        row("attack_one").p99,
        verdict(row("attack_one").rps >= 0.3 * base && p99("attack_one") <= 20.0),
        verdict(env.num("replica_ticks") < 2.0 * hz),
        bcrypt[0] + bcrypt[1],
        upgrades[0] + upgrades[1],
        verdict(bcrypt[0] + bcrypt[1] == imported && upgrades[0] + upgrades[1] == imported && left == 0.0),
    )
    .expect("String");
    targets.push_str(&assertion_runs.targets(row("assertion"), row("workload"), base, &conns));
    targets.push_str(&tables::criterion_targets(&env));
    targets.push_str(&tables::memory_targets(&env));

    let crit_busy = if env.str("crit_busy").is_empty() {
        ""
    } else {
        " Criterion ran while another build did."
    };
    Ok(format!(
        "### {} (commit {}{})

Command: `scripts/bench` ({} s). wrk {} threads, {} s per scenario,
timeout {}; {nproc} cores shared by the services, the load generators, PostgreSQL
and Redis; release build; RUST_LOG=warn, Redis on. Generated secrets stored as SHA-256,
imported ones as bcrypt (cost {}). token-service processes: {} (started
fresh again for the cold row and after the one-off scenarios, and a fresh replica beside it
for the replica and imported-client figures). Rows marked UNRELIABLE (in the per-round
table: *) had another build or test of this machine running during the run.{crit_busy}

{table}

Warm runs, each as a ratio to its own round's baseline, its p99, and token-service's CPU
per token and cores (more CPU a token: the service was slower; fewer cores at the same CPU
a token: the machine gave it less):

{rounds_table}

{replica_table}

{crit_table}

{rss_table}

{targets}
",
        env.str("started_at"),
        env.str("rev"),
        env.str("dirty"),
        env.str("elapsed"),
        env.str("threads"),
        env.str("duration"),
        env.str("timeout"),
        env.str("imported_cost"),
        env.str("token_processes"),
    ))
}
