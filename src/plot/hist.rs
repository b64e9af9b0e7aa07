//! Histograms of samples normalised to a density, with analytic curves (e.g. the target
//! density) overlaid; single figures and side-by-side panels. Samples on a fixed-point lattice
//! get bins aligned to the grid so codes don't alias into uneven bins.

use super::{
    chart, color, de, fmt_num, footnotes, padded, render, title_area, titled, with_legend, Figure,
    LegendEntry, Series, Swatch, DESC_PX,
};
use crate::error::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// A histogram of `samples`, drawn as a density (area = fraction of the finite samples inside
/// the range) with `curves` overlaid in the same units (1 / x unit).
///
/// Build it with a struct literal and `..Default::default()`, or with [`Histogram::new`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Histogram<'a> {
    /// Figure (or panel) title.
    pub title: String,
    /// x-axis description with its unit; the y axis is "density (1 / x unit)".
    pub x_label: String,
    /// The samples; NaN and ±∞ are dropped (and counted in a footnote).
    pub samples: &'a [f64],
    /// Number of bins, 1..=100000; 0 = automatic (Rice rule 2·n^(1/3), clamped to 5..=100,
    /// or with a lattice one bin per code up to 200 codes, else about 100 bins).
    pub bins: usize,
    /// The binned x range `(lo, hi)`, `lo < hi`, both finite; `None` = the samples' range
    /// (the axis then also spans the curves). Samples outside are counted in a footnote.
    pub range: Option<(f64, f64)>,
    /// Curves in density units, e.g. the target density on a grid.
    pub curves: Vec<Series>,
    /// Grid step Δ > 0 of samples on a fixed-point lattice (values `k·Δ`): bin edges then lie
    /// at half-codes `(k − ½)·Δ` and every bin holds the same whole number of codes.
    pub lattice: Option<f64>,
}

impl<'a> Histogram<'a> {
    /// A histogram with automatic bins and range, no curves and no lattice.
    pub fn new(title: impl Into<String>, x_label: impl Into<String>, samples: &'a [f64]) -> Self {
        Histogram {
            title: title.into(),
            x_label: x_label.into(),
            samples,
            ..Default::default()
        }
    }
}

/// The binned samples of a [`Histogram`], as [`histogram_density`] computes them.
#[derive(Clone, Debug, PartialEq)]
pub struct Binned {
    /// Bin edges in x units, increasing, one more than the bins.
    pub edges: Vec<f64>,
    /// Samples per bin.
    pub counts: Vec<u64>,
    /// Density per bin, `count / (finite · width)` in 1 / x unit.
    pub density: Vec<f64>,
    /// Number of finite samples (the normaliser, including those outside the range).
    pub finite: usize,
    /// Number of NaN or infinite samples dropped.
    pub non_finite: usize,
    /// Finite samples outside the binned range.
    pub outside: usize,
    /// With a lattice: lattice codes per bin (≥ 1).
    pub codes_per_bin: Option<u64>,
}

/// Largest number of bins accepted.
const MAX_BINS: usize = 100_000;
/// Automatic bin count bounds without a lattice.
const AUTO_BINS: (usize, usize) = (5, 100);
/// With a lattice and automatic bins, ranges of up to this many codes get one bin per code.
const AUTO_CODES: f64 = 200.0;

/// Bins the finite samples of `h`: see [`Histogram`] for the rules. Errors when no sample is
/// finite, or `bins`, `range` or `lattice` are out of their allowed ranges.
pub fn histogram_density(h: &Histogram) -> Result<Binned> {
    let bad = |what: &str, value: String, allowed: &str| {
        Error::Plot(format!(
            "histogram {:?}: {what} = {value} is invalid: {allowed}",
            h.title
        ))
    };
    if h.bins > MAX_BINS {
        return Err(bad(
            "bins",
            h.bins.to_string(),
            "allowed 0 (automatic) ..= 100000",
        ));
    }
    if let Some((a, b)) = h.range {
        if !(a.is_finite() && b.is_finite() && a < b) {
            return Err(bad("range", format!("({a}, {b})"), "needs finite lo < hi"));
        }
    }
    let (mut lo, mut hi, mut finite) = (f64::INFINITY, f64::NEG_INFINITY, 0usize);
    for &x in h.samples.iter().filter(|x| x.is_finite()) {
        lo = lo.min(x);
        hi = hi.max(x);
        finite += 1;
    }
    let non_finite = h.samples.len() - finite;
    if finite == 0 {
        return Err(Error::Plot(format!(
            "histogram {:?} has no finite sample ({} given, {non_finite} NaN or infinite)",
            h.title,
            h.samples.len()
        )));
    }
    let (a, b) = h.range.unwrap_or((lo, hi));
    if !(b - a).is_finite() {
        return Err(bad(
            "range",
            format!("[{a}, {b}]"),
            "its width overflows f64 (too wide to bin)",
        ));
    }
    let (edges, codes_per_bin) = match h.lattice {
        Some(d) => {
            if !(d.is_finite() && d > 0.0) {
                return Err(bad("lattice Δ", d.to_string(), "needs a finite Δ > 0"));
            }
            // Codes whose value k·Δ lies in [a, b]; a range inside one cell keeps its nearest code.
            let (ka, kb) = ((a / d).ceil(), (b / d).floor());
            if ka.abs().max(kb.abs()) > 2f64.powi(52) {
                return Err(bad(
                    "lattice Δ",
                    d.to_string(),
                    &format!("too small for the range [{a}, {b}] (over 2^52 codes)"),
                ));
            }
            let (ka, kb) = if ka > kb {
                let k = ((a + b) / 2.0 / d).round();
                (k, k)
            } else {
                (ka, kb)
            };
            let codes = kb - ka + 1.0;
            let m = match h.bins {
                0 if codes <= AUTO_CODES => 1.0,
                0 => (codes / AUTO_BINS.1 as f64).ceil(),
                n => (codes / n as f64).ceil(),
            };
            let nb = (codes / m).ceil() as usize;
            let edges = (0..=nb).map(|j| (ka - 0.5 + j as f64 * m) * d).collect();
            (edges, Some(m as u64))
        }
        None => {
            let (a, b) = if b > a {
                (a, b)
            } else {
                padded(a, b, 0.0, 0.5)
            };
            let nb = match h.bins {
                0 => {
                    ((2.0 * (finite as f64).cbrt()).ceil() as usize).clamp(AUTO_BINS.0, AUTO_BINS.1)
                }
                n => n,
            };
            let w = (b - a) / nb as f64;
            let mut edges: Vec<f64> = (0..=nb).map(|j| a + j as f64 * w).collect();
            edges[nb] = b;
            (edges, None)
        }
    };
    let nb = edges.len() - 1;
    let (e0, en) = (edges[0], edges[nb]);
    let w = (en - e0) / nb as f64;
    let mut counts = vec![0u64; nb];
    let mut outside = 0usize;
    for &x in h.samples.iter().filter(|x| x.is_finite()) {
        if x < e0 || x > en {
            outside += 1;
        } else {
            // Bin j holds [e0 + j·w, e0 + (j+1)·w); the top edge belongs to the last bin.
            let j = (((x - e0) / w) as usize).min(nb - 1);
            counts[j] += 1;
        }
    }
    let density = counts
        .iter()
        .zip(edges.windows(2))
        .map(|(&c, e)| c as f64 / (finite as f64 * (e[1] - e[0])))
        .collect();
    Ok(Binned {
        edges,
        counts,
        density,
        finite,
        non_finite,
        outside,
        codes_per_bin,
    })
}

/// A validated histogram panel ready to draw.
struct Panel<'a> {
    h: &'a Histogram<'a>,
    bins: Binned,
    curves: Vec<Vec<(f64, f64)>>,
    xr: (f64, f64),
    yr: (f64, f64),
    notes: Vec<String>,
}

impl<'a> Panel<'a> {
    fn new(h: &'a Histogram<'a>) -> Result<Self> {
        let bins = histogram_density(h)?;
        let (mut x0, mut x1) = (bins.edges[0], *bins.edges.last().unwrap_or(&1.0));
        let mut y1 = bins.density.iter().cloned().fold(0.0, f64::max);
        let mut y0 = 0f64;
        let mut dropped = 0usize;
        let (r0, r1) = (x0, x1);
        let curves: Vec<Vec<(f64, f64)>> = h
            .curves
            .iter()
            .map(|c| {
                c.points
                    .iter()
                    .filter(|(x, y)| {
                        let ok = x.is_finite() && y.is_finite();
                        dropped += usize::from(!ok);
                        // With an explicit range, curves are clipped to it.
                        ok && (h.range.is_none() || (r0..=r1).contains(x))
                    })
                    .copied()
                    .collect()
            })
            .collect();
        for &(x, y) in curves.iter().flatten() {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
        if y1 <= y0 {
            y1 = y0 + 1.0;
        }
        let mut notes = Vec::new();
        if bins.non_finite > 0 {
            notes.push(format!(
                "{} NaN or infinite sample(s) dropped",
                bins.non_finite
            ));
        }
        if bins.outside > 0 {
            notes.push(format!(
                "{} sample(s) outside [{}, {}] not shown (density still divides by all {})",
                bins.outside,
                fmt_num(r0, 4),
                fmt_num(r1, 4),
                bins.finite
            ));
        }
        if h.lattice.is_none() && h.range.is_none() && h.samples.iter().any(|x| x.is_finite()) {
            let (lo, hi) = h
                .samples
                .iter()
                .filter(|x| x.is_finite())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                    (a.min(x), b.max(x))
                });
            if lo == hi {
                notes.push(format!("all finite samples equal {}", fmt_num(lo, 6)));
            }
        }
        if dropped > 0 {
            notes.push(format!(
                "{dropped} curve point(s) with NaN or infinite values not shown"
            ));
        }
        let xr = (x0 - 0.02 * (x1 - x0), x1 + 0.02 * (x1 - x0));
        let yr = (y0 - 0.02 * (y1 - y0), y1 + 0.06 * (y1 - y0));
        Ok(Panel {
            h,
            bins,
            curves,
            xr,
            yr,
            notes,
        })
    }

    fn legend(&self) -> Vec<LegendEntry> {
        let b = &self.bins;
        let how = match (b.codes_per_bin, self.h.lattice) {
            (Some(1), Some(d)) => format!("1 bin per code, Δ = {}", fmt_num(d, 6)),
            (Some(m), Some(d)) => format!("{m} codes per bin, Δ = {}", fmt_num(d, 6)),
            _ => format!("{} bins", b.counts.len()),
        };
        let mut v = vec![LegendEntry {
            label: format!("samples (n = {}, {how})", b.finite),
            swatch: Swatch::Bar(color(0)),
        }];
        for (i, c) in self.h.curves.iter().enumerate() {
            if !c.label.is_empty() {
                v.push(LegendEntry {
                    label: c.label.clone(),
                    swatch: Swatch::Line(color(i + 1)),
                });
            }
        }
        v
    }

    /// Draws the bars and curves into `area` (axes included) at text scale `scale`.
    fn draw_chart<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        scale: f64,
    ) -> Result<(), String> {
        let mut ch = chart(
            area,
            self.xr,
            self.yr,
            &self.h.x_label,
            "density (1 / x unit)",
            false,
            false,
            scale,
        )?;
        let fill = color(0).mix(0.45).filled();
        let outline = self.bins.counts.len() <= 80;
        for (e, &d) in self.bins.edges.windows(2).zip(&self.bins.density) {
            if d > 0.0 {
                ch.draw_series(std::iter::once(Rectangle::new(
                    [(e[0], 0.0), (e[1], d)],
                    fill,
                )))
                .map_err(de)?;
                if outline {
                    ch.draw_series(std::iter::once(Rectangle::new(
                        [(e[0], 0.0), (e[1], d)],
                        color(0).stroke_width(1),
                    )))
                    .map_err(de)?;
                }
            }
        }
        for (i, c) in self.curves.iter().enumerate() {
            ch.draw_series(LineSeries::new(
                c.iter().copied(),
                color(i + 1).stroke_width(3),
            ))
            .map_err(de)?;
        }
        Ok(())
    }
}

/// One histogram figure, legend to the right of the axes.
struct Single<'a>(Panel<'a>);

/// Size of a single histogram figure, pixels.
const SIZE: (u32, u32) = (1200, 800);

impl Figure for Single<'_> {
    fn size(&self) -> (u32, u32) {
        SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let p = &self.0;
        let area = title_area(root, &p.h.title)?;
        let area = footnotes(area, &p.notes)?;
        let plot = with_legend(area, &p.legend(), true)?;
        p.draw_chart(&plot, 1.0)
    }
}

/// Several histogram panels in a grid (up to 3 per row), each titled, legend under each.
struct Panels<'a> {
    title: &'a str,
    panels: Vec<Panel<'a>>,
    notes: Vec<String>,
    cols: usize,
}

/// Size of one panel, pixels.
const PANEL: (u32, u32) = (620, 520);

impl Figure for Panels<'_> {
    fn size(&self) -> (u32, u32) {
        let rows = self.panels.len().div_ceil(self.cols);
        let note_h = (self.notes.len() as f64 * super::NOTE_PX * 1.4) as u32 + 8;
        (
            PANEL.0 * self.cols as u32,
            60 + PANEL.1 * rows as u32 + if self.notes.is_empty() { 0 } else { note_h },
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let area = title_area(root, self.title)?;
        let area = footnotes(area, &self.notes)?;
        let rows = self.panels.len().div_ceil(self.cols);
        let cells = area.split_evenly((rows, self.cols));
        for (p, cell) in self.panels.iter().zip(&cells) {
            let cell = titled(cell, &p.h.title, DESC_PX)?;
            let plot = with_legend(cell, &p.legend(), false)?;
            p.draw_chart(&plot, 0.8)?;
        }
        Ok(())
    }
}

/// Writes a histogram to `stem.svg` and `stem.png` (1200×800 px). Errors when no sample is
/// finite or `bins`, `range`, `lattice` are invalid; nothing is written then.
pub fn write_histogram(stem: &Path, h: &Histogram) -> Result<()> {
    render(stem, &Single(Panel::new(h)?))
}

/// Writes several histograms side by side in one figure (e.g. the paper's Fig. 1 panels), up
/// to 3 per row, each panel 620×520 px with its own title and legend; `title` heads the
/// figure. Errors when `panels` is empty or any panel is invalid.
pub fn write_histogram_panels(stem: &Path, title: &str, panels: &[Histogram]) -> Result<()> {
    if panels.is_empty() {
        return Err(Error::Plot(format!(
            "histogram panels {title:?}: no panel given (need at least 1)"
        )));
    }
    let panels = panels.iter().map(Panel::new).collect::<Result<Vec<_>>>()?;
    let notes = panels
        .iter()
        .flat_map(|p| p.notes.iter().map(move |n| format!("{}: {n}", p.h.title)))
        .collect();
    let cols = panels.len().min(3);
    render(
        stem,
        &Panels {
            title,
            panels,
            notes,
            cols,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{assert_only, check_files, scratch};
    use super::*;
    use lpmc_kernels::{WordSource, Xoshiro};

    /// Standard normal density on a grid over [-4, 4].
    fn normal_curve() -> Series {
        let pdf = |x: f64| (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
        Series::new(
            "target N(0, 1)",
            (0..=200)
                .map(|i| -4.0 + 0.04 * i as f64)
                .map(|x| (x, pdf(x)))
                .collect(),
        )
    }

    /// Box–Muller normals from a fixed seed.
    fn normals(n: usize, seed: u64) -> Vec<f64> {
        let mut bits = Xoshiro::new(seed, 0);
        // A uniform in [0, 1) from the top 53 bits of a word.
        let mut unif = || (bits.next_word() >> 11) as f64 * 2f64.powi(-53);
        (0..n)
            .map(|_| {
                let (u, v) = (unif(), unif());
                (-2.0 * (1.0 - u).ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
            })
            .collect()
    }

    #[test]
    fn density_integrates_to_fraction_inside() {
        let s = normals(10_000, 1);
        let h = Histogram {
            range: Some((-1.0, 1.0)),
            bins: 20,
            ..Histogram::new("t", "x", &s)
        };
        let b = histogram_density(&h).unwrap();
        let area: f64 = b
            .density
            .iter()
            .zip(b.edges.windows(2))
            .map(|(d, e)| d * (e[1] - e[0]))
            .sum();
        let inside = b.counts.iter().sum::<u64>() as f64 / b.finite as f64;
        assert!((area - inside).abs() < 1e-12);
        assert_eq!(b.counts.iter().sum::<u64>() as usize + b.outside, 10_000);
        // P(|X| ≤ 1) = 0.6827; binomial sd √(p(1−p)/n) = 0.0047, so 4 sd = 0.019.
        assert!((inside - 0.6827).abs() < 0.019, "{inside}");
    }

    #[test]
    fn lattice_bins_hold_whole_codes() {
        // Samples on the Δ = 1/8 grid: every code gets its own bin, edges at half-codes.
        let d = 0.125;
        let s: Vec<f64> = normals(5_000, 2)
            .iter()
            .map(|x| (x / d).round() * d)
            .collect();
        let h = Histogram {
            lattice: Some(d),
            ..Histogram::new("t", "x", &s)
        };
        let b = histogram_density(&h).unwrap();
        assert_eq!(b.codes_per_bin, Some(1));
        for e in &b.edges {
            let k = e / d + 0.5;
            assert!((k - k.round()).abs() < 1e-9, "edge {e} not at a half-code");
        }
        assert_eq!(b.counts.iter().sum::<u64>(), 5_000);
        assert!(b.counts.iter().all(|&c| c > 0) || b.counts.len() > 40);
        // Forcing 10 bins groups whole codes: each bin spans m·Δ with m an integer.
        let b10 = histogram_density(&Histogram {
            bins: 10,
            ..h.clone()
        })
        .unwrap();
        let m = b10.codes_per_bin.unwrap() as f64;
        assert!(b10.counts.len() <= 10);
        for e in b10.edges.windows(2) {
            assert!(((e[1] - e[0]) - m * d).abs() < 1e-12);
        }
        // A fine lattice over a wide range falls back to about 100 bins.
        let wide = Histogram {
            lattice: Some(1e-6),
            range: Some((-1.0, 1.0)),
            ..h.clone()
        };
        let bw = histogram_density(&wide).unwrap();
        assert!(
            bw.counts.len() <= 100 && bw.counts.len() >= 50,
            "{}",
            bw.counts.len()
        );
    }

    #[test]
    fn histogram_with_lattice_writes_both_files() {
        let dir = scratch("hist");
        let d = 0.0625;
        let s: Vec<f64> = normals(20_000, 3)
            .iter()
            .map(|x| (x / d).round() * d)
            .collect();
        let h = Histogram {
            title: "SGLDLP-L samples vs target (WL=8, FL=4)".into(),
            x_label: "x (parameter value)".into(),
            curves: vec![normal_curve()],
            lattice: Some(d),
            ..Histogram::new("", "", &s)
        };
        let stem = dir.join("hist");
        write_histogram(&stem, &h).unwrap();
        check_files(
            &stem,
            SIZE,
            &[
                "SGLDLP-L samples vs target",
                "target N(0, 1)",
                "1 bin per code",
                "density (1 / x unit)",
            ],
        );
        assert_only(&dir, &["hist.png", "hist.svg"]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn panels_write_one_figure() {
        let dir = scratch("panels");
        let a = normals(5_000, 4);
        let b: Vec<f64> = normals(5_000, 5).iter().map(|x| 1.3 * x).collect();
        let c: Vec<f64> = normals(5_000, 6).iter().map(|x| 0.9 * x).collect();
        let mk = |t: &str, s: &'static [f64]| Histogram {
            curves: vec![normal_curve()],
            ..Histogram::new(t, "x", s)
        };
        let (a, b, c) = (a.leak(), b.leak(), c.leak());
        let panels = [mk("SGHMCLP-L", a), mk("SGLDLP-L", b), mk("VC SGLDLP-L", c)];
        let stem = dir.join("fig1");
        write_histogram_panels(&stem, "Fig. 1: N(0,1), 8-bit", &panels).unwrap();
        check_files(
            &stem,
            (3 * PANEL.0, 60 + PANEL.1),
            &["Fig. 1: N(0,1), 8-bit", "VC SGLDLP-L", "target N(0, 1)"],
        );
        assert_only(&dir, &["fig1.png", "fig1.svg"]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn degenerate_samples_draw_or_error() {
        let dir = scratch("hist-bad");
        let stem = dir.join("h");
        // All equal, with NaN and infinity mixed in: drawn, with notes.
        let s = [2.0, 2.0, f64::NAN, 2.0, f64::INFINITY];
        write_histogram(&stem, &Histogram::new("equal", "x", &s)).unwrap();
        check_files(
            &stem,
            SIZE,
            &["all finite samples equal 2", "2 NaN or infinite"],
        );
        // Curve with NaN, samples outside an explicit range.
        let mut h = Histogram {
            range: Some((0.0, 1.0)),
            curves: vec![Series::new(
                "c",
                vec![(0.0, 1.0), (f64::NAN, 1.0), (1.0, 1.0)],
            )],
            ..Histogram::new("ranged", "x", &[0.5, 3.0, -1.0])
        };
        write_histogram(&stem, &h).unwrap();
        check_files(
            &stem,
            SIZE,
            &["2 sample(s) outside [0, 1]", "1 curve point(s)"],
        );
        // Errors, not panics.
        let e = |h: &Histogram| matches!(write_histogram(&stem, h), Err(Error::Plot(_)));
        assert!(e(&Histogram::new("empty", "x", &[])));
        assert!(e(&Histogram::new(
            "nan",
            "x",
            &[f64::NAN, f64::NEG_INFINITY]
        )));
        h.range = Some((1.0, 1.0));
        assert!(e(&h));
        h.range = Some((0.0, f64::NAN));
        assert!(e(&h));
        h.range = None;
        h.bins = MAX_BINS + 1;
        assert!(e(&h));
        h.bins = 0;
        for bad in [0.0, -1.0, f64::NAN, 1e-300] {
            h.lattice = Some(bad);
            assert!(e(&h), "lattice {bad}");
        }
        assert!(write_histogram_panels(&stem, "none", &[]).is_err());
        assert!(e(&Histogram::new("huge", "x", &[f64::MAX, -f64::MAX])));
        assert_only(&dir, &["h.png", "h.svg"]);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
