//! The `lpmc` command line: parses, calls `lpmc::experiment`, prints. Bad input exits with
//! code 2 and one `error:` line on stderr.

use clap::{Parser, Subcommand};
use lpmc::experiment::config::RunConfig;
use lpmc::experiment::round::{explore, RoundSettings};
use lpmc::experiment::run::RunOptions;
use lpmc::{Error, Format, Overflow, Rounding, Source};
use std::process::ExitCode;

/// Bit-accurate fixed-point simulation of low-precision SGLD/SGHMC sampling.
#[derive(Parser)]
#[command(name = "lpmc", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show what a rounding does to one value: neighbours, P(up), mean, variance, bias.
    ///
    /// Prints one JSON object. Stochastic modes are measured over N roundings drawn from
    /// stream 0 of SEED and compared with their closed forms; deterministic modes report
    /// their single result.
    #[command(allow_negative_numbers = true)]
    Round {
        /// Word length in bits, sign included (2..=64).
        #[arg(long)]
        wl: i64,
        /// Fraction length in bits (0..=62); Δ = 2^-FL.
        #[arg(long)]
        fl: i64,
        /// nearest-even, nearest-away, floor, toward-zero, sr, sr:R or src:R (R in 0..=32).
        #[arg(long, default_value = "sr")]
        rounding: String,
        /// The value to round (finite).
        #[arg(long)]
        value: f64,
        /// Number of roundings to measure (≥ 1).
        #[arg(long, default_value_t = 1_000_000)]
        n: u64,
        /// Seed of the random stream.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Overflow rule: saturate or wrap.
        #[arg(long, default_value = "saturate")]
        overflow: String,
        /// Random-bit source: xoshiro, lfsr, lfsr:WIDTH or lfsr:WIDTH:0xTAPS.
        #[arg(long, default_value = "xoshiro")]
        source: String,
    },
    /// Run the chains of a config (JSON, or TOML by extension) and write DIR/result.json and
    /// DIR/samples.csv.
    Run {
        /// The config file (fields: docs/config.md).
        config: std::path::PathBuf,
        /// Output directory.
        #[arg(long, default_value = "results")]
        out: std::path::PathBuf,
        /// Seed overriding the config's.
        #[arg(long)]
        seed: Option<u64>,
        /// Worker threads (default: one per core); results do not depend on it.
        #[arg(long)]
        threads: Option<usize>,
    },
}

fn run(cli: Cli) -> Result<(), Error> {
    match cli.command {
        Command::Round {
            wl,
            fl,
            rounding,
            value,
            n,
            seed,
            overflow,
            source,
        } => {
            let overflow: Overflow = overflow.parse()?;
            let settings = RoundSettings {
                format: Format::from_i64(wl, fl)?.with_overflow(overflow),
                rounding: rounding.parse::<Rounding>()?,
                value,
                n,
                seed,
                source: source.parse::<Source>()?,
            };
            let report = explore(&settings)?;
            println!(
                "{}",
                serde_json::to_string_pretty(&report).expect("report serializes")
            );
            Ok(())
        }
        Command::Run {
            config,
            out,
            seed,
            threads,
        } => {
            let cfg = RunConfig::load(&config)?;
            let opts = RunOptions {
                out,
                seed,
                threads,
                progress: true,
            };
            let r = lpmc::experiment::run::run(&cfg, &opts)?;
            let m = &r.metrics;
            println!(
                "mean {:?} var {:?} ({} kept samples, {} saturations, {:.3} s, {:.3e} steps/s) -> {}",
                m.mean,
                m.var,
                m.kept_samples,
                m.saturations,
                m.wall_s,
                m.steps_per_s,
                opts.out.join("result.json").display()
            );
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version go to stdout with exit code 0.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // One line: clap's first line already starts with "error:".
            let text = e.render().to_string();
            eprintln!("{}", text.lines().next().unwrap_or("error: bad arguments"));
            return ExitCode::from(2);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
