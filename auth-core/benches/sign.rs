//! Token signing per core: why the issuer signs with aws-lc-rs and a key parsed once.
//!
//! - `sign/issue`: [`TokenIssuer::issue`], a whole token (claims, JSON, base64url, Ed25519
//!   signature by aws-lc-rs with the key parsed at start-up);
//! - `sign/jsonwebtoken_encode`: the same claims through `jsonwebtoken::encode` (RustCrypto),
//!   as the issuer did before: the PKCS#8 key is parsed again on every call;
//! - `sign/ed25519_dalek_kept_key`: the signature alone with ed25519-dalek and a kept key,
//!   the best the pure-Rust backend does, over a message of a token's size.
//!
//! Run: `cargo bench -p auth-core --bench sign`.

use std::hint::black_box;

use auth_core::ids::ClientId;
use auth_core::scopes::Scope;
use auth_core::time::Timestamp;
use auth_core::token::{SigningKey, TokenIssuer};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ed25519_dalek::Signer as _;
use ed25519_dalek::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};

fn sign(c: &mut Criterion) {
    let (key, pem) = SigningKey::generate_ed25519().expect("an Ed25519 key");
    let dalek = ed25519_dalek::SigningKey::from_pkcs8_pem(&pem).expect("the same key");
    let der = dalek.to_pkcs8_der().expect("PKCS#8");
    let encoding = jsonwebtoken::EncodingKey::from_ed_der(der.as_bytes());
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.typ = Some("at+jwt".to_owned());
    header.kid = Some(key.kid().to_owned());
    let issuer = TokenIssuer::new(
        key,
        "http://auth.bench".to_owned(),
        "http://auth.bench".to_owned(),
        691_200,
    );
    let client = ClientId::generate();
    let scopes = [
        Scope::parse("dataset:read").expect("scope"),
        Scope::parse("policy:read").expect("scope"),
    ];
    let token = issuer
        .issue(&client, &scopes, Timestamp::now())
        .expect("signing");
    let (signing_input, _) = token.access_token.rsplit_once('.').expect("a compact JWS");
    let message = signing_input.as_bytes().to_vec();

    let mut group = c.benchmark_group("sign");
    group.throughput(Throughput::Elements(1));
    group.bench_function("issue", |b| {
        b.iter(|| black_box(issuer.issue(&client, &scopes, Timestamp::now())))
    });
    group.bench_function("jsonwebtoken_encode", |b| {
        b.iter(|| black_box(jsonwebtoken::encode(&header, &token.claims, &encoding)))
    });
    group.bench_function("ed25519_dalek_kept_key", |b| {
        b.iter(|| black_box(dalek.sign(black_box(&message))))
    });
    group.finish();
}

criterion_group!(benches, sign);
criterion_main!(benches);
