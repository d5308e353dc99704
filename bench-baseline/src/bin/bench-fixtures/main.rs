//! bench-fixtures: the clients `scripts/bench` loads into its database, and the signed
//! assertions some of them authenticate with.
//!
//! `bench-fixtures DIR [--audience URL] SET...` generates each set into `DIR`. A set is:
//!
//! - `NAME:COUNT`: `COUNT` clients shaped like the service's: ids `cid_` + 43 base64url
//!   characters, each client with a secret of its own (`ocs_` + 43), stored as the service
//!   stores generated secrets, `sha256$` + base64url(SHA-256(secret));
//! - `NAME:COUNT:BCRYPT_COST`: the same with ids `imp_` + 43 and each secret stored as a
//!   bcrypt string of that cost: imported clients (fidesops hashed with cost 12), which the
//!   service verifies once and then upgrades;
//! - `NAME:COUNT:keys:ASSERTIONS`: `COUNT` clients without a secret (`secret_hash` `none`),
//!   each with an Ed25519 key registered inline, and `ASSERTIONS` one-shot
//!   `private_key_jwt` assertions signed with those keys (see [`assertions`]);
//! - `NAME:COUNT:workload`: `COUNT` clients without a secret, each bound to a Kubernetes
//!   service account of one bench issuer (an RSA-2048 key), and a platform token for each
//!   account (see [`assertions`]).
//!
//! Assertions and platform tokens are addressed to `--audience`, the service's issuer URL
//! (its OAUTH_ISSUER); the last two kinds need it. Writes, for each set:
//!
//! - `SET.csv`: `id,secret_hash,jwks` per client (`jwks` empty: no keys), for
//!   `\copy ... FROM 'SET.csv' WITH (FORMAT csv)`;
//! - `SET.tsv` (sets with secrets): `id<TAB>secret<TAB>Basic credentials (base64)` per
//!   client;
//! - `SET.assertions` (keyed and workload sets): one JWS a line;
//! - `SET-issuer.csv` and `SET-identities.csv` (workload sets): the `trusted_issuers` row
//!   (`id,issuer,jwks`) and the `client_identities` rows (`issuer_id,subject,client_id`);
//!
//! and, once, `bulk-hash.txt`: the fast form of a secret nobody knows, for bulk-inserted
//! clients nobody authenticates as.

mod assertions;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

/// `bytes` random bytes, base64url without padding (32 bytes: 43 characters).
fn random_token(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buffer);
    URL_SAFE_NO_PAD.encode(buffer)
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

/// What a set's clients authenticate with.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    /// Generated secrets, stored as SHA-256.
    Secrets,
    /// Imported secrets, stored as bcrypt strings of this cost.
    Bcrypt(u32),
    /// An Ed25519 key each, and this many `private_key_jwt` assertions signed with them.
    Keys { assertions: usize },
    /// A workload identity each, with its platform token.
    Workload,
}

/// One set of clients to generate (see the module documentation for the forms).
struct Set {
    name: String,
    count: usize,
    kind: Kind,
}

fn parse_set(spec: &str) -> Result<Set, String> {
    let bad = || {
        format!(
            "{spec}: expected NAME:COUNT, NAME:COUNT:BCRYPT_COST, NAME:COUNT:keys:ASSERTIONS \
             or NAME:COUNT:workload"
        )
    };
    let parts: Vec<&str> = spec.split(':').collect();
    let [name, count, kind @ ..] = parts.as_slice() else {
        return Err(bad());
    };
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(bad());
    }
    let count = count.parse().map_err(|_| bad())?;
    let kind = match kind {
        [] => Kind::Secrets,
        ["keys", assertions] => Kind::Keys {
            assertions: assertions.parse().map_err(|_| bad())?,
        },
        ["workload"] => Kind::Workload,
        [cost] => Kind::Bcrypt(cost.parse().map_err(|_| bad())?),
        _ => return Err(bad()),
    };
    Ok(Set {
        name: (*name).to_owned(),
        count,
        kind,
    })
}

/// A set's files: each name's suffix (after the set's name) and its text.
type Files = Vec<(&'static str, String)>;

/// `f` of each of `items`, in order, spread over the available cores.
fn on_all_cores<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> Result<R, String> + Sync,
) -> Result<Vec<R>, String> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let f = &f;
    std::thread::scope(|scope| {
        let chunks: Vec<_> = items
            .chunks(items.len().div_ceil(cores))
            .map(|chunk| scope.spawn(move || chunk.iter().map(f).collect::<Result<Vec<_>, _>>()))
            .collect();
        chunks
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| "a worker thread panicked".to_owned())?
            })
            .collect::<Result<Vec<Vec<_>>, String>>()
            .map(|v| v.into_iter().flatten().collect())
    })
}

/// One CSV record with its line break, as PostgreSQL's `FORMAT csv` reads it: a field with
/// a comma, a quote or a line break is quoted (quotes doubled); an empty field is NULL.
fn csv_row(fields: &[&str]) -> String {
    let quoted: Vec<String> = fields
        .iter()
        .map(|field| {
            if field.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", field.replace('"', "\"\""))
            } else {
                (*field).to_owned()
            }
        })
        .collect();
    format!("{}\n", quoted.join(","))
}

/// Lines of text, each ended by a line break.
fn lines(items: &[String]) -> String {
    items.iter().map(|item| format!("{item}\n")).collect()
}

fn write_file(dir: &Path, name: &str, text: &str) -> Result<(), String> {
    let path = dir.join(name);
    let mut file = std::fs::File::create(&path).map_err(|e| format!("{name}: {e}"))?;
    file.write_all(text.as_bytes())
        .map_err(|e| format!("{name}: {e}"))
}

/// Clients with secrets: generated ones (SHA-256) or, given a cost, imported ones (bcrypt).
fn secret_clients(count: usize, bcrypt_cost: Option<u32>) -> Result<Files, String> {
    let id_prefix = if bcrypt_cost.is_some() {
        "imp_"
    } else {
        "cid_"
    };
    let clients: Vec<(String, String)> = (0..count)
        .map(|_| {
            (
                format!("{id_prefix}{}", random_token(32)),
                format!("ocs_{}", random_token(32)),
            )
        })
        .collect();
    let hashes = match bcrypt_cost {
        Some(cost) => on_all_cores(&clients, |(_, secret)| {
            bcrypt::non_truncating_hash(secret, cost).map_err(|e| e.to_string())
        })?,
        None => clients.iter().map(|(_, s)| sha256_hash(s)).collect(),
    };
    let (mut tsv, mut csv) = (String::new(), String::new());
    for ((id, secret), hash) in clients.iter().zip(&hashes) {
        // Basic credentials are form-urlencoded first (RFC 6749 §2.3.1): ids and secrets are
        // base64url, which encoding leaves unchanged.
        let basic = STANDARD.encode(format!("{id}:{secret}"));
        let _ = writeln!(tsv, "{id}\t{secret}\t{basic}");
        csv.push_str(&csv_row(&[id, hash, ""]));
    }
    Ok(vec![(".tsv", tsv), (".csv", csv)])
}

/// Generates `set` into `dir`; `audience` and `now` (seconds) are the assertions' `aud`
/// and issuance time.
fn generate(dir: &Path, set: &Set, audience: Option<&str>, now: i64) -> Result<(), String> {
    let audience =
        || audience.ok_or_else(|| format!("{}: an assertion set needs --audience URL", set.name));
    let files = match set.kind {
        Kind::Secrets => secret_clients(set.count, None)?,
        Kind::Bcrypt(cost) => secret_clients(set.count, Some(cost))?,
        Kind::Keys { assertions } => {
            assertions::keyed_clients(set.count, assertions, audience()?, now)?
        }
        Kind::Workload => assertions::workloads(set.count, audience()?, now)?,
    };
    for (suffix, text) in files {
        write_file(dir, &format!("{}{suffix}", set.name), &text)?;
    }
    Ok(())
}

fn run(args: &[String], now: i64) -> Result<(), String> {
    let dir = PathBuf::from(args.get(1).ok_or("argument 1 (DIR) is missing")?);
    let mut specs = args.get(2..).unwrap_or_default();
    let mut audience = None;
    if let [flag, url, rest @ ..] = specs
        && flag == "--audience"
    {
        audience = Some(url.as_str());
        specs = rest;
    }
    let sets = specs
        .iter()
        .map(|spec| parse_set(spec))
        .collect::<Result<Vec<_>, _>>()?;
    if sets.is_empty() {
        return Err("no SET given".to_owned());
    }
    for set in &sets {
        generate(&dir, set, audience, now)?;
    }
    write_file(
        &dir,
        "bulk-hash.txt",
        &sha256_hash(&format!("ocs_{}", random_token(32))),
    )
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        });
    match run(&args, now) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench-fixtures: {error}");
            eprintln!(
                "usage: bench-fixtures DIR [--audience URL] \
                 NAME:COUNT[:BCRYPT_COST | :keys:ASSERTIONS | :workload]..."
            );
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
            (set.name.as_str(), set.count, set.kind),
            ("cold", 200_000, Kind::Secrets)
        );
        assert_eq!(parse_set("imported:50:12").unwrap().kind, Kind::Bcrypt(12));
        assert_eq!(
            parse_set("keyed:1000:keys:201000").unwrap().kind,
            Kind::Keys {
                assertions: 201_000
            }
        );
        assert_eq!(
            parse_set("workload:1000:workload").unwrap().kind,
            Kind::Workload
        );
        for bad in [
            "",
            "cold",
            ":5",
            "cold:x",
            "cold:5:x",
            "cold:5:12:1",
            "a/b:5",
            "keyed:5:keys",
            "keyed:5:keys:x",
            "w:5:workload:1",
        ] {
            assert!(parse_set(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(csv_row(&["a", "b", ""]), "a,b,\n");
        assert_eq!(
            csv_row(&["cid_x", "none", r#"{"keys":[1,2]}"#]),
            "cid_x,none,\"{\"\"keys\"\":[1,2]}\"\n"
        );
    }

    #[test]
    fn work_spread_over_cores_keeps_the_order() {
        let items: Vec<u32> = (0..1000).collect();
        let doubled = on_all_cores(&items, |i| Ok(i * 2)).unwrap();
        assert_eq!(doubled, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        assert!(
            on_all_cores(&items, |i| if *i == 7 {
                Err("x".to_owned())
            } else {
                Ok(*i)
            })
            .is_err()
        );
    }

    #[test]
    fn assertion_sets_need_the_audience() {
        let dir = std::env::temp_dir();
        let set = parse_set("keyed:1:keys:1").unwrap();
        assert!(
            generate(&dir, &set, None, 0)
                .unwrap_err()
                .contains("--audience")
        );
    }
}
