//! OpenAPI pieces both services' documents share (feature `openapi`).

use utoipa::Modify;
use utoipa::openapi::path::{HttpMethod, Operation, OperationBuilder};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr};

/// An error answer whose body is the `ErrorBody` schema (`{"error", "error_description"}`),
/// which each service's document defines.
pub fn error_response(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .into()
}

/// Adds the health routes every service mounts (`auth_core::service`) to its document.
pub struct HealthPaths;

impl Modify for HealthPaths {
    fn modify(&self, openapi: &mut OpenApi) {
        let get = |summary: &str, responses: &[(&str, &str)]| {
            let mut operation = OperationBuilder::new().tag("health").summary(Some(summary));
            for (status, description) in responses {
                operation = operation.response(
                    *status,
                    ResponseBuilder::new().description(*description).build(),
                );
            }
            operation.build()
        };
        let mut add = |path: &str, operation: Operation| {
            openapi
                .paths
                .add_path_operation(path, vec![HttpMethod::Get], operation);
        };
        add(
            "/health/live",
            get("The process answers.", &[("200", "alive")]),
        );
        add(
            "/health/ready",
            get(
                "Each dependency and its state: ready when the database answers and the keys \
                 tokens are verified with are loaded; Redis is reported.",
                &[("200", "ready"), ("503", "not ready")],
            ),
        );
    }
}
