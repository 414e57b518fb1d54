//! `sieve-collector`: start-up only. Parses the command line and hands over to the library.

use std::process::ExitCode;

use clap::Parser;

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
