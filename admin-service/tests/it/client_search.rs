//! Client search (`GET /api/v1/oauth/client?q=`): id, name and description, ignoring case,
//! wildcards taken literally, paged by cursor and by number under the search, its total
//! counted up to a cap and kept apart from the whole listing's cached total.

use actix_web::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{Reply, TestApp, assert_error, next, on_both_backends, query};

on_both_backends!(
    a_search_matches_id_name_and_description_ignoring_case,
    wildcards_in_a_search_match_literally,
    a_search_pages_by_cursor_and_by_number,
    bad_searches_are_400s_that_change_nothing,
    a_search_counts_its_matches_up_to_a_cap,
);

/// Creates a client as root with this name and description.
async fn create(app: &TestApp, root: &str, name: &str, description: Option<&str>) -> String {
    let mut body = json!({"scopes": [], "name": name});
    if let Some(description) = description {
        body["description"] = json!(description);
    }
    let reply = app.create_client(root, body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.client_id().to_owned()
}

/// The page that `q` (and the other `pairs`) finds, which must be a 200.
async fn search(app: &TestApp, root: &str, pairs: &[(&str, &str)]) -> Reply {
    let reply = app.list_clients(root, &query(pairs)).await;
    assert_eq!(reply.status, StatusCode::OK, "{pairs:?}: {}", reply.body);
    reply
}

/// The ids `q` finds on one page of 100.
async fn found(app: &TestApp, root: &str, q: &str) -> Vec<String> {
    let reply = search(app, root, &[("q", q), ("size", "100")]).await;
    assert_eq!(next(&reply), None, "{}", reply.body);
    assert_eq!(
        (&reply.body["total"], &reply.body["total_is_estimate"]),
        (&json!(reply.items().len()), &json!(false)),
        "{q}: {}",
        reply.body
    );
    reply.item_ids()
}

async fn a_search_matches_id_name_and_description_ignoring_case(app: TestApp) {
    let root = app.root().await;
    app.sql(
        "INSERT INTO clients (id, secret_hash, created_at, updated_at, tokens_valid_after) \
         VALUES ('svc-Alpha.eu', '!none', 1, 1, 1)",
    )
    .await;
    let payments = create(&app, &root, "Payments API", None).await;
    let billing = create(&app, &root, "billing", Some("charges the PAYMENTS made")).await;
    let other = create(&app, &root, "reports", Some("monthly")).await;
    let accented = create(&app, &root, "Équipe données", None).await;

    assert_eq!(
        found(&app, &root, "payments").await,
        [payments.as_str(), billing.as_str()]
    );
    assert_eq!(
        found(&app, &root, "PayMents api").await,
        [payments.as_str()]
    );
    assert_eq!(found(&app, &root, "alpha.EU").await, ["svc-Alpha.eu"]);
    assert_eq!(found(&app, &root, "MONTH").await, [other.as_str()]);
    // Any part of a generated id finds its client.
    assert_eq!(
        found(&app, &root, &billing[4..20]).await,
        [billing.as_str()]
    );
    assert_eq!(
        found(&app, &root, &billing.to_uppercase()).await,
        [billing.as_str()]
    );
    // Other letters match as they are, on every backend.
    assert_eq!(found(&app, &root, "Équipe").await, [accented.as_str()]);
    assert_eq!(found(&app, &root, "données").await, [accented.as_str()]);
    assert!(found(&app, &root, "nobody has this").await.is_empty());

    // A deleted client is found no more.
    assert_eq!(
        app.delete_client(&root, &billing).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(found(&app, &root, "payments").await, [payments.as_str()]);
}

async fn wildcards_in_a_search_match_literally(app: TestApp) {
    let root = app.root().await;
    let percent = create(&app, &root, "50% off", None).await;
    create(&app, &root, "500 off", None).await;
    let underscore = create(&app, &root, "under_score", None).await;
    create(&app, &root, "underXscore", None).await;
    let backslash = create(&app, &root, r"back\slash", None).await;
    create(&app, &root, "backslash", None).await;
    let quote = create(&app, &root, "it's ours", None).await;

    assert_eq!(found(&app, &root, "0%").await, [percent.as_str()]);
    assert_eq!(found(&app, &root, "%").await, [percent.as_str()]);
    assert_eq!(found(&app, &root, "der_sc").await, [underscore.as_str()]);
    assert_eq!(found(&app, &root, r"k\s").await, [backslash.as_str()]);
    assert_eq!(found(&app, &root, r"\").await, [backslash.as_str()]);
    assert_eq!(found(&app, &root, "'s o").await, [quote.as_str()]);
    assert!(found(&app, &root, "%%").await.is_empty());
    assert!(found(&app, &root, r"\%").await.is_empty());
}

async fn a_search_pages_by_cursor_and_by_number(app: TestApp) {
    let root = app.root().await;
    let mut matching = Vec::new();
    for n in 0..7 {
        matching.push(create(&app, &root, &format!("team-blue {n}"), None).await);
        create(&app, &root, &format!("team-red {n}"), None).await;
    }
    // By cursor: every match once, in order; the last page has no next.
    let first = search(&app, &root, &[("q", "BLUE"), ("size", "3")]).await;
    assert_eq!(
        (&first.body["total"], &first.body["total_is_estimate"]),
        (&json!(7), &json!(false)),
        "{}",
        first.body
    );
    assert_eq!(first.body["pages"], 3);
    let mut pages = vec![first.item_ids()];
    let mut cursor = next(&first);
    while let Some(after) = cursor {
        let page = search(
            &app,
            &root,
            &[("q", "BLUE"), ("size", "3"), ("after", &after)],
        )
        .await;
        assert_eq!(page.body["page"], Value::Null, "{}", page.body);
        assert_eq!(page.body["total"], 7, "{}", page.body);
        pages.push(page.item_ids());
        cursor = next(&page);
        assert!(pages.len() < 10, "the walk does not end");
    }
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 1]);
    assert_eq!(pages.concat(), matching);

    // A cursor stays good while the listing changes under the same search.
    let cursor = next(&first).expect("a second page");
    let late = create(&app, &root, "blue, late", None).await;
    assert_eq!(
        app.delete_client(&root, &matching[3]).await.status,
        StatusCode::NO_CONTENT
    );
    let second = search(
        &app,
        &root,
        &[("q", "blue"), ("size", "3"), ("after", &cursor)],
    )
    .await;
    assert_eq!(
        second.item_ids(),
        [
            matching[4].as_str(),
            matching[5].as_str(),
            matching[6].as_str()
        ]
    );
    let third = search(
        &app,
        &root,
        &[
            ("q", "blue"),
            ("size", "3"),
            ("after", &next(&second).expect("a third page")),
        ],
    )
    .await;
    assert_eq!(third.item_ids(), [late.as_str()]);
    assert_eq!(next(&third), None, "{}", third.body);

    // By number, with next beside it; the last page needs no count.
    let last = search(&app, &root, &[("q", "blue"), ("page", "3"), ("size", "3")]).await;
    assert_eq!(last.item_ids(), [late.as_str()]);
    assert_eq!(
        (
            &last.body["page"],
            &last.body["total"],
            &last.body["total_is_estimate"]
        ),
        (&json!(3), &json!(7), &json!(false)),
        "{}",
        last.body
    );
    assert_eq!(next(&last), None);
    let beyond = search(&app, &root, &[("q", "blue"), ("page", "9"), ("size", "3")]).await;
    assert!(beyond.items().is_empty());
    assert_eq!(beyond.body["total"], 7, "{}", beyond.body);
}

async fn bad_searches_are_400s_that_change_nothing(app: TestApp) {
    let root = app.root().await;
    let id = create(&app, &root, "kept", None).await;
    let before = app.list_clients(&root, "").await;
    let trail = app.audit(&root, "").await.body["total"].clone();
    for bad in [
        "q=".to_owned(),
        query(&[("q", &"x".repeat(129))]),
        query(&[("q", &"é".repeat(129))]),
        "q=%00".into(),
        "q=a%0Ab".into(),
        "q=a&q=b".into(),
        "q=kept&page=1&after=x".into(),
        "q=kept&size=0".into(),
    ] {
        let reply = app.list_clients(&root, &bad).await;
        assert_error(&reply, 400, "invalid_request");
        let text = reply.body.to_string();
        for word in ["SearchText", "Option", "diesel", "SQL", "LIKE", "panick"] {
            assert!(!text.contains(word), "{word} in {text}");
        }
    }
    let described = app.list_clients(&root, "q=").await;
    assert!(
        described.body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("q must be 1 to 128 characters"),
        "{}",
        described.body
    );
    // 128 characters are fine.
    assert!(found(&app, &root, &"é".repeat(128)).await.is_empty());
    assert_eq!(found(&app, &root, "kept").await, [id.as_str()]);
    let after = app.list_clients(&root, "").await;
    assert_eq!(
        (after.item_ids(), &after.body["total"]),
        (before.item_ids(), &before.body["total"])
    );
    // Reads leave no audit event, refused or not.
    assert_eq!(app.audit(&root, "").await.body["total"], trail);
}

async fn a_search_counts_its_matches_up_to_a_cap(app: TestApp) {
    let root = app.root().await;
    app.sql(
        "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 10050) \
         INSERT INTO clients (id, secret_hash, created_at, updated_at, tokens_valid_after) \
         SELECT 'bulk-' || n, '!none', n, n, n FROM g",
    )
    .await;
    create(&app, &root, "one of a kind", None).await;
    let whole = app.list_clients(&root, "size=1").await;
    assert_eq!(
        (&whole.body["total"], &whole.body["total_is_estimate"]),
        (&json!(10_051), &json!(false)),
        "{}",
        whole.body
    );

    // 10,050 match: the count stops at 10,000 and says so.
    let many = search(&app, &root, &[("q", "BULK-"), ("size", "100")]).await;
    assert_eq!(
        (
            &many.body["total"],
            &many.body["total_is_estimate"],
            &many.body["pages"]
        ),
        (&json!(10_000), &json!(true), &json!(100)),
        "{}",
        many.body
    );
    assert_eq!(many.items().len(), 100);
    let deep = search(
        &app,
        &root,
        &[
            ("q", "bulk-"),
            ("size", "2"),
            ("after", &next(&many).expect("more")),
        ],
    )
    .await;
    assert_eq!(deep.item_ids(), ["bulk-101", "bulk-102"]);
    // Fewer matches than the cap are counted exactly, on a page that is not the last.
    let few = search(&app, &root, &[("q", "bulk-999"), ("size", "2")]).await;
    assert_eq!(
        (&few.body["total"], &few.body["total_is_estimate"]),
        (&json!(11), &json!(false)),
        "{}",
        few.body
    );
    assert_eq!(few.item_ids(), ["bulk-999", "bulk-9990"]);
    assert_eq!(found(&app, &root, "of a kind").await.len(), 1);

    // The whole listing's cached total is its own: searches neither fill nor change it.
    app.sql(
        "INSERT INTO clients (id, secret_hash, created_at, updated_at, tokens_valid_after) \
         VALUES ('elsewhere', '!none', 0, 0, 0)",
    )
    .await;
    let cached = app.list_clients(&root, "size=1").await;
    assert_eq!(
        (&cached.body["total"], &cached.body["total_is_estimate"]),
        (&json!(10_051), &json!(true)),
        "{}",
        cached.body
    );
}
