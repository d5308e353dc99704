//! The OpenAPI description states the constraints the token endpoints enforce, so a client
//! (or a fuzzer) can rely on it: the form bodies, their enums and patterns, and every status.

use actix_web::http::StatusCode;
use auth_core::ids::CLIENT_ID_PATTERN;
use auth_core::scopes::SCOPE_LIST_PATTERN;
use auth_core::testing::Backend;
use serde_json::{Value, json};

use crate::support::{ROOT_ID, ROOT_SECRET, TestApp};

const FORM: &str = "application/x-www-form-urlencoded";

/// The form schema of an operation's request body, resolved.
fn form<'a>(doc: &'a Value, operation: &Value) -> &'a Value {
    assert_eq!(operation["requestBody"]["required"], true);
    let reference = operation["requestBody"]["content"][FORM]["schema"]["$ref"]
        .as_str()
        .expect("a form schema");
    let name = reference.trim_start_matches("#/components/schemas/");
    &doc["components"]["schemas"][name]
}

#[actix_web::test]
async fn openapi_states_the_form_constraints() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let reply = app.get("/openapi.json").await;
    assert_eq!(reply.status, StatusCode::OK);
    let doc = &reply.body;
    let op = |path: &str| &doc["paths"][path]["post"];

    // Client authentication: form credentials, Basic, or (documented) nothing.
    assert_eq!(
        doc["components"]["securitySchemes"]["basic"]["scheme"],
        "basic"
    );
    for path in [
        "/api/v1/oauth/token",
        "/api/v1/oauth/revoke",
        "/api/v1/oauth/introspect",
    ] {
        let operation = op(path);
        assert_eq!(operation["security"], json!([{}, {"basic": []}]), "{path}");
        for status in ["400", "401", "413", "429", "503"] {
            assert_eq!(
                operation["responses"][status]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorBody",
                "{path} {status}"
            );
        }
        assert!(operation["responses"]["200"].is_object(), "{path}");
        let body = form(doc, operation);
        assert_eq!(body["maxProperties"], 32, "{path}");
        // Empty parameters count as omitted (RFC 6749 §3.1), so they are allowed.
        let properties = &body["properties"];
        assert_eq!(
            properties["client_id"]["pattern"],
            format!("^$|{CLIENT_ID_PATTERN}"),
            "{path}"
        );
        assert_eq!(properties["client_id"]["maxLength"], 128, "{path}");
        assert_eq!(properties["client_secret"]["maxLength"], 71, "{path}");
        assert_eq!(properties["client_secret"]["type"], "string", "{path}");
    }

    let token = form(doc, op("/api/v1/oauth/token"));
    assert_eq!(token["required"], json!(["grant_type"]));
    assert_eq!(
        token["properties"]["grant_type"]["enum"],
        json!(["client_credentials"])
    );
    assert_eq!(
        token["properties"]["scope"]["pattern"],
        format!("^$|{SCOPE_LIST_PATTERN}")
    );

    // Revocation and introspection: the token (required) and an optional hint.
    for path in ["/api/v1/oauth/revoke", "/api/v1/oauth/introspect"] {
        let body = form(doc, op(path));
        assert_eq!(body["required"], json!(["token"]), "{path}");
        assert_eq!(body["properties"]["token"]["minLength"], 1, "{path}");
        assert_eq!(
            body["properties"]["token_type_hint"]["type"], "string",
            "{path}"
        );
    }

    // The token response: `scope` is optional (omitted without scopes), never null.
    let response = &doc["components"]["schemas"]["TokenResponse"];
    assert_eq!(
        response["required"],
        json!(["access_token", "token_type", "expires_in"])
    );
    assert_eq!(response["properties"]["scope"]["type"], "string");
    assert!(
        doc["paths"]["/.well-known/oauth-authorization-server"]["get"]["responses"]["503"]
            .is_object()
    );

    // What the description allows is accepted: empty parameters are omitted ones.
    let reply = app
        .token_basic(
            ROOT_ID,
            ROOT_SECRET,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", ""),
                ("client_secret", ""),
                ("scope", ""),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}
