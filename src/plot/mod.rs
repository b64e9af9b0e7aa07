//! Figures: line plots (linear or log axes, shaded bands, markers), histograms of samples
//! against analytic densities (single or in panels, lattice-aligned bins for fixed-point
//! samples) and heatmaps over sweep grids.
//!
//! Every `write_*` function takes a path *stem* and writes `stem.svg` and `stem.png`
//! (the extension is appended, so `results/fig.v2` gives `results/fig.v2.svg`). Both are
//! rendered in memory first and only then written with [`crate::output::write_atomic`]: bad
//! input writes nothing and returns [`Error::Plot`], and no temporary file is left behind.
//!
//! Text is set in DejaVu Sans, compiled into the binary (crate `dejavu`) and registered with
//! plotters' `ab_glyph` renderer, so no system font, fontconfig or freetype is needed. The SVG
//! names the generic family `sans-serif`. Data that cannot be drawn (NaN, ±∞, values ≤ 0 on a
//! log axis) is dropped and the figure says so in a footnote; a figure left with nothing to
//! draw is an error. See `docs/plots.md` for the figure kinds.
//!
//! ```
//! use lpmc::plot::{write_histogram, write_lines, Histogram, LinePlot, Series};
//! let dir = std::env::temp_dir().join(format!("lpmc-plot-doc-{}", std::process::id()));
//! // Samples on the Δ = 1/16 grid against the N(0, 1) density.
//! let samples: Vec<f64> = (0..2000).map(|i| ((i % 41) as f64 - 20.0) / 16.0).collect();
//! let pdf: Vec<(f64, f64)> = (0..=80)
//!     .map(|i| -2.0 + 0.05 * i as f64)
//!     .map(|x| (x, (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()))
//!     .collect();
//! let h = Histogram {
//!     curves: vec![Series::new("target N(0, 1)", pdf)],
//!     lattice: Some(1.0 / 16.0),
//!     ..Histogram::new("SGLDLP-L samples", "x (parameter value)", &samples)
//! };
//! write_histogram(&dir.join("hist"), &h)?; // hist.svg and hist.png
//! let conv = LinePlot {
//!     title: "W2 vs iterations".into(),
//!     x_label: "iterations".into(),
//!     y_label: "W2 (x units)".into(),
//!     log_x: true,
//!     log_y: true,
//!     series: vec![Series::new("SGHMCLP-L", vec![(1e2, 0.5), (1e4, 0.1), (1e6, 0.08)])],
//!     ..Default::default()
//! };
//! write_lines(&dir.join("w2"), &conv)?;
//! assert!(dir.join("w2.png").exists() && dir.join("hist.svg").exists());
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), lpmc::Error>(())
//! ```

mod heatmap;
mod hist;
mod lines;

pub use heatmap::{write_heatmap, Heatmap};
pub use hist::{histogram_density, write_histogram, write_histogram_panels, Binned, Histogram};
pub use lines::{write_lines, Band, LinePlot, Series};

use crate::error::{Error, Result};
use crate::output::write_atomic;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The family name the bundled font is registered under (also written into the SVG).
const FONT: &str = "sans-serif";
/// Title size in pixels.
const TITLE_PX: f64 = 30.0;
/// Axis-description size in pixels.
const DESC_PX: f64 = 22.0;
/// Tick-label and legend size in pixels.
const LABEL_PX: f64 = 18.0;
/// Footnote size in pixels.
const NOTE_PX: f64 = 16.0;

/// Registers the bundled DejaVu Sans once per process.
fn ensure_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular()).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(Error::Plot(
            "the bundled DejaVu Sans font could not be loaded".into(),
        ))
    }
}

/// A figure ready to draw on any plotters backend (validation happened before).
trait Figure {
    /// Width and height in pixels (SVG user units and PNG pixels alike).
    fn size(&self) -> (u32, u32);
    /// Draws the whole figure on `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>;
}

/// Turns a drawing error into the message carried by [`Error::Plot`].
fn de<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// `stem` with `.ext` appended.
fn with_ext(stem: &Path, ext: &str) -> PathBuf {
    let mut s = stem.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

/// Renders `fig` to SVG and PNG in memory, then writes `stem.svg` and `stem.png` atomically.
fn render<F: Figure>(stem: &Path, fig: &F) -> Result<()> {
    if stem.file_name().is_none() {
        return Err(Error::Plot(format!(
            "figure path stem {:?} has no file name",
            stem.display()
        )));
    }
    ensure_font()?;
    let (w, h) = fig.size();
    let fail = |ext: &str, e: String| {
        Error::Plot(format!(
            "cannot draw {}: {e}",
            with_ext(stem, ext).display()
        ))
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        fig.draw(&root).map_err(|e| fail("svg", e))?;
        root.present().map_err(|e| fail("svg", de(e)))?;
    }
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        fig.draw(&root).map_err(|e| fail("png", e))?;
        root.present().map_err(|e| fail("png", de(e)))?;
    }
    let png = encode_png(&rgb, w, h).map_err(|e| fail("png", e))?;
    write_atomic(&with_ext(stem, "svg"), svg.as_bytes())?;
    write_atomic(&with_ext(stem, "png"), &png)
}

/// Encodes an 8-bit RGB buffer (row-major, `w·h·3` bytes) as PNG.
fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(de)?;
    writer.write_image_data(rgb).map_err(de)?;
    writer.finish().map_err(de)?;
    Ok(out)
}

/// Okabe–Ito colour-blind-safe palette (yellow replaced by black, which reads on white).
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
];

/// The `i`-th colour of the palette (cycling).
fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// A number for a tick label or annotation, with at most `sig` significant digits: plain
/// notation for 1e-3 ≤ |v| < 1e5, otherwise `1.5e-7`.
fn fmt_num(v: f64, sig: usize) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    // Values within 1e-12 of zero relative to a unit are tick positions that should read 0.
    if v.abs() < 1e-12 {
        return "0".into();
    }
    let mag = v.abs().log10().floor() as i32;
    if (-3..5).contains(&mag) {
        let decimals = (sig as i32 - 1 - mag).max(0) as usize;
        let s = format!("{v:.decimals$}");
        trim_zeros(&s)
    } else {
        let s = format!("{:.*e}", sig.saturating_sub(1), v);
        match s.split_once('e') {
            Some((m, e)) => format!("{}e{e}", trim_zeros(m)),
            None => s,
        }
    }
}

/// Removes trailing zeros (and a trailing point) after a decimal point.
fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

/// Tick label of an axis position: on a log axis positions are log10 of the value.
fn fmt_axis(v: f64, log: bool) -> String {
    if log {
        fmt_num(10f64.powf(v), 3)
    } else {
        fmt_num(v, 4)
    }
}

/// A data range widened by `frac` of its span on each side; a zero span becomes ±`pad0`.
fn padded(lo: f64, hi: f64, frac: f64, pad0: f64) -> (f64, f64) {
    let span = hi - lo;
    if span > 0.0 && span.is_finite() {
        (lo - frac * span, hi + frac * span)
    } else {
        let p = if lo != 0.0 { lo.abs() * 0.1 } else { pad0 };
        (lo - p, hi + p)
    }
}

/// What a legend entry shows beside its label.
#[derive(Clone, Copy)]
enum Swatch {
    /// A line in this colour.
    Line(RGBColor),
    /// A translucent filled box (a band).
    Band(RGBColor),
    /// A marker of shape `usize` (see [`draw_marker`]).
    Marker(RGBColor, usize),
    /// A histogram bar.
    Bar(RGBColor),
}

/// One legend line.
struct LegendEntry {
    label: String,
    swatch: Swatch,
}

/// Width of the swatch column and gaps of a legend, in pixels.
const SWATCH_W: i32 = 36;
/// Height of one legend line, in pixels.
const LEGEND_LINE: i32 = 28;

/// Width in pixels a legend with `entries` needs (0 when empty), at most `max`.
fn legend_width<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
    max: u32,
) -> u32 {
    let style = TextStyle::from((FONT, LABEL_PX).into_font());
    let text = entries
        .iter()
        .map(|e| {
            area.estimate_text_size(&e.label, &style)
                .map(|s| s.0)
                .unwrap_or(10 * e.label.len() as u32)
        })
        .max();
    match text {
        None => 0,
        Some(t) => (t + SWATCH_W as u32 + 44).min(max),
    }
}

/// Height in pixels a legend with `n` entries takes.
fn legend_height(n: usize) -> u32 {
    if n == 0 {
        0
    } else {
        n as u32 * LEGEND_LINE as u32 + 16
    }
}

/// Draws a marker of shape `shape % 4` (circle, triangle, square, diamond) centred at `c`.
fn draw_marker<DB: DrawingBackend, C: plotters::coord::CoordTranslate>(
    area: &DrawingArea<DB, C>,
    c: C::From,
    shape: usize,
    col: RGBColor,
) -> Result<(), String>
where
    C::From: Clone,
{
    let style = col.filled();
    let r = 6;
    match shape % 4 {
        0 => area.draw(&(EmptyElement::at(c) + Circle::new((0, 0), r, style))),
        1 => area.draw(&(EmptyElement::at(c) + TriangleMarker::new((0, 0), r + 2, style))),
        2 => area.draw(&(EmptyElement::at(c) + Rectangle::new([(-r, -r), (r, r)], style))),
        _ => area.draw(
            &(EmptyElement::at(c)
                + Polygon::new(
                    vec![(0, -r - 2), (r + 2, 0), (0, r + 2), (-r - 2, 0)],
                    style,
                )),
        ),
    }
    .map_err(de)
}

/// Draws a framed legend with its top-left corner at `(x, y)` (pixels of `area`).
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
    (x, y): (i32, i32),
    width: u32,
) -> Result<(), String> {
    if entries.is_empty() {
        return Ok(());
    }
    let h = legend_height(entries.len()) as i32;
    let w = width as i32;
    area.draw(&Rectangle::new([(x, y), (x + w, y + h)], WHITE.filled()))
        .map_err(de)?;
    area.draw(&Rectangle::new(
        [(x, y), (x + w, y + h)],
        BLACK.mix(0.4).stroke_width(1),
    ))
    .map_err(de)?;
    let text = (FONT, LABEL_PX)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for (i, e) in entries.iter().enumerate() {
        let cy = y + 8 + LEGEND_LINE * i as i32 + LEGEND_LINE / 2;
        let (x0, x1) = (x + 10, x + 10 + SWATCH_W);
        match e.swatch {
            Swatch::Line(c) => area
                .draw(&PathElement::new(
                    vec![(x0, cy), (x1, cy)],
                    c.stroke_width(3),
                ))
                .map_err(de)?,
            Swatch::Band(c) => area
                .draw(&Rectangle::new(
                    [(x0, cy - 8), (x1, cy + 8)],
                    c.mix(0.25).filled(),
                ))
                .map_err(de)?,
            Swatch::Bar(c) => {
                area.draw(&Rectangle::new(
                    [(x0, cy - 8), (x1, cy + 8)],
                    c.mix(0.45).filled(),
                ))
                .map_err(de)?;
                area.draw(&Rectangle::new(
                    [(x0, cy - 8), (x1, cy + 8)],
                    c.stroke_width(1),
                ))
                .map_err(de)?
            }
            Swatch::Marker(c, s) => draw_marker(area, ((x0 + x1) / 2, cy), s, c)?,
        }
        area.draw(&Text::new(e.label.clone(), (x1 + 10, cy), text.clone()))
            .map_err(de)?;
    }
    Ok(())
}

/// Reserves room for a legend of `entries` beside the plot (right, level with its top) when
/// it is at most a third of the width and `side` is allowed, else centred below it; draws
/// the legend there and returns the area left for the plot, so the legend never covers data.
fn with_legend<DB: DrawingBackend>(
    area: DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
    side: bool,
) -> Result<DrawingArea<DB, Shift>, String> {
    if entries.is_empty() {
        return Ok(area);
    }
    let (w, h) = area.dim_in_pixel();
    let lw = legend_width(&area, entries, w.saturating_sub(40));
    if side && lw <= w / 3 {
        let (plot, strip) = area.split_horizontally(w - lw);
        draw_legend(&strip, entries, (0, 14), lw.saturating_sub(14))?;
        Ok(plot)
    } else {
        let lh = legend_height(entries.len());
        let (plot, strip) = area.split_vertically(h.saturating_sub(lh + 6));
        draw_legend(&strip, entries, (((w - lw) / 2) as i32, 0), lw)?;
        Ok(plot)
    }
}

/// Draws the figure title centred at the top of `root` (after filling it white) and returns
/// the area below it.
fn title_area<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
) -> Result<DrawingArea<DB, Shift>, String> {
    root.fill(&WHITE).map_err(de)?;
    titled(root, title, TITLE_PX)
}

/// Draws `text` centred in a strip of `1.9·px` pixels at the top of `area`; returns the rest.
fn titled<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    px: f64,
) -> Result<DrawingArea<DB, Shift>, String> {
    let strip = (px * 1.9) as i32;
    let (top, rest) = area.split_vertically(strip);
    let w = top.dim_in_pixel().0 as i32;
    let style = (FONT, px)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Center));
    top.draw(&Text::new(text.to_string(), (w / 2, strip / 2 + 2), style))
        .map_err(de)?;
    Ok(rest)
}

/// Splits off a footnote strip at the bottom of `area` holding `notes` (one per line) and
/// returns the area above it.
fn footnotes<DB: DrawingBackend>(
    area: DrawingArea<DB, Shift>,
    notes: &[String],
) -> Result<DrawingArea<DB, Shift>, String> {
    if notes.is_empty() {
        return Ok(area);
    }
    let line = (NOTE_PX * 1.4) as i32;
    let h = area.dim_in_pixel().1 as i32;
    let (main, foot) = area.split_vertically(h - line * notes.len() as i32 - 8);
    let style = (FONT, NOTE_PX)
        .into_font()
        .color(&RGBColor(90, 90, 90))
        .pos(Pos::new(HPos::Left, VPos::Top));
    for (i, n) in notes.iter().enumerate() {
        foot.draw(&Text::new(
            format!("Note: {n}"),
            (16, i as i32 * line),
            style.clone(),
        ))
        .map_err(de)?;
    }
    Ok(main)
}

/// Pixel sizes of the label areas around a chart.
const X_LABEL_AREA: u32 = 64;
/// Width of the y tick labels plus the rotated y description.
const Y_LABEL_AREA: u32 = 96;

/// A numeric axis over `lo..hi` in axis coordinates (log10 of the value on a log axis) whose
/// ticks fall on round values: linear steps of 1, 2, 2.5 or 5 × 10^k; on a log axis whole
/// decades when at least two are spanned, else 1-2-5 (or 1..9) multiples of powers of ten,
/// with 2..9 multiples as light grid lines.
#[derive(Clone, Copy, Debug)]
struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
}

impl Axis {
    /// Round linear tick positions in `lo..=hi`, at most `max` of them, with step `step`.
    fn linear_ticks(&self, max: usize) -> (Vec<f64>, f64) {
        let span = self.hi - self.lo;
        let raw = span / max.max(1) as f64;
        let p = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 2.5, 5.0, 10.0]
            .iter()
            .map(|m| m * p)
            .find(|&s| s >= raw)
            .unwrap_or(10.0 * p);
        (self.ticks_with_step(step, max.max(1) + 1), step)
    }

    /// The multiples of `step` in `lo..=hi`, at most `max` of them.
    fn ticks_with_step(&self, step: f64, max: usize) -> Vec<f64> {
        let first = (self.lo / step).ceil() as i64;
        let last = (self.hi / step).floor() as i64;
        (first..=last).take(max).map(|k| k as f64 * step).collect()
    }

    /// Values `m·10^k` (log10 of them) in range for each multiplier `m` in `ms`.
    fn log_ticks(&self, ms: &[f64], every: i64) -> Vec<f64> {
        let (k0, k1) = (self.lo.floor() as i64, self.hi.ceil() as i64);
        let mut v = Vec::new();
        for k in k0..=k1 {
            if k.rem_euclid(every) != 0 {
                continue;
            }
            for m in ms {
                let t = m.log10() + k as f64;
                if t >= self.lo - 1e-9 && t <= self.hi + 1e-9 {
                    v.push(t);
                }
            }
        }
        v
    }
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        to_pixel((v - self.lo) / (self.hi - self.lo), limit)
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        let light = hint.weight().allow_light_points();
        let max = hint.max_num_points();
        if !self.log {
            let (bold, step) = self.linear_ticks(hint.bold_points());
            if !light {
                return bold;
            }
            // Light lines at fifths of the bold step.
            let minor = self.ticks_with_step(step / 5.0, max + 1);
            return if minor.len() <= max { minor } else { bold };
        }
        let decades = self.hi - self.lo;
        let bold = if decades >= 3.0 {
            let every = ((decades / hint.bold_points().max(1) as f64).ceil() as i64).max(1);
            self.log_ticks(&[1.0], every)
        } else if decades >= 0.7 {
            self.log_ticks(&[1.0, 2.0, 5.0], 1)
        } else {
            self.log_ticks(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0], 1)
        };
        // Within a fraction of a decade (say 1.1 to 1.3): round values, placed on the log axis.
        let bold = if bold.len() >= 2 {
            bold
        } else {
            let values = Axis {
                lo: 10f64.powf(self.lo),
                hi: 10f64.powf(self.hi),
                log: false,
            };
            let (t, _) = values.linear_ticks(hint.bold_points().min(6));
            t.into_iter().filter(|&v| v > 0.0).map(f64::log10).collect()
        };
        if !light {
            return bold;
        }
        let minor = self.log_ticks(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0], 1);
        if minor.len() <= max && decades < 8.0 {
            minor
        } else {
            bold
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// Pixel at fraction `t` of the way from `limit.0` to `limit.1`; far-off or non-finite
/// positions are clamped to ±10⁶ pixels so that no integer arithmetic downstream overflows.
fn to_pixel(t: f64, limit: (i32, i32)) -> i32 {
    let px = limit.0 as f64 + t * (limit.1 as f64 - limit.0 as f64);
    if px.is_nan() {
        limit.0
    } else {
        px.clamp(-1e6, 1e6).round() as i32
    }
}

/// A chart on `area` with [`Axis`] axes over `xr × yr` (log10 of the data on a log axis), a
/// light grid, tick labels (values, not logs) and axis descriptions; `scale` shrinks the
/// label areas and text for small panels.
#[allow(clippy::too_many_arguments)]
fn chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    xr: (f64, f64),
    yr: (f64, f64),
    x_desc: &str,
    y_desc: &str,
    log_x: bool,
    log_y: bool,
    scale: f64,
) -> Result<ChartContext<'a, DB, Cartesian2d<Axis, Axis>>, String> {
    let x = Axis {
        lo: xr.0,
        hi: xr.1,
        log: log_x,
    };
    let y = Axis {
        lo: yr.0,
        hi: yr.1,
        log: log_y,
    };
    let mut chart = ChartBuilder::on(area)
        .margin(14)
        .margin_right(24)
        .x_label_area_size((X_LABEL_AREA as f64 * scale) as u32)
        .y_label_area_size((Y_LABEL_AREA as f64 * scale) as u32)
        .build_cartesian_2d(x, y)
        .map_err(de)?;
    let xf = move |v: &f64| fmt_axis(*v, log_x);
    let yf = move |v: &f64| fmt_axis(*v, log_y);
    let n = (10.0 * scale) as usize;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_labels(n)
        .y_labels(n)
        .max_light_lines(10)
        .x_label_formatter(&xf)
        .y_label_formatter(&yf)
        .label_style((FONT, LABEL_PX * scale.sqrt()).into_font().color(&BLACK))
        .axis_desc_style((FONT, DESC_PX * scale.sqrt()).into_font().color(&BLACK))
        .bold_line_style(BLACK.mix(0.12))
        .light_line_style(BLACK.mix(0.04))
        .axis_style(BLACK.mix(0.8))
        .draw()
        .map_err(de)?;
    Ok(chart)
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Helpers shared by the plot tests: a scratch directory and file checks.
    use std::path::{Path, PathBuf};

    /// A fresh empty directory under the system temp dir, unique per test name.
    pub fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("lpmc-plot-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// Checks `stem.svg` and `stem.png`: SVG well-formed at the top level and containing every
    /// string of `texts` (raw or XML-escaped); PNG decodes to `size` and is not blank.
    /// Returns the SVG text.
    pub fn check_files(stem: &Path, size: (u32, u32), texts: &[&str]) -> String {
        let svg = std::fs::read_to_string(super::with_ext(stem, "svg")).unwrap();
        assert!(svg.starts_with("<svg"), "svg starts with {:?}", &svg[..20]);
        assert!(svg.trim_end().ends_with("</svg>"));
        for t in texts {
            let esc = t
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;");
            assert!(
                svg.contains(t) || svg.contains(&esc),
                "svg lacks the text {t:?}"
            );
        }
        let bytes = std::fs::read(super::with_ext(stem, "png")).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let dec = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = dec.read_info().unwrap();
        assert_eq!((reader.info().width, reader.info().height), size);
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut buf).unwrap();
        // Not a blank image: some pixels are dark (text, axes).
        let dark = buf[..frame.buffer_size()]
            .chunks(3)
            .filter(|p| p.iter().all(|&c| c < 80))
            .count();
        assert!(dark > 500, "only {dark} dark pixels");
        svg
    }

    /// Asserts that `dir` holds exactly the files named in `names` (no temporaries).
    pub fn assert_only(dir: &Path, names: &[&str]) {
        let mut got: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        got.sort();
        let mut want: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(got, want);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_format_compactly() {
        assert_eq!(fmt_num(0.0, 4), "0");
        assert_eq!(fmt_num(0.30000000000000004, 4), "0.3");
        assert_eq!(fmt_num(1234.6, 4), "1235");
        assert_eq!(fmt_num(-2.5, 4), "-2.5");
        assert_eq!(fmt_num(1e-4, 3), "1e-4");
        assert_eq!(fmt_num(2.5e6, 3), "2.5e6");
        assert_eq!(fmt_axis(-2.0, true), "0.01");
        assert_eq!(fmt_axis(6.0, true), "1e6");
    }

    #[test]
    fn stem_gets_extension_appended() {
        assert_eq!(
            with_ext(Path::new("a/fig.v2"), "svg"),
            PathBuf::from("a/fig.v2.svg")
        );
    }

    /// Any f64 at all, the awkward ones often.
    fn any_f64() -> impl proptest::strategy::Strategy<Value = f64> {
        use proptest::prelude::*;
        prop_oneof![
            -10.0..10.0f64,
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(0.0),
            Just(-0.0),
            Just(f64::MAX),
            Just(f64::MIN_POSITIVE),
            proptest::num::f64::ANY,
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Arbitrary data never panics: each call either writes both files or returns an error.
        #[test]
        fn arbitrary_data_never_panics(
            xs in proptest::collection::vec(any_f64(), 0..40),
            ys in proptest::collection::vec(any_f64(), 0..40),
            bins in 0usize..300,
            lattice in proptest::option::of(any_f64()),
            range in proptest::option::of((any_f64(), any_f64())),
            logs in (proptest::bool::ANY, proptest::bool::ANY),
        ) {
            let d = testutil::scratch("prop");
            let pts: Vec<(f64, f64)> = xs.iter().copied().zip(ys.iter().copied()).collect();
            let h = Histogram {
                bins,
                lattice,
                range,
                curves: vec![Series::new("c", pts.clone())],
                ..Histogram::new("h", "x", &xs)
            };
            let _ = write_histogram(&d.join("h"), &h);
            let l = LinePlot {
                log_x: logs.0,
                log_y: logs.1,
                series: vec![Series::new("s", pts.clone())],
                bands: vec![Band { label: "b".into(), points: pts.iter().map(|&(x, y)| (x, y, y + 1.0)).collect() }],
                ..Default::default()
            };
            let _ = write_lines(&d.join("l"), &l);
            let n = xs.len().min(ys.len()).max(1);
            let hm = Heatmap {
                xs: xs.iter().take(n).copied().collect(),
                ys: vec![1.0],
                values: vec![ys.iter().take(n).copied().collect()],
                log_color: logs.0,
                ..Default::default()
            };
            let _ = write_heatmap(&d.join("m"), &hm);
            // Only whole figures: every stem has both files or neither, and no temporary.
            for e in std::fs::read_dir(&d).unwrap() {
                let name = e.unwrap().file_name().to_string_lossy().into_owned();
                proptest::prop_assert!(name.ends_with(".svg") || name.ends_with(".png"), "{}", name);
                let other = if name.ends_with(".svg") { name.replace(".svg", ".png") } else { name.replace(".png", ".svg") };
                proptest::prop_assert!(d.join(&other).exists());
            }
            std::fs::remove_dir_all(d).unwrap();
        }
    }
}
