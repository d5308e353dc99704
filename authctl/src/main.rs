//! `authctl`: parses the command line, runs the command, exits with its code (see
//! `authctl::error`).

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = authctl::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("authctl: cannot start: {error}");
            return ExitCode::from(3);
        }
    };
    match runtime.block_on(authctl::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("authctl: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}
