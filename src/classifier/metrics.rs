//! Scores of class probabilities against labels: accuracy, negative log-likelihood and the
//! expected calibration error, with the reliability diagram's bins.

use serde::Serialize;

/// Bins of the expected calibration error and the reliability diagram.
pub const ECE_BINS: usize = 15;

/// Scores of predicted probabilities on a labelled set.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Scores {
    /// Fraction of examples whose most probable class (the first on ties) is the label, in
    /// [0, 1].
    pub accuracy: f64,
    /// Mean negative log-likelihood `(1/n)·Σ −ln p(y_i)`, nats per example (a probability
    /// below `f64::MIN_POSITIVE` counts as that, so that the mean stays finite).
    pub nll: f64,
    /// Expected calibration error over [`ECE_BINS`] equal-width confidence bins:
    /// `Σ_b (n_b/n)·|acc_b − conf_b|`, confidence = the top probability, in [0, 1].
    pub ece: f64,
}

/// One confidence bin of the reliability diagram.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Bin {
    /// Lower edge of the bin's confidence range `[lo, lo + 1/ECE_BINS)` (the last bin
    /// includes 1).
    pub lo: f64,
    /// Examples whose confidence falls in the bin.
    pub count: u64,
    /// Their mean confidence (NaN when empty).
    pub confidence: f64,
    /// Their accuracy (NaN when empty).
    pub accuracy: f64,
}

/// The most probable class of a row of probabilities (the first on ties) and its
/// probability.
fn top(row: &[f64]) -> (usize, f64) {
    let mut best = (0, row[0]);
    for (k, &p) in row.iter().enumerate().skip(1) {
        if p > best.1 {
            best = (k, p);
        }
    }
    best
}

/// The reliability diagram's bins of probabilities `probs` (`n × classes`, rows of class
/// probabilities) against `labels`.
pub fn reliability(probs: &[f64], classes: usize, labels: &[u8]) -> Vec<Bin> {
    let mut count = [0u64; ECE_BINS];
    let mut conf = [0.0f64; ECE_BINS];
    let mut hits = [0u64; ECE_BINS];
    for (row, &y) in probs.chunks_exact(classes).zip(labels) {
        let (k, p) = top(row);
        let b = ((p * ECE_BINS as f64) as usize).min(ECE_BINS - 1);
        count[b] += 1;
        conf[b] += p;
        hits[b] += u64::from(k == y as usize);
    }
    (0..ECE_BINS)
        .map(|b| Bin {
            lo: b as f64 / ECE_BINS as f64,
            count: count[b],
            confidence: conf[b] / count[b] as f64,
            accuracy: hits[b] as f64 / count[b] as f64,
        })
        .collect()
}

/// Accuracy, NLL and ECE of `probs` (`n × classes`) against `labels` (n ≥ 1).
///
/// ```
/// use lpmc::classifier::metrics::score;
/// // Two examples, two classes: one right with 0.9, one wrong with 0.6.
/// let s = score(&[0.9, 0.1, 0.6, 0.4], 2, &[0, 1]);
/// assert_eq!(s.accuracy, 0.5);
/// assert!((s.nll - (-(0.9f64.ln()) - 0.4f64.ln()) / 2.0).abs() < 1e-15);
/// // Bin of 0.9: accuracy 1, confidence 0.9; bin of 0.6: accuracy 0, confidence 0.6.
/// assert!((s.ece - (0.5 * 0.1 + 0.5 * 0.6)).abs() < 1e-15);
/// ```
pub fn score(probs: &[f64], classes: usize, labels: &[u8]) -> Scores {
    let n = labels.len();
    assert!(n > 0 && probs.len() == n * classes);
    let mut hits = 0u64;
    let mut nll = 0.0;
    for (row, &y) in probs.chunks_exact(classes).zip(labels) {
        hits += u64::from(top(row).0 == y as usize);
        nll -= row[y as usize].max(f64::MIN_POSITIVE).ln();
    }
    let ece = reliability(probs, classes, labels)
        .iter()
        .filter(|b| b.count > 0)
        .map(|b| b.count as f64 / n as f64 * (b.accuracy - b.confidence).abs())
        .sum();
    Scores {
        accuracy: hits as f64 / n as f64,
        nll: nll / n as f64,
        ece,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A perfectly calibrated predictor has ECE 0 up to its binning: examples predicted
    /// with confidence p are right a fraction p of the time, with p at each bin's centre.
    #[test]
    fn calibrated_predictions_have_zero_ece() {
        let mut probs = Vec::new();
        let mut labels = Vec::new();
        // In bin b (centre c = (b + ½)/15; bins 8..14, above ½ as 2 classes need), 30
        // examples at confidence c of which exactly c·30 = 2b + 1 are right.
        for b in 8..14 {
            let c = (2 * b + 1) as f64 / 30.0;
            for i in 0..30 {
                probs.extend([c, 1.0 - c]);
                labels.push(if i < 2 * b + 1 { 0 } else { 1 });
            }
        }
        let s = score(&probs, 2, &labels);
        assert!(s.ece < 1e-12, "{}", s.ece);
        // Overconfident by 0.05 everywhere (each confidence moves to the next bin, 1.25/15
        // above its lower edge, and stays ≤ 0.95): ECE 0.05.
        let sharper: Vec<f64> = probs
            .chunks_exact(2)
            .flat_map(|r| [r[0] + 0.05, r[1] - 0.05])
            .collect();
        let t = score(&sharper, 2, &labels);
        assert!((t.ece - 0.05).abs() < 1e-12, "{}", t.ece);
    }
}
