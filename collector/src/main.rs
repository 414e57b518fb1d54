//! `sieve-collector`: start-up only. Parses the command line and hands over to the library.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of glibc's malloc, for the binary only (the library and its tests keep the
/// system allocator). At ingest saturation glibc's malloc and free were ~40% of the HTTP
/// workers' CPU: request bodies, parsed JSON values and clean events are allocated on one
/// worker and freed on another. See BENCHMARKS.md, "Ingest: where the CPU goes".
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = sieve_collector::cli::Cli::parse();
    match sieve_collector::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sieve-collector: {e:#}");
            ExitCode::from(2)
        }
    }
}
