//! token-service configuration: the shared [`AuthSettings`] (variables listed in
//! `auth_core::settings`), and what only this service reads, since only it signs tokens and
//! authenticates clients (admin-service never sees these):
//!
//! | variable | meaning |
//! | --- | --- |
//! | `TOKEN_SERVICE_ADDR` | listen address \[`127.0.0.1:8080`\] |
//! | `OAUTH_ROOT_CLIENT_SECRET` | the root client's secret, 16 to 71 bytes \[required\] |
//! | `OAUTH_SIGNING_KEY_FILE` | PEM private key \[`./data/signing-key.pem`, generated once\] |
//! | `OAUTH_PREVIOUS_SIGNING_KEY_FILES` | comma-separated PEM files still accepted \[none\] |
//! | `AUTH_FAILURES_PER_CLIENT`, `AUTH_FAILURES_PER_ADDRESS`, `AUTH_FAILURE_WINDOW_SECS` | brute-force limits (`client_auth::ratelimit`) \[10, 30, 60\] |
//! | `AUTH_FAILURE_DELAY_MS` | how long a refused client authentication (401 or 429) waits for its answer, 0–10000 \[200\] |
//! | `TRUST_X_FORWARDED_FOR` | client address from the last `X-Forwarded-For` entry \[false\] |
//! | `BCRYPT_COST` | the highest cost of an imported bcrypt hash this service will run, 4–16: a hash above it is refused, so a planted cost-31 hash cannot hold a thread for hours \[12\] |
//! | `FEDERATION_CA_FILE` | PEM CA bundle trusted, besides the system's roots, when fetching a trusted issuer's or a client's `jwks_uri` \[none\] |
//! | `JWKS_MIN_REFETCH_SECS` | the shortest interval between two fetches of one `jwks_uri` (a refetch on an unknown `kid` waits for it), 1–3600 \[30\] |
//! | `KUBERNETES_API_SERVER` | a trusted issuer's `jwks_uri` on this origin (same scheme, host and port; https, or http on a loopback host) is fetched with the pod's service-account token and the cluster CA (in-cluster Kubernetes issuers); a client's `jwks_uri` never is \[`https://kubernetes.default.svc` inside a cluster (`KUBERNETES_SERVICE_HOST` set), else unset\] |
//! | `KUBERNETES_TOKEN_FILE`, `KUBERNETES_CA_FILE` | the pod's service-account token (re-read for each fetch) and the cluster CA \[`/var/run/secrets/kubernetes.io/serviceaccount/token`, `…/ca.crt`\] |
//! | `ADMIN_API_URL` | development: forward admin API paths to admin-service at this base URL, so one base URL serves both, as fidesops did \[unset: those paths answer 404 naming admin-service; production routes them in the gateway\] |

use std::net::SocketAddr;
use std::path::PathBuf;

use auth_core::config::{ConfigError, Env};
use auth_core::settings::{AuthSettings, RootClient};

use crate::client_auth::assertion::keysets::InCluster;
use crate::client_auth::ratelimit::Limits;

const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

#[derive(Debug, Clone)]
pub struct Config {
    pub auth: AuthSettings,
    pub listen: SocketAddr,
    pub root: RootClient,
    /// `None`: generate (once) and use the development key under `./data/`.
    pub signing_key_file: Option<PathBuf>,
    pub previous_signing_key_files: Vec<PathBuf>,
    /// Brute-force limits on failed client authentication.
    pub auth_failure_limits: Limits,
    /// Take the client address from the last `X-Forwarded-For` entry (behind one trusted proxy).
    pub trust_x_forwarded_for: bool,
    pub admin_api_url: Option<String>,
    /// The highest bcrypt cost run for an imported hash.
    pub bcrypt_cost: u32,
    /// CA bundles trusted when fetching `jwks_uri`s, besides the system's roots.
    pub jwks_ca_files: Vec<PathBuf>,
    /// How `jwks_uri`s on the Kubernetes API server are fetched from inside the cluster.
    pub in_cluster: Option<InCluster>,
    /// The shortest interval between two fetches of one `jwks_uri`.
    pub jwks_min_refetch: std::time::Duration,
}

impl Config {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let auth = AuthSettings::from_env(env)?;
        let root = RootClient::from_env(env, auth.root_id.clone())?;
        let admin_api_url = env.parse_or("ADMIN_API_URL", None, |url| {
            let url = url.trim_end_matches('/');
            if (url.starts_with("http://") || url.starts_with("https://"))
                && !url.contains(['?', '#'])
            {
                Ok(Some(url.to_owned()))
            } else {
                Err(format!(
                    "expected an http:// or https:// base URL, got {url:?}"
                ))
            }
        })?;
        let (jwks_ca_files, in_cluster) = jwks_fetching(env)?;
        Ok(Self {
            jwks_ca_files,
            in_cluster,
            jwks_min_refetch: std::time::Duration::from_secs(env.parse_or(
                "JWKS_MIN_REFETCH_SECS",
                30,
                auth_core::config::integer_in(1..=3600),
            )?),
            listen: auth.token_service_addr,
            root,
            signing_key_file: env.get("OAUTH_SIGNING_KEY_FILE").map(PathBuf::from),
            previous_signing_key_files: env
                .get("OAUTH_PREVIOUS_SIGNING_KEY_FILES")
                .map(|list| {
                    list.split(',')
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .map(PathBuf::from)
                        .collect()
                })
                .unwrap_or_default(),
            auth_failure_limits: Limits::from_env(env)?,
            trust_x_forwarded_for: env.parse_or("TRUST_X_FORWARDED_FOR", false, |v| match v {
                "true" | "1" => Ok(true),
                "false" | "0" => Ok(false),
                _ => Err("expected true or false".to_owned()),
            })?,
            admin_api_url,
            bcrypt_cost: env.parse_or(
                "BCRYPT_COST",
                12,
                auth_core::config::integer_in(auth_core::secret::BCRYPT_COST_RANGE),
            )?,
            auth,
        })
    }
}

/// `FEDERATION_CA_FILE` and the in-cluster Kubernetes settings.
fn jwks_fetching(env: &Env<'_>) -> Result<(Vec<PathBuf>, Option<InCluster>), ConfigError> {
    let mut ca_files: Vec<PathBuf> = env
        .get("FEDERATION_CA_FILE")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    let in_cluster_default = env
        .get("KUBERNETES_SERVICE_HOST")
        .map(|_| "https://kubernetes.default.svc".to_owned());
    let api_server = env.parse_or("KUBERNETES_API_SERVER", in_cluster_default, |url| {
        // The pod's token goes there: https, or http only on this machine (tests).
        let loopback = ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"]
            .iter()
            .any(|prefix| url.starts_with(prefix));
        if (url.starts_with("https://") || loopback) && reqwest::Url::parse(url).is_ok() {
            Ok(Some(url.trim_end_matches('/').to_owned()))
        } else {
            Err(format!(
                "expected an https:// URL (http only on a loopback host), got {url:?}"
            ))
        }
    })?;
    let Some(api_server) = api_server else {
        return Ok((ca_files, None));
    };
    let token_file = env.get("KUBERNETES_TOKEN_FILE").map_or_else(
        || PathBuf::from(SERVICE_ACCOUNT_DIR).join("token"),
        PathBuf::from,
    );
    match env.get("KUBERNETES_CA_FILE") {
        Some(ca) => ca_files.push(PathBuf::from(ca)),
        None => {
            let ca = PathBuf::from(SERVICE_ACCOUNT_DIR).join("ca.crt");
            if ca.exists() {
                ca_files.push(ca);
            }
        }
    }
    Ok((
        ca_files,
        Some(InCluster {
            api_server,
            token_file,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = [
            ("OAUTH_ROOT_CLIENT_ID", "root"),
            ("OAUTH_ROOT_CLIENT_SECRET", "a-long-root-secret"),
        ]
        .iter()
        .chain(pairs)
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        Config::from_env(&Env::from_fn(|name| vars.get(name).cloned()))
    }

    #[test]
    fn token_service_settings_have_defaults_and_name_their_variable() {
        let defaults = config(&[]).unwrap();
        assert_eq!(defaults.bcrypt_cost, 12);
        assert!(!defaults.trust_x_forwarded_for);
        assert_eq!(defaults.admin_api_url, None);
        assert!(defaults.signing_key_file.is_none());
        assert_eq!(
            defaults.auth_failure_limits.failure_delay,
            std::time::Duration::from_millis(200)
        );
        for (name, value) in [
            ("BCRYPT_COST", "3"),
            ("BCRYPT_COST", "31"),
            ("ADMIN_API_URL", "admin:8081"),
            ("TRUST_X_FORWARDED_FOR", "maybe"),
            ("AUTH_FAILURES_PER_CLIENT", "0"),
            ("AUTH_FAILURE_DELAY_MS", "10001"),
        ] {
            assert_eq!(
                config(&[(name, value)]).unwrap_err().variable,
                name,
                "{name}={value}"
            );
        }
        let forwarded = config(&[("ADMIN_API_URL", "http://127.0.0.1:8081/")]).unwrap();
        assert_eq!(
            forwarded.admin_api_url.as_deref(),
            Some("http://127.0.0.1:8081")
        );
    }
}
