//! Sweep grids: a base run config, lists of values for dotted paths into it, and a seed.
//!
//! A grid file (JSON, or TOML by extension) is
//! `{"base": RUN_CONFIG, "vary": {"dotted.path": [v1, v2, …], …}, "seed": S, "cost": {…}}`.
//! Its points are the Cartesian product of the `vary` lists: each point is the base config
//! (as a JSON value) with every path set to one of its values, deserialized to a
//! [`RunConfig`] and validated with [`RunConfig::build`]. [`Grid::points`] checks every point
//! before any of them runs, so a bad grid fails with one error and nothing written.
//!
//! # Canonical order, keys and seeds
//! - Paths are sorted (byte order); the points are enumerated as a mixed-radix counter over the
//!   value lists in the order given, the **last** path changing fastest. Point `i` of that
//!   enumeration has index `i` (0-based); shards and output rows use this order.
//! - A point's **key** is its `path=value` pairs in path order, joined by `", "`, each value
//!   written as canonical JSON (object keys sorted, no spaces): `format.fl=4, rounding="sr:3"`.
//! - A point's **seed** is [`point_seed`]`(sweep seed, key)`: it depends on nothing else, so a
//!   point's result does not depend on the order of the lists, the shard or the thread count.
//! - The **grid hash** is [`fnv1a64`] of the canonical JSON of the whole grid (base, vary,
//!   seed, cost weights), as 16 hex digits. Reordering a list changes the hash.

use super::cost::CostWeights;
use crate::error::{Error, Result};
use crate::experiment::config::RunConfig;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Largest number of points a grid may have.
pub const MAX_POINTS: usize = 1_000_000;

/// The grid file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GridFile {
    base: Value,
    #[serde(default)]
    vary: BTreeMap<String, Vec<Value>>,
    #[serde(default)]
    seed: u64,
    #[serde(default)]
    cost: CostWeights,
    #[serde(default)]
    method: Method,
}

/// How a sweep scores its points.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Monte Carlo: run the chains, score the samples (the default).
    #[default]
    Mc,
    /// The exact stationary law of the lattice chain ([`crate::exact`]): no chains, no
    /// sampling error (1-D targets, lattice variants only).
    Exact,
}

/// A parsed grid: validated paths and lists (not yet the points; see [`Grid::points`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    /// The base run config as a JSON value.
    pub base: Value,
    /// `(path, values)`, sorted by path; every list non-empty, without duplicates.
    pub vary: Vec<(String, Vec<Value>)>,
    /// The sweep seed.
    pub seed: u64,
    /// Weights of the hardware cost model.
    pub cost: CostWeights,
    /// Monte Carlo or exact.
    pub method: Method,
    /// `base` with every default filled in (the serialized [`RunConfig`] of `base`), or `base`
    /// itself when it is not a complete config on its own; the paths are applied to this.
    filled: Value,
}

/// One point of a grid.
#[derive(Debug)]
pub struct Point {
    /// Position in the canonical order, 0-based.
    pub index: usize,
    /// The canonical key (`path=value, …`).
    pub key: String,
    /// `(path, value)` of every varied path, in path order.
    pub values: Vec<(String, Value)>,
    /// The point's seed, [`point_seed`] of the sweep seed and the key.
    pub seed: u64,
    /// The point's run config (its `seed` set to the point's seed).
    pub config: RunConfig,
}

impl Grid {
    /// Reads a grid file: `.toml` as TOML, anything else as JSON. Errors are one line.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let toml = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
        let value: Value = if toml {
            toml::from_str(&text).map_err(|e| {
                let at = e.span().map_or(String::new(), |s| {
                    format!(
                        " at line {}",
                        text[..s.start.min(text.len())].matches('\n').count() + 1
                    )
                });
                Error::Config(format!(
                    "{}: {}{at}",
                    path.display(),
                    e.message().replace('\n', " ")
                ))
            })?
        } else {
            serde_json::from_str(&text)
                .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?
        };
        Self::from_value(value).map_err(|e| Error::Config(format!("{}: {e}", path.display())))
    }

    /// A grid from its JSON value; checks the structure (fields, paths, lists, weights) but
    /// not the points.
    pub fn from_value(value: Value) -> Result<Self> {
        let file: GridFile = serde_path_to_error::deserialize(value).map_err(|e| {
            let at = crate::experiment::config::field_path(&e.path().to_string());
            let at = if at.is_empty() { at } else { format!("{at}: ") };
            Error::Config(format!(
                "grid: {at}{}",
                one_line(&e.into_inner().to_string())
            ))
        })?;
        if !file.base.is_object() {
            return Err(Error::Config(
                "grid: `base` must be a run config object".into(),
            ));
        }
        file.cost.check()?;
        let mut vary = Vec::new();
        for (path, values) in file.vary {
            if path.is_empty() || path.split('.').any(str::is_empty) {
                return Err(Error::param(
                    "vary path",
                    format!("`{path}`"),
                    "must be dot-separated field names, e.g. `format.fl`",
                ));
            }
            if values.is_empty() {
                return Err(Error::Config(format!(
                    "grid: vary.{path} is an empty list (give at least one value)"
                )));
            }
            let mut seen = std::collections::BTreeSet::new();
            for v in &values {
                if !seen.insert(canonical_json(v)) {
                    return Err(Error::Config(format!(
                        "grid: vary.{path} lists the value {} twice",
                        canonical_json(v)
                    )));
                }
            }
            vary.push((path, values));
        }
        // Defaults filled in, so that e.g. `format.fl` can vary when the base gives no
        // `format`; per-quantity `formats` stay absent (they follow `format`).
        let filled = serde_json::from_value::<RunConfig>(file.base.clone())
            .ok()
            .and_then(|c| serde_json::to_value(c).ok())
            .unwrap_or_else(|| file.base.clone());
        Ok(Grid {
            filled,
            base: file.base,
            vary,
            seed: file.seed,
            cost: file.cost,
            method: file.method,
        })
    }

    /// Number of points (the product of the list lengths); an error above [`MAX_POINTS`].
    pub fn num_points(&self) -> Result<usize> {
        let mut n: usize = 1;
        for (_, v) in &self.vary {
            n = n.saturating_mul(v.len());
        }
        if n > MAX_POINTS {
            return Err(Error::param(
                "number of grid points",
                n,
                format!("at most {MAX_POINTS}"),
            ));
        }
        Ok(n)
    }

    /// The canonical JSON value of the grid (what [`Grid::hash`] hashes and `grid.json`
    /// records).
    pub fn canonical(&self) -> Value {
        let vary: serde_json::Map<String, Value> = self
            .vary
            .iter()
            .map(|(p, v)| (p.clone(), Value::Array(v.clone())))
            .collect();
        let mut v = serde_json::json!({
            "base": self.base,
            "vary": vary,
            "seed": self.seed,
            "cost": serde_json::to_value(self.cost).unwrap_or_default(),
        });
        // Monte Carlo grids keep the hash they had before `method` existed.
        if self.method == Method::Exact {
            v["method"] = "exact".into();
        }
        v
    }

    /// The grid hash: [`fnv1a64`] of the canonical JSON text, 16 lower-case hex digits.
    pub fn hash(&self) -> String {
        format!(
            "{:016x}",
            fnv1a64(canonical_json(&self.canonical()).as_bytes())
        )
    }

    /// Every point, in canonical order, each deserialized and built (validated). The first
    /// bad point is an error naming its index and key.
    pub fn points(&self) -> Result<Vec<Point>> {
        let n = self.num_points()?;
        let mut out = Vec::with_capacity(n);
        for index in 0..n {
            let p = self.point(index)?;
            p.config.build().map_err(|e| {
                Error::Config(format!(
                    "grid point {index} ({}): {}",
                    p.key,
                    one_line(&e.to_string())
                ))
            })?;
            out.push(p);
        }
        Ok(out)
    }

    /// Point `index` (0-based, canonical order), deserialized but not built.
    pub fn point(&self, index: usize) -> Result<Point> {
        let mut rest = index;
        let mut picks = vec![0; self.vary.len()];
        for (j, (_, vals)) in self.vary.iter().enumerate().rev() {
            picks[j] = rest % vals.len();
            rest /= vals.len();
        }
        let mut cfg = self.filled.clone();
        let mut values = Vec::with_capacity(self.vary.len());
        for ((path, vals), &k) in self.vary.iter().zip(&picks) {
            set_path(&mut cfg, path, vals[k].clone())?;
            values.push((path.clone(), vals[k].clone()));
        }
        let key = point_key(&values);
        let seed = point_seed(self.seed, &key);
        let mut config: RunConfig = crate::experiment::config::from_json_value(cfg)
            .map_err(|e| Error::Config(format!("grid point {index} ({key}): {}", one_line(&e))))?;
        config.seed = seed;
        Ok(Point {
            index,
            key,
            values,
            seed,
            config,
        })
    }
}

/// The canonical key of `(path, value)` pairs given in path order.
pub fn point_key(values: &[(String, Value)]) -> String {
    values
        .iter()
        .map(|(p, v)| format!("{p}={}", canonical_json(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A point's seed: `mix64(mix64(sweep_seed) ^ fnv1a64(key))`, with `mix64` the SplitMix64
/// finalizer ([`lpmc_kernels::bits::mix64`]) — a fixed function of the two, independent of
/// platform, process and order.
pub fn point_seed(sweep_seed: u64, key: &str) -> u64 {
    use lpmc_kernels::bits::mix64;
    mix64(mix64(sweep_seed) ^ fnv1a64(key.as_bytes()))
}

/// 64-bit FNV-1a of `bytes` (offset basis 0xcbf29ce484222325, prime 0x100000001b3).
///
/// ```
/// use lpmc::sweep::grid::fnv1a64;
/// assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
/// assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
/// ```
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// JSON text with object keys sorted and no whitespace (numbers and strings as serde_json
/// writes them: shortest round-trip decimals).
pub fn canonical_json(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| {
                    format!(
                        "{}:{}",
                        Value::String((*k).clone()),
                        canonical_json(&m[k.as_str()])
                    )
                })
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(canonical_json).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

/// Sets `path` (dot-separated object keys; a number indexes an array) in `root` to `new`.
/// Missing object keys are created (as objects on the way); stepping into a number, string,
/// boolean or past the end of an array is an error.
pub fn set_path(root: &mut Value, path: &str, new: Value) -> Result<()> {
    let segs: Vec<&str> = path.split('.').collect();
    let mut cur = root;
    for (i, seg) in segs.iter().enumerate() {
        let last = i + 1 == segs.len();
        let here = segs[..i].join(".");
        cur = match cur {
            Value::Object(m) => {
                if last {
                    m.insert(seg.to_string(), new);
                    return Ok(());
                }
                m.entry(seg.to_string())
                    .or_insert_with(|| Value::Object(Default::default()))
            }
            Value::Array(a) => {
                let len = a.len();
                let slot = seg.parse::<usize>().ok().and_then(|k| a.get_mut(k));
                match slot {
                    Some(s) if last => {
                        *s = new;
                        return Ok(());
                    }
                    Some(s) => s,
                    None => {
                        return Err(Error::Config(format!(
                            "vary path `{path}`: `{here}` is an array of {len}; `{seg}` is not an index in 0..{len}"
                        )))
                    }
                }
            }
            other => {
                let v = one_line(&other.to_string());
                return Err(Error::Config(format!(
                    "vary path `{path}`: `{}` is the value {v}, which has no field `{seg}`",
                    if here.is_empty() { "base" } else { &here }
                )));
            }
        };
    }
    Ok(())
}

/// A shard `K/N` of a sweep: 1-based `k` in `1..=n`; point `i` (0-based canonical index)
/// belongs to it iff `i mod n = k − 1` (round-robin, so slow corners of a grid spread over
/// the shards).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This shard, 1..=n.
    pub k: usize,
    /// Number of shards, ≥ 1.
    pub n: usize,
}

impl Shard {
    /// The whole grid.
    pub const ALL: Shard = Shard { k: 1, n: 1 };

    /// Whether point `index` belongs to this shard.
    pub fn has(&self, index: usize) -> bool {
        index % self.n == self.k - 1
    }
}

impl std::str::FromStr for Shard {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            Error::param(
                "--shard",
                s,
                "must be K/N with 1 ≤ K ≤ N (K 1-based: Slurm's SLURM_ARRAY_TASK_ID with --array=1-N, or Kubernetes' JOB_COMPLETION_INDEX + 1)",
            )
        };
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let k: usize = k.trim().parse().map_err(|_| bad())?;
        let n: usize = n.trim().parse().map_err(|_| bad())?;
        if n == 0 || k == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard { k, n })
    }
}

/// Joins the lines of an error message with spaces (the CLI prints one line).
pub(crate) fn one_line(s: &str) -> String {
    s.split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn grid(v: Value) -> Grid {
        Grid::from_value(v).unwrap()
    }

    fn base() -> Value {
        json!({"target": "paper-mixture", "sampler": {"sgld": {"eta": 0.1}},
               "chains": 4, "steps": 50, "burn_in": 10})
    }

    #[test]
    fn expansion_order_keys_and_seeds() {
        let g = grid(json!({"base": base(), "seed": 7,
            "vary": {"rounding": ["sr:2", "sr"], "format.fl": [2, 3, 4]}}));
        assert_eq!(g.num_points().unwrap(), 6);
        let pts = g.points().unwrap();
        // Paths sorted: format.fl before rounding; the last path changes fastest.
        let keys: Vec<&str> = pts.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                r#"format.fl=2, rounding="sr:2""#,
                r#"format.fl=2, rounding="sr""#,
                r#"format.fl=3, rounding="sr:2""#,
                r#"format.fl=3, rounding="sr""#,
                r#"format.fl=4, rounding="sr:2""#,
                r#"format.fl=4, rounding="sr""#,
            ]
        );
        assert_eq!(pts[2].config.format.fl(), 3);
        assert_eq!(pts[2].config.seed, point_seed(7, &pts[2].key));
        // Seeds are distinct and depend only on (sweep seed, key): reordering the lists and
        // the fields of the file changes the order but not any point's seed.
        let h = grid(
            json!({"seed": 7, "vary": {"format.fl": [4, 3, 2], "rounding": ["sr", "sr:2"]},
                             "base": base()}),
        );
        let other = h.points().unwrap();
        for p in &pts {
            let q = other.iter().find(|q| q.key == p.key).unwrap();
            assert_eq!((q.seed, &q.config), (p.seed, &p.config));
        }
        assert_ne!(other[0].key, pts[0].key);
        let mut seeds: Vec<u64> = pts.iter().map(|p| p.seed).collect();
        seeds.sort();
        seeds.dedup();
        assert_eq!(seeds.len(), 6);
        // Another sweep seed changes every point's seed.
        assert_ne!(point_seed(8, &pts[0].key), pts[0].seed);
        // The hash covers the lists' order.
        assert_ne!(g.hash(), h.hash());
        assert_eq!(g.hash(), grid(g.canonical()).hash());
    }

    #[test]
    fn nested_paths_create_objects_and_index_arrays() {
        let g = grid(
            json!({"base": {"target": {"gaussian": {"mean": [0.0, 1.0], "var": [1.0, 1.0]}},
                 "sampler": {"sghmc": {}}, "chains": 2, "steps": 20, "burn_in": 5},
            "vary": {"formats.coef": [{"wl": 12, "fl": 10}], "sampler.sghmc.eta": [0.05],
                     "target.gaussian.mean.1": [2.0]}}),
        );
        let p = &g.points().unwrap()[0];
        assert_eq!(p.config.formats().coef.wl(), 12);
        assert_eq!(
            p.key,
            r#"formats.coef={"fl":10,"wl":12}, sampler.sghmc.eta=0.05, target.gaussian.mean.1=2.0"#
        );
    }

    #[test]
    fn bad_grids_are_one_line_errors() {
        let bad = |v: Value| -> String {
            let e = Grid::from_value(v).and_then(|g| g.points().map(|_| ()));
            let msg = e.unwrap_err().to_string();
            assert!(!msg.contains('\n'), "{msg}");
            msg
        };
        assert!(bad(json!({"base": base(), "vary": {"format.fll": [1]}})).contains("fll"));
        assert!(bad(json!({"base": base(), "vary": {"format.fl": []}})).contains("empty"));
        assert!(bad(json!({"base": base(), "vary": {"format.fl": [4, 99]}})).contains("99"));
        assert!(bad(json!({"base": base(), "vary": {"format.fl": [4, 4]}})).contains("twice"));
        assert!(bad(json!({"base": base(), "varyy": {}})).contains("varyy"));
        assert!(bad(json!({"base": base(), "vary": {"chains.x": [1]}})).contains("chains"));
        assert!(bad(json!({"base": base(), "vary": {"a..b": [1]}})).contains("a..b"));
        assert!(bad(json!({"base": base(), "cost": {"adder_bit": -1.0}})).contains("adder_bit"));
        assert!(
            bad(json!({"base": base(), "vary": {"sampler.sgld.eta": [0.1, -1.0]}}))
                .contains("point 1")
        );
    }

    /// The example grids of `examples/` parse (JSON and TOML) and every point builds.
    #[test]
    fn example_grids_are_valid() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        for (name, n) in [
            ("sweep_sr_bits.json", 64),
            ("sweep_wl_fl.toml", 13 * 5 * 2),
            ("sweep_coef_bits.json", 20),
        ] {
            let g = Grid::load(&dir.join(name)).unwrap();
            assert_eq!(g.points().unwrap().len(), n, "{name}");
        }
    }

    #[test]
    fn shards_partition_the_points() {
        let s: Shard = "2/3".parse().unwrap();
        assert_eq!(s, Shard { k: 2, n: 3 });
        let taken: Vec<usize> = (0..7).filter(|&i| s.has(i)).collect();
        assert_eq!(taken, [1, 4]);
        for bad in ["0/3", "4/3", "1/0", "x", "1/2/3", "-1/2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        let all: usize = (1..=3)
            .map(|k| (0..10).filter(|&i| Shard { k, n: 3 }.has(i)).count())
            .sum();
        assert_eq!(all, 10);
    }
}
