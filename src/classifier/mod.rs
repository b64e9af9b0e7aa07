//! Bayesian classifiers on real data: multinomial logistic regression and a one-hidden-layer
//! ReLU MLP on MNIST, sampled by the same SGLD and SGHMC rules as the analytic targets.
//!
//! # The posterior and its units
//! With N training examples `(x_i, y_i)`, pixels scaled to [0, 1], and the prior
//! θ ~ N(0, σ²_p·I), the sampled potential is the **per-datum** loss
//!
//! `U(θ) = (1/N)·Σ_i −ln p(y_i | x_i, θ) + ‖θ‖²/(2σ²_p·N)`,
//!
//! at temperature `T = 1/N`, so that `exp(−U/T)` is the posterior. A step follows the
//! minibatch estimate of `∇U` (the gradient of the mean loss over `m` examples plus
//! `θ/(σ²_p·N)`) and injects noise of variance `2η·T = 2η/N` (SGLD; SGHMC's noise likewise
//! times T): η, u and γ are in the per-datum units of \[S\] and of Chen et al. (2014).
//!
//! # Minibatches
//! Each step draws `m` example indices with replacement from the chain's own stream, one word
//! each, index `⌊word·N/2^64⌋`, between the `lp-f` pre-rounding and the step's own words (as
//! the regression target does). An *epoch* is `⌈N/m⌉` steps.
//!
//! # Initialisation
//! θ₀ is He's: the weights of a layer with `n` inputs are `N(0, 2/n)` (Box–Muller normals of
//! the stream `(seed, 2^64 − 1)`, layer by layer, row-major), the biases 0; logistic
//! regression starts at θ = 0.

pub mod metrics;
pub mod net;

pub use net::Net;

use crate::data::mnist::{Mnist, DEFAULT_DIR};
use crate::error::{Error, Result};
use crate::target::Potential;
use lpmc_kernels::noise::box_muller;
use lpmc_kernels::{WordSource, Xoshiro};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Pixels per MNIST image (28 × 28).
pub const PIXELS: usize = 784;
/// MNIST's classes.
pub const CLASSES: usize = 10;

/// The data set of a classifier target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dataset {
    /// MNIST's 60 000 training and 10 000 test images (`lpmc data fetch mnist`).
    Mnist,
}

/// The model of a classifier target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Model {
    /// Multinomial logistic regression, 784 → 10 softmax with biases.
    Logistic,
    /// 784 → `hidden` → 10, ReLU, with biases.
    Mlp {
        /// Hidden units H ≥ 1 (default 100).
        #[serde(default = "default_hidden")]
        hidden: usize,
    },
}

fn default_hidden() -> usize {
    100
}

/// The `classifier` target of a run config:
/// `{"classifier": {"data": "mnist", "dir": "data/mnist", "model": "logistic"}}` or
/// `"model": {"mlp": {"hidden": 100}}`, with `prior_var`, `minibatch` and `train_size`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifierConfig {
    /// The data set.
    pub data: Dataset,
    /// Directory of the data files (default `data/mnist`, where `lpmc data fetch mnist`
    /// puts them).
    #[serde(default = "default_dir")]
    pub dir: PathBuf,
    /// The model.
    pub model: Model,
    /// Prior variance σ²_p > 0 of every parameter (default 0.01, as in \[S\]).
    #[serde(default = "default_prior_var")]
    pub prior_var: f64,
    /// Minibatch size m, 1..=N (default 100).
    #[serde(default = "default_minibatch")]
    pub minibatch: usize,
    /// Use only the first `train_size` training images (1..=60 000; default all); N is then
    /// `train_size`. The test set is always MNIST's 10 000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_size: Option<usize>,
}

fn default_dir() -> PathBuf {
    PathBuf::from(DEFAULT_DIR)
}
fn default_prior_var() -> f64 {
    0.01
}
fn default_minibatch() -> usize {
    100
}

/// MNIST's training images.
const MNIST_TRAIN: usize = 60_000;

impl ClassifierConfig {
    /// The network of the model.
    pub fn net(&self) -> Net {
        match self.model {
            Model::Logistic => Net::new(&[PIXELS, CLASSES]),
            Model::Mlp { hidden } => Net::new(&[PIXELS, hidden.max(1), CLASSES]),
        }
    }

    /// Training examples N.
    pub fn train_size(&self) -> usize {
        self.train_size.unwrap_or(MNIST_TRAIN)
    }

    /// Steps per epoch, `⌈N/m⌉`.
    pub fn steps_per_epoch(&self) -> u64 {
        self.train_size().div_ceil(self.minibatch.max(1)) as u64
    }

    /// The temperature `1/N` of the per-datum potential.
    pub fn temperature(&self) -> f64 {
        1.0 / self.train_size() as f64
    }

    /// Checks every field that needs no data.
    pub fn validate(&self) -> Result<()> {
        if let Model::Mlp { hidden: 0 } = self.model {
            return Err(Error::param(
                "target.classifier.model.mlp.hidden",
                0,
                "must be at least 1",
            ));
        }
        if !(self.prior_var.is_finite() && self.prior_var > 0.0) {
            return Err(Error::param(
                "target.classifier.prior_var",
                self.prior_var,
                "must be a finite number > 0",
            ));
        }
        let n = self.train_size();
        if n == 0 || n > MNIST_TRAIN {
            return Err(Error::param(
                "target.classifier.train_size",
                n,
                format!("must be in 1..={MNIST_TRAIN} (MNIST's training images)"),
            ));
        }
        if self.minibatch == 0 || self.minibatch > n {
            return Err(Error::param(
                "target.classifier.minibatch",
                self.minibatch,
                format!("must be in 1..={n}, the training examples"),
            ));
        }
        Ok(())
    }

    /// Validates the config, loads the data and builds the classifier.
    pub fn build(&self) -> Result<Classifier> {
        self.validate()?;
        let data = Mnist::load(&self.dir)?;
        let n = self.train_size();
        let images = |i: &crate::data::idx::Idx, n: usize| i.data[..n * PIXELS].to_vec();
        Ok(Classifier {
            net: self.net(),
            train: Examples {
                pixels: images(&data.train_images, n),
                labels: data.train_labels.data[..n].to_vec(),
            },
            test: Examples {
                pixels: images(&data.test_images, data.test_labels.data.len()),
                labels: data.test_labels.data.clone(),
            },
            prior_var: self.prior_var,
            minibatch: self.minibatch,
        })
    }
}

/// Labelled images: pixels as bytes (`n × 784`), labels `0..=9`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Examples {
    /// Pixels 0..=255, row-major, one image per row.
    pub pixels: Vec<u8>,
    /// Labels.
    pub labels: Vec<u8>,
}

impl Examples {
    /// Number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Rows `rows` of the pixels scaled to [0, 1] (`pixel/255`), row-major.
    pub fn scaled(&self, rows: impl Iterator<Item = usize>) -> Vec<f64> {
        let mut out = Vec::new();
        for r in rows {
            out.extend(
                self.pixels[r * PIXELS..(r + 1) * PIXELS]
                    .iter()
                    .map(|&p| f64::from(p) / 255.0),
            );
        }
        out
    }
}

/// A classifier's posterior on its data: the [`Potential`] the samplers step (per-datum
/// units, see the module doc) and the predictions the evaluation scores.
#[derive(Clone, Debug, PartialEq)]
pub struct Classifier {
    net: Net,
    /// The training set (N examples).
    pub train: Examples,
    /// The test set.
    pub test: Examples,
    prior_var: f64,
    minibatch: usize,
}

/// Examples per block of a prediction pass (blocks run in parallel; each row's
/// probabilities do not depend on the blocking).
const PREDICT_BLOCK: usize = 500;

impl Classifier {
    /// The network.
    pub fn net(&self) -> &Net {
        &self.net
    }

    /// He's initial θ₀ (see the module doc): deterministic in `seed`.
    pub fn init(&self, seed: u64) -> Vec<f64> {
        let mut theta = vec![0.0; self.net.dim()];
        if self.net.layers().len() == 1 {
            return theta;
        }
        let mut bits = Xoshiro::new(seed, u64::MAX);
        for layer in self.net.layers() {
            let w = &mut theta[layer.weights..layer.biases];
            box_muller(&mut bits, w);
            let sd = (2.0 / layer.inputs as f64).sqrt();
            for v in w.iter_mut() {
                *v *= sd;
            }
        }
        theta
    }

    /// Class probabilities of every example of `set` under θ (`n × 10`).
    pub fn predict(&self, theta: &[f64], set: &Examples) -> Vec<f64> {
        use rayon::prelude::*;
        let n = set.len();
        let blocks: Vec<Vec<f64>> = (0..n.div_ceil(PREDICT_BLOCK))
            .into_par_iter()
            .map(|b| {
                let rows = b * PREDICT_BLOCK..((b + 1) * PREDICT_BLOCK).min(n);
                let len = rows.len();
                self.net.probabilities(theta, &set.scaled(rows), len)
            })
            .collect();
        blocks.concat()
    }

    /// The prior's part of `∇U`, `θ/(σ²_p·N)`, added to `out`.
    fn add_prior_grad(&self, theta: &[f64], out: &mut [f64]) {
        let c = 1.0 / (self.prior_var * self.train.len() as f64);
        for (g, &t) in out.iter_mut().zip(theta) {
            *g += c * t;
        }
    }
}

impl Potential for Classifier {
    fn dim(&self) -> usize {
        self.net.dim()
    }

    /// The full-data gradient of the per-datum potential.
    fn grad(&self, theta: &[f64], out: &mut [f64]) {
        out.fill(0.0);
        let n = self.train.len();
        let scale_of = |rows: usize| rows as f64 / n as f64;
        for start in (0..n).step_by(PREDICT_BLOCK) {
            let rows = start..(start + PREDICT_BLOCK).min(n);
            let len = rows.len();
            let x = self.train.scaled(rows.clone());
            self.net
                .loss_grad(theta, &x, &self.train.labels[rows], scale_of(len), out);
        }
        self.add_prior_grad(theta, out);
    }

    /// The minibatch gradient: `m` indices drawn with replacement (one word each, index
    /// `⌊word·N/2^64⌋`), the mean loss's gradient over them plus the prior's part.
    fn stochastic_grad(&self, theta: &[f64], bits: &mut dyn WordSource, out: &mut [f64]) {
        let n = self.train.len() as u128;
        let mut words = vec![0u64; self.minibatch];
        bits.fill(&mut words);
        let idx: Vec<usize> = words
            .iter()
            .map(|&w| ((w as u128 * n) >> 64) as usize)
            .collect();
        let x = self.train.scaled(idx.iter().copied());
        let y: Vec<u8> = idx.iter().map(|&i| self.train.labels[i]).collect();
        out.fill(0.0);
        self.net.loss_grad(theta, &x, &y, 1.0, out);
        self.add_prior_grad(theta, out);
    }
}
