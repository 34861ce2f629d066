//! `kros-numbers`: the server and the operator CLI in one binary.

use clap::Parser;
use std::process::ExitCode;

/// jemalloc: the dashboard's pages make many small allocations on one thread and free them on
/// another, where glibc's malloc spent a quarter of the page's time. Memory it no longer uses goes
/// back to the system within a second, by its own thread (the server's memory stays flat).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[allow(non_upper_case_globals)]
#[export_name = "_rjem_malloc_conf"]
pub static malloc_conf: &[u8] = b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

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
