//! Heatmaps over a grid (e.g. W2 over (WL, FL) of a sweep) with a colour bar.

use super::{
    de, fmt_num, footnotes, render, title_area, to_pixel, Axis, Figure, DESC_PX, FONT, LABEL_PX,
    X_LABEL_AREA, Y_LABEL_AREA,
};
use crate::error::{Error, Result};
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// A heatmap over a grid: cell `(ix, iy)` shows `values[iy][ix]` in colour (viridis, dark =
/// low), its column labelled `xs[ix]` and its row `ys[iy]`. Cells are equal-sized whatever
/// the spacing of `xs`/`ys`; small grids also print each value in its cell.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Heatmap {
    /// Figure title.
    pub title: String,
    /// x-axis description with its unit (e.g. `"WL (bits)"`).
    pub x_label: String,
    /// y-axis description with its unit.
    pub y_label: String,
    /// Column labels (finite), left to right.
    pub xs: Vec<f64>,
    /// Row labels (finite), bottom to top.
    pub ys: Vec<f64>,
    /// `values[iy][ix]`, `ys.len()` rows of `xs.len()` values; NaN or ±∞ = missing (grey).
    pub values: Vec<Vec<f64>>,
    /// Colour-bar description with its unit (e.g. `"W2"`).
    pub value_label: String,
    /// Logarithmic colour scale; values ≤ 0 are then shown as missing.
    pub log_color: bool,
}

/// Figure size, pixels.
const SIZE: (u32, u32) = (1200, 800);
/// Width of the colour-bar strip, pixels.
const BAR_W: u32 = 230;
/// Grids with at most this many cells print their values.
const ANNOTATE_CELLS: usize = 144;
/// Colour of missing cells.
const MISSING: RGBColor = RGBColor(205, 205, 205);

/// An axis of `n` equal cells: cell `i` spans `[i − ½, i + ½]`; key points (labelled ticks)
/// at cell centres, every k-th one so that at most the hinted number (and 20) are labelled.
struct Cells(usize);

impl Ranged for Cells {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        to_pixel((v + 0.5) / self.0 as f64, limit)
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        let max = hint.max_num_points().clamp(1, 20);
        let k = self.0.div_ceil(max).max(1);
        (0..self.0).step_by(k).map(|i| i as f64).collect()
    }

    fn range(&self) -> std::ops::Range<f64> {
        -0.5..self.0 as f64 - 0.5
    }
}

/// Viridis sampled at 0, 1/8, …, 1 (matplotlib's table); linear in between.
const VIRIDIS: [(u8, u8, u8); 9] = [
    (68, 1, 84),
    (71, 44, 122),
    (59, 81, 139),
    (44, 113, 142),
    (33, 145, 140),
    (39, 173, 129),
    (92, 200, 99),
    (170, 220, 50),
    (253, 231, 37),
];

/// Viridis colour at `t ∈ [0, 1]` (clamped).
fn viridis(t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let s = t * 8.0;
    let i = (s.floor() as usize).min(7);
    let f = s - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + f * (b as f64 - a as f64)).round() as u8;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// A validated heatmap: `cells[iy][ix]` in colour-scale units (log10 if `log_color`).
struct Prepared<'a> {
    h: &'a Heatmap,
    cells: Vec<Vec<Option<f64>>>,
    vr: (f64, f64),
    notes: Vec<String>,
}

impl<'a> Prepared<'a> {
    fn new(h: &'a Heatmap) -> Result<Self> {
        let err = |m: String| Error::Plot(format!("heatmap {:?}: {m}", h.title));
        let (nx, ny) = (h.xs.len(), h.ys.len());
        if nx == 0 || ny == 0 {
            return Err(err(format!(
                "grid is {nx} × {ny}: needs at least one x and one y"
            )));
        }
        if let Some(v) = h.xs.iter().chain(&h.ys).find(|v| !v.is_finite()) {
            return Err(err(format!("axis label value {v} is not finite")));
        }
        if h.values.len() != ny {
            return Err(err(format!(
                "values has {} rows, expected {ny} (one per y)",
                h.values.len()
            )));
        }
        if let Some((iy, r)) = h.values.iter().enumerate().find(|(_, r)| r.len() != nx) {
            return Err(err(format!(
                "values row {iy} has {} entries, expected {nx} (one per x)",
                r.len()
            )));
        }
        let (mut missing, mut non_positive) = (0usize, 0usize);
        let cells: Vec<Vec<Option<f64>>> = h
            .values
            .iter()
            .map(|r| {
                r.iter()
                    .map(|&v| {
                        if !v.is_finite() {
                            missing += 1;
                            None
                        } else if h.log_color && v <= 0.0 {
                            non_positive += 1;
                            None
                        } else if h.log_color {
                            Some(v.log10())
                        } else {
                            Some(v)
                        }
                    })
                    .collect()
            })
            .collect();
        let (lo, hi) = cells
            .iter()
            .flatten()
            .flatten()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        if lo > hi {
            return Err(err(format!(
                "no drawable value ({missing} missing, {non_positive} ≤ 0 on the log colour scale)"
            )));
        }
        // A constant map gets a unit-wide (a decade on log) scale around its value.
        let vr = if hi > lo {
            (lo, hi)
        } else {
            (lo - 0.5, hi + 0.5)
        };
        let mut notes = Vec::new();
        if missing > 0 {
            notes.push(format!(
                "{missing} grey cell(s): value missing (NaN or infinite)"
            ));
        }
        if non_positive > 0 {
            notes.push(format!(
                "{non_positive} grey cell(s): value ≤ 0, not shown on the log colour scale"
            ));
        }
        Ok(Prepared {
            h,
            cells,
            vr,
            notes,
        })
    }

    /// Position of colour-scale value `v` within the scale, 0..=1.
    fn t(&self, v: f64) -> f64 {
        (v - self.vr.0) / (self.vr.1 - self.vr.0)
    }

    /// A value in colour-scale units as text (undoing the log).
    fn label(&self, v: f64, sig: usize) -> String {
        fmt_num(if self.h.log_color { 10f64.powf(v) } else { v }, sig)
    }
}

impl Figure for Prepared<'_> {
    fn size(&self) -> (u32, u32) {
        SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let h = self.h;
        let area = title_area(root, &h.title)?;
        let area = footnotes(area, &self.notes)?;
        let (main, bar) = area.split_horizontally(area.dim_in_pixel().0 - BAR_W);
        let (nx, ny) = (h.xs.len(), h.ys.len());
        let xl = |v: &f64| {
            let i = v.round();
            if i >= 0.0 && (i as usize) < nx {
                fmt_num(h.xs[i as usize], 4)
            } else {
                String::new()
            }
        };
        let yl = |v: &f64| {
            let i = v.round();
            if i >= 0.0 && (i as usize) < ny {
                fmt_num(h.ys[i as usize], 4)
            } else {
                String::new()
            }
        };
        let mut ch = ChartBuilder::on(&main)
            .margin(14)
            .margin_right(10)
            .x_label_area_size(X_LABEL_AREA)
            .y_label_area_size(Y_LABEL_AREA)
            .build_cartesian_2d(Cells(nx), Cells(ny))
            .map_err(de)?;
        ch.configure_mesh()
            .disable_mesh()
            .x_desc(h.x_label.as_str())
            .y_desc(h.y_label.as_str())
            .x_labels(20)
            .y_labels(20)
            .x_label_formatter(&xl)
            .y_label_formatter(&yl)
            .label_style((FONT, LABEL_PX).into_font().color(&BLACK))
            .axis_desc_style((FONT, DESC_PX).into_font().color(&BLACK))
            .draw()
            .map_err(de)?;
        let (pw, _) = ch.plotting_area().dim_in_pixel();
        let annotate = nx * ny <= ANNOTATE_CELLS && pw / nx as u32 >= 44;
        for (iy, row) in self.cells.iter().enumerate() {
            for (ix, &c) in row.iter().enumerate() {
                let (x, y) = (ix as f64, iy as f64);
                let fill = c.map_or(MISSING, |v| viridis(self.t(v)));
                ch.draw_series(std::iter::once(Rectangle::new(
                    [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                    fill.filled(),
                )))
                .map_err(de)?;
                if annotate {
                    let (text, ink) = match c {
                        Some(v) if self.t(v) < 0.6 => (self.label(v, 3), WHITE),
                        Some(v) => (self.label(v, 3), BLACK),
                        None => ("n/a".to_string(), BLACK),
                    };
                    let style = (FONT, LABEL_PX * 0.9)
                        .into_font()
                        .color(&ink)
                        .pos(Pos::new(HPos::Center, VPos::Center));
                    ch.draw_series(std::iter::once(Text::new(text, (x, y), style)))
                        .map_err(de)?;
                }
            }
        }
        // The colour bar: a vertical strip of 100 steps with value ticks on its right.
        let mut cb = ChartBuilder::on(&bar)
            .margin_top(14)
            .margin_bottom(14 + X_LABEL_AREA)
            .margin_left(10)
            .margin_right(20)
            .right_y_label_area_size(BAR_W - 80)
            .build_cartesian_2d(
                0.0..1.0,
                Axis {
                    lo: self.vr.0,
                    hi: self.vr.1,
                    log: h.log_color,
                },
            )
            .map_err(de)?;
        let log = h.log_color;
        let vl = |v: &f64| self.label(*v, 3);
        cb.configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_labels(10)
            .y_label_formatter(&vl)
            .y_desc(if log {
                format!("{} (log colour scale)", h.value_label)
            } else {
                h.value_label.clone()
            })
            .label_style((FONT, LABEL_PX).into_font().color(&BLACK))
            .axis_desc_style((FONT, DESC_PX).into_font().color(&BLACK))
            .draw()
            .map_err(de)?;
        let steps = 100;
        let (v0, v1) = self.vr;
        cb.draw_series((0..steps).map(|i| {
            let a = v0 + (v1 - v0) * i as f64 / steps as f64;
            let b = v0 + (v1 - v0) * (i + 1) as f64 / steps as f64;
            Rectangle::new(
                [(0.0, a), (1.0, b)],
                viridis((i as f64 + 0.5) / steps as f64).filled(),
            )
        }))
        .map_err(de)?;
        cb.draw_series(std::iter::once(Rectangle::new(
            [(0.0, v0), (1.0, v1)],
            BLACK.mix(0.6).stroke_width(1),
        )))
        .map_err(de)?;
        Ok(())
    }
}

/// Writes a heatmap to `stem.svg` and `stem.png` (1200×800 px) with a colour bar on the
/// right. Errors when the grid is empty, `values` is not `ys.len() × xs.len()`, a label is
/// not finite, or no value is drawable; missing cells are grey and counted in a footnote.
pub fn write_heatmap(stem: &Path, h: &Heatmap) -> Result<()> {
    render(stem, &Prepared::new(h)?)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{assert_only, check_files, scratch};
    use super::*;

    fn sweep() -> Heatmap {
        let xs: Vec<f64> = (4..=12).map(f64::from).collect();
        let ys: Vec<f64> = (2..=8).map(f64::from).collect();
        let values = ys
            .iter()
            .map(|&fl| {
                xs.iter()
                    .map(|&wl| 2f64.powf(-fl) + 2f64.powf(fl - wl + 1.0) * 0.01)
                    .collect()
            })
            .collect();
        Heatmap {
            title: "W2 over (WL, FL) for SGLDLP-L".into(),
            x_label: "WL (bits)".into(),
            y_label: "FL (bits)".into(),
            xs,
            ys,
            values,
            value_label: "W2 (x units)".into(),
            log_color: true,
        }
    }

    #[test]
    fn viridis_ends_and_middle() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(0.5), RGBColor(33, 145, 140));
        assert_eq!(viridis(f64::NAN), viridis(0.0));
    }

    #[test]
    fn heatmap_writes_both_files() {
        let d = scratch("heat");
        let stem = d.join("w2");
        let mut h = sweep();
        h.values[0][0] = f64::NAN;
        h.values[1][1] = 0.0;
        write_heatmap(&stem, &h).unwrap();
        check_files(
            &stem,
            SIZE,
            &[
                "W2 over (WL, FL)",
                "WL (bits)",
                "FL (bits)",
                "W2 (x units) (log colour scale)",
                "1 grey cell(s): value missing",
                "n/a",
            ],
        );
        h.log_color = false;
        h.values = vec![vec![0.5; 9]; 7];
        write_heatmap(&d.join("flat"), &h).unwrap();
        assert_only(&d, &["flat.png", "flat.svg", "w2.png", "w2.svg"]);
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn bad_heatmaps_are_errors() {
        let d = scratch("heat-bad");
        let stem = d.join("h");
        let e = |h: &Heatmap| matches!(write_heatmap(&stem, h), Err(Error::Plot(_)));
        let mut h = sweep();
        h.values.pop();
        assert!(e(&h));
        let mut h = sweep();
        h.values[2].push(1.0);
        assert!(e(&h));
        let mut h = sweep();
        h.xs[0] = f64::NAN;
        assert!(e(&h));
        let mut h = sweep();
        h.values = vec![vec![-1.0; 9]; 7];
        assert!(e(&h));
        assert!(e(&Heatmap::default()));
        assert_only(&d, &[]);
        std::fs::remove_dir_all(d).unwrap();
    }
}
