//! Writes one figure of each kind of `lpmc::plot` into a directory (default `plot-gallery/`),
//! to look at: `cargo run --example plot_gallery -- DIR`.

use lpmc::plot::{
    write_heatmap, write_histogram, write_histogram_panels, write_lines, Band, Heatmap, Histogram,
    LinePlot, Series,
};
use lpmc_kernels::{WordSource, Xoshiro};
use std::path::PathBuf;

/// Box–Muller standard normals from stream 0 of `seed`.
fn normals(n: usize, seed: u64) -> Vec<f64> {
    let mut bits = Xoshiro::new(seed, 0);
    let mut unif = || (bits.next_word() >> 11) as f64 * 2f64.powi(-53);
    (0..n)
        .map(|_| {
            let (u, v) = (unif(), unif());
            (-2.0 * (1.0 - u).ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
        })
        .collect()
}

fn main() -> lpmc::Result<()> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or("plot-gallery".into()));
    let pdf = |x: f64| (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let grid: Vec<(f64, f64)> = (0..=400)
        .map(|i| -5.0 + 0.025 * i as f64)
        .map(|x| (x, pdf(x)))
        .collect();
    let target = Series::new("target N(0, 1)", grid);
    let d = 1.0 / 16.0;
    let q = |s: Vec<f64>, sd: f64| {
        s.iter()
            .map(|x| (x * sd / d).round() * d)
            .collect::<Vec<_>>()
    };
    let a = q(normals(200_000, 1), 1.0);
    let b = q(normals(200_000, 2), 1.28);
    let c = q(normals(200_000, 3), 0.9);
    write_histogram(
        &dir.join("histogram"),
        &Histogram {
            curves: vec![target.clone()],
            lattice: Some(d),
            ..Histogram::new("SGLDLP-L on N(0,1), WL=8, FL=4", "x (parameter value)", &a)
        },
    )?;
    let panel = |t: &str, s| Histogram {
        curves: vec![target.clone()],
        lattice: Some(d),
        ..Histogram::new(t, "x (parameter value)", s)
    };
    write_histogram_panels(
        &dir.join("panels"),
        "Fig. 1: samples on N(0,1), 8-bit fixed point (FL=4)",
        &[
            panel("SGHMCLP-L", &a),
            panel("SGLDLP-L", &b),
            panel("VC SGLDLP-L", &c),
        ],
    )?;
    let it: Vec<f64> = (0..=12).map(|k| 10f64.powf(k as f64 / 2.0)).collect();
    write_lines(
        &dir.join("convergence"),
        &LinePlot {
            title: "Fig. 3: L2 distance of the density estimate vs iterations".into(),
            x_label: "iterations".into(),
            y_label: "L2 distance".into(),
            log_x: true,
            log_y: true,
            series: vec![
                Series::new(
                    "SGHMCLP-L",
                    it.iter().map(|&t| (t, 2.0 / t.sqrt() + 0.08)).collect(),
                ),
                Series::new(
                    "VC SGHMCLP-L",
                    it.iter().map(|&t| (t, 2.0 / t.sqrt() + 0.04)).collect(),
                ),
                Series::new(
                    "SGLDLP-F",
                    it.iter().map(|&t| (t, 3.0 / t.sqrt() + 0.07)).collect(),
                ),
            ],
            bands: vec![Band {
                label: "SGHMCLP-L 95% band (5 runs)".into(),
                points: it
                    .iter()
                    .map(|&t| (t, 1.7 / t.sqrt() + 0.07, 2.3 / t.sqrt() + 0.09))
                    .collect(),
            }],
            points_only: vec![Series::new(
                "paper end values",
                vec![(1e6, 0.08), (1e6, 0.04)],
            )],
        },
    )?;
    let v: Vec<f64> = (0..=17).map(|i| i as f64 * 5.0).collect();
    write_lines(
        &dir.join("ratio"),
        &LinePlot {
            title: "Fig. 4: W2(VC) / W2(naive) vs noise variance".into(),
            x_label: "Var_x / (Δ²/4)".into(),
            y_label: "W2 ratio (VC / naive)".into(),
            series: vec![Series::new(
                "mean of 5 runs",
                v.iter().map(|&x| (x, 0.6 + 0.3 * x / 85.0)).collect(),
            )],
            bands: vec![Band {
                label: "95% interval".into(),
                points: v
                    .iter()
                    .map(|&x| (x, 0.55 + 0.3 * x / 85.0, 0.65 + 0.3 * x / 85.0))
                    .collect(),
            }],
            points_only: vec![Series::new(
                "runs",
                v.iter().map(|&x| (x, 0.62 + 0.3 * x / 85.0)).collect(),
            )],
            ..Default::default()
        },
    )?;
    let xs: Vec<f64> = (4..=12).map(f64::from).collect();
    let ys: Vec<f64> = (2..=8).map(f64::from).collect();
    let mut values: Vec<Vec<f64>> = ys
        .iter()
        .map(|&fl| {
            xs.iter()
                .map(|&wl| 2f64.powf(-fl) + 2f64.powf(fl - wl + 1.0) * 0.01)
                .collect()
        })
        .collect();
    values[6][0] = f64::NAN;
    write_heatmap(
        &dir.join("heatmap"),
        &Heatmap {
            title: "W2 of SGLDLP-L over the (WL, FL) sweep".into(),
            x_label: "WL (bits)".into(),
            y_label: "FL (bits)".into(),
            xs,
            ys,
            values,
            value_label: "W2".into(),
            log_color: true,
        },
    )?;
    println!("wrote figures to {}", dir.display());
    Ok(())
}
