//! Listing at scale (issue 16): cursor pages (`after`, `next`), page numbers beside them,
//! and `total` from a short-lived cached count, or the database's estimate once the
//! listing is large, that says so (`total_is_estimate`).

use actix_web::http::StatusCode;
use auth_core::testing::Backend;
use serde_json::{Value, json};

use crate::support::{Reply, TestApp, assert_error, next, on_both_backends};

on_both_backends!(
    cursors_walk_every_client_once_in_order,
    cursors_survive_creations_and_deletions_between_pages,
    clients_created_at_the_same_instant_are_paged_by_id,
    malformed_or_altered_cursors_are_400s,
    page_numbers_still_work_and_carry_next,
    total_is_a_cached_count_and_says_so,
    the_audit_trail_pages_by_cursor_too,
);

/// The check of a cursor's text: the first 4 bytes of its SHA-256, in hex.
fn check(text: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(text.as_bytes())[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A cursor of `text` (`LISTING.KEY`), made as the service documents it: base64url of
/// `CHECK.LISTING.KEY`. Spelled out here, so that a change of the format shows in these
/// tests.
fn cursor(text: &str) -> String {
    base64url(&format!("{}.{text}", check(text)))
}

fn base64url(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

async fn create(app: &TestApp, root: &str, name: &str) -> String {
    let reply = app
        .create_client(root, json!({"scopes": ["client:read"], "name": name}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.client_id().to_owned()
}

/// The next page after `cursor`, checked for the envelope of a cursor page.
async fn page_after(app: &TestApp, root: &str, cursor: &str, size: usize) -> Reply {
    let reply = app
        .list_clients(root, &format!("after={cursor}&size={size}"))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["page"], Value::Null, "{}", reply.body);
    assert_eq!(reply.body["size"], size, "{}", reply.body);
    assert!(
        reply.body["total_is_estimate"].is_boolean(),
        "{}",
        reply.body
    );
    assert!(reply.items().len() <= size);
    reply
}

/// Every page of the client listing, from the first (no parameters but `size`) by `next`.
async fn walk(app: &TestApp, root: &str, size: usize) -> Vec<Vec<String>> {
    let first = app.list_clients(root, &format!("size={size}")).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let mut pages = vec![first.item_ids()];
    let mut cursor = next(&first);
    while let Some(after) = cursor {
        let reply = page_after(app, root, &after, size).await;
        assert!(!reply.items().is_empty(), "next led to an empty page");
        pages.push(reply.item_ids());
        cursor = next(&reply);
        assert!(pages.len() < 100, "the walk does not end");
    }
    pages
}

async fn cursors_walk_every_client_once_in_order(app: TestApp) {
    let root = app.root().await;
    let mut created = Vec::new();
    for n in 0..7 {
        created.push(create(&app, &root, &format!("c{n}")).await);
    }
    let pages = walk(&app, &root, 3).await;
    assert_eq!(
        pages.iter().map(Vec::len).collect::<Vec<_>>(),
        [3, 3, 1],
        "{pages:?}"
    );
    assert_eq!(pages.concat(), created);
    // A last page that is exactly full says so too: no `next` leading nowhere.
    let pages = walk(&app, &root, 7).await;
    assert_eq!(pages, [created.clone()]);
    let one = walk(&app, &root, 1).await;
    assert_eq!(one.concat(), created);
}

async fn cursors_survive_creations_and_deletions_between_pages(app: TestApp) {
    let root = app.root().await;
    let mut ids = Vec::new();
    for n in 0..6 {
        ids.push(create(&app, &root, &format!("c{n}")).await);
    }
    let first = app.list_clients(&root, "size=2").await;
    assert_eq!(first.item_ids(), ids[..2]);
    let cursor = next(&first).expect("a second page");

    // The cursor's own client (already seen) and one not seen yet go; one is added.
    for gone in [&ids[1], &ids[2]] {
        let reply = app.delete_client(&root, gone).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    }
    let added = create(&app, &root, "late").await;

    let second = page_after(&app, &root, &cursor, 2).await;
    assert_eq!(second.item_ids(), [ids[3].clone(), ids[4].clone()]);
    let third = page_after(&app, &root, &next(&second).expect("a third page"), 2).await;
    assert_eq!(third.item_ids(), [ids[5].clone(), added.clone()]);
    assert_eq!(next(&third), None, "{}", third.body);
    assert_eq!(third.body["total"], 5, "{}", third.body);
}

async fn clients_created_at_the_same_instant_are_paged_by_id(app: TestApp) {
    let root = app.root().await;
    // As an import may create them: one instant for many clients.
    let ids: Vec<String> = (0..5).map(|n| format!("tie-{n}")).collect();
    let values: Vec<String> = ids
        .iter()
        .rev()
        .map(|id| format!("('{id}', '!none', 1000, 1000, 1000)"))
        .collect();
    app.sql(&format!(
        "INSERT INTO clients (id, secret_hash, created_at, updated_at, tokens_valid_after) \
         VALUES {}",
        values.join(", ")
    ))
    .await;
    let later = create(&app, &root, "later").await;
    let pages = walk(&app, &root, 2).await;
    assert_eq!(pages.concat(), [ids.clone(), vec![later]].concat());
    // A cursor between two ties starts right after the first.
    let reply = page_after(&app, &root, &cursor("client.1000.tie-1"), 2).await;
    assert_eq!(reply.item_ids(), ["tie-2", "tie-3"]);
}

async fn malformed_or_altered_cursors_are_400s(app: TestApp) {
    let root = app.root().await;
    for n in 0..3 {
        create(&app, &root, &format!("c{n}")).await;
    }
    let first = app.list_clients(&root, "size=1").await;
    let good = next(&first).expect("a next page");
    let audit_cursor = cursor("audit.1");
    let refused = [
        String::new(),
        "!!!".into(),
        "%00".into(),
        "A".repeat(300),
        format!("{good}%3D"),
        good[..good.len() / 2].to_owned(),
        // Edited: its text changed (here, the creation time) without its check.
        base64url(&format!("{}.client.2.cid_x", check("client.1.cid_x"))),
        base64url("client.1.cid_x"),
        cursor("client.1.cid_x' OR '1'='1"),
        cursor("client.1.cid/x"),
        cursor("client.1.."),
        cursor("client.NaN.cid_x"),
        cursor("client.+1.cid_x"),
        cursor("client.99999999999999999999.cid_x"),
        cursor("client.1"),
        cursor("{\"created_at\":1}"),
        audit_cursor.clone(),
    ];
    for after in &refused {
        let reply = app.list_clients(&root, &format!("after={after}")).await;
        assert_error(&reply, 400, "invalid_request");
        let text = reply.body.to_string();
        for word in ["ClientKey", "i64", "Option", "diesel", "SQL", "panick"] {
            assert!(!text.contains(word), "{word} in {text}");
        }
    }
    // A client cursor is no cursor of the audit trail either.
    assert_error(
        &app.audit(&root, &format!("after={good}")).await,
        400,
        "invalid_request",
    );
    for query in [
        format!("page=1&after={good}"),
        format!("after={good}&page=2&size=5"),
    ] {
        assert_error(
            &app.list_clients(&root, &query).await,
            400,
            "invalid_request",
        );
    }
    // A cursor is a position, not a secret: one made up (with its check) is simply a place
    // to start (here, before every client).
    let forged = page_after(&app, &root, &cursor("client.-1.a"), 10).await;
    assert_eq!(forged.items().len(), 3);
}

async fn page_numbers_still_work_and_carry_next(app: TestApp) {
    let root = app.root().await;
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(create(&app, &root, &format!("c{n}")).await);
    }
    for page in 1..=3 {
        let reply = app
            .list_clients(&root, &format!("page={page}&size=2"))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.body["page"], page);
        assert_eq!(reply.body["pages"], 3);
        assert_eq!(reply.body["total"], 5);
        assert!(
            reply.body["total_is_estimate"].is_boolean(),
            "{}",
            reply.body
        );
        let from = 2 * (page - 1);
        assert_eq!(reply.item_ids(), ids[from..(from + 2).min(5)]);
        match next(&reply) {
            // Switching to cursors mid-way gives what the next page number would.
            Some(cursor) => {
                let by_cursor = page_after(&app, &root, &cursor, 2).await;
                let by_number = app
                    .list_clients(&root, &format!("page={}&size=2", page + 1))
                    .await;
                assert_eq!(by_cursor.item_ids(), by_number.item_ids());
            }
            None => assert_eq!(page, 3, "{}", reply.body),
        }
    }
    let beyond = app.list_clients(&root, "page=4&size=2").await;
    assert_eq!(beyond.status, StatusCode::OK, "{}", beyond.body);
    assert!(beyond.items().is_empty());
    assert_eq!(next(&beyond), None);
}

async fn total_is_a_cached_count_and_says_so(app: TestApp) {
    let root = app.root().await;
    create(&app, &root, "a").await;
    create(&app, &root, "b").await;
    // A creation by this service makes the next page count again...
    let counted = app.list_clients(&root, "").await;
    assert_eq!(
        (&counted.body["total"], &counted.body["total_is_estimate"]),
        (&json!(2), &json!(false)),
        "{}",
        counted.body
    );
    // ... and the pages after it answer that count for a few seconds, saying so, even
    // when another process (here: SQL behind the service's back) has changed the table.
    app.sql(
        "INSERT INTO clients (id, secret_hash, created_at, updated_at, tokens_valid_after) \
         VALUES ('elsewhere', '!none', 1, 1, 1)",
    )
    .await;
    let cached = app.list_clients(&root, "size=10").await;
    assert_eq!(cached.items().len(), 3, "{}", cached.body);
    assert_eq!(
        (&cached.body["total"], &cached.body["total_is_estimate"]),
        (&json!(2), &json!(true)),
        "{}",
        cached.body
    );
    // Its own deletions count again at once.
    let first = cached.item_ids()[0].clone();
    assert_eq!(first, "elsewhere");
    let gone = cached.item_ids()[1].clone();
    assert_eq!(
        app.delete_client(&root, &gone).await.status,
        StatusCode::NO_CONTENT
    );
    let recounted = app.list_clients(&root, "").await;
    assert_eq!(
        (
            &recounted.body["total"],
            &recounted.body["total_is_estimate"]
        ),
        (&json!(2), &json!(false)),
        "{}",
        recounted.body
    );
    assert_eq!(recounted.body["pages"], 1);
}

async fn the_audit_trail_pages_by_cursor_too(app: TestApp) {
    let root = app.root().await;
    let mut targets = Vec::new();
    for n in 0..5 {
        targets.push(create(&app, &root, &format!("c{n}")).await);
    }
    let first = app.audit(&root, "size=2").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body["total"], 5);
    assert_eq!(first.body["total_is_estimate"], false, "{}", first.body);
    let target = |reply: &Reply| -> Vec<String> {
        reply
            .items()
            .iter()
            .map(|e| e["target"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let mut seen = target(&first);
    let mut following = next(&first);
    while let Some(after) = following {
        let reply = app.audit(&root, &format!("size=2&after={after}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.body["page"], Value::Null);
        seen.extend(target(&reply));
        following = next(&reply);
    }
    assert_eq!(seen, targets);
    // An audited change of this service makes the audit listing count again.
    create(&app, &root, "one more").await;
    let after = app.audit(&root, "size=1").await;
    assert_eq!(
        (&after.body["total"], &after.body["total_is_estimate"]),
        (&json!(6), &json!(false)),
        "{}",
        after.body
    );
    assert_error(
        &app.list_clients(&root, &format!("after={}", cursor("audit.1")))
            .await,
        400,
        "invalid_request",
    );
}

/// Past `EXACT_BELOW` rows (by PostgreSQL's statistics) `total` is the database's estimate,
/// not a count, and says so; cursors work the same.
#[actix_web::test]
async fn a_large_listing_totals_the_database_estimate() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    app.sql(
        "INSERT INTO clients (id, secret_hash, created_at, updated_at, tokens_valid_after) \
         SELECT 'bulk-' || g, '!none', g, g, g FROM generate_series(1, 120000) AS g",
    )
    .await;
    app.sql("VACUUM ANALYZE clients").await;
    create(&app, &root, "one more").await;
    let reply = app.list_clients(&root, "size=1").await;
    assert_eq!(reply.body["total_is_estimate"], true, "{}", reply.body);
    let total = reply.body["total"].as_i64().unwrap();
    assert!((108_000..=132_000).contains(&total), "{}", reply.body);
    assert_eq!(reply.body["pages"], total);
    let middle = page_after(&app, &root, &cursor("client.60000.bulk-60000"), 2).await;
    assert_eq!(middle.item_ids(), ["bulk-60001", "bulk-60002"]);
}
