//! bench-fixtures: the clients `scripts/bench` loads into its database.
//!
//! `bench-fixtures DIR SET:COUNT[:BCRYPT_COST]...` generates, for each set, `COUNT` clients
//! shaped like the service's: ids `cid_` + 43 base64url characters (`imp_` + 43 for sets
//! with a bcrypt cost), each client with a secret of its own (`ocs_` + 43). Their hashes are
//! stored as the service stores generated secrets, `sha256$` + base64url(SHA-256(secret)),
//! or, for a set given a bcrypt cost, as a bcrypt string of that cost: an imported client
//! (fidesops hashed with cost 12), which the service verifies once and then upgrades.
//! Writes, into `DIR`:
//!
//! - `SET.tsv`: `id<TAB>secret<TAB>Basic credentials (base64)` per client;
//! - `SET.csv`: `id,secret_hash` per client, for `\copy ... FROM 'SET.csv' WITH (FORMAT csv)`;
//! - `bulk-hash.txt`: the fast form of a secret nobody knows, for bulk-inserted clients
//!   nobody authenticates as.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a generated secret. A copy of `auth_core::secret::SecretHash::of`
/// (`sha256$` + base64url without padding of the secret's SHA-256), kept here so this
/// crate stays free of auth-core; if that form changes, change this too (the benchmark's
/// first requests would answer 401 otherwise).
fn sha256_hash(secret: &str) -> String {
    format!(
        "sha256${}",
        URL_SAFE_NO_PAD.encode(Sha256::digest(secret.as_bytes()))
    )
}

/// One set of clients to generate: `NAME:COUNT` or `NAME:COUNT:BCRYPT_COST`.
struct Set {
    name: String,
    count: usize,
    bcrypt_cost: Option<u32>,
}

fn parse_set(spec: &str) -> Result<Set, String> {
    let bad = || format!("{spec}: expected NAME:COUNT or NAME:COUNT:BCRYPT_COST");
    let mut parts = spec.split(':');
    let name = parts.next().filter(|n| !n.is_empty()).ok_or_else(bad)?;
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(bad());
    }
    let count = parts.next().and_then(|c| c.parse().ok()).ok_or_else(bad)?;
    let bcrypt_cost = match parts.next() {
        None => None,
        Some(c) => Some(c.parse().map_err(|_| bad())?),
    };
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok(Set {
        name: name.to_owned(),
        count,
        bcrypt_cost,
    })
}

/// bcrypt hashes of `secrets` at `cost`, spread over the available cores.
fn bcrypt_hashes(secrets: &[String], cost: u32) -> Result<Vec<String>, String> {
    if secrets.is_empty() {
        return Ok(Vec::new());
    }
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    std::thread::scope(|scope| {
        let chunks: Vec<_> = secrets
            .chunks(secrets.len().div_ceil(cores))
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
    })
}

fn write_file(dir: &Path, name: &str, text: &str) -> Result<(), String> {
    let path = dir.join(name);
    let mut file = std::fs::File::create(&path).map_err(|e| format!("{name}: {e}"))?;
    file.write_all(text.as_bytes())
        .map_err(|e| format!("{name}: {e}"))
}

fn generate(dir: &Path, set: &Set) -> Result<(), String> {
    let id_prefix = if set.bcrypt_cost.is_some() {
        "imp_"
    } else {
        "cid_"
    };
    let clients: Vec<(String, String)> = (0..set.count)
        .map(|_| {
            (
                format!("{id_prefix}{}", random_token()),
                format!("ocs_{}", random_token()),
            )
        })
        .collect();
    let hashes = match set.bcrypt_cost {
        Some(cost) => {
            let secrets: Vec<String> = clients.iter().map(|(_, s)| s.clone()).collect();
            bcrypt_hashes(&secrets, cost)?
        }
        None => clients.iter().map(|(_, s)| sha256_hash(s)).collect(),
    };
    let (mut tsv, mut csv) = (String::new(), String::new());
    for ((id, secret), hash) in clients.iter().zip(&hashes) {
        // Basic credentials are form-urlencoded first (RFC 6749 §2.3.1): ids and secrets are
        // base64url, which encoding leaves unchanged.
        let basic = STANDARD.encode(format!("{id}:{secret}"));
        let _ = writeln!(tsv, "{id}\t{secret}\t{basic}");
        let _ = writeln!(csv, "{id},{hash}");
    }
    write_file(dir, &format!("{}.tsv", set.name), &tsv)?;
    write_file(dir, &format!("{}.csv", set.name), &csv)
}

fn run(args: &[String]) -> Result<(), String> {
    let dir = PathBuf::from(args.get(1).ok_or("argument 1 (DIR) is missing")?);
    let sets = args[2..]
        .iter()
        .map(|spec| parse_set(spec))
        .collect::<Result<Vec<_>, _>>()?;
    if sets.is_empty() {
        return Err("no SET:COUNT given".to_owned());
    }
    for set in &sets {
        generate(&dir, set)?;
    }
    write_file(
        &dir,
        "bulk-hash.txt",
        &sha256_hash(&format!("ocs_{}", random_token())),
    )
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench-fixtures: {error}");
            eprintln!("usage: bench-fixtures DIR SET:COUNT[:BCRYPT_COST]...");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_form_is_auth_cores() {
        // SHA-256("abc"), base64url without padding: what `SecretHash::of` stores for "abc".
        assert_eq!(
            sha256_hash("abc"),
            "sha256$ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
        );
    }

    #[test]
    fn sets_parse() {
        let set = parse_set("cold:200000").unwrap();
        assert_eq!(
            (set.name.as_str(), set.count, set.bcrypt_cost),
            ("cold", 200_000, None)
        );
        let set = parse_set("imported:50:12").unwrap();
        assert_eq!(set.bcrypt_cost, Some(12));
        for bad in [
            "",
            "cold",
            ":5",
            "cold:x",
            "cold:5:x",
            "cold:5:12:1",
            "a/b:5",
        ] {
            assert!(parse_set(bad).is_err(), "{bad}");
        }
    }
}
