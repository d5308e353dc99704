//! Redis Sentinel: the group named by a `redis+sentinel://` URL and the clients of the
//! master it names.

use super::endpoints::{parse_hosts, split_credentials};

/// A Sentinel group and the master it watches.
#[derive(Clone)]
pub(super) struct SentinelTarget {
    pub(super) sentinels: Vec<(String, u16)>,
    pub(super) master: String,
    pub(super) db: i64,
    pub(super) username: Option<String>,
    pub(super) password: Option<String>,
}

impl SentinelTarget {
    /// A client of this group's master (and sentinels), over TLS with `tls`.
    pub(super) fn client(
        &self,
        tls: Option<redis::TlsCertificates>,
    ) -> redis::RedisResult<redis::sentinel::SentinelClient> {
        let target = self;
        use redis::sentinel::{SentinelClientBuilder, SentinelServerType};
        let sentinels = target
            .sentinels
            .iter()
            .map(|(host, port)| redis::ConnectionAddr::Tcp(host.clone(), *port));
        let mut builder =
            SentinelClientBuilder::new(sentinels, &target.master, SentinelServerType::Master)?
                .set_client_to_redis_db(target.db);
        if let Some(username) = &target.username {
            builder = builder.set_client_to_redis_username(username);
        }
        if let Some(password) = &target.password {
            builder = builder.set_client_to_redis_password(password);
        }
        if let Some(tls) = tls {
            builder = builder
                .set_client_to_redis_tls_mode(redis::TlsMode::Secure)
                .set_client_to_redis_certificates(tls.clone())
                .set_client_to_sentinel_tls_mode(redis::TlsMode::Secure)
                .set_client_to_sentinel_certificates(tls);
        }
        builder.build()
    }
}

/// `[USER[:PASSWORD]@]HOST:PORT[,HOST:PORT…]/MASTER_NAME[/DB]` (after the scheme); the
/// user and password may be percent-encoded. The reasons never quote the input.
pub(super) fn parse_sentinel(rest: &str) -> Result<SentinelTarget, &'static str> {
    const SHAPE: &str =
        "expected redis+sentinel://[USER:PASSWORD@]HOST:PORT[,HOST:PORT…]/MASTER_NAME[/DB]";
    let (credentials, rest) = split_credentials(rest)?;
    let (hosts, path) = rest.split_once('/').ok_or(SHAPE)?;
    let mut path = path.trim_end_matches('/').split('/');
    let master = path.next().filter(|m| !m.is_empty()).ok_or(SHAPE)?;
    let db = match path.next() {
        None => 0,
        Some(db) => db.parse().map_err(|_| SHAPE)?,
    };
    if path.next().is_some() {
        return Err(SHAPE);
    }
    Ok(SentinelTarget {
        sentinels: parse_hosts(hosts).ok_or(SHAPE)?,
        master: master.to_owned(),
        db,
        username: credentials.username,
        password: credentials.password,
    })
}
