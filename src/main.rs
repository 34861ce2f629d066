//! `kros-numbers`: the server and the operator CLI in one binary.

use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = kros_numbers::cli::Cli::parse();
    kros_numbers::cli::init_tracing();
    match kros_numbers::cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", err.chain());
            ExitCode::FAILURE
        }
    }
}
