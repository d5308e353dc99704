//! Cold client lookups coalesce: lookups queued together share one database query, and
//! each still gets its own client (or none).

use futures_util::future::join_all;
use prometheus_client::metrics::counter::Counter;

use auth_core::ids::ClientId;
use auth_core::store::clients;
use auth_core::time::Timestamp;
use token_service::client_auth::lookup::ClientLookup;

use crate::support::{TestApp, on_both_backends};

on_both_backends!(queued_lookups_share_one_query_and_each_gets_its_answer);

async fn queued_lookups_share_one_query_and_each_gets_its_answer(app: TestApp) {
    let reader = app
        .insert_client("sha256$unused", "client:read dataset:read")
        .await;
    let bare = app.insert_client("sha256$unused", "").await;
    let gone = app.insert_client("sha256$unused", "client:read").await;
    let deleted = id(&gone);
    let was_live = app
        .store
        .run(move |conn| clients::soft_delete(conn, &deleted, Timestamp::now()))
        .await
        .unwrap();
    assert!(was_live);
    let (lookups, queries) = (Counter::default(), Counter::default());
    let lookup = ClientLookup::start(app.store.clone(), lookups.clone(), queries.clone());

    // Queued before the lookup task runs (this runtime has one thread): one batch.
    let asked: Vec<String> = (0..30)
        .map(|i| match i % 4 {
            0 => reader.clone(),
            1 => bare.clone(),
            2 => gone.clone(),
            _ => ClientId::generate().to_string(),
        })
        .collect();
    let answers = join_all(asked.iter().map(|name| lookup.find(id(name)))).await;
    assert_eq!(lookups.get(), 30);
    assert_eq!(queries.get(), 1, "one query answered every queued lookup");
    for (name, answer) in asked.iter().zip(answers) {
        let found = answer.expect("lookup");
        match found {
            Some((client, scopes)) => {
                assert_eq!(&client.id, name);
                let scopes: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
                let expected: &[&str] = if *name == reader {
                    &["client:read", "dataset:read"]
                } else {
                    assert_eq!(*name, bare, "only live clients are found");
                    &[]
                };
                assert_eq!(scopes, expected);
            }
            None => assert!(*name != reader && *name != bare, "{name} not found"),
        }
    }

    // A lone lookup is answered at once, by a query of its own.
    let alone = lookup.find(id(&reader)).await.unwrap().unwrap();
    assert_eq!(alone.0.id, reader);
    assert_eq!(queries.get(), 2);
}

fn id(text: &str) -> ClientId {
    ClientId::parse(text).unwrap()
}
