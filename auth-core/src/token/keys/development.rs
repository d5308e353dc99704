//! The development signing key: generated once (Ed25519) where no key file is configured,
//! written privately (mode 600) and reused by every later start.

use std::path::Path;

use super::{KeyError, SigningKey};

/// Loads the signing key from `path`, creating an Ed25519 key there first if none exists.
///
/// Creation is atomic (written to a temporary file, then hard-linked into place), so
/// processes starting together all end up with the one key that won.
pub fn load_or_generate(path: &Path) -> Result<(SigningKey, bool), KeyError> {
    match std::fs::read_to_string(path) {
        Ok(pem) => return Ok((SigningKey::from_pem(&pem)?, false)),
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error.into()),
        Err(_) => {}
    }
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir)?;
    }
    let (key, pem) = SigningKey::generate_ed25519()?;
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    write_private(&tmp, &pem)?;
    let linked = std::fs::hard_link(&tmp, path);
    std::fs::remove_file(&tmp)?;
    match linked {
        Ok(()) => Ok((key, true)),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            Ok((SigningKey::from_pem_file(path)?, false))
        }
        Err(error) => Err(error.into()),
    }
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}
