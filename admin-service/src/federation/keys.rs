//! Public JWK checks: the keys a client or an issuer may be given (public signing keys
//! only, each with a distinct `kid`), and the audit detail of keys.

use auth_core::store::federation::Keys;
use auth_core::token::{JwkInput, VerifyingKey};
use serde_json::{Map, Value};

use super::{Invalid, invalid, jwks_uri, shown};

/// Most keys in one key set.
pub const MAX_KEYS: usize = 16;
/// Longest `kid`.
pub const MAX_KID_LEN: usize = 128;
/// The members only a private (or symmetric) JWK has (RFC 7518 §6.2.2, §6.3.2, §6.4.1).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Public JWKs: at most 16, each a public key `VerifyingKey::from_jwk` takes (OKP Ed25519,
/// EC P-256, RSA of 2048 bits or more) and none with a private member; each gets its `kid`
/// (the RFC 7638 thumbprint when it has none), and the `kid`s are distinct. Other members
/// are kept as given (`alg` among them).
pub fn public_keys(raw: Vec<Value>) -> Result<Vec<Map<String, Value>>, Invalid> {
    if raw.len() > MAX_KEYS {
        return Err(invalid(format!("at most {MAX_KEYS} keys")));
    }
    let mut keys: Vec<Map<String, Value>> = Vec::with_capacity(raw.len());
    for (index, value) in raw.into_iter().enumerate() {
        let Value::Object(mut jwk) = value else {
            return Err(invalid(format!("key {index} is not a JSON object (a JWK)")));
        };
        let private: Vec<&str> = PRIVATE_MEMBERS
            .into_iter()
            .filter(|member| jwk.contains_key(*member))
            .collect();
        if !private.is_empty() {
            return Err(invalid(format!(
                "key {index} has private key members ({}): send only the public key",
                private.join(", ")
            )));
        }
        if let Some(kid) = jwk.get("kid")
            && !kid.as_str().is_some_and(|k| {
                k.chars().count() <= MAX_KID_LEN && !k.chars().any(char::is_control)
            })
        {
            return Err(invalid(format!(
                "key {index} has a kid that is not a string of at most {MAX_KID_LEN} printable characters"
            )));
        }
        let unsupported = || {
            invalid(format!(
                "key {index} is not a supported public signing key (OKP Ed25519, EC P-256, \
                 or RSA of 2048 bits or more, with a matching alg and use \"sig\" if given)"
            ))
        };
        let input: JwkInput =
            serde_json::from_value(Value::Object(jwk.clone())).map_err(|_| unsupported())?;
        let key = VerifyingKey::from_jwk(&input).map_err(|_| unsupported())?;
        if keys.iter().any(|other| other["kid"] == key.kid()) {
            return Err(invalid(format!(
                "key {index} has the same kid as another key: {:?}",
                shown(key.kid())
            )));
        }
        jwk.insert("kid".to_owned(), Value::String(key.kid().to_owned()));
        keys.push(jwk);
    }
    Ok(keys)
}

/// A client's keys from a body's `keys` and `jwks_uri` members: at most one of them (both
/// absent: `None`, for the caller to decide what that means). An empty `keys`: no keys.
pub fn client_keys(keys: Option<Vec<Value>>, uri: Option<&str>) -> Result<Option<Keys>, Invalid> {
    match (keys, uri) {
        (Some(_), Some(_)) => Err(invalid("give keys or jwks_uri, not both")),
        (Some(keys), None) => {
            let keys = public_keys(keys)?;
            Ok(Some(if keys.is_empty() {
                Keys::None
            } else {
                Keys::Inline(keys)
            }))
        }
        (None, Some(uri)) => Ok(Some(Keys::Uri(jwks_uri(uri)?))),
        (None, None) => Ok(None),
    }
}

/// The audit detail of keys: their `kid`s or their URL, never key material.
pub fn keys_detail(keys: &Keys) -> String {
    match keys {
        Keys::None => "keys: none".to_owned(),
        Keys::Inline(_) => format!("keys: {}", keys.kids().join(", ")),
        Keys::Uri(uri) => format!("jwks_uri: {uri}"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    // RFC 8037 appendix A: an Ed25519 public key and its RFC 7638 thumbprint.
    const X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    const THUMBPRINT: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

    #[test]
    fn public_keys_get_their_kid_and_private_members_are_refused() {
        let keys = public_keys(vec![json!({"kty": "OKP", "crv": "Ed25519", "x": X})]).unwrap();
        assert_eq!(keys[0]["kid"], THUMBPRINT);
        let named = public_keys(vec![
            json!({"kty": "OKP", "crv": "Ed25519", "x": X, "kid": "k1", "alg": "EdDSA"}),
        ])
        .unwrap();
        assert_eq!(named[0]["kid"], "k1");
        assert_eq!(named[0]["alg"], "EdDSA");

        let private = json!({"kty": "OKP", "crv": "Ed25519", "x": X, "d": "secret"});
        let Invalid(text) = public_keys(vec![private]).unwrap_err();
        assert!(text.contains("private"), "{text}");
        assert!(!text.contains("secret"), "{text}");
        let symmetric = json!({"kty": "oct", "k": "c2VjcmV0"});
        assert!(public_keys(vec![symmetric]).is_err());

        for bad in [
            json!("not an object"),
            json!({"kty": "OKP", "crv": "Ed25519"}),
            json!({"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}),
            json!({"kty": "EC", "crv": "P-384", "x": X, "y": X}),
            json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"}),
            json!({"kty": "OKP", "crv": "Ed25519", "x": X, "use": "enc"}),
            json!({"kty": "OKP", "crv": "Ed25519", "x": X, "kid": 7}),
        ] {
            assert!(public_keys(vec![bad.clone()]).is_err(), "{bad}");
        }
        let same = json!({"kty": "OKP", "crv": "Ed25519", "x": X});
        assert!(public_keys(vec![same.clone(), same]).is_err());
        let many = vec![json!({"kty": "OKP", "crv": "Ed25519", "x": X}); MAX_KEYS + 1];
        assert!(public_keys(many).is_err());
    }
}
