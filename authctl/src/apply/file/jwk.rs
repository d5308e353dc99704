//! Public JWKs as the service accepts them: of a supported kind, without private members,
//! and named by their `kid`. Shared by the file's checks and by the plan, which compares
//! declared keys with the service's by the same key ids.

use auth_core::token::{JwkInput, VerifyingKey};
use serde_json::{Map, Value};

/// Members a private JWK has and a public one never does.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// The key id of a public JWK (the given one, or its RFC 7638 thumbprint), or why it is
/// not one the service accepts.
pub fn public_key(key: &Value) -> Result<String, String> {
    let Value::Object(jwk) = key else {
        return Err("is not a JWK (an object)".to_owned());
    };
    let private: Vec<&str> = PRIVATE_MEMBERS
        .into_iter()
        .filter(|m| jwk.contains_key(*m))
        .collect();
    if !private.is_empty() {
        return Err(format!(
            "has private key members ({}): declare only the public key",
            private.join(", ")
        ));
    }
    let unsupported = || {
        "is not a supported public signing key (OKP Ed25519, EC P-256, or RSA of 2048 bits or \
         more)"
            .to_owned()
    };
    let input: JwkInput = serde_json::from_value(key.clone()).map_err(|_| unsupported())?;
    VerifyingKey::from_jwk(&input)
        .map(|key| key.kid().to_owned())
        .map_err(|_| unsupported())
}

/// A JWK as the service shows it: as given, with its `kid`.
pub fn with_kid(key: &Value) -> Map<String, Value> {
    let mut jwk = key.as_object().cloned().unwrap_or_default();
    if let Ok(kid) = public_key(key) {
        jwk.insert("kid".to_owned(), Value::String(kid));
    }
    jwk
}
