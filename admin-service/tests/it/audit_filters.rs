//! The audit trail's filters (`actor`, `target`, `action`, `outcome`, `since`, `until`):
//! each alone and combined, paged by cursor and by number under them, totals counted up to
//! a cap, and every bad value a 400 naming the parameter.

use actix_web::http::StatusCode;
use auth_core::time::Timestamp;
use serde_json::{Value, json};

use crate::support::{ROOT_ID, Reply, TestApp, assert_error, next, on_both_backends, query};

on_both_backends!(
    each_filter_narrows_the_trail_and_they_combine,
    the_time_range_includes_both_ends,
    filtered_pages_go_on_by_cursor_and_by_number,
    bad_filters_are_400s_that_change_nothing,
    a_filtered_total_is_counted_up_to_a_cap,
);

/// The events the filters `pairs` find, on one page of 100, checked as a whole listing.
async fn found(app: &TestApp, root: &str, pairs: &[(&str, &str)]) -> Vec<Value> {
    let mut pairs = pairs.to_vec();
    pairs.push(("size", "100"));
    let reply = app.audit(root, &query(&pairs)).await;
    assert_eq!(reply.status, StatusCode::OK, "{pairs:?}: {}", reply.body);
    assert_eq!(next(&reply), None, "{}", reply.body);
    assert_eq!(
        (&reply.body["total"], &reply.body["total_is_estimate"]),
        (&json!(reply.items().len()), &json!(false)),
        "{pairs:?}: {}",
        reply.body
    );
    reply.items().clone()
}

/// `(actor, action, target, outcome)` of each event.
fn summaries(events: &[Value]) -> Vec<(String, String, String, String)> {
    events
        .iter()
        .map(|e| {
            let text = |key: &str| e[key].as_str().unwrap_or("-").to_owned();
            (
                text("actor_client_id"),
                text("action"),
                text("target"),
                text("outcome"),
            )
        })
        .collect()
}

fn summary(
    actor: &str,
    action: &str,
    target: &str,
    outcome: &str,
) -> (String, String, String, String) {
    (actor.into(), action.into(), target.into(), outcome.into())
}

async fn each_filter_narrows_the_trail_and_they_combine(app: TestApp) {
    let root = app.root().await;
    let caller = app.new_client(&["client:create", "client:read"]).await;
    let first = app.new_client(&["client:read"]).await.id;
    let created = app
        .create_client(&caller.token, json!(["client:read"]))
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let theirs = created.client_id().to_owned();
    let refused = app
        .create_client(&caller.token, json!(["client:delete"]))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(
        app.delete_client(&root, &first).await.status,
        StatusCode::NO_CONTENT
    );
    let c = caller.id.as_str();

    assert_eq!(
        summaries(&found(&app, &root, &[("actor", c)]).await),
        [
            summary(c, "client.create", &theirs, "success"),
            summary(c, "client.create", "-", "refused"),
        ]
    );
    assert_eq!(
        summaries(&found(&app, &root, &[("target", &first)]).await),
        [
            summary(ROOT_ID, "client.create", &first, "success"),
            summary(ROOT_ID, "client.delete", &first, "success"),
        ]
    );
    assert_eq!(
        summaries(&found(&app, &root, &[("action", "client.delete")]).await),
        [summary(ROOT_ID, "client.delete", &first, "success")]
    );
    assert_eq!(
        summaries(&found(&app, &root, &[("outcome", "refused")]).await),
        [summary(c, "client.create", "-", "refused")]
    );
    // Combined, every filter must match.
    assert_eq!(
        summaries(
            &found(
                &app,
                &root,
                &[("actor", ROOT_ID), ("action", "client.create")]
            )
            .await
        ),
        [
            summary(ROOT_ID, "client.create", c, "success"),
            summary(ROOT_ID, "client.create", &first, "success"),
        ]
    );
    assert_eq!(
        summaries(&found(&app, &root, &[("actor", c), ("outcome", "success")]).await),
        [summary(c, "client.create", &theirs, "success")]
    );
    assert!(
        found(&app, &root, &[("actor", c), ("action", "client.delete")])
            .await
            .is_empty()
    );
    // Exact, not a substring; an actor that never acted has no events.
    assert!(
        found(&app, &root, &[("target", &first[..10])])
            .await
            .is_empty()
    );
    assert!(found(&app, &root, &[("actor", "nobody")]).await.is_empty());
    assert!(
        found(&app, &root, &[("action", "scope.add")])
            .await
            .is_empty()
    );
}

async fn the_time_range_includes_both_ends(app: TestApp) {
    let root = app.root().await;
    for _ in 0..4 {
        app.new_client(&[]).await;
    }
    let all = found(&app, &root, &[]).await;
    assert_eq!(all.len(), 4);
    let at: Vec<&str> = all
        .iter()
        .map(|e| e["occurred_at"].as_str().unwrap())
        .collect();
    let ids =
        |events: Vec<Value>| -> Vec<Value> { events.iter().map(|e| e["id"].clone()).collect() };
    let id = |n: usize| all[n]["id"].clone();

    assert_eq!(
        ids(found(&app, &root, &[("since", at[1])]).await),
        [id(1), id(2), id(3)]
    );
    assert_eq!(
        ids(found(&app, &root, &[("until", at[1])]).await),
        [id(0), id(1)]
    );
    assert_eq!(
        ids(found(&app, &root, &[("since", at[1]), ("until", at[2])]).await),
        [id(1), id(2)]
    );
    assert_eq!(
        ids(found(&app, &root, &[("since", at[3]), ("until", at[3])]).await),
        [id(3)]
    );
    // The same instant in another offset, and without its fraction (earlier, so included).
    let shifted = shift_hours(at[2], 2);
    assert_eq!(
        ids(found(&app, &root, &[("since", &shifted)]).await),
        [id(2), id(3)]
    );
    let whole_second = format!("{}Z", &at[0][..19]);
    assert_eq!(
        found(&app, &root, &[("since", &whole_second)]).await.len(),
        4
    );
    assert!(
        found(&app, &root, &[("until", "2000-01-01T00:00:00Z")])
            .await
            .is_empty()
    );
    assert_eq!(
        found(&app, &root, &[("since", "2000-01-01T00:00:00Z")])
            .await
            .len(),
        4
    );
}

/// The same instant as `at` (RFC 3339 in UTC), written with an offset of `hours` ahead of
/// UTC.
fn shift_hours(at: &str, hours: i64) -> String {
    let instant = Timestamp::parse_rfc3339(at).unwrap();
    let local = Timestamp::from_micros(instant.as_micros() + hours * 3_600_000_000).to_rfc3339();
    format!("{}+{hours:02}:00", local.trim_end_matches('Z'))
}

async fn filtered_pages_go_on_by_cursor_and_by_number(app: TestApp) {
    let root = app.root().await;
    let client = app.new_client(&[]).await.id;
    for n in 0..7 {
        let scopes = if n % 2 == 0 {
            json!(["client:read"])
        } else {
            json!([])
        };
        assert_eq!(
            app.put_scopes(&root, &client, scopes).await.status,
            StatusCode::OK
        );
        app.new_client(&[]).await;
    }
    let filter = [
        ("action", "client.scopes.replace"),
        ("target", client.as_str()),
    ];
    let page = |extra: Vec<(&'static str, String)>| {
        let mut pairs: Vec<(&str, &str)> = filter.to_vec();
        pairs.extend(extra.iter().map(|(k, v)| (*k, v.as_str())));
        let query = query(&pairs);
        let app = &app;
        let root = &root;
        async move {
            let reply = app.audit(root, &query).await;
            assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.body);
            reply
        }
    };
    let first = page(vec![("size", "3".into())]).await;
    assert_eq!(
        (
            &first.body["total"],
            &first.body["total_is_estimate"],
            &first.body["pages"]
        ),
        (&json!(7), &json!(false), &json!(3)),
        "{}",
        first.body
    );
    let mut seen = ids(&first);
    let mut cursor = next(&first);
    while let Some(after) = cursor {
        let reply = page(vec![("size", "3".into()), ("after", after)]).await;
        assert_eq!(reply.body["page"], Value::Null);
        assert_eq!(reply.body["total"], 7, "{}", reply.body);
        seen.extend(ids(&reply));
        cursor = next(&reply);
        assert!(seen.len() <= 7, "the walk does not end");
    }
    let all = found(&app, &root, &filter).await;
    assert_eq!(all.len(), 7);
    assert_eq!(
        seen,
        all.iter()
            .map(|e| e["id"].as_i64().unwrap())
            .collect::<Vec<_>>()
    );
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");

    // Page numbers under the same filters; the last needs no count.
    let last = page(vec![("size", "3".into()), ("page", "3".into())]).await;
    assert_eq!(ids(&last), seen[6..]);
    assert_eq!(
        (&last.body["total"], &last.body["total_is_estimate"]),
        (&json!(7), &json!(false))
    );
    assert_eq!(next(&last), None);
    let second = page(vec![("size", "3".into()), ("page", "2".into())]).await;
    assert_eq!(ids(&second), seen[3..6]);
    let by_cursor = page(vec![
        ("size", "3".into()),
        ("after", next(&second).unwrap()),
    ])
    .await;
    assert_eq!(ids(&by_cursor), ids(&last));
}

fn ids(reply: &Reply) -> Vec<i64> {
    reply
        .items()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect()
}

async fn bad_filters_are_400s_that_change_nothing(app: TestApp) {
    let root = app.root().await;
    app.new_client(&[]).await;
    let before = app.audit(&root, "").await;
    let long_target = "t".repeat(201);
    let long_actor = "a".repeat(129);
    for (bad, named) in [
        ("actor=", "actor"),
        ("actor=a%2Fb", "actor"),
        ("actor=..", "actor"),
        (&*format!("actor={long_actor}"), "actor"),
        ("target=", "target"),
        ("target=a%00b", "target"),
        (&*format!("target={long_target}"), "target"),
        ("action=client", "action"),
        ("action=CLIENT.CREATE", "action"),
        ("action=client.create%20", "action"),
        ("outcome=ok", "outcome"),
        ("outcome=", "outcome"),
        ("since=yesterday", "since"),
        ("since=2026-12-01", "since"),
        ("since=2026-12-01T00:00:00", "since"),
        // An unencoded + is a space in a query string.
        ("since=2026-12-01T00:00:00+01:00", "since"),
        ("until=2026-02-30T00:00:00Z", "until"),
        ("until=2026-12-01T24:00:00Z", "until"),
        (
            "since=2026-12-02T00:00:00Z&until=2026-12-01T23:59:59Z",
            "since",
        ),
        ("action=client.create&action=client.delete", "action"),
        ("actor=root-client&actor=root-client", "actor"),
    ] {
        let reply = app.audit(&root, bad).await;
        assert_error(&reply, 400, "invalid_request");
        let description = reply.body["error_description"].as_str().unwrap();
        assert!(description.starts_with(named), "{bad}: {description}");
        for word in ["ClientId", "Timestamp", "Option", "diesel", "SQL", "panick"] {
            assert!(!description.contains(word), "{word} in {description}");
        }
    }
    // An unknown action is answered with the known ones.
    let reply = app.audit(&root, "action=client").await;
    let description = reply.body["error_description"].as_str().unwrap();
    for known in [
        "client.create",
        "client.scopes.replace",
        "token.revoke",
        "issuer.delete",
    ] {
        assert!(description.contains(known), "{description}");
    }
    let after = app.audit(&root, "").await;
    assert_eq!(after.items(), before.items());
    assert_eq!(after.body["total"], before.body["total"]);
}

async fn a_filtered_total_is_counted_up_to_a_cap(app: TestApp) {
    let root = app.root().await;
    app.sql(
        "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 10020) \
         INSERT INTO audit_events (occurred_at, actor_client_id, action, target, outcome) \
         SELECT n, 'bulk', 'client.create', 'bulk-' || n, \
                CASE WHEN n % 1000 = 0 THEN 'failed' ELSE 'success' END FROM g",
    )
    .await;
    let many = app.audit(&root, "actor=bulk&size=50").await;
    assert_eq!(many.status, StatusCode::OK, "{}", many.body);
    assert_eq!(
        (
            &many.body["total"],
            &many.body["total_is_estimate"],
            &many.body["pages"]
        ),
        (&json!(10_000), &json!(true), &json!(200)),
        "{}",
        many.body
    );
    let deep = app
        .audit(
            &root,
            &format!("actor=bulk&size=2&after={}", next(&many).unwrap()),
        )
        .await;
    let targets: Vec<&str> = deep
        .items()
        .iter()
        .map(|e| e["target"].as_str().unwrap())
        .collect();
    assert_eq!(targets, ["bulk-51", "bulk-52"]);
    let failed = app.audit(&root, "actor=bulk&outcome=failed&size=3").await;
    assert_eq!(
        (&failed.body["total"], &failed.body["total_is_estimate"]),
        (&json!(10), &json!(false)),
        "{}",
        failed.body
    );
    let window = app
        .audit(&root, "actor=bulk&until=1970-01-01T00:00:00.000100Z&size=5")
        .await;
    assert_eq!(window.body["total"], 100, "{}", window.body);
    // The whole trail is counted as before, exactly.
    let whole = app.audit(&root, "size=1").await;
    assert_eq!(
        (&whole.body["total"], &whole.body["total_is_estimate"]),
        (&json!(10_020), &json!(false)),
        "{}",
        whole.body
    );
}
