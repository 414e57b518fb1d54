//! The command line: raw flags here, validated values handed to each command.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use sieve_core::Schema;
use sieve_core::inventory::Inventory;

/// Sieve's collector and auditor tools.
#[derive(Debug, Parser)]
#[command(name = "sieve-collector", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show what the browser would send, and what the collector would store, for raw events
    /// read as JSON lines on stdin. Uses a fixed demonstration key and pepper: needs no server
    /// and no key file.
    Preview {
        /// The schema (tracking plan) file.
        #[arg(long)]
        schema: PathBuf,
    },
    /// Print the data inventory of a schema: every field, its treatment, purpose and retention.
    Audit {
        /// The schema (tracking plan) file.
        #[arg(long)]
        schema: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Markdown)]
        format: Format,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Markdown,
    Json,
}

/// Load and validate a schema file, with every problem listed.
pub fn load_schema(path: &std::path::Path) -> anyhow::Result<Schema> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading schema {}", path.display()))?;
    Schema::from_json(&text).with_context(|| format!("schema {} is not valid", path.display()))
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Preview { schema } => {
            let schema = load_schema(&schema)?;
            eprintln!(
                "sieve-collector preview: pseudonyms use a fixed demonstration key and pepper, not any collector's keys"
            );
            let stdin = std::io::stdin();
            let mut out = std::io::stdout().lock();
            for line in stdin.lock().lines() {
                let line = line.context("reading stdin")?;
                if line.trim().is_empty() {
                    continue;
                }
                let result = crate::preview::preview_line(&schema, &line);
                writeln!(out, "{result}").context("writing stdout")?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { schema, format } => {
            let schema = load_schema(&schema)?;
            let inventory = Inventory::of(&schema);
            let text = match format {
                Format::Markdown => inventory.to_markdown(),
                Format::Json => serde_json::to_string_pretty(&inventory)?,
            };
            println!("{text}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
