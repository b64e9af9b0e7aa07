//! `lpmc run` on a classifier target: one chain over the network's parameters, minibatch
//! steps, and the predictions scored every epoch.
//!
//! Kept steps are as for every run (after `burn_in`, every `thin`-th). Each kept sample's
//! class probabilities on the training and test sets are added to the Bayesian model
//! average (BMA, the mean of the kept samples' probabilities); at the end of every epoch the
//! BMA so far and the last sample are scored. Outputs in the run directory, each written
//! atomically and `result.json` last:
//! - `curves.csv`: one row per epoch, `epoch,step,kept,` then `train_nll,test_accuracy,
//!   test_nll,ece` of the BMA (`bma_…`, empty before the first kept sample) and of the last
//!   sample (`last_…`);
//! - `curves.svg`/`.png` (training NLL and test error per epoch) and `reliability.svg`/`.png`
//!   (the BMA's test accuracy against confidence in [`ECE_BINS`] bins);
//! - `result.json`: `metrics.test_accuracy`, `test_nll`, `ece`, `train_nll` of the BMA, the
//!   same under `last_sample`, the reliability bins, the run's counts and timing.
//!
//! Cost: a step is the minibatch's forward and backward pass (about `6·m·d·ρ` flops, ρ the
//! fraction of nonzero pixels, ≈ 0.2); scoring a sample is a forward pass over all 70 000
//! images, about as much as `70 000/(3·m)` steps (≈ 230 steps at m = 100), once per epoch
//! and once per kept sample, so `thin` of an epoch or more keeps it a small part of the run.

use super::config::RunConfig;
use super::memory;
use super::run::{Bar, MemoryUse, RunOptions};
use crate::classifier::metrics::{reliability, score, Bin, Scores, ECE_BINS};
use crate::classifier::{Classifier, ClassifierConfig, CLASSES};
use crate::error::{Error, Result};
use crate::experiment::chains::Progress;
use crate::output::{write_atomic_with, write_json};
use crate::plot::{write_lines, LinePlot, Series};
use crate::sampler::Engine;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::time::Instant;

/// `result.json` of a classifier run.
#[derive(Clone, Debug, Serialize)]
pub struct ClassifyResult {
    /// Version of lpmc that produced the file.
    pub lpmc_version: String,
    /// Seed of the run.
    pub seed: u64,
    /// The full resolved config.
    pub config: RunConfig,
    /// What was measured.
    pub metrics: ClassifyMetrics,
    /// The formats `config.formats` holds that were derived rather than given.
    pub derived_formats: Vec<String>,
    /// The memory the run used.
    pub memory: MemoryUse,
}

/// The `metrics` of a classifier run's `result.json`.
#[derive(Clone, Debug, Serialize)]
pub struct ClassifyMetrics {
    /// Test accuracy of the BMA over the kept samples, in [0, 1].
    pub test_accuracy: f64,
    /// Test NLL of the BMA, nats per example.
    pub test_nll: f64,
    /// Expected calibration error of the BMA on the test set ([`ECE_BINS`] bins).
    pub ece: f64,
    /// Training NLL of the BMA, nats per example.
    pub train_nll: f64,
    /// The same scores of the last sample.
    pub last_sample: SampleScores,
    /// The BMA's reliability diagram on the test set.
    pub reliability: Vec<Bin>,
    /// Kept samples in the BMA.
    pub kept_samples: u64,
    /// Parameters d of the model.
    pub parameters: usize,
    /// Steps per epoch, `⌈N/minibatch⌉`.
    pub steps_per_epoch: u64,
    /// Epochs run (`steps/steps_per_epoch`).
    pub epochs: f64,
    /// Overflow events of every rounding.
    pub saturations: u64,
    /// The same per quantity.
    pub saturations_by_quantity: BTreeMap<String, u64>,
    /// Steps per second (sampling and scoring).
    pub steps_per_s: f64,
    /// Wall-clock seconds of the run (sampling and scoring).
    pub wall_s: f64,
}

/// Scores of one predictor on the training and test sets.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct SampleScores {
    /// Test accuracy.
    pub test_accuracy: f64,
    /// Test NLL.
    pub test_nll: f64,
    /// Test ECE.
    pub ece: f64,
    /// Training NLL.
    pub train_nll: f64,
}

impl SampleScores {
    fn of(train: Scores, test: Scores) -> Self {
        SampleScores {
            test_accuracy: test.accuracy,
            test_nll: test.nll,
            ece: test.ece,
            train_nll: train.nll,
        }
    }
}

/// One row of `curves.csv`.
#[derive(Clone, Copy, Debug)]
struct Row {
    epoch: f64,
    step: u64,
    kept: u64,
    bma: Option<SampleScores>,
    last: SampleScores,
}

/// The running Bayesian model average: the sum of the kept samples' probabilities.
struct Average {
    train: Vec<f64>,
    test: Vec<f64>,
    count: u64,
}

impl Average {
    fn add(&mut self, train: &[f64], test: &[f64]) {
        for (s, p) in self.train.iter_mut().zip(train) {
            *s += p;
        }
        for (s, p) in self.test.iter_mut().zip(test) {
            *s += p;
        }
        self.count += 1;
    }

    /// The mean probabilities (train, test).
    fn mean(&self) -> (Vec<f64>, Vec<f64>) {
        let k = self.count as f64;
        (
            self.train.iter().map(|s| s / k).collect(),
            self.test.iter().map(|s| s / k).collect(),
        )
    }
}

/// Runs `config` (its target a classifier, `c`) and writes the outputs to `opts.out`.
/// Everything is validated and the data loaded before anything is written.
pub fn run(config: &RunConfig, c: &ClassifierConfig, opts: &RunOptions) -> Result<ClassifyResult> {
    let mut config = config.clone();
    if let Some(s) = opts.seed {
        config.seed = s;
    }
    if opts.threads == Some(0) {
        return Err(Error::param("--threads", 0, "must be at least 1"));
    }
    if config.chains != 1 {
        return Err(Error::param(
            "chains",
            config.chains,
            "a classifier target runs one chain (its kept samples form the model average)",
        ));
    }
    if config.steps == 0 {
        return Err(Error::param("steps", 0, "must be at least 1"));
    }
    if config.thin == 0 {
        return Err(Error::param("thin", 0, "must be at least 1"));
    }
    if config.burn_in >= config.steps {
        return Err(Error::param(
            "burn_in",
            config.burn_in,
            format!("must be less than steps = {}", config.steps),
        ));
    }
    c.validate()?;
    let d = c.net().dim();
    if let Some(x) = &config.x0 {
        if x.len() != d {
            return Err(Error::Config(format!(
                "dimension mismatch: x0 has {} entries but the classifier has {d} parameters",
                x.len()
            )));
        }
        crate::target::check_finite("x0", x)?;
    }
    config.check_constants()?;
    let sampler = config.build_sampler(d)?;
    let classifier = c.build()?;
    let work =
        || -> Result<ClassifyResult> { sample(&config, c, &classifier, sampler.as_ref(), opts) };
    match opts.threads {
        Some(t) => rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .map_err(|e| Error::Config(format!("cannot start {t} threads: {e}")))?
            .install(work),
        None => work(),
    }
}

/// The chain, the scoring and the outputs.
fn sample(
    config: &RunConfig,
    c: &ClassifierConfig,
    classifier: &Classifier,
    sampler: &dyn crate::sampler::Sampler,
    opts: &RunOptions,
) -> Result<ClassifyResult> {
    crate::output::remove_if_present(&opts.out.join("result.json"))?;
    crate::output::remove_stale_temporaries(&opts.out);
    let start = Instant::now();
    let x0 = match &config.x0 {
        Some(x) => x.clone(),
        None => classifier.init(config.seed),
    };
    let mut st = sampler.init(&x0)?;
    let mut bits = config.source.stream(config.seed, 0)?;
    let engine = Engine::new(sampler, classifier)?;
    let mut scratch = crate::sampler::Scratch::default();
    let per_epoch = c.steps_per_epoch();
    let kept_at = |t: u64| t > config.burn_in && (t - config.burn_in).is_multiple_of(config.thin);
    let (n_train, n_test) = (classifier.train.len(), classifier.test.len());
    let mut avg = Average {
        train: vec![0.0; n_train * CLASSES],
        test: vec![0.0; n_test * CLASSES],
        count: 0,
    };
    let mut rows = Vec::new();
    let bar = Bar::new(config.steps, opts.progress);
    let mut t = 0u64;
    let mut theta = vec![0.0; sampler.dim()];
    while t < config.steps {
        // The next step that is kept or ends an epoch (or the run).
        let next_kept = if t < config.burn_in {
            config.burn_in + config.thin
        } else {
            t + config.thin - (t - config.burn_in) % config.thin
        };
        let next_epoch = (t / per_epoch + 1) * per_epoch;
        let to = next_kept.min(next_epoch).min(config.steps);
        engine.run_with(&mut st, &mut bits, to - t, &mut scratch);
        bar.add(to - t);
        t = to;
        for (i, v) in theta.iter_mut().enumerate() {
            *v = st.x.value(i);
        }
        if !theta.iter().all(|v| v.is_finite()) {
            return Err(Error::Config(format!(
                "the chain diverged at step {t}: a parameter is not finite (lower eta)"
            )));
        }
        let epoch_end = t.is_multiple_of(per_epoch) || t == config.steps;
        if !(kept_at(t) || epoch_end) {
            continue;
        }
        let train = classifier.predict(&theta, &classifier.train);
        let test = classifier.predict(&theta, &classifier.test);
        if kept_at(t) {
            avg.add(&train, &test);
        }
        if epoch_end {
            let last = SampleScores::of(
                score(&train, CLASSES, &classifier.train.labels),
                score(&test, CLASSES, &classifier.test.labels),
            );
            let bma = (avg.count > 0).then(|| {
                let (tr, te) = avg.mean();
                SampleScores::of(
                    score(&tr, CLASSES, &classifier.train.labels),
                    score(&te, CLASSES, &classifier.test.labels),
                )
            });
            rows.push(Row {
                epoch: t as f64 / per_epoch as f64,
                step: t,
                kept: avg.count,
                bma,
                last,
            });
        }
    }
    bar.bar.finish_and_clear();
    let wall_s = start.elapsed().as_secs_f64();
    let last_row = *rows.last().expect("the last step ends an epoch row");
    let bma = last_row
        .bma
        .expect("burn_in < steps, so at least one sample is kept");
    let (_, test_mean) = avg.mean();
    let ev = st.events;
    let metrics = ClassifyMetrics {
        test_accuracy: bma.test_accuracy,
        test_nll: bma.test_nll,
        ece: bma.ece,
        train_nll: bma.train_nll,
        last_sample: last_row.last,
        reliability: reliability(&test_mean, CLASSES, &classifier.test.labels),
        kept_samples: avg.count,
        parameters: sampler.dim(),
        steps_per_epoch: per_epoch,
        epochs: config.steps as f64 / per_epoch as f64,
        saturations: ev.total(),
        saturations_by_quantity: [
            ("param", ev.param),
            ("momentum", ev.momentum),
            ("grad", ev.grad),
            ("accum", ev.accum),
            ("noise", ev.noise),
        ]
        .into_iter()
        .map(|(k, n)| (k.to_string(), n))
        .collect(),
        steps_per_s: config.steps as f64 / wall_s,
        wall_s,
    };
    write_atomic_with(&opts.out.join("curves.csv"), |w| write_curves(w, &rows))?;
    write_lines(&opts.out.join("curves"), &curves_plot(c, &rows))?;
    write_lines(
        &opts.out.join("reliability"),
        &reliability_plot(&metrics.reliability),
    )?;
    let result = ClassifyResult {
        lpmc_version: env!("CARGO_PKG_VERSION").to_string(),
        seed: config.seed,
        config: config.resolved(),
        metrics,
        derived_formats: config
            .derived_formats()
            .into_iter()
            .map(String::from)
            .collect(),
        memory: MemoryUse {
            estimate: 0,
            peak_resident: memory::peak_resident(),
        },
    };
    write_json(&opts.out.join("result.json"), &result)?;
    Ok(result)
}

/// `curves.csv`.
fn write_curves(w: &mut dyn Write, rows: &[Row]) -> std::io::Result<()> {
    let cols = "train_nll,test_accuracy,test_nll,ece";
    let with = |p: &str| {
        cols.split(',')
            .map(|c| format!("{p}_{c}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    writeln!(w, "epoch,step,kept,{},{}", with("bma"), with("last"))?;
    let cells = |s: &SampleScores| {
        format!(
            "{},{},{},{}",
            s.train_nll, s.test_accuracy, s.test_nll, s.ece
        )
    };
    for r in rows {
        let bma = r.bma.as_ref().map_or(",,,".to_string(), cells);
        writeln!(
            w,
            "{},{},{},{bma},{}",
            r.epoch,
            r.step,
            r.kept,
            cells(&r.last)
        )?;
    }
    Ok(())
}

/// Training NLL and test error against epochs, of the BMA and of the last sample.
fn curves_plot(c: &ClassifierConfig, rows: &[Row]) -> LinePlot {
    let pick = |f: fn(&SampleScores) -> f64, bma: bool| -> Vec<(f64, f64)> {
        rows.iter()
            .filter_map(|r| {
                let s = if bma { r.bma.as_ref()? } else { &r.last };
                Some((r.epoch, f(s)))
            })
            .collect()
    };
    let model = match c.model {
        crate::classifier::Model::Logistic => "logistic regression".to_string(),
        crate::classifier::Model::Mlp { hidden } => format!("MLP 784-{hidden}-10"),
    };
    LinePlot {
        title: format!("{model} on MNIST: training NLL and test error"),
        x_label: "epoch".into(),
        y_label: "nats per example / error rate".into(),
        log_y: true,
        series: vec![
            Series::new("training NLL (BMA)", pick(|s| s.train_nll, true)),
            Series::new("training NLL (last sample)", pick(|s| s.train_nll, false)),
            Series::new("test error (BMA)", pick(|s| 1.0 - s.test_accuracy, true)),
            Series::new(
                "test error (last sample)",
                pick(|s| 1.0 - s.test_accuracy, false),
            ),
        ],
        ..LinePlot::default()
    }
}

/// Accuracy against confidence per bin, beside the diagonal of perfect calibration.
fn reliability_plot(bins: &[Bin]) -> LinePlot {
    let width = 1.0 / ECE_BINS as f64;
    LinePlot {
        title: "Reliability of the model average (test set)".into(),
        x_label: "confidence (top probability)".into(),
        y_label: "accuracy".into(),
        series: vec![
            Series::new("perfect calibration", vec![(0.0, 0.0), (1.0, 1.0)]),
            Series::new(
                "accuracy per bin",
                bins.iter()
                    .filter(|b| b.count > 0)
                    .map(|b| (b.lo + width / 2.0, b.accuracy))
                    .collect(),
            ),
        ],
        ..LinePlot::default()
    }
}
