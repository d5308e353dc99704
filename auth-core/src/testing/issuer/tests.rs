//! Tests of the parent module: the issuer served over HTTP, as a verifier sees it.
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use super::*;

async fn get(url: &str, bearer: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(bearer) = bearer {
        request = request.bearer_auth(bearer);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The claims of `token` if it verifies against a key of `jwks` (by `kid`).
fn verify(token: &str, jwks: &Value, audience: &str) -> Result<Value, String> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
    let kid = header.kid.ok_or("no kid")?;
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .ok_or("unknown kid")?;
    assert_eq!(jwk["kty"], "RSA");
    assert_eq!(jwk["alg"], "RS256");
    assert_eq!(jwk["use"], "sig");
    let key =
        DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap())
            .map_err(|e| e.to_string())?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[audience]);
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn serves_discovery_and_jwks_and_its_tokens_verify() {
    let issuer = TestIssuer::start().await;
    let (status, discovery) = get(&issuer.discovery_url(), None).await;
    assert_eq!(status, 200);
    assert_eq!(discovery["issuer"], issuer.url());
    assert_eq!(discovery["jwks_uri"], issuer.jwks_uri());
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    assert_eq!(discovery["response_types_supported"], json!(["id_token"]));
    assert_eq!(discovery["subject_types_supported"], json!(["public"]));

    let (status, jwks) = get(&issuer.jwks_uri(), None).await;
    assert_eq!(status, 200);
    assert_eq!(jwks, issuer.jwks());
    assert_eq!(jwks["keys"][0]["kid"], issuer.kid().as_str());

    let subject = TestIssuer::service_account("payments", "api");
    let token = issuer.mint(
        &subject,
        &["https://auth.example", "other"],
        Duration::from_secs(600),
    );
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    let claims = verify(&token, &jwks, "https://auth.example").unwrap();
    assert_eq!(claims["iss"], issuer.url());
    assert_eq!(claims["sub"], "system:serviceaccount:payments:api");
    assert_eq!(claims["aud"], json!(["https://auth.example", "other"]));
    let iat = claims["iat"].as_i64().unwrap();
    assert_eq!(claims["nbf"].as_i64(), Some(iat));
    assert_eq!(claims["exp"].as_i64(), Some(iat + 600));
    let k8s = &claims["kubernetes.io"];
    assert_eq!(k8s["namespace"], "payments");
    assert_eq!(k8s["serviceaccount"]["name"], "api");
    assert_eq!(k8s["serviceaccount"]["uid"].as_str().unwrap().len(), 36);
    assert!(k8s["pod"]["name"].as_str().unwrap().starts_with("api-"));
    assert!(k8s["pod"]["uid"].is_string());

    // Arbitrary claims and headers, for bad-input tests.
    let custom = issuer.mint_claims(json!({ "iss": "elsewhere", "aud": "x", "exp": 1 }));
    let claims = jsonwebtoken::dangerous::insecure_decode::<Value>(&custom)
        .unwrap()
        .claims;
    assert_eq!(claims["iss"], "elsewhere");
    let forged = issuer.mint_with(json!({ "alg": "HS256", "kid": "nope" }), json!({}));
    assert_eq!(
        jsonwebtoken::decode_header(&forged).unwrap().kid.as_deref(),
        Some("nope")
    );
    let none = TestIssuer::unsigned(&json!({ "alg": "none" }), &json!({ "sub": "x" }));
    let parts: Vec<&str> = none.split('.').collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[2], "", "no signature");
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header, json!({ "alg": "none" }));
    // Not a Kubernetes subject: no kubernetes.io object.
    let plain = issuer.claims("spiffe://example.org/api", &["a"], Duration::from_secs(5));
    assert!(plain.get("kubernetes.io").is_none());
}

#[tokio::test]
async fn rotation_changes_the_kid_and_may_keep_the_old_key() {
    let issuer = TestIssuer::start().await;
    let first = issuer.kid();
    let old_token = issuer.mint(
        "system:serviceaccount:a:b",
        &["aud"],
        Duration::from_secs(60),
    );

    let second = issuer.rotate(true);
    assert_ne!(second, first);
    assert_eq!(issuer.kid(), second);
    let (_, jwks) = get(&issuer.jwks_uri(), None).await;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, [second.as_str(), first.as_str()]);
    let new_token = issuer.mint(
        "system:serviceaccount:a:b",
        &["aud"],
        Duration::from_secs(60),
    );
    assert_eq!(
        jsonwebtoken::decode_header(&new_token).unwrap().kid,
        Some(second.clone())
    );
    verify(&old_token, &jwks, "aud").unwrap();
    verify(&new_token, &jwks, "aud").unwrap();

    let third = issuer.rotate(false);
    let (_, jwks) = get(&issuer.jwks_uri(), None).await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    assert_eq!(jwks["keys"][0]["kid"], third.as_str());
    assert_eq!(verify(&old_token, &jwks, "aud").unwrap_err(), "unknown kid");
}

#[tokio::test]
async fn down_answers_503_and_bearer_is_required_when_set_and_fetches_are_counted() {
    let issuer = TestIssuer::start().await;
    assert_eq!(issuer.jwks_fetches(), 0);
    assert_eq!(get(&issuer.jwks_uri(), None).await.0, 200);
    assert_eq!(get(&issuer.jwks_uri(), None).await.0, 200);
    assert_eq!(issuer.jwks_fetches(), 2);
    assert_eq!(get(&issuer.discovery_url(), None).await.0, 200);
    assert_eq!(issuer.discovery_fetches(), 1);
    assert_eq!(issuer.jwks_fetches(), 2, "discovery is not the JWKS");

    issuer.set_down(true);
    assert_eq!(get(&issuer.jwks_uri(), None).await.0, 503);
    assert_eq!(get(&issuer.discovery_url(), None).await.0, 503);
    assert_eq!(issuer.jwks_fetches(), 2, "a 503 serves no keys");
    issuer.set_down(false);

    issuer.require_bearer(Some("pod-token"));
    assert_eq!(get(&issuer.jwks_uri(), None).await.0, 401);
    assert_eq!(get(&issuer.jwks_uri(), Some("wrong")).await.0, 401);
    assert_eq!(get(&issuer.discovery_url(), None).await.0, 401);
    assert_eq!(get(&issuer.jwks_uri(), Some("pod-token")).await.0, 200);
    assert_eq!(get(&issuer.discovery_url(), Some("pod-token")).await.0, 200);
    assert_eq!(issuer.jwks_fetches(), 3);
    issuer.require_bearer(None);
    assert_eq!(get(&issuer.jwks_uri(), None).await.0, 200);
    assert_eq!(issuer.jwks_fetches(), 4);
}

#[tokio::test]
async fn two_issuers_never_share_a_key() {
    let (a, b) = (TestIssuer::start().await, TestIssuer::start().await);
    assert_ne!(a.kid(), b.kid());
    assert_ne!(a.url(), b.url());
    let token = a.mint(
        "system:serviceaccount:a:b",
        &["aud"],
        Duration::from_secs(60),
    );
    assert!(verify(&token, &b.jwks(), "aud").is_err());
}
