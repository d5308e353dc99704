//! `authctl keygen`: a client key for `private_key_jwt` that never leaves its service. The
//! private key is created once (Ed25519, PEM, mode 0600) and kept on later runs, so a
//! one-shot set-up step may run it every time; its public JWKS, written each run, is what
//! `apply` registers (a client's `keys_file`).

use std::fs::OpenOptions;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

use auth_core::client::PrivateKey;
use serde_json::json;

use crate::error::{Error, Result};
use crate::output;

pub fn run(key_out: &Path, jwks_out: &Path) -> Result<()> {
    let key = if key_out.exists() {
        PrivateKey::from_pem_file(key_out).map_err(|error| Error::usage(error.to_string()))?
    } else {
        let (key, pem) = PrivateKey::generate_ed25519()
            .map_err(|error| Error::usage(format!("cannot generate a key: {error}")))?;
        // Written beside it, then renamed: a failed write leaves no half key to be read
        // as the key next time. create_new refuses an existing file or link.
        let partial = key_out.with_extension("pem.partial");
        let written = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&partial)
            .and_then(|mut file| {
                file.write_all(pem.as_bytes())?;
                file.sync_all()
            })
            .and_then(|()| std::fs::rename(&partial, key_out));
        if let Err(error) = written {
            let _ = std::fs::remove_file(&partial);
            return Err(Error::usage(format!(
                "cannot write {}: {error}",
                key_out.display()
            )));
        }
        key
    };
    let jwks = json!({ "keys": [key.public_jwk()] });
    std::fs::write(jwks_out, format!("{jwks:#}\n"))
        .map_err(|error| Error::usage(format!("cannot write {}: {error}", jwks_out.display())))?;
    output::line(&format!(
        "key {} (kid {}), public JWKS {}",
        key_out.display(),
        key.kid().unwrap_or("none"),
        jwks_out.display()
    ));
    Ok(())
}
