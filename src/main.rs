//! `kros-numbers`: the server and the operator CLI in one binary.

use clap::Parser;
use std::process::ExitCode;

// The profiles of `make bench` had the system allocator at a fifth of the server's CPU time under
// load (every request allocates its rows, JSON and buffers on many threads); mimalloc's
// thread-local free lists make that far cheaper.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = kros_numbers::cli::Cli::parse();
    kros_numbers::cli::init_tracing();
    match kros_numbers::cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", err);
            ExitCode::FAILURE
        }
    }
}
