//! The OpenAPI description: generated from the handlers, it lists every admin endpoint and
//! states the constraints the service enforces, so a client (or a fuzzer) can rely on it.

use actix_web::http::{Method, StatusCode};
use admin_service::listing::cursor::{CURSOR_PATTERN, MAX_CURSOR_LEN};
use auth_core::ids::CLIENT_ID_PATTERN;
use auth_core::scopes::{DEFAULT_SCOPES, SCOPE_PATTERN};
use auth_core::testing::Backend;
use auth_core::testing::http::openapi_paths;
use serde_json::{Value, json};

use crate::support::TestApp;

#[actix_web::test]
async fn openapi_describes_every_endpoint_with_bearer_security() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let reply = app.request(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let doc = &reply.body;
    assert_eq!(
        openapi_paths(doc),
        [
            "/api/v1/oauth/audit",
            "/api/v1/oauth/client",
            "/api/v1/oauth/client/{id}",
            "/api/v1/oauth/client/{id}/identities",
            "/api/v1/oauth/client/{id}/keys",
            "/api/v1/oauth/client/{id}/limits",
            "/api/v1/oauth/client/{id}/revoke",
            "/api/v1/oauth/client/{id}/scope",
            "/api/v1/oauth/client/{id}/secret",
            "/api/v1/oauth/issuer",
            "/api/v1/oauth/issuer/{id}",
            "/api/v1/oauth/revocation",
            "/api/v1/oauth/scope",
            "/api/v1/oauth/scope/{name}",
            "/health/live",
            "/health/ready",
        ]
    );
    let client = &doc["paths"]["/api/v1/oauth/client"];
    for method in ["get", "post"] {
        assert!(
            client[method]["security"][0]["bearer"].is_array(),
            "{method} needs a bearer token"
        );
        assert!(client[method]["responses"]["401"].is_object());
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    for schema in [
        "CreatedClient",
        "ClientView",
        "ErrorBody",
        "RotatedSecret",
        "AuditEntry",
        "LimitsBody",
        "LimitsView",
        "IssuerBody",
        "IssuerView",
        "KeysBody",
        "IdentityBody",
        "IdentityView",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
}

/// `schema`, or the component it refers to.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("unexpected reference {reference}"));
            assert!(doc["components"]["schemas"][name].is_object(), "{name}");
            &doc["components"]["schemas"][name]
        }
        None => schema,
    }
}

fn json_body<'a>(doc: &'a Value, operation: &'a Value) -> &'a Value {
    resolve(
        doc,
        &operation["requestBody"]["content"]["application/json"]["schema"],
    )
}

/// The constraints a fuzzer reads from the description are the ones the service enforces:
/// bodies, bounds, patterns and every status an endpoint answers.
#[actix_web::test]
async fn openapi_states_the_constraints_the_service_enforces() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    assert_eq!(
        app.add_scope(&root, "reports:read").await.status,
        StatusCode::CREATED
    );
    let doc = app
        .request(Method::GET, "/openapi.json", None, None)
        .await
        .body;
    let paths = doc["paths"].as_object().unwrap();

    for (path, item) in paths.iter().filter(|(p, _)| p.starts_with("/api/")) {
        for (method, operation) in item.as_object().unwrap() {
            let at = format!("{method} {path}");
            assert!(operation["security"][0]["bearer"].is_array(), "{at}");
            let mut statuses = vec!["401", "403", "503"];
            if operation.get("requestBody").is_some() {
                statuses.extend(["400", "413", "415"]);
                assert!(
                    operation["requestBody"]["content"]["application/json"]["schema"].is_object(),
                    "{at}: a request body without a schema"
                );
            }
            for status in statuses {
                let schema = &operation["responses"][status]["content"]["application/json"]["schema"]
                    ["$ref"];
                assert_eq!(schema, "#/components/schemas/ErrorBody", "{at} {status}");
            }
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let schema = &parameter["schema"];
                match parameter["name"].as_str().unwrap() {
                    "id" => {
                        assert_eq!(schema["pattern"], CLIENT_ID_PATTERN, "{at}");
                        assert_eq!(schema["maxLength"], 128, "{at}");
                        assert_eq!(parameter["required"], true, "{at}");
                    }
                    "name" => assert_eq!(schema["pattern"], SCOPE_PATTERN, "{at}"),
                    "page" => {
                        assert_eq!(schema["type"], "integer", "{at}");
                        assert_eq!(
                            (&schema["minimum"], &schema["maximum"]),
                            (&json!(1), &json!(1_000_000)),
                            "{at}"
                        );
                        assert_eq!(parameter["required"], false, "{at}");
                    }
                    "size" => {
                        assert_eq!(
                            (&schema["minimum"], &schema["maximum"]),
                            (&json!(1), &json!(100)),
                            "{at}"
                        );
                        assert_eq!(parameter["required"], false, "{at}");
                    }
                    "after" => {
                        assert_eq!(schema["pattern"], CURSOR_PATTERN, "{at}");
                        assert_eq!(schema["maxLength"], MAX_CURSOR_LEN, "{at}");
                        assert_eq!(parameter["required"], false, "{at}");
                    }
                    "q" | "target" => {
                        assert_eq!(schema["minLength"], 1, "{at}");
                        let max = if parameter["name"] == "q" { 128 } else { 200 };
                        assert_eq!(schema["maxLength"], max, "{at}");
                        let pattern =
                            regex::Regex::new(schema["pattern"].as_str().unwrap()).unwrap();
                        assert!(pattern.is_match("50% é_x"), "{at}");
                        assert!(!pattern.is_match("a\u{0}b"), "{at}");
                        assert!(!pattern.is_match("a\nb"), "{at}");
                        assert_eq!(parameter["required"], false, "{at}");
                    }
                    "actor" => {
                        assert_eq!(schema["pattern"], CLIENT_ID_PATTERN, "{at}");
                        assert_eq!(schema["maxLength"], 128, "{at}");
                    }
                    "action" => {
                        let actions = schema["enum"].as_array().unwrap();
                        assert!(actions.contains(&json!("client.scopes.replace")), "{at}");
                        assert!(actions.contains(&json!("client.import")), "{at}");
                    }
                    "outcome" => {
                        assert_eq!(
                            schema["enum"],
                            json!(["success", "refused", "failed"]),
                            "{at}"
                        )
                    }
                    "since" | "until" => assert_eq!(schema["format"], "date-time", "{at}"),
                    other => panic!("{at}: undocumented parameter {other}"),
                }
            }
        }
    }
    for (path, method, filters) in [
        ("/api/v1/oauth/client", "get", 1),
        ("/api/v1/oauth/audit", "get", 6),
    ] {
        assert_eq!(
            doc["paths"][path][method]["parameters"]
                .as_array()
                .unwrap()
                .len(),
            3 + filters
        );
        let page = &doc["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"];
        let page = resolve(&doc, page);
        for field in ["next", "total_is_estimate", "total", "page", "pages"] {
            assert!(
                page["properties"][field].is_object(),
                "{path}: {field} in {page}"
            );
        }
    }

    // The registry, as it is now, is the set of scopes a body may name.
    let mut registry: Vec<&str> = DEFAULT_SCOPES.to_vec();
    registry.push("reports:read");
    let registered = &doc["components"]["schemas"]["RegisteredScope"];
    assert_eq!(registered["enum"], json!(registry));
    assert_eq!(registered["pattern"], SCOPE_PATTERN);
    let scope_list =
        json!({"type": "array", "items": {"$ref": "#/components/schemas/RegisteredScope"}});

    // POST client: no body, an array, or an object without other members.
    let create = &doc["paths"]["/api/v1/oauth/client"]["post"];
    assert_eq!(create["requestBody"]["required"], false);
    let body = json_body(&doc, create);
    assert_eq!(body["oneOf"][0], scope_list);
    let object = &body["oneOf"][1];
    assert_eq!(object["type"], "object");
    assert_eq!(object["additionalProperties"], false);
    assert!(
        object.get("required").is_none(),
        "every member is optional: {object}"
    );
    assert_eq!(object["properties"]["scopes"], scope_list);
    assert_eq!(object["properties"]["name"]["maxLength"], 200);
    assert_eq!(object["properties"]["description"]["maxLength"], 2000);
    assert!(create["responses"]["422"].is_object());

    // PUT a client's scopes: an array or {"scopes"}, required.
    let put = &doc["paths"]["/api/v1/oauth/client/{id}/scope"]["put"];
    assert_eq!(put["requestBody"]["required"], true);
    let body = json_body(&doc, put);
    assert_eq!(body["oneOf"][0], scope_list);
    assert_eq!(body["oneOf"][1]["required"], json!(["scopes"]));
    assert_eq!(body["oneOf"][1]["additionalProperties"], false);
    for status in ["404", "422"] {
        assert!(put["responses"][status].is_object(), "{status}");
    }

    // A custom scope: {"name"}, any well-formed name.
    let add = &doc["paths"]["/api/v1/oauth/scope"]["post"];
    let body = json_body(&doc, add);
    assert_eq!(body["required"], json!(["name"]));
    assert_eq!(body["additionalProperties"], false);
    assert_eq!(body["properties"]["name"]["pattern"], SCOPE_PATTERN);
    assert_eq!(body["properties"]["name"]["maxLength"], 128);
    assert!(doc["paths"]["/api/v1/oauth/scope/{name}"]["delete"]["responses"]["409"].is_object());

    // Rotation: no body, or a bounded grace period.
    let rotate = &doc["paths"]["/api/v1/oauth/client/{id}/secret"]["post"];
    assert_eq!(rotate["requestBody"]["required"], false);
    let grace = &json_body(&doc, rotate)["properties"]["grace_period_seconds"];
    assert_eq!(grace["type"], "integer");
    assert_eq!(
        (&grace["minimum"], &grace["maximum"]),
        (&json!(0), &json!(604_800))
    );

    // Revocation: {"token"} or {"jti", "client_id"}, which may overlap.
    let revoke = &doc["paths"]["/api/v1/oauth/revocation"]["post"];
    assert_eq!(revoke["requestBody"]["required"], true);
    let body = json_body(&doc, revoke);
    assert_eq!(body["anyOf"][0]["required"], json!(["token"]));
    assert_eq!(body["anyOf"][1]["required"], json!(["jti", "client_id"]));
    assert_eq!(
        body["anyOf"][1]["properties"]["client_id"]["pattern"],
        CLIENT_ID_PATTERN
    );

    // One client: a stored one, or the root client.
    let one = resolve(
        &doc,
        &doc["paths"]["/api/v1/oauth/client/{id}"]["get"]["responses"]["200"]["content"]["application/json"]
            ["schema"],
    );
    assert_eq!(one["oneOf"].as_array().unwrap().len(), 2);
}
