//! `lpmc._lpmc`: the native half of the `lpmc` Python package. Every function here parses
//! its arguments the way the `lpmc` command line does and calls the same library entry point
//! (`lpmc::round::quantize_par`, the parallel twin of `quantize_calls`, `lpmc::experiment::run::prepare` + `Prepared::compute`,
//! `lpmc::experiment::eval::eval_samples`, `lpmc::experiment::exact::exact_values`,
//! `lpmc::sweep::sweep_grid`); bad input raises `ValueError` with the CLI's message. The
//! Python wrappers in `lpmc/__init__.py` turn the JSON texts returned here into dicts.

use lpmc::experiment::chains::Progress;
use lpmc::experiment::config::{from_json_text, RunConfig};
use lpmc::experiment::eval::{eval_samples, load_target, EvalOptions};
use lpmc::experiment::run::{prepare, RunOptions};
use lpmc::format::Codes;
use lpmc::round::{quantize_par, AsCodes, AsValues};
use lpmc::{with_codes, Error, Format, Overflow, Rounding, Source};
use numpy::{
    IntoPyArray, PyArray1, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyKeyboardInterrupt, PyValueError};
use pyo3::prelude::*;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// lpmc's error as the `ValueError` the CLI's `error:` line would print.
fn value_error(e: Error) -> PyErr {
    match e {
        Error::Interrupted => PyKeyboardInterrupt::new_err(e.to_string()),
        e => PyValueError::new_err(e.to_string()),
    }
}

/// An integer argument as `i64`, or the error naming its range (Python ints are unbounded).
fn int_arg(name: &str, v: i128, min: i128, max: i128) -> PyResult<i128> {
    if v < min || v > max {
        return Err(value_error(Error::param(
            name,
            v,
            format!("must be an integer in {min}..={max}"),
        )));
    }
    Ok(v)
}

/// The format, rounding and random stream of a quantize call, parsed as `lpmc round` does.
fn rounding_unit(
    wl: i128,
    fl: i128,
    rounding: &str,
    overflow: &str,
    seed: i128,
    source: &str,
) -> Result<(Format, Rounding, lpmc::source::Bits), PyErr> {
    let clamp = |v: i128| v.clamp(i64::MIN as i128, i64::MAX as i128) as i64;
    let overflow: Overflow = overflow.parse().map_err(|e| value_error(Error::from(e)))?;
    let format = Format::from_i64(clamp(wl), clamp(fl))
        .map_err(value_error)?
        .with_overflow(overflow);
    let rounding: Rounding = rounding.parse().map_err(|e| value_error(Error::from(e)))?;
    let seed = int_arg("seed", seed, 0, u64::MAX as i128)? as u64;
    let source: Source = source.parse().map_err(value_error)?;
    let bits = source.stream(seed, 0).map_err(value_error)?;
    Ok((format, rounding, bits))
}

/// Rounds the flat float32 or float64 array `x` to Q(`wl`, `fl`): the grid values (float64,
/// or float32 with `out32`), or with `codes` the integer codes (int8/16/32/64 by WL). Stream 0
/// of `seed`, in the kernel calls of `lpmc round` (`lpmc::round::CALL` elements each).
#[pyfunction]
#[pyo3(signature = (x, wl, fl, rounding, overflow, seed, source, codes, out32=false))]
#[allow(clippy::too_many_arguments)]
fn quantize<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    wl: i128,
    fl: i128,
    rounding: &str,
    overflow: &str,
    seed: i128,
    source: &str,
    codes: bool,
    out32: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let (format, rounding, mut bits) = rounding_unit(wl, fl, rounding, overflow, seed, source)?;
    let unit = Unit {
        format,
        rounding,
        codes,
        out32,
    };
    if let Ok(x) = x.extract::<PyReadonlyArray1<'py, f32>>() {
        return unit.round(py, x.as_slice()?, &mut bits);
    }
    let x = x.extract::<PyReadonlyArray1<'py, f64>>()?;
    unit.round(py, x.as_slice()?, &mut bits)
}

/// What one [`quantize`] call produces.
struct Unit {
    format: Format,
    rounding: Rounding,
    codes: bool,
    out32: bool,
}

impl Unit {
    /// Rounds `xs` (refused unless all finite) into a new NumPy array, with the GIL released.
    fn round<'py, T: Copy + Into<f64> + Sync>(
        &self,
        py: Python<'py>,
        xs: &[T],
        bits: &mut lpmc::source::Bits,
    ) -> PyResult<Bound<'py, PyAny>> {
        let n = xs.len();
        let (format, rounding) = (self.format, self.rounding);
        if self.codes {
            let mut out = Codes::zeros(format.container(), n);
            py.allow_threads(|| {
                with_codes!(&mut out, c => quantize_par(xs, format, rounding, c, &AsCodes::default(), bits))
            })
            .map_err(value_error)?;
            return Ok(with_codes!(out, v => v.into_pyarray(py).into_any()));
        }
        if self.out32 {
            let out = PyArray1::<f32>::zeros(py, n, false);
            let mut guard = out.readwrite();
            let dst = guard.as_slice_mut()?;
            let sink = AsValues::<f32>::new(format.delta());
            py.allow_threads(|| quantize_par(xs, format, rounding, dst, &sink, bits))
                .map_err(value_error)?;
            drop(guard);
            return Ok(out.into_any());
        }
        let out = PyArray1::<f64>::zeros(py, n, false);
        let mut guard = out.readwrite();
        let dst = guard.as_slice_mut()?;
        let sink = AsValues::<f64>::new(format.delta());
        py.allow_threads(|| quantize_par(xs, format, rounding, dst, &sink, bits))
            .map_err(value_error)?;
        drop(guard);
        Ok(out.into_any())
    }
}

/// A run config: JSON text (from a dict), a file path (JSON, or TOML by extension), or the
/// built-in run when both are `None`.
fn load_config(json: Option<&str>, path: Option<PathBuf>) -> PyResult<RunConfig> {
    match (json, path) {
        (Some(text), _) => {
            from_json_text(text).map_err(|e| value_error(Error::Config(format!("config: {e}"))))
        }
        (None, Some(p)) => RunConfig::load(&p).map_err(value_error),
        (None, None) => Ok(RunConfig::builtin()),
    }
}

/// Progress of a run driven from Python: counts chain-steps and stops when asked.
struct Stop {
    steps: AtomicU64,
    stop: AtomicBool,
}

impl Progress for Stop {
    fn add(&self, n: u64) {
        self.steps.fetch_add(n, Ordering::Relaxed);
    }
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// Runs `work` on a worker thread with the GIL released, checking for Ctrl-C (and any other
/// pending signal) every 50 ms; on a signal, sets `stop` and returns the signal's exception
/// once the worker has stopped.
fn interruptible<T: Send>(
    py: Python<'_>,
    stop: &AtomicBool,
    work: impl FnOnce() -> Result<T, Error> + Send,
) -> PyResult<T> {
    let mut signal: Option<PyErr> = None;
    let out = py.allow_threads(|| {
        std::thread::scope(|s| {
            let worker = s.spawn(work);
            while !worker.is_finished() {
                std::thread::sleep(Duration::from_millis(50));
                if signal.is_none() {
                    if let Err(e) = Python::with_gil(|py| py.check_signals()) {
                        signal = Some(e);
                        stop.store(true, Ordering::Relaxed);
                    }
                }
            }
            worker.join()
        })
    });
    if let Some(e) = signal {
        return Err(e);
    }
    match out {
        Ok(r) => r.map_err(value_error),
        Err(_) => Err(PyValueError::new_err(
            "lpmc: the run's worker thread failed",
        )),
    }
}

/// Runs a config and returns `(result.json text, samples (rows × d), chain of each row)`.
#[pyfunction]
#[pyo3(signature = (config_json, config_path, seed, threads))]
fn run<'py>(
    py: Python<'py>,
    config_json: Option<&str>,
    config_path: Option<PathBuf>,
    seed: Option<i128>,
    threads: Option<i128>,
) -> PyResult<(String, Bound<'py, PyAny>, Bound<'py, PyArray1<u64>>)> {
    let config = load_config(config_json, config_path)?;
    let seed = seed
        .map(|s| int_arg("seed", s, 0, u64::MAX as i128))
        .transpose()?;
    let threads = threads
        .map(|t| int_arg("threads", t, 0, usize::MAX as i128))
        .transpose()?;
    let opts = RunOptions {
        seed: seed.map(|s| s as u64),
        threads: threads.map(|t| t as usize),
        ..Default::default()
    };
    let prepared = prepare(&config, &opts).map_err(value_error)?;
    let progress = Stop {
        steps: AtomicU64::new(0),
        stop: AtomicBool::new(false),
    };
    let done = interruptible(py, &progress.stop, || {
        prepared.compute(opts.threads, &progress)
    })?;
    let json = serde_json::to_string(&done.result).expect("result serializes");
    let d = done.target.dim();
    let rows = done.chains.rows.len();
    let samples = done.samples.into_pyarray(py).reshape([rows, d])?.into_any();
    let chains: Vec<u64> = done.chains.rows.iter().map(|(c, _)| *c as u64).collect();
    Ok((json, samples, chains.into_pyarray(py)))
}

/// Scores row-major samples against a target (inline JSON, a name or a file); the metrics
/// of `lpmc eval` as JSON text.
#[pyfunction]
#[pyo3(signature = (samples, target, chains, seed, slices, delta, bootstrap, blocks, reference))]
#[allow(clippy::too_many_arguments)]
fn eval(
    py: Python<'_>,
    samples: PyReadonlyArray2<'_, f64>,
    target: &str,
    chains: Option<Vec<u64>>,
    seed: i128,
    slices: i128,
    delta: Option<f64>,
    bootstrap: Option<i128>,
    blocks: i128,
    reference: Option<PyReadonlyArray2<'_, f64>>,
) -> PyResult<String> {
    let d = samples.shape()[1];
    let xs = samples.as_slice()?;
    let reference = match &reference {
        Some(r) => {
            if r.shape()[1] != d {
                return Err(value_error(Error::Config(format!(
                    "reference: {} columns but the samples have {d}",
                    r.shape()[1]
                ))));
            }
            Some(r.as_slice()?)
        }
        None => None,
    };
    let target = load_target(target)
        .and_then(|t| t.build())
        .map_err(value_error)?;
    let opts = EvalOptions {
        seed: int_arg("seed", seed, 0, u64::MAX as i128)? as u64,
        slices: int_arg("slices", slices, 0, usize::MAX as i128)? as usize,
        delta,
        chains,
        blocks: int_arg("blocks", blocks, 0, usize::MAX as i128)? as usize,
        bootstrap: bootstrap
            .map(|b| int_arg("bootstrap", b, 0, usize::MAX as i128).map(|b| b as usize))
            .transpose()?,
    };
    let m = py
        .allow_threads(|| eval_samples(xs, d, target.as_ref(), reference, &opts))
        .map_err(value_error)?;
    Ok(serde_json::to_string(&m).expect("metrics serialize"))
}

/// A float64 NumPy vector.
type Floats<'py> = Bound<'py, PyArray1<f64>>;

/// The exact stationary law of a 1-D lattice chain: `(exact.json text, grid values of x,
/// their probabilities)`.
#[pyfunction]
#[pyo3(signature = (config_json, config_path, max_entries))]
fn exact<'py>(
    py: Python<'py>,
    config_json: Option<&str>,
    config_path: Option<PathBuf>,
    max_entries: Option<i128>,
) -> PyResult<(String, Floats<'py>, Floats<'py>)> {
    let config = load_config(config_json, config_path)?;
    let max_entries = match max_entries {
        Some(m) => int_arg("max_entries", m, 0, usize::MAX as i128)? as usize,
        None => lpmc::exact::MAX_ENTRIES,
    };
    let limits = lpmc::exact::Limits {
        max_entries,
        ..Default::default()
    };
    let (result, solved) = py
        .allow_threads(|| lpmc::experiment::exact::exact_values(&config, &limits))
        .map_err(value_error)?;
    let f = solved.x_format;
    let values: Vec<f64> = (0..solved.x_pmf.len())
        .map(|i| f.value(f.min_code() + i as i64))
        .collect();
    let json = serde_json::to_string(&result).expect("result serializes");
    Ok((json, values.into_pyarray(py), solved.x_pmf.into_pyarray(py)))
}

/// Runs every point of a grid (JSON text or a file) into the directory `out`, as
/// `lpmc sweep GRID --out OUT` does; returns the number of points run.
#[pyfunction]
#[pyo3(signature = (grid_json, grid_path, out, seed, threads, resume))]
fn sweep(
    py: Python<'_>,
    grid_json: Option<&str>,
    grid_path: Option<PathBuf>,
    out: PathBuf,
    seed: Option<i128>,
    threads: Option<i128>,
    resume: bool,
) -> PyResult<usize> {
    use lpmc::sweep::grid::Grid;
    let grid = match (grid_json, grid_path) {
        (Some(text), _) => serde_json::from_str(text)
            .map_err(|e| Error::Config(format!("grid: {e}")))
            .and_then(Grid::from_value),
        (None, Some(p)) => Grid::load(&p),
        (None, None) => Err(Error::Config("grid: give a dict or a path".into())),
    }
    .map_err(value_error)?;
    let mut opts = lpmc::sweep::SweepOptions::new(out);
    opts.seed = seed
        .map(|s| int_arg("seed", s, 0, u64::MAX as i128).map(|s| s as u64))
        .transpose()?;
    opts.threads = threads
        .map(|t| int_arg("threads", t, 0, usize::MAX as i128).map(|t| t as usize))
        .transpose()?;
    opts.resume = resume;
    let stop = AtomicBool::new(false);
    let s = interruptible(py, &stop, || {
        lpmc::sweep::sweep_grid_until(grid, &opts, &stop)
    })?;
    Ok(s.ran)
}

/// The native module.
#[pymodule]
fn _lpmc(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(quantize, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(eval, m)?)?;
    m.add_function(wrap_pyfunction!(exact, m)?)?;
    m.add_function(wrap_pyfunction!(sweep, m)?)?;
    m.add("CALL", lpmc::round::CALL)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
