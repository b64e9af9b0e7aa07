//! The classifiers' networks in `f64`: dense layers with ReLU between them and a softmax
//! output, their forward pass, the minibatch loss and its gradient by backpropagation.
//!
//! # Parameters
//! θ is one flat vector: for each layer `ℓ` (inputs `n_ℓ`, outputs `o_ℓ`) its weights
//! `W_ℓ` as `n_ℓ × o_ℓ` row-major (input-major, so that a row of inputs scales a row of
//! weights) and then its biases `b_ℓ` (`o_ℓ`). Logistic regression is one layer `784 → 10`
//! (7 850 parameters); the MLP is `784 → H → 10` (`795·H + 10` parameters).
//!
//! # Arithmetic
//! Every sum runs in one fixed order (over the inputs, then over the minibatch's rows, in
//! ascending index), with no fused multiply-add, so that the gradient's bits are a function
//! of θ and the minibatch alone: the same on every machine and for any thread count. A zero
//! input contributes nothing and is skipped (MNIST's pixels are about 80 % zero).

/// A dense layer's place in θ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layer {
    /// Inputs `n`.
    pub inputs: usize,
    /// Outputs `o`.
    pub outputs: usize,
    /// Offset of `W` (`n × o`, row-major) in θ.
    pub weights: usize,
    /// Offset of `b` (`o`) in θ.
    pub biases: usize,
}

/// A network: dense layers, ReLU after every layer but the last, softmax over the last
/// layer's outputs (the logits).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Net {
    layers: Vec<Layer>,
    dim: usize,
}

impl Net {
    /// The network with layer widths `widths` (inputs first, classes last; at least two
    /// entries, each ≥ 1).
    ///
    /// ```
    /// use lpmc::classifier::Net;
    /// assert_eq!(Net::new(&[784, 10]).dim(), 7_850);
    /// assert_eq!(Net::new(&[784, 100, 10]).dim(), 79_510);
    /// ```
    pub fn new(widths: &[usize]) -> Self {
        assert!(widths.len() >= 2 && widths.iter().all(|&w| w > 0));
        let mut layers = Vec::new();
        let mut at = 0;
        for pair in widths.windows(2) {
            let (inputs, outputs) = (pair[0], pair[1]);
            layers.push(Layer {
                inputs,
                outputs,
                weights: at,
                biases: at + inputs * outputs,
            });
            at += inputs * outputs + outputs;
        }
        Net { layers, dim: at }
    }

    /// Number of parameters d = len θ.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The layers, input first.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// Inputs per example.
    pub fn inputs(&self) -> usize {
        self.layers[0].inputs
    }

    /// Classes (outputs of the last layer).
    pub fn classes(&self) -> usize {
        self.layers[self.layers.len() - 1].outputs
    }

    /// The logits of `rows` examples `x` (`rows × inputs`, row-major) under θ into `logits`
    /// (`rows × classes`); `acts` receives every layer's output (after ReLU for hidden
    /// layers), as [`Net::loss_grad`] needs it.
    fn forward_into(&self, theta: &[f64], x: &[f64], rows: usize, acts: &mut Vec<Vec<f64>>) {
        acts.resize(self.layers.len(), Vec::new());
        for (l, layer) in self.layers.iter().enumerate() {
            let (before, rest) = acts.split_at_mut(l);
            let input: &[f64] = if l == 0 { x } else { &before[l - 1] };
            let out = &mut rest[0];
            dense(theta, layer, input, rows, out);
            if l + 1 < self.layers.len() {
                for z in out.iter_mut() {
                    *z = z.max(0.0);
                }
            }
        }
    }

    /// Class probabilities of `rows` examples `x` (`rows × inputs`) under θ, `rows × classes`
    /// (the softmax of the logits, computed as `exp(z − max z)/Σ exp(z − max z)`).
    pub fn probabilities(&self, theta: &[f64], x: &[f64], rows: usize) -> Vec<f64> {
        let mut acts = Vec::new();
        self.forward_into(theta, x, rows, &mut acts);
        let mut p = acts.pop().expect("at least one layer");
        for row in p.chunks_exact_mut(self.classes()) {
            softmax(row);
        }
        p
    }

    /// The mean negative log-likelihood `(1/m)·Σ −log p(y_i | x_i, θ)` of the `m` examples
    /// `x` (`m × inputs`) with labels `y`, and its gradient with respect to θ added to `grad`
    /// (length d) times `scale`.
    ///
    /// Backpropagation: `δ_L = (softmax(z_L) − onehot(y))/m` at the logits; for each layer
    /// `∂W = inputᵀ·δ`, `∂b = Σ_rows δ`, and below a hidden layer `δ ← (δ·Wᵀ) ⊙ [z > 0]`.
    pub fn loss_grad(
        &self,
        theta: &[f64],
        x: &[f64],
        y: &[u8],
        scale: f64,
        grad: &mut [f64],
    ) -> f64 {
        let m = y.len();
        let k = self.classes();
        let mut acts = Vec::new();
        self.forward_into(theta, x, m, &mut acts);
        let mut delta = acts.pop().expect("at least one layer");
        let mut loss = 0.0;
        for (row, &label) in delta.chunks_exact_mut(k).zip(y) {
            let lse = log_sum_exp(row);
            loss += lse - row[label as usize];
            for z in row.iter_mut() {
                *z = (*z - lse).exp();
            }
            row[label as usize] -= 1.0;
            for z in row.iter_mut() {
                *z *= scale / m as f64;
            }
        }
        for l in (0..self.layers.len()).rev() {
            let layer = &self.layers[l];
            let input: &[f64] = if l == 0 { x } else { &acts[l - 1] };
            let (n, o) = (layer.inputs, layer.outputs);
            let (gw, gb) = grad[layer.weights..layer.biases + o].split_at_mut(n * o);
            for (xr, dr) in input.chunks_exact(n).zip(delta.chunks_exact(o)) {
                for (p, &xp) in xr.iter().enumerate() {
                    if xp != 0.0 {
                        for (g, &d) in gw[p * o..(p + 1) * o].iter_mut().zip(dr) {
                            *g += xp * d;
                        }
                    }
                }
                for (g, &d) in gb.iter_mut().zip(dr) {
                    *g += d;
                }
            }
            if l > 0 {
                let w = &theta[layer.weights..layer.biases];
                let below = &acts[l - 1];
                let mut next = vec![0.0; m * n];
                for ((nr, dr), ar) in next
                    .chunks_exact_mut(n)
                    .zip(delta.chunks_exact(o))
                    .zip(below.chunks_exact(n))
                {
                    for p in 0..n {
                        if ar[p] > 0.0 {
                            let wr = &w[p * o..(p + 1) * o];
                            let mut s = 0.0;
                            for (wv, dv) in wr.iter().zip(dr) {
                                s += wv * dv;
                            }
                            nr[p] = s;
                        }
                    }
                }
                delta = next;
            }
        }
        loss / m as f64
    }
}

/// `out = input·W + b` for `rows` rows (`input`: `rows × n`, `out`: `rows × o`).
fn dense(theta: &[f64], layer: &Layer, input: &[f64], rows: usize, out: &mut Vec<f64>) {
    let (n, o) = (layer.inputs, layer.outputs);
    let w = &theta[layer.weights..layer.biases];
    let b = &theta[layer.biases..layer.biases + o];
    out.clear();
    out.resize(rows * o, 0.0);
    for (xr, zr) in input.chunks_exact(n).zip(out.chunks_exact_mut(o)) {
        for (p, &xp) in xr.iter().enumerate() {
            if xp != 0.0 {
                for (z, &wv) in zr.iter_mut().zip(&w[p * o..(p + 1) * o]) {
                    *z += xp * wv;
                }
            }
        }
        for (z, &bv) in zr.iter_mut().zip(b) {
            *z += bv;
        }
    }
}

/// `ln Σ exp(z_k)`, computed as `max z + ln Σ exp(z_k − max z)`.
pub fn log_sum_exp(z: &[f64]) -> f64 {
    let top = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !top.is_finite() {
        return top;
    }
    top + z.iter().map(|&v| (v - top).exp()).sum::<f64>().ln()
}

/// Softmax in place.
fn softmax(z: &mut [f64]) {
    let lse = log_sum_exp(z);
    for v in z.iter_mut() {
        *v = (*v - lse).exp();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lpmc_kernels::noise::box_muller;
    use lpmc_kernels::Xoshiro;

    fn normals(seed: u64, n: usize) -> Vec<f64> {
        let mut out = vec![0.0; n];
        box_muller(&mut Xoshiro::new(seed, 0), &mut out);
        out
    }

    /// The backpropagated gradient equals central finite differences of the loss. With a
    /// step h the central difference errs by O(h²·|∂³L|) plus rounding O(ε·|L|/h); with
    /// h = 1e-5 and |L| ~ 2 both are below 1e-8, and the ReLU kinks are avoided by checking
    /// only coordinates whose perturbation flips no hidden unit (a flip shows up as a jump
    /// far above the tolerance, so it is detected by comparing the one-sided differences).
    #[test]
    fn gradient_matches_finite_differences() {
        for widths in [vec![7, 3], vec![7, 5, 3], vec![4, 6, 5, 3]] {
            let net = Net::new(&widths);
            let d = net.dim();
            let theta: Vec<f64> = normals(1, d).iter().map(|v| 0.5 * v).collect();
            let m = 9;
            let mut x = normals(2, m * widths[0]);
            x[3] = 0.0; // a skipped zero input
            let y: Vec<u8> = (0..m)
                .map(|i| (i % widths[widths.len() - 1]) as u8)
                .collect();
            let mut grad = vec![0.0; d];
            let loss = net.loss_grad(&theta, &x, &y, 1.0, &mut grad);
            let loss_at = |t: &[f64]| net.loss_grad(t, &x, &y, 0.0, &mut vec![0.0; d]);
            assert!((loss - loss_at(&theta)).abs() < 1e-15);
            let h = 1e-5;
            let mut checked = 0;
            for i in 0..d {
                let mut up = theta.clone();
                up[i] += h;
                let mut down = theta.clone();
                down[i] -= h;
                let (lu, ld) = (loss_at(&up), loss_at(&down));
                let (fwd, bwd) = ((lu - loss) / h, (loss - ld) / h);
                if (fwd - bwd).abs() > 1e-3 {
                    continue; // a ReLU kink inside [θ_i − h, θ_i + h]
                }
                let fd = (lu - ld) / (2.0 * h);
                assert!(
                    (fd - grad[i]).abs() < 1e-7,
                    "{widths:?} coordinate {i}: backprop {} vs finite difference {fd}",
                    grad[i]
                );
                checked += 1;
            }
            assert!(checked > d * 9 / 10, "{checked} of {d} checked");
        }
    }

    /// Probabilities are a softmax of the logits: rows sum to 1, and the loss is the mean
    /// of −ln p at the labels.
    #[test]
    fn probabilities_agree_with_the_loss() {
        let net = Net::new(&[5, 4, 3]);
        let theta = normals(3, net.dim());
        let x = normals(4, 6 * 5);
        let y = [0u8, 1, 2, 2, 1, 0];
        let p = net.probabilities(&theta, &x, 6);
        for row in p.chunks_exact(3) {
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
        let nll: f64 = p
            .chunks_exact(3)
            .zip(y)
            .map(|(r, l)| -r[l as usize].ln())
            .sum::<f64>()
            / 6.0;
        let loss = net.loss_grad(&theta, &x, &y, 1.0, &mut vec![0.0; net.dim()]);
        assert!((nll - loss).abs() < 1e-12, "{nll} vs {loss}");
    }
}
