//! PEM private keys, decoded in one place for both their users: the service's signing keys
//! (`SigningKey`, feature `server`) and a client's assertion keys (`client::PrivateKey`).
//! PKCS#8 (Ed25519, P-256, RSA), SEC1 (P-256) and PKCS#1 (RSA); an RSA modulus under 2048
//! bits is refused. Fresh Ed25519 keys are written as PKCS#8 version 1.

use base64::Engine as _;
use zeroize::Zeroizing;

use super::{KeyError, MIN_RSA_BITS};

/// A decoded private key, with what each user needs of it.
pub(crate) enum PrivatePem {
    Ed25519(ed25519_dalek::SigningKey),
    P256 {
        pkcs8_der: Zeroizing<Vec<u8>>,
        x: Vec<u8>,
        y: Vec<u8>,
    },
    Rsa {
        pkcs1_der: Zeroizing<Vec<u8>>,
        n: Vec<u8>,
        e: Vec<u8>,
    },
}

/// Decodes a PEM private key of a supported type.
pub(crate) fn decode(pem: &str) -> Result<PrivatePem, KeyError> {
    use ed25519_dalek::pkcs8::DecodePrivateKey as _;
    use p256::elliptic_curve::sec1::ToEncodedPoint as _;
    use p256::pkcs8::EncodePrivateKey as _;
    use rsa::pkcs1::{DecodeRsaPrivateKey as _, EncodeRsaPrivateKey as _};
    use rsa::traits::PublicKeyParts as _;

    if let Ok(key) = ed25519_dalek::SigningKey::from_pkcs8_pem(pem) {
        return Ok(PrivatePem::Ed25519(key));
    }
    let p256 =
        p256::SecretKey::from_pkcs8_pem(pem).or_else(|_| p256::SecretKey::from_sec1_pem(pem));
    if let Ok(key) = p256 {
        let der = key.to_pkcs8_der().map_err(|_| KeyError::Encoding)?;
        let point = key.public_key().to_encoded_point(false);
        let (Some(x), Some(y)) = (point.x(), point.y()) else {
            return Err(KeyError::Encoding);
        };
        return Ok(PrivatePem::P256 {
            pkcs8_der: Zeroizing::new(der.as_bytes().to_vec()),
            x: x.to_vec(),
            y: y.to_vec(),
        });
    }
    let rsa = rsa::RsaPrivateKey::from_pkcs8_pem(pem)
        .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(pem));
    if let Ok(key) = rsa {
        if key.n().bits() < MIN_RSA_BITS {
            return Err(KeyError::Unsupported);
        }
        let der = key.to_pkcs1_der().map_err(|_| KeyError::Encoding)?;
        return Ok(PrivatePem::Rsa {
            pkcs1_der: Zeroizing::new(der.as_bytes().to_vec()),
            n: key.n().to_bytes_be(),
            e: key.e().to_bytes_be(),
        });
    }
    Err(KeyError::Unsupported)
}

/// A fresh Ed25519 key's PEM: PKCS#8 version 1 (RFC 8410 §7, the seed only), the form
/// OpenSSL 3.0 and Python's `cryptography` read; ed25519-dalek writes version 2 (with the
/// public key), which both refuse.
pub(crate) fn generate_ed25519() -> Zeroizing<String> {
    /// The DER of a PKCS#8 v1 Ed25519 key up to its 32-byte seed.
    const PKCS8_V1_PREFIX: [u8; 16] = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    let key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
    let mut der = Zeroizing::new(Vec::with_capacity(48));
    der.extend_from_slice(&PKCS8_V1_PREFIX);
    der.extend_from_slice(key.as_bytes());
    // 48 bytes are 64 base64 characters: one PEM line.
    Zeroizing::new(format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(&*der)
    ))
}
