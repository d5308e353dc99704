//! A client assertion (RFC 7523, a JWS compact serialization) taken apart, trusting none of
//! it yet: the header names the key, the claims say who and for whom, the signature is
//! checked against a key this service chose, never one the assertion carries.

use std::str::FromStr as _;

use auth_core::time::Timestamp;
use auth_core::token::{Audience, VerifyingKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde::{Deserialize, Deserializer};
use sha2::{Digest as _, Sha256};

use super::Refusal;

/// Longest assertion accepted (DESIGN: more than 8 KiB is refused unread).
pub const MAX_ASSERTION_LEN: usize = 8 * 1024;
/// Clock skew allowed by every time check of an assertion.
pub const SKEW_SECS: i64 = 60;
/// A `private_key_jwt` assertion lives at most this long.
pub const MAX_LIFETIME_SECS: i64 = 600;
/// Longest `jti` kept for the single-use check.
const MAX_JTI_LEN: usize = 256;

/// The protected header. Members that would let the assertion bring its own key (`jwk`,
/// `jku`, `x5u`, `x5c`) or extensions the verifier must understand (`crit`) refuse it.
#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
    jwk: Option<serde_json::Value>,
    jku: Option<serde_json::Value>,
    x5u: Option<serde_json::Value>,
    x5c: Option<serde_json::Value>,
    crit: Option<serde_json::Value>,
}

/// The claims every assertion kind reads.
#[derive(Debug, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub aud: Audience,
    #[serde(deserialize_with = "numeric_date")]
    pub exp: i64,
    #[serde(default, deserialize_with = "optional_numeric_date")]
    pub iat: Option<i64>,
    #[serde(default, deserialize_with = "optional_numeric_date")]
    pub nbf: Option<i64>,
    pub jti: Option<String>,
}

/// A parsed, not yet verified, assertion.
pub struct Assertion<'a> {
    signing_input: &'a str,
    signature: Vec<u8>,
    pub algorithm: Algorithm,
    pub kid: Option<String>,
    pub claims: Claims,
}

impl<'a> Assertion<'a> {
    /// Takes `token` apart; any fault of shape, size or type is [`Refusal::Malformed`], an
    /// embedded key or `crit` [`Refusal::EmbeddedKey`], `none` or HMAC
    /// [`Refusal::Algorithm`].
    pub fn parse(token: &'a str) -> Result<Self, Refusal> {
        if token.is_empty() || token.len() > MAX_ASSERTION_LEN {
            return Err(Refusal::Malformed);
        }
        let (signing_input, signature) = token.rsplit_once('.').ok_or(Refusal::Malformed)?;
        let (header, payload) = signing_input
            .split_once('.')
            .filter(|(_, payload)| !payload.contains('.'))
            .ok_or(Refusal::Malformed)?;
        let header: Header = decode_part(header)?;
        if header.jwk.is_some()
            || header.jku.is_some()
            || header.x5u.is_some()
            || header.x5c.is_some()
            || header.crit.is_some()
        {
            return Err(Refusal::EmbeddedKey);
        }
        let algorithm = match header.alg.as_str() {
            // RFC 9864's fully-specified name for EdDSA over Ed25519, the one EdDSA curve
            // accepted: the same signatures, and the key must still be an Ed25519 one.
            "Ed25519" => Algorithm::EdDSA,
            alg => Algorithm::from_str(alg).map_err(|_| Refusal::Algorithm)?,
        };
        if !matches!(
            algorithm,
            Algorithm::EdDSA | Algorithm::ES256 | Algorithm::RS256 | Algorithm::PS256
        ) {
            return Err(Refusal::Algorithm);
        }
        let claims: Claims = decode_part(payload)?;
        if claims
            .jti
            .as_ref()
            .is_some_and(|jti| jti.len() > MAX_JTI_LEN)
        {
            return Err(Refusal::Malformed);
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| Refusal::Malformed)?;
        Ok(Self {
            signing_input,
            signature,
            algorithm,
            kid: header.kid,
            claims,
        })
    }

    /// Checks the signature with `key`, whose one algorithm must be the header's (an
    /// Ed25519 one together with the worker's other checks: `VerifyingKey::verifies_batched`).
    pub async fn verify_with(&self, key: &VerifyingKey) -> Result<(), Refusal> {
        if key.algorithm() != self.algorithm {
            return Err(Refusal::Algorithm);
        }
        let signing_input = self.signing_input.as_bytes();
        if key.verifies_batched(signing_input, &self.signature).await {
            Ok(())
        } else {
            Err(Refusal::BadSignature)
        }
    }

    /// `exp` in the future and `iat`/`nbf` not, each within [`SKEW_SECS`].
    pub fn check_times(&self, now: Timestamp) -> Result<(), Refusal> {
        let now = now.as_secs();
        if self.claims.exp.saturating_add(SKEW_SECS) <= now {
            return Err(Refusal::Expired);
        }
        let not_before = self.claims.nbf.into_iter().chain(self.claims.iat).max();
        if not_before.is_some_and(|at| at.saturating_sub(SKEW_SECS) > now) {
            return Err(Refusal::NotYetValid);
        }
        Ok(())
    }

    /// `private_key_jwt`'s extra rule: `exp` at most 10 minutes after `iat` (after now
    /// when there is no `iat`).
    pub fn check_short_lived(&self, now: Timestamp) -> Result<(), Refusal> {
        let from = self.claims.iat.unwrap_or(now.as_secs());
        if self.claims.exp.saturating_sub(from) > MAX_LIFETIME_SECS {
            return Err(Refusal::TooLongLived);
        }
        Ok(())
    }

    /// True when the assertion's `aud` names one of `accepted`.
    pub fn is_for_any(&self, accepted: &[String]) -> bool {
        accepted.iter().any(|a| self.claims.aud.contains(a))
    }
}

/// The SHA-256 of a whole assertion: the key under which a platform token's verification
/// is remembered.
pub fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn decode_part<T: serde::de::DeserializeOwned>(part: &str) -> Result<T, Refusal> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| Refusal::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| Refusal::Malformed)
}

/// A NumericDate (RFC 7519 §2): seconds, possibly with a fraction (dropped).
fn numeric_date<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let value = f64::deserialize(deserializer)?;
    if value.is_finite() && value.abs() < 1e15 {
        #[allow(clippy::cast_possible_truncation)]
        Ok(value.floor() as i64)
    } else {
        Err(serde::de::Error::custom("not a NumericDate"))
    }
}

fn optional_numeric_date<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    numeric_date(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(value: serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&value).unwrap())
    }

    fn token(header: serde_json::Value, claims: serde_json::Value) -> String {
        format!("{}.{}.c2ln", encode(header), encode(claims))
    }

    fn claims() -> serde_json::Value {
        serde_json::json!({"iss": "a", "sub": "a", "aud": "x", "exp": 2_000_000_000, "jti": "j"})
    }

    #[test]
    fn keys_carried_by_the_assertion_and_weak_algorithms_are_refused() {
        for member in ["jwk", "jku", "x5u", "x5c", "crit"] {
            let mut header = serde_json::json!({"alg": "EdDSA", "kid": "k"});
            header[member] = serde_json::json!("x");
            assert!(
                matches!(
                    Assertion::parse(&token(header, claims())),
                    Err(Refusal::EmbeddedKey)
                ),
                "{member}"
            );
        }
        for alg in ["none", "HS256", "RS384", "nonsense", "Ed448", "ed25519"] {
            let header = serde_json::json!({"alg": alg});
            assert!(
                matches!(
                    Assertion::parse(&token(header, claims())),
                    Err(Refusal::Algorithm)
                ),
                "{alg}"
            );
        }
    }

    #[test]
    fn rfc_9864_ed25519_is_eddsa() {
        let header = serde_json::json!({"alg": "Ed25519", "kid": "k"});
        let token = token(header, claims());
        let parsed = Assertion::parse(&token).expect("an assertion");
        assert_eq!(parsed.algorithm, Algorithm::EdDSA);
    }

    #[test]
    fn wrong_shapes_and_types_are_malformed() {
        let header = serde_json::json!({"alg": "EdDSA"});
        let mut wrong_type = claims();
        wrong_type["exp"] = serde_json::json!("tomorrow");
        let mut array_sub = claims();
        array_sub["sub"] = serde_json::json!(["a"]);
        let oversized = "a".repeat(MAX_ASSERTION_LEN + 1);
        for bad in [
            String::new(),
            "a.b".to_owned(),
            "a.b.c.d".to_owned(),
            token(header.clone(), wrong_type),
            token(header.clone(), array_sub),
            format!("{}.{}.!!", encode(header.clone()), encode(claims())),
            oversized,
        ] {
            assert!(
                matches!(Assertion::parse(&bad), Err(Refusal::Malformed)),
                "{bad:.40}"
            );
        }
        let good = token(header, claims());
        let parsed = Assertion::parse(&good).unwrap();
        assert_eq!(parsed.claims.exp, 2_000_000_000);
        assert!(parsed.claims.aud.contains("x"));
    }

    #[test]
    fn times_allow_a_minute_of_skew_and_ten_minutes_of_life() {
        let header = serde_json::json!({"alg": "EdDSA"});
        let now = Timestamp::from_secs(1_000_000);
        let at = |exp: i64, iat: Option<i64>| {
            let mut c = claims();
            c["exp"] = exp.into();
            if let Some(iat) = iat {
                c["iat"] = iat.into();
            }
            token(header.clone(), c)
        };
        let check = |t: &str| {
            let a = Assertion::parse(t).unwrap();
            a.check_times(now).and_then(|()| a.check_short_lived(now))
        };
        assert!(check(&at(1_000_000 - 59, None)).is_ok(), "within the skew");
        assert!(matches!(
            check(&at(1_000_000 - 60, None)),
            Err(Refusal::Expired)
        ));
        assert!(matches!(
            check(&at(1_000_000 + 700, Some(1_000_000 + 61))),
            Err(Refusal::NotYetValid)
        ));
        assert!(check(&at(1_000_000 + 600, Some(1_000_000))).is_ok());
        assert!(matches!(
            check(&at(1_000_000 + 601, Some(1_000_000))),
            Err(Refusal::TooLongLived)
        ));
        assert!(matches!(
            check(&at(1_000_000 + 601, None)),
            Err(Refusal::TooLongLived)
        ));
    }
}
