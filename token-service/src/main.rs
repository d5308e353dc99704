//! token-service binary: load config, start logging, bind, serve
//! (`auth_core::service::main`, as admin-service does).

use std::process::ExitCode;

use token_service::AppState;

#[actix_web::main]
async fn main() -> ExitCode {
    auth_core::service::main::<AppState>().await
}
