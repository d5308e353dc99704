//! The parts the multi-node URLs (`redis+sentinel://`, `redis+cluster://`) share: a list
//! of `HOST:PORT` and the Redis servers' credentials. Their reasons never quote the input
//! (it may hold a password).

/// The user and password of a URL, percent-decoded.
#[derive(Clone, Default)]
pub(super) struct Credentials {
    pub(super) username: Option<String>,
    pub(super) password: Option<String>,
}

/// Splits `[USER[:PASSWORD]@]REST` into the credentials and the rest.
pub(super) fn split_credentials(rest: &str) -> Result<(Credentials, &str), &'static str> {
    let Some((credentials, rest)) = rest.rsplit_once('@') else {
        return Ok((Credentials::default(), rest));
    };
    let (user, password) = match credentials.split_once(':') {
        Some((user, password)) => (user, Some(password)),
        None => (credentials, None),
    };
    let decode = |value: &str| {
        percent_decode(value).ok_or("REDIS_URL's user or password is badly percent-encoded")
    };
    Ok((
        Credentials {
            username: (!user.is_empty()).then(|| decode(user)).transpose()?,
            password: password.map(decode).transpose()?,
        },
        rest,
    ))
}

/// `HOST:PORT[,HOST:PORT…]`, at least one; `None` if any is malformed.
pub(super) fn parse_hosts(hosts: &str) -> Option<Vec<(String, u16)>> {
    hosts
        .split(',')
        .map(|host| {
            let (name, port) = host.rsplit_once(':')?;
            let port = port.parse().ok()?;
            (!name.is_empty()).then(|| (name.to_owned(), port))
        })
        .collect::<Option<Vec<_>>>()
        .filter(|hosts| !hosts.is_empty())
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
