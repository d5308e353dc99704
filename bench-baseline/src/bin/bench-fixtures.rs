//! bench-fixtures: the clients `scripts/bench` loads into its database.
//!
//! `bench-fixtures DIR WARM COLD SECRETS COST` generates `WARM + COLD` client ids shaped like
//! the service's (`cid_` + 43 base64url characters) and `SECRETS` distinct secrets (`ocs_` +
//! 43), client `i` using secret `i % SECRETS`. Each distinct secret is hashed once with bcrypt
//! at `COST`, exactly as the service stores it. Writes, into `DIR`:
//!
//! - `warm.tsv`, `cold.tsv`: `id<TAB>secret<TAB>Basic credentials (base64)` per client;
//! - `clients.csv`: `id,secret_hash` for `\copy clients (id, secret_hash) ...`;
//! - `hash.txt`: the first secret's hash, for bulk-inserted clients nobody authenticates as.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::RngCore as _;

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn arg<T: std::str::FromStr>(args: &[String], i: usize, name: &str) -> Result<T, String> {
    args.get(i)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("argument {i} ({name}) is missing or invalid"))
}

fn run(args: &[String]) -> Result<(), String> {
    let dir = PathBuf::from(args.get(1).ok_or("argument 1 (DIR) is missing")?);
    let warm: usize = arg(args, 2, "WARM")?;
    let cold: usize = arg(args, 3, "COLD")?;
    let distinct: usize = arg(args, 4, "SECRETS")?;
    let cost: u32 = arg(args, 5, "COST")?;
    if distinct == 0 {
        return Err("SECRETS must be at least 1".to_owned());
    }
    let secrets: Vec<String> = (0..distinct)
        .map(|_| format!("ocs_{}", random_token()))
        .collect();
    // One bcrypt hash per distinct secret, spread over the available cores.
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let hashes: Vec<String> = std::thread::scope(|scope| {
        let chunks: Vec<_> = secrets
            .chunks(distinct.div_ceil(cores))
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|s| bcrypt::non_truncating_hash(s, cost).map_err(|e| e.to_string()))
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .collect();
        chunks
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| "a hashing thread panicked".to_owned())?
            })
            .collect::<Result<Vec<Vec<_>>, String>>()
            .map(|v| v.into_iter().flatten().collect())
    })?;

    let (mut warm_tsv, mut cold_tsv, mut csv) = (String::new(), String::new(), String::new());
    for i in 0..warm + cold {
        let id = format!("cid_{}", random_token());
        let secret = &secrets[i % distinct];
        // Basic credentials are form-urlencoded first (RFC 6749 §2.3.1): ids and secrets are
        // base64url, which encoding leaves unchanged.
        let basic = STANDARD.encode(format!("{id}:{secret}"));
        let out = if i < warm {
            &mut warm_tsv
        } else {
            &mut cold_tsv
        };
        let _ = writeln!(out, "{id}\t{secret}\t{basic}");
        let _ = writeln!(csv, "{id},{}", hashes[i % distinct]);
    }
    let write = |name: &str, text: &str| {
        std::fs::write(dir.join(name), text).map_err(|e| format!("{name}: {e}"))
    };
    write("warm.tsv", &warm_tsv)?;
    write("cold.tsv", &cold_tsv)?;
    write("clients.csv", &csv)?;
    write("hash.txt", &hashes[0])?;
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench-fixtures: {error}");
            eprintln!("usage: bench-fixtures DIR WARM COLD SECRETS COST");
            ExitCode::from(2)
        }
    }
}
