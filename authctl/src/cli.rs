//! The command line: every command, flag and help text (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const ABOUT: &str = "Operate the authorization service through its admin and token APIs";

const LONG_ABOUT: &str = "\
Operate the authorization service through its admin and token APIs (never its database).

Every invocation logs in with the client-credentials grant, so every change goes through the
admin API: its scope checks, its escalation rules and its audit trail apply. Settings:

  AUTHCTL_TOKEN_URL      the token endpoint, or the token service's base URL (--token-url)
  AUTHCTL_ADMIN_URL      the admin service's base URL (--admin-url)
  AUTHCTL_CLIENT_ID      the client to log in as (--client-id)
  AUTHCTL_CLIENT_SECRET  its secret: from the environment only, or from a file with
                         --client-secret-file (never on the command line)

Exit codes: 0 done; 1 the service refused (4xx; its error code and description are printed);
2 usage or configuration error (a missing setting, an invalid file); 3 the service is
unreachable or failed (5xx).";

const EXAMPLES: &str = "\
Examples:
  export AUTHCTL_TOKEN_URL=http://127.0.0.1:8080 AUTHCTL_ADMIN_URL=http://127.0.0.1:8081
  export AUTHCTL_CLIENT_ID=root
  read -rs AUTHCTL_CLIENT_SECRET && export AUTHCTL_CLIENT_SECRET
  authctl login
  authctl clients create --name billing --scope client:read --secret-out billing.secret
  authctl clients list -o json
  authctl apply -f deploy/clients.yaml --dry-run
  authctl apply -f deploy/clients.yaml --secrets-dir ./secrets";

#[derive(Debug, Parser)]
#[command(name = "authctl", version, about = ABOUT, long_about = LONG_ABOUT, after_help = EXAMPLES)]
pub struct Cli {
    #[command(flatten)]
    pub connection: Connection,

    /// How results are printed: human tables, or the API's JSON for scripts.
    #[arg(short, long, value_enum, default_value_t = Format::Table, global = true)]
    pub output: Format,

    #[command(subcommand)]
    pub command: Command,
}

/// Where the service is and whom to log in as.
#[derive(Debug, Args)]
pub struct Connection {
    /// The token endpoint (or the token service's base URL).
    #[arg(long, env = "AUTHCTL_TOKEN_URL", global = true, value_name = "URL")]
    pub token_url: Option<String>,

    /// The admin service's base URL.
    #[arg(long, env = "AUTHCTL_ADMIN_URL", global = true, value_name = "URL")]
    pub admin_url: Option<String>,

    /// The client to log in as.
    #[arg(long, env = "AUTHCTL_CLIENT_ID", global = true, value_name = "ID")]
    pub client_id: Option<String>,

    /// A file holding the client's secret (instead of AUTHCTL_CLIENT_SECRET).
    #[arg(long, global = true, value_name = "PATH")]
    pub client_secret_file: Option<PathBuf>,

    /// Seconds to wait for each HTTP answer.
    #[arg(long, default_value_t = 30, global = true, value_name = "SECONDS")]
    pub timeout: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human-readable tables.
    Table,
    /// The API's JSON.
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the credentials: log in and print the client and its scopes.
    Login,
    /// Print an access token of the logged-in client (for curl and scripts).
    Token,
    /// Clients: list, create, delete, rotate secrets, scopes, keys, identities, limits.
    #[command(subcommand)]
    Clients(Clients),
    /// The scope registry: list, add and delete custom scopes.
    #[command(subcommand)]
    Scopes(Scopes),
    /// Trusted issuers of workload identities (Kubernetes, SPIFFE, CI).
    #[command(subcommand)]
    Issuers(Issuers),
    /// Revoke one token, or every token of a client.
    #[command(subcommand)]
    Revoke(Revoke),
    /// The audit trail of every change.
    #[command(subcommand)]
    Audit(Audit),
    /// Reconcile scopes, trusted issuers and clients with a YAML file.
    #[command(long_about = APPLY_ABOUT)]
    Apply(Apply),
    /// Make a client key for private_key_jwt, or keep the one there: an Ed25519 private key
    /// (PEM, mode 0600) and its public JWKS, for a client's `keys_file` in `apply`.
    Keygen {
        /// The private key: created when missing, else read (never replaced).
        #[arg(long, value_name = "FILE")]
        key_out: PathBuf,
        /// The public JWKS of that key, written every time.
        #[arg(long, value_name = "FILE")]
        jwks_out: PathBuf,
    },
    /// Print a shell completion script (e.g. `authctl completion bash > /etc/bash_completion.d/authctl`).
    Completion {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

const APPLY_ABOUT: &str = "\
Reconcile scopes, trusted issuers and clients with a YAML file.

The file declares custom `scopes:` (names), `issuers:` ({issuer, jwks_uri or jwks, audiences})
and `clients:`, each client by a stable unique `name` with its scopes, audiences, keys,
keys_file (a JWKS file relative to FILE, such as `authctl keygen` writes) or jwks_uri,
identities ({issuer, subject}) and limits ({tokens_per_minute,
revocations_per_minute}). Apply creates what is missing and updates what differs (scopes,
keys, identities, limits); with --prune it also deletes the clients, custom scopes and issuers
the file does not declare (never the root client, nor the client authctl runs as).

The whole file is checked before anything changes: an unknown field, a duplicate name, an
unknown scope, an invalid key refuse the apply and name the line. A new client without keys
or identities gets a secret, shown once: it is written to --secrets-dir DIR as
DIR/<name>.secret (mode 0600) or appended to --secrets-k8s-manifest FILE as a Kubernetes
Secret, never printed. --ids-dir DIR writes each declared client's id to DIR/<name>.id,
for a service's OAUTH_CLIENT_ID_FILE.";

#[derive(Debug, Subcommand)]
pub enum Clients {
    /// List every client (all pages).
    List,
    /// Show one client.
    Get { id: String },
    /// Create a client; its secret is shown once (or written to --secret-out).
    Create(CreateClient),
    /// Delete a client: its tokens are refused from then on.
    Delete { id: String },
    /// Rotate a client's secret; the new one is shown once (or written to --secret-out).
    Rotate {
        id: String,
        /// How long the previous secret keeps working (0 to 604800).
        #[arg(long, default_value_t = 0, value_name = "N")]
        grace_seconds: u32,
        /// Write the new secret to this file (mode 0600) instead of printing it.
        #[arg(long, value_name = "FILE")]
        secret_out: Option<PathBuf>,
    },
    /// A client's scopes.
    #[command(subcommand)]
    Scopes(ClientScopes),
    /// A client's public keys for private_key_jwt.
    #[command(subcommand)]
    Keys(ClientKeys),
    /// The workload identities bound to a client.
    #[command(subcommand)]
    Identities(ClientIdentities),
    /// A client's limits (tokens issued and revoked per minute).
    #[command(subcommand)]
    Limits(ClientLimits),
}

#[derive(Debug, Args)]
pub struct CreateClient {
    /// A name for people (at most 200 characters).
    #[arg(long)]
    pub name: Option<String>,
    /// A description (at most 2000 characters).
    #[arg(long)]
    pub description: Option<String>,
    /// A scope to grant (repeat the flag for more).
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
    /// A further audience its tokens may name (repeat for more).
    #[arg(long = "audience", value_name = "URI")]
    pub audiences: Vec<String>,
    /// A JWKS file of its public keys (private_key_jwt; the client gets no secret).
    #[arg(long, value_name = "FILE", conflicts_with = "jwks_uri")]
    pub jwks: Option<PathBuf>,
    /// Where its public keys are fetched (the client gets no secret).
    #[arg(long, value_name = "URL")]
    pub jwks_uri: Option<String>,
    /// A workload identity, ISSUER=SUBJECT (repeat for more; the client gets no secret).
    #[arg(long = "identity", value_name = "ISSUER=SUBJECT")]
    pub identities: Vec<String>,
    /// Write the secret to this file (mode 0600) instead of printing it.
    #[arg(long, value_name = "FILE")]
    pub secret_out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ClientScopes {
    /// Print a client's scopes.
    Get { id: String },
    /// Replace a client's scopes (none: no scopes); a removal revokes its older tokens.
    Set { id: String, scopes: Vec<String> },
}

#[derive(Debug, Subcommand)]
pub enum ClientKeys {
    /// Replace a client's public keys.
    Set {
        id: String,
        /// A JWKS file ({"keys": [...]}) of public keys.
        #[arg(long, value_name = "FILE", required_unless_present_any = ["jwks_uri", "clear"], conflicts_with_all = ["jwks_uri", "clear"])]
        jwks: Option<PathBuf>,
        /// Where its public keys are fetched.
        #[arg(long, value_name = "URL", conflicts_with = "clear")]
        jwks_uri: Option<String>,
        /// Remove every key.
        #[arg(long)]
        clear: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClientIdentities {
    /// Replace the identities bound to a client (none: unbind all).
    Set {
        id: String,
        /// ISSUER=SUBJECT; a subject may end in `*` (repeat for more).
        #[arg(long = "identity", value_name = "ISSUER=SUBJECT")]
        identities: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClientLimits {
    /// Print a client's limits: its own and those in force.
    Get { id: String },
    /// Set a client's limits: a number per minute (0: no limit) or `default`.
    Set {
        id: String,
        #[arg(long, value_name = "N|default", default_value = "default")]
        tokens_per_minute: Limit,
        #[arg(long, value_name = "N|default", default_value = "default")]
        revocations_per_minute: Limit,
    },
}

/// A per-minute limit: a number, or the service's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Default,
    PerMinute(u32),
}

impl std::str::FromStr for Limit {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        if raw == "default" {
            return Ok(Self::Default);
        }
        raw.parse()
            .map(Self::PerMinute)
            .map_err(|_| format!("{raw:?} is neither a whole number nor `default`"))
    }
}

#[derive(Debug, Subcommand)]
pub enum Scopes {
    /// List the registry (built-in and custom scopes).
    List,
    /// Register a custom scope.
    Add { name: String },
    /// Delete a custom scope (no client may hold it).
    Delete { name: String },
}

#[derive(Debug, Subcommand)]
pub enum Issuers {
    /// List the trusted issuers.
    List,
    /// Show one trusted issuer.
    Get { id: String },
    /// Register a trusted issuer.
    Create {
        /// The `iss` value of its tokens.
        #[arg(long)]
        issuer: String,
        /// Where its public keys are fetched (https, or http on a loopback host).
        #[arg(
            long,
            value_name = "URL",
            required_unless_present = "jwks",
            conflicts_with = "jwks"
        )]
        jwks_uri: Option<String>,
        /// A JWKS file of its public keys.
        #[arg(long, value_name = "FILE")]
        jwks: Option<PathBuf>,
        /// An audience its tokens must carry (repeat for more; none: this service's issuer URL).
        #[arg(long = "audience", value_name = "URI")]
        audiences: Vec<String>,
    },
    /// Delete a trusted issuer: its bindings stop working at once.
    Delete { id: String },
}

#[derive(Debug, Subcommand)]
pub enum Revoke {
    /// Revoke one access token (`-`: read it from standard input).
    Token { token: String },
    /// Revoke every token a client holds now.
    Client { id: String },
}

#[derive(Debug, Subcommand)]
pub enum Audit {
    /// List audit events, oldest first (the admin API applies the filters; each is exact).
    List(AuditList),
}

#[derive(Debug, Args)]
pub struct AuditList {
    /// Only this action (e.g. client.create, client.scopes.replace).
    #[arg(long)]
    pub action: Option<String>,
    /// Only events of this actor client.
    #[arg(long)]
    pub actor: Option<String>,
    /// Only events on this target (a client id, a scope, a token id).
    #[arg(long)]
    pub target: Option<String>,
    /// Only this outcome: success, refused or failed.
    #[arg(long)]
    pub outcome: Option<String>,
    /// Keep polling for new events.
    #[arg(long)]
    pub follow: bool,
    /// Seconds between polls with --follow.
    #[arg(long, default_value_t = 2, value_name = "SECONDS")]
    pub interval: u64,
}

#[derive(Debug, Args)]
pub struct Apply {
    /// The YAML file of scopes, issuers and clients.
    #[arg(short, long, value_name = "FILE")]
    pub file: PathBuf,
    /// Print the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Delete clients, custom scopes and issuers the file does not declare.
    #[arg(long)]
    pub prune: bool,
    /// Write each new client's secret to DIR/NAME.secret (mode 0600).
    #[arg(long, value_name = "DIR", conflicts_with = "secrets_k8s_manifest")]
    pub secrets_dir: Option<PathBuf>,
    /// Append each new client's credentials to FILE as a Kubernetes Secret (mode 0600).
    #[arg(long, value_name = "FILE")]
    pub secrets_k8s_manifest: Option<PathBuf>,
    /// After applying, write each declared client's id to DIR/NAME.id (what a service's
    /// OAUTH_CLIENT_ID_FILE reads).
    #[arg(long, value_name = "DIR")]
    pub ids_dir: Option<PathBuf>,
}
