//! Tests of the parent module.

use std::collections::HashMap;

use super::cluster::parse_cluster;
use super::sentinel::parse_sentinel;
use super::*;

fn settings(pairs: &[(&str, &str)]) -> Result<Option<RedisSettings>, ConfigError> {
    let vars: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    RedisSettings::from_env(&Env::from_fn(|name| vars.get(name).cloned()))
}

#[test]
fn sentinel_urls_name_the_sentinels_the_master_and_the_credentials() {
    let target = parse_sentinel("app:p%40ss@10.0.0.1:26379,sentinel-2:26380/mymaster/3").unwrap();
    assert_eq!(
        target.sentinels,
        [
            ("10.0.0.1".to_owned(), 26379),
            ("sentinel-2".to_owned(), 26380)
        ]
    );
    assert_eq!(target.master, "mymaster");
    assert_eq!(target.db, 3);
    assert_eq!(target.username.as_deref(), Some("app"));
    assert_eq!(target.password.as_deref(), Some("p@ss"));
    let bare = parse_sentinel(":secret@s:1/m").unwrap();
    assert_eq!(
        (bare.username, bare.password.as_deref()),
        (None, Some("secret"))
    );
    assert_eq!(parse_sentinel("s:1/m/").unwrap().db, 0);
    for bad in [
        "s:1",
        "s:1/",
        "s/m",
        ":1/m",
        "s:x/m",
        "s:1/m/x",
        "s:1/m/0/1",
        "u:%zz@s:1/m",
    ] {
        assert!(parse_sentinel(bad).is_err(), "{bad}");
    }
    let settings = settings(&[("REDIS_URL", "redis+sentinel://u:hunter2@s:26379/m")])
        .unwrap()
        .unwrap();
    assert!(settings.is_sentinel() && !settings.is_tls());
    assert!(!format!("{settings:?}").contains("hunter2"));
    let error = settings_error("redis+sentinel://u:hunter2@s:26379");
    assert!(!error.contains("hunter2"), "{error}");
}

fn settings_error(url: &str) -> String {
    settings(&[("REDIS_URL", url)]).unwrap_err().to_string()
}

#[test]
fn urls_prefixes_and_tls_files_are_checked_and_errors_name_the_variable() {
    assert!(settings(&[]).unwrap().is_none());
    let plain = settings(&[("REDIS_URL", "redis://127.0.0.1:6379/2")])
        .unwrap()
        .unwrap();
    assert!(!plain.is_tls());
    assert_eq!(plain.key_prefix(), "authsvc");
    let tls = settings(&[("REDIS_URL", "rediss://cache.example:6380")])
        .unwrap()
        .unwrap();
    assert!(tls.is_tls());
    assert!(tls.client().is_ok());

    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("ca.pem");
    std::fs::write(
        &pem,
        "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let not_pem = dir.path().join("ca.txt");
    std::fs::write(&not_pem, "hello").unwrap();
    let (pem, not_pem) = (pem.display().to_string(), not_pem.display().to_string());
    let with_ca = settings(&[
        ("REDIS_URL", "rediss://cache.example:6380"),
        ("REDIS_CA_FILE", &pem),
    ])
    .unwrap()
    .unwrap();
    assert!(format!("{with_ca:?}").contains("custom_ca: true"));

    let secret_url = "redis://user:hunter2@cache.example:notaport";
    for (pairs, variable) in [
        (vec![("REDIS_URL", "http://cache:6379")], "REDIS_URL"),
        (vec![("REDIS_URL", secret_url)], "REDIS_URL"),
        (
            vec![
                ("REDIS_URL", "redis://cache:6379"),
                ("REDIS_KEY_PREFIX", "a b"),
            ],
            "REDIS_KEY_PREFIX",
        ),
        (
            vec![("REDIS_URL", "redis://cache:6379"), ("REDIS_CA_FILE", &pem)],
            "REDIS_CA_FILE",
        ),
        (
            vec![
                ("REDIS_URL", "rediss://cache:6380"),
                ("REDIS_CA_FILE", &not_pem),
            ],
            "REDIS_CA_FILE",
        ),
        (
            vec![
                ("REDIS_URL", "rediss://cache:6380"),
                ("REDIS_CA_FILE", "/nonexistent.pem"),
            ],
            "REDIS_CA_FILE",
        ),
        (
            vec![
                ("REDIS_URL", "rediss://cache:6380"),
                ("REDIS_CLIENT_CERT_FILE", &pem),
            ],
            "REDIS_CLIENT_KEY_FILE",
        ),
        (
            vec![
                ("REDIS_URL", "rediss://cache:6380"),
                ("REDIS_CLIENT_KEY_FILE", &pem),
            ],
            "REDIS_CLIENT_CERT_FILE",
        ),
    ] {
        let error = settings(&pairs).unwrap_err();
        assert_eq!(error.variable, variable, "{pairs:?}");
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }
}

#[test]
fn cluster_urls_name_some_nodes_and_the_credentials_and_tag_key_groups() {
    let target = parse_cluster("app:p%40ss@10.0.0.1:7000,redis-2:7001/").unwrap();
    assert_eq!(
        target.nodes,
        [("10.0.0.1".to_owned(), 7000), ("redis-2".to_owned(), 7001)]
    );
    assert_eq!(target.credentials.username.as_deref(), Some("app"));
    assert_eq!(target.credentials.password.as_deref(), Some("p@ss"));
    for bad in [
        "",
        "c",
        "c:x",
        ":7000",
        "c:7000/0",
        "c:7000,",
        "u:%zz@c:7000",
    ] {
        assert!(parse_cluster(bad).is_err(), "{bad}");
    }
    let cluster = settings(&[
        ("REDIS_URL", "rediss+cluster://u:hunter2@c1:7000,c2:7000"),
        ("REDIS_KEY_PREFIX", "svc"),
    ])
    .unwrap()
    .unwrap();
    assert!(cluster.is_cluster() && cluster.is_tls() && !cluster.is_sentinel());
    assert!(!format!("{cluster:?}").contains("hunter2"));
    // One hash tag per group (one slot for the keys a script uses together); sharded
    // channels.
    assert_eq!(cluster.key_group("rev"), "{svc:rev}");
    assert_eq!(cluster.publish_command(), "SPUBLISH");
    assert!(cluster.client().is_err(), "a Cluster has no single server");
    let plain = settings(&[("REDIS_URL", "redis://c:6379"), ("REDIS_KEY_PREFIX", "svc")])
        .unwrap()
        .unwrap();
    assert_eq!(plain.key_group("rev"), "svc:rev");
    assert_eq!(plain.publish_command(), "PUBLISH");
    let error = settings_error("redis+cluster://u:hunter2@c1:7000/3");
    assert!(
        error.contains("REDIS_URL") && !error.contains("hunter2"),
        "{error}"
    );
}
