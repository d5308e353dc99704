//! Turning a fidesops row into a client of this service, or into the reason it is skipped.
//!
//! fidesops stored `hashed_secret` in one of two ways: since mid-2022 the hex encoding of
//! `bcrypt.hashpw(secret, salt)`, where `salt` is the bcrypt salt string kept beside it;
//! before, the hex SHA-512 digest of the secret followed by the salt. Both become the stored
//! forms [`StoredSecret`] reads, so the same secret keeps working here.

use auth_core::ids::ClientId;
use auth_core::scopes::Scope;
use auth_core::secret::{FIDESOPS_SHA512_PREFIX, SecretHash, StoredSecret, is_bcrypt};

use super::source::SourceClient;

/// Which of fidesops' hash formats a client came with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashKind {
    Bcrypt,
    Sha512,
}

impl HashKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bcrypt => "bcrypt",
            Self::Sha512 => "sha512",
        }
    }
}

/// A fidesops client that can be imported as it is.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: ClientId,
    pub hash: SecretHash,
    pub kind: HashKind,
    pub scopes: Vec<Scope>,
}

/// Why a row is not imported.
#[derive(Debug, Clone)]
pub struct Skip {
    /// The id as it can be printed.
    pub id: String,
    pub reason: String,
}

const UNRECOGNISED: &str =
    "unrecognised secret hash format: expected hex of a bcrypt string or a SHA-512 hex digest";
/// Longest piece of a source value repeated in a reason.
const MAX_SHOWN_CHARS: usize = 80;

/// An id never imported, with the reason given for skipping it.
#[derive(Debug, Clone)]
pub struct RootId {
    pub id: String,
    pub reason: &'static str,
}

/// Checks one row against the rules of this service.
pub fn classify(row: &SourceClient, root_ids: &[RootId]) -> Result<Candidate, Skip> {
    let skip = |reason: String| Skip {
        id: shown(&row.id),
        reason,
    };
    if let Some(root) = root_ids.iter().find(|root| root.id == row.id) {
        return Err(skip(root.reason.to_owned()));
    }
    let id = ClientId::parse(&row.id).map_err(|e| skip(format!("invalid client id: {e}")))?;
    let (hash, kind) = match (&row.hashed_secret, &row.salt) {
        (Some(hashed), Some(salt)) => convert_hash(hashed, salt).map_err(skip)?,
        _ => return Err(skip("no secret hash or salt (NULL)".to_owned())),
    };
    let scopes = convert_scopes(row.scopes.as_deref().unwrap_or_default()).map_err(skip)?;
    Ok(Candidate {
        id,
        hash,
        kind,
        scopes,
    })
}

/// fidesops' `hashed_secret` and `salt` as one of this service's stored forms.
fn convert_hash(hashed: &str, salt: &str) -> Result<(SecretHash, HashKind), String> {
    if hashed.len() == 128 && hashed.bytes().all(|b| b.is_ascii_hexdigit()) {
        let stored = format!(
            "{FIDESOPS_SHA512_PREFIX}{}${salt}",
            hashed.to_ascii_lowercase()
        );
        let hash = SecretHash::from_stored(stored);
        return match hash.parse() {
            StoredSecret::FidesopsSha512 { .. } => Ok((hash, HashKind::Sha512)),
            _ => Err(UNRECOGNISED.to_owned()),
        };
    }
    let Some(bcrypt) = decode_hex(hashed).filter(|text| is_bcrypt(text)) else {
        return Err(UNRECOGNISED.to_owned());
    };
    // A bcrypt string begins with the 29-character salt it was made with.
    if salt.len() != 29 || !bcrypt.starts_with(salt) {
        return Err("the bcrypt hash was not made with the row's salt".to_owned());
    }
    let hash = SecretHash::from_stored(bcrypt);
    match hash.parse() {
        StoredSecret::Bcrypt(_) => Ok((hash, HashKind::Bcrypt)),
        _ => Err(UNRECOGNISED.to_owned()),
    }
}

/// Hex (either case) decoded to text, if it is hex of UTF-8.
fn decode_hex(hex: &str) -> Option<String> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    let bytes = hex
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            let digit = |c: u8| char::from(c).to_digit(16);
            Some((digit(pair[0])? * 16 + digit(pair[1])?) as u8)
        })
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}

/// fidesops' scope array as distinct valid scopes, in order.
fn convert_scopes(raw: &[Option<String>]) -> Result<Vec<Scope>, String> {
    let mut scopes: Vec<Scope> = Vec::new();
    for name in raw {
        let Some(name) = name else {
            return Err("a NULL scope".to_owned());
        };
        let scope =
            Scope::parse(name).map_err(|e| format!("malformed scope {}: {e}", quoted(name)))?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    Ok(scopes)
}

/// A client id for the report: as it is when valid, quoted and escaped otherwise, so a row
/// can never forge report lines.
fn shown(id: &str) -> String {
    if ClientId::parse(id).is_ok() {
        id.to_owned()
    } else {
        quoted(id)
    }
}

fn quoted(value: &str) -> String {
    let cut: String = value.chars().take(MAX_SHOWN_CHARS).collect();
    let ellipsis = if cut.len() < value.len() { "…" } else { "" };
    format!("{cut:?}{ellipsis}")
}
