//! Redis Sentinel: the group named by a `redis+sentinel://` URL and the clients of the
//! master it names.

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
    let (credentials, rest) = match rest.rsplit_once('@') {
        Some((credentials, rest)) => (Some(credentials), rest),
        None => (None, rest),
    };
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
    let sentinels = hosts
        .split(',')
        .map(|host| {
            let (name, port) = host.rsplit_once(':')?;
            let port = port.parse().ok()?;
            (!name.is_empty()).then(|| (name.to_owned(), port))
        })
        .collect::<Option<Vec<_>>>()
        .filter(|sentinels| !sentinels.is_empty())
        .ok_or(SHAPE)?;
    let (username, password) = match credentials {
        None => (None, None),
        Some(credentials) => {
            let (user, password) = match credentials.split_once(':') {
                Some((user, password)) => (user, Some(password)),
                None => (credentials, None),
            };
            let decode = |value: &str| {
                percent_decode(value).ok_or("REDIS_URL's user or password is badly percent-encoded")
            };
            (
                (!user.is_empty()).then(|| decode(user)).transpose()?,
                password.map(decode).transpose()?,
            )
        }
    };
    Ok(SentinelTarget {
        sentinels,
        master: master.to_owned(),
        db,
        username,
        password,
    })
}

/// `%XX` sequences decoded; `None` for a bad sequence or a result that is not UTF-8.
fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'%' {
            let hex = std::str::from_utf8(bytes.get(at + 1..at + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            at += 3;
        } else {
            out.push(bytes[at]);
            at += 1;
        }
    }
    String::from_utf8(out).ok()
}
