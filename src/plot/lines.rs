//! Line plots: curves, shaded bands and markers on linear or log axes (convergence curves,
//! ratio-with-band plots, W2-vs-bits ladders).

use super::{
    chart, color, de, draw_marker, footnotes, padded, render, title_area, with_legend, Figure,
    LegendEntry, Swatch,
};
use crate::error::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// One named curve: points `(x, y)` in data units, joined in the order given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// Legend text (an empty label leaves the curve out of the legend).
    pub label: String,
    /// The points `(x, y)`; non-finite points (and ≤ 0 ones on a log axis) are dropped.
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// A series from its label and points.
    pub fn new(label: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series {
            label: label.into(),
            points,
        }
    }
}

/// A shaded band (e.g. a 95% interval) around a curve: points `(x, lo, hi)` with `lo ≤ hi`,
/// filled between the lower and upper edges in the order given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Band {
    /// Legend text (empty: not in the legend).
    pub label: String,
    /// The points `(x, lo, hi)`; points with a non-finite value, `lo > hi`, or a value ≤ 0 on
    /// a log axis are dropped.
    pub points: Vec<(f64, f64, f64)>,
}

/// A line plot. Series `i`, band `i` and marker set `i` share colour `i` of the palette, so a
/// band drawn for series 0 matches it; markers also cycle through four shapes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LinePlot {
    /// Figure title.
    pub title: String,
    /// x-axis description, with its unit (e.g. `"iterations"`, `"WL (bits)"`).
    pub x_label: String,
    /// y-axis description, with its unit.
    pub y_label: String,
    /// Logarithmic (base-10) x axis; x ≤ 0 is dropped.
    pub log_x: bool,
    /// Logarithmic (base-10) y axis; y ≤ 0 is dropped.
    pub log_y: bool,
    /// Curves.
    pub series: Vec<Series>,
    /// Shaded bands, drawn under the curves.
    pub bands: Vec<Band>,
    /// Scatter markers (not joined), drawn over the curves.
    pub points_only: Vec<Series>,
}

/// Figure size of a line plot, pixels.
const SIZE: (u32, u32) = (1200, 800);

/// A validated line plot: coordinates already log10-transformed on log axes.
struct Prepared<'a> {
    p: &'a LinePlot,
    series: Vec<Vec<(f64, f64)>>,
    bands: Vec<Vec<(f64, f64, f64)>>,
    points: Vec<Vec<(f64, f64)>>,
    xr: (f64, f64),
    yr: (f64, f64),
    notes: Vec<String>,
}

/// Maps a value to axis coordinates (log10 on a log axis); `None` if it cannot be drawn.
fn axis(v: f64, log: bool) -> Option<f64> {
    if !v.is_finite() || (log && v <= 0.0) {
        None
    } else if log {
        Some(v.log10())
    } else {
        Some(v)
    }
}

/// Running min/max of drawn coordinates.
struct Extent(f64, f64);

impl Extent {
    fn new() -> Self {
        Extent(f64::INFINITY, f64::NEG_INFINITY)
    }
    fn add(&mut self, v: f64) {
        self.0 = self.0.min(v);
        self.1 = self.1.max(v);
    }
    fn is_empty(&self) -> bool {
        self.0 > self.1
    }
}

impl<'a> Prepared<'a> {
    fn new(p: &'a LinePlot) -> Result<Self> {
        if p.series.is_empty() && p.bands.is_empty() && p.points_only.is_empty() {
            return Err(Error::Plot(format!(
                "line plot {:?} has nothing to draw: no series, bands or points",
                p.title
            )));
        }
        let (mut xe, mut ye) = (Extent::new(), Extent::new());
        let (mut non_finite, mut non_positive, mut bad_band) = (0usize, 0usize, 0usize);
        let mut point = |x: f64, y: f64, xe: &mut Extent, ye: &mut Extent| {
            match (axis(x, p.log_x), axis(y, p.log_y)) {
                (Some(x), Some(y)) => {
                    xe.add(x);
                    ye.add(y);
                    return Some((x, y));
                }
                _ if !x.is_finite() || !y.is_finite() => non_finite += 1,
                _ => non_positive += 1,
            }
            None
        };
        let mut keep = |s: &[Series], xe: &mut Extent, ye: &mut Extent| -> Vec<Vec<(f64, f64)>> {
            s.iter()
                .map(|s| {
                    s.points
                        .iter()
                        .filter_map(|&(x, y)| point(x, y, xe, ye))
                        .collect()
                })
                .collect()
        };
        let series = keep(&p.series, &mut xe, &mut ye);
        let points = keep(&p.points_only, &mut xe, &mut ye);
        let bands: Vec<Vec<(f64, f64, f64)>> = p
            .bands
            .iter()
            .map(|b| {
                b.points
                    .iter()
                    .filter_map(|&(x, lo, hi)| {
                        match (axis(x, p.log_x), axis(lo, p.log_y), axis(hi, p.log_y)) {
                            (Some(x), Some(lo), Some(hi)) if lo <= hi => {
                                xe.add(x);
                                ye.add(lo);
                                ye.add(hi);
                                Some((x, lo, hi))
                            }
                            _ => {
                                bad_band += 1;
                                None
                            }
                        }
                    })
                    .collect()
            })
            .collect();
        let mut notes = Vec::new();
        if non_finite > 0 {
            notes.push(format!(
                "{non_finite} point(s) with NaN or infinite values not shown"
            ));
        }
        if non_positive > 0 {
            notes.push(format!(
                "{non_positive} point(s) with values ≤ 0 not shown on the log axis"
            ));
        }
        if bad_band > 0 {
            notes.push(format!(
                "{bad_band} band point(s) not shown (non-finite, lo > hi, or ≤ 0 on a log axis)"
            ));
        }
        if xe.is_empty() {
            return Err(Error::Plot(format!(
                "line plot {:?} has no drawable point{}",
                p.title,
                if notes.is_empty() {
                    String::new()
                } else {
                    format!(": {}", notes.join("; "))
                }
            )));
        }
        // Log axes: pad by a fraction of the decades spanned, or half a decade if one value.
        let pad = |e: &Extent, log: bool| {
            if log {
                padded(e.0, e.1, 0.04, 0.5)
            } else {
                padded(e.0, e.1, 0.04, 1.0)
            }
        };
        let (xr, yr) = (pad(&xe, p.log_x), pad(&ye, p.log_y));
        if !(xr.1 - xr.0).is_finite() || !(yr.1 - yr.0).is_finite() {
            return Err(Error::Plot(format!(
                "line plot {:?}: data spans x {} to {}, y {} to {}, too wide to draw (span overflows f64)",
                p.title, xe.0, xe.1, ye.0, ye.1
            )));
        }
        Ok(Prepared {
            p,
            series,
            bands,
            points,
            xr,
            yr,
            notes,
        })
    }

    fn legend(&self) -> Vec<LegendEntry> {
        let mut v = Vec::new();
        for (i, s) in self.p.series.iter().enumerate() {
            if !s.label.is_empty() {
                v.push(LegendEntry {
                    label: s.label.clone(),
                    swatch: Swatch::Line(color(i)),
                });
            }
        }
        for (i, b) in self.p.bands.iter().enumerate() {
            if !b.label.is_empty() {
                v.push(LegendEntry {
                    label: b.label.clone(),
                    swatch: Swatch::Band(color(i)),
                });
            }
        }
        for (i, s) in self.p.points_only.iter().enumerate() {
            if !s.label.is_empty() {
                v.push(LegendEntry {
                    label: s.label.clone(),
                    swatch: Swatch::Marker(color(i), i),
                });
            }
        }
        v
    }
}

impl Figure for Prepared<'_> {
    fn size(&self) -> (u32, u32) {
        SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let area = title_area(root, &self.p.title)?;
        let area = footnotes(area, &self.notes)?;
        let plot = with_legend(area, &self.legend(), true)?;
        let p = self.p;
        let mut ch = chart(
            &plot, self.xr, self.yr, &p.x_label, &p.y_label, p.log_x, p.log_y, 1.0,
        )?;
        for (i, b) in self.bands.iter().enumerate() {
            if b.len() < 2 {
                continue;
            }
            let mut poly: Vec<(f64, f64)> = b.iter().map(|&(x, lo, _)| (x, lo)).collect();
            poly.extend(b.iter().rev().map(|&(x, _, hi)| (x, hi)));
            ch.draw_series(std::iter::once(Polygon::new(
                poly,
                color(i).mix(0.22).filled(),
            )))
            .map_err(de)?;
        }
        for (i, s) in self.series.iter().enumerate() {
            ch.draw_series(LineSeries::new(s.iter().copied(), color(i).stroke_width(3)))
                .map_err(de)?;
        }
        let pa = ch.plotting_area();
        for (i, s) in self.points.iter().enumerate() {
            for &c in s {
                draw_marker(pa, c, i, color(i))?;
            }
        }
        Ok(())
    }
}

/// Writes a line plot to `stem.svg` and `stem.png` (1200×800 px), legend to the right of the
/// axes. Errors when nothing is drawable; dropped points are counted in a footnote.
pub fn write_lines(stem: &Path, p: &LinePlot) -> Result<()> {
    render(stem, &Prepared::new(p)?)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{assert_only, check_files, scratch};
    use super::*;

    fn convergence() -> LinePlot {
        let it: Vec<f64> = (0..=12).map(|k| 10f64.powf(k as f64 / 2.0)).collect();
        LinePlot {
            title: "Convergence of W2 & bias <SGHMC>".into(),
            x_label: "iterations".into(),
            y_label: "W2 distance (x units)".into(),
            log_x: true,
            log_y: true,
            series: vec![
                Series::new(
                    "SGHMCLP-L",
                    it.iter().map(|&t| (t, 1.0 / t.sqrt() + 0.08)).collect(),
                ),
                Series::new(
                    "VC SGHMCLP-L",
                    it.iter().map(|&t| (t, 1.0 / t.sqrt() + 0.04)).collect(),
                ),
            ],
            bands: vec![Band {
                label: "95% band (5 runs)".into(),
                points: it
                    .iter()
                    .map(|&t| (t, 0.9 / t.sqrt() + 0.07, 1.1 / t.sqrt() + 0.09))
                    .collect(),
            }],
            points_only: vec![Series::new(
                "paper end values",
                vec![(1e6, 0.08), (1e6, 0.04)],
            )],
        }
    }

    #[test]
    fn log_log_plot_writes_both_files() {
        let d = scratch("lines");
        let stem = d.join("conv");
        write_lines(&stem, &convergence()).unwrap();
        let svg = check_files(
            &stem,
            SIZE,
            &[
                "Convergence of W2 &amp; bias &lt;SGHMC&gt;",
                "VC SGHMCLP-L",
                "95% band (5 runs)",
                "paper end values",
                "iterations",
            ],
        );
        // Log ticks read as values at powers of ten.
        // (plotters writes each text's content on a line of its own).
        assert!(svg.lines().any(|l| l.trim() == "1e6"), "no 1e6 tick");
        assert!(svg.lines().any(|l| l.trim() == "0.1"), "no 0.1 tick");
        assert_only(&d, &["conv.png", "conv.svg"]);
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn bad_values_are_dropped_and_noted() {
        let d = scratch("lines-bad");
        let stem = d.join("bad");
        let mut p = convergence();
        p.series[0].points.push((f64::NAN, 1.0));
        p.series[0].points.push((10.0, -1.0));
        p.series[1].points.push((f64::INFINITY, 1.0));
        p.bands[0].points.push((10.0, 2.0, 1.0));
        write_lines(&stem, &p).unwrap();
        check_files(
            &stem,
            SIZE,
            &[
                "2 point(s) with NaN or infinite",
                "1 point(s) with values ≤ 0",
                "1 band point(s)",
            ],
        );
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn narrow_log_range_still_gets_ticks() {
        let d = scratch("lines-narrow");
        let stem = d.join("n");
        let p = LinePlot {
            title: "narrow".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            log_x: true,
            log_y: true,
            series: vec![Series::new("s", vec![(1.1, 1.1), (1.3, 1.25)])],
            ..Default::default()
        };
        write_lines(&stem, &p).unwrap();
        let svg = check_files(&stem, SIZE, &["narrow"]);
        assert!(svg.lines().any(|l| l.trim() == "1.2"), "no 1.2 tick");
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn single_point_and_constant_series_draw() {
        let d = scratch("lines-const");
        let p = LinePlot {
            title: "constant".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            series: vec![Series::new("flat", vec![(1.0, 2.0), (3.0, 2.0)])],
            points_only: vec![Series::new("one", vec![(2.0, 2.0)])],
            ..Default::default()
        };
        write_lines(&d.join("c"), &p).unwrap();
        let p = LinePlot {
            series: vec![Series::new("one point", vec![(5.0, 0.0)])],
            ..p
        };
        write_lines(&d.join("one"), &p).unwrap();
        assert_only(&d, &["c.png", "c.svg", "one.png", "one.svg"]);
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn nothing_drawable_is_an_error_and_writes_nothing() {
        let d = scratch("lines-err");
        let stem = d.join("e");
        let empty = LinePlot {
            title: "empty".into(),
            ..Default::default()
        };
        assert!(matches!(write_lines(&stem, &empty), Err(Error::Plot(_))));
        let all_bad = LinePlot {
            title: "negative on log".into(),
            log_y: true,
            series: vec![Series::new(
                "s",
                vec![(1.0, -1.0), (2.0, 0.0), (f64::NAN, 1.0)],
            )],
            ..Default::default()
        };
        let e = write_lines(&stem, &all_bad).unwrap_err().to_string();
        assert!(e.contains("no drawable point") && e.contains("≤ 0"), "{e}");
        let no_series_points = LinePlot {
            series: vec![Series::new("s", vec![])],
            ..Default::default()
        };
        assert!(write_lines(&stem, &no_series_points).is_err());
        assert!(write_lines(Path::new(""), &convergence()).is_err());
        let huge = LinePlot {
            series: vec![Series::new("s", vec![(-f64::MAX, 0.0), (f64::MAX, 1.0)])],
            ..Default::default()
        };
        assert!(write_lines(&stem, &huge).is_err());
        assert_only(&d, &[]);
        std::fs::remove_dir_all(d).unwrap();
    }
}
