//! Golden test vectors: what a hardware unit must produce for given inputs and random bits,
//! computed by the same kernels `lpmc run` uses, in files an RTL testbench reads
//! (`lpmc vectors`, `docs/hardware.md`).
//!
//! A *producer* (one per kind: [`requantize`], [`quantize`], [`stream`] for `lfsr` and
//! `xoshiro`, [`noise`]) validates its settings and returns a [`VectorSet`]: the kind, every
//! parameter, the bit-level rule, the lane's formula and a [`Table`] of integer columns.
//! [`VectorSet::write`] turns any set into the same files:
//!
//! - `vectors.csv`: a header of column names, then one row per vector; signed columns
//!   (codes) as signed decimal integers, unsigned ones (random words, bit bundles) as unsigned
//!   decimal integers;
//! - `<column>.hex`: one word per line at the column's width (two's complement for signed
//!   columns, `⌈width/4⌉` hex digits), for `$readmemh`;
//! - any extra files of the kind (a noise table's ROM image);
//! - `vectors.json`, last: kind, parameters, rules, formula, each column's meaning and width,
//!   and the RTL module and testbench that replay the set with their parameters.
//!
//! Nothing is written until the whole set is computed, and each file is written atomically,
//! so bad input leaves no file behind.
//!
//! # Adding a kind
//! A new kind (e.g. one sampler step lane) is one more producer: a function that takes its
//! settings and returns `Result<VectorSet>`, built with [`VectorSet::new`], [`Table::column`]
//! and [`Table::push`] (every value checked against its column's width), plus one subcommand
//! in `src/main.rs`. Everything about files is here.

pub mod noise;
pub mod quantize;
pub mod requantize;
pub mod rules;
pub mod step;
pub mod stream;
pub mod xoshiro;

use crate::error::{Error, Result};
use crate::output::{write_atomic, write_json};
use num_bigint::{BigInt, Sign};
use serde::Serialize;
use serde_json::{Map, Value};
use std::path::Path;

/// One integer column of a vector table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Column {
    /// Name: the CSV header and the hex file's stem (`[a-z0-9_]+`).
    pub name: String,
    /// What the column holds, in words an RTL engineer can wire to a port.
    pub meaning: String,
    /// Width in bits (0 for a column that is always 0, e.g. the random bits of a
    /// deterministic mode; its hex file then has 1-bit words).
    pub width: u32,
    /// Signed (two's complement code) or unsigned (word, bit bundle, flag).
    pub signed: bool,
    /// The `$readmemh` file of the column.
    pub hex: String,
}

/// The rows of a vector set: integer columns of declared widths.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    columns: Vec<Column>,
    rows: Vec<Vec<BigInt>>,
}

impl Table {
    /// Adds a column (before any row is pushed).
    ///
    /// # Panics
    /// If rows were already pushed or the name is taken (producer bugs, not user input).
    pub fn column(&mut self, name: &str, width: u32, signed: bool, meaning: impl Into<String>) {
        assert!(self.rows.is_empty(), "columns come before rows");
        assert!(
            self.columns.iter().all(|c| c.name != name),
            "duplicate column {name}"
        );
        self.columns.push(Column {
            name: name.to_string(),
            meaning: meaning.into(),
            width,
            signed,
            hex: format!("{name}.hex"),
        });
    }

    /// Appends one row, one value per column in column order.
    ///
    /// # Panics
    /// If the row has the wrong length or a value does not fit its column's width (signed:
    /// `−2^(w−1) ≤ v < 2^(w−1)`, unsigned: `0 ≤ v < 2^w`): a producer bug.
    pub fn push(&mut self, row: Vec<BigInt>) {
        assert_eq!(row.len(), self.columns.len(), "row length");
        for (v, c) in row.iter().zip(&self.columns) {
            assert!(fits(v, c), "{} = {v} does not fit {} bits", c.name, c.width);
        }
        self.rows.push(row);
    }

    /// The columns.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The rows.
    pub fn rows(&self) -> &[Vec<BigInt>] {
        &self.rows
    }

    /// Column `name` of every row.
    pub fn get(&self, name: &str) -> Option<Vec<&BigInt>> {
        let i = self.columns.iter().position(|c| c.name == name)?;
        Some(self.rows.iter().map(|r| &r[i]).collect())
    }

    /// The CSV text: header, then one line per row.
    pub fn csv(&self) -> String {
        let mut s = self
            .columns
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(",");
        s.push('\n');
        for r in &self.rows {
            let line: Vec<String> = r.iter().map(|v| v.to_string()).collect();
            s.push_str(&line.join(","));
            s.push('\n');
        }
        s
    }

    /// The `$readmemh` text of column `i`: one word per line, two's complement at the
    /// column's width, zero-padded to `⌈width/4⌉` digits.
    pub fn hex(&self, i: usize) -> String {
        let c = &self.columns[i];
        let w = c.width.max(1);
        let digits = w.div_ceil(4) as usize;
        let modulus = BigInt::from(1) << w;
        let mut s = String::with_capacity(self.rows.len() * (digits + 1));
        for r in &self.rows {
            let v = &r[i];
            let u = if v.sign() == Sign::Minus {
                v + &modulus
            } else {
                v.clone()
            };
            s.push_str(&format!("{:0>digits$}", u.to_str_radix(16)));
            s.push('\n');
        }
        s
    }
}

fn fits(v: &BigInt, c: &Column) -> bool {
    let w = c.width;
    if c.signed {
        if w == 0 {
            return v.sign() == Sign::NoSign;
        }
        let lim = BigInt::from(1) << (w - 1);
        *v >= -lim.clone() && *v < lim
    } else {
        v.sign() != Sign::Minus && v.bits() <= w as u64
    }
}

/// The RTL that replays a set: the unit's module, its testbench and the testbench's
/// parameters (Verilog parameter name → integer or string value).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Rtl {
    /// The unit under test (a module in `hw/rtl/`).
    pub module: String,
    /// The self-checking testbench (a module in `hw/tb/`).
    pub testbench: String,
    /// The testbench's parameters; `N` (the vector count) is always among them.
    pub parameters: Map<String, Value>,
}

/// A complete vector set: what one `lpmc vectors` call writes.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorSet {
    /// The kind (`requantize`, `lfsr`, ...).
    pub kind: String,
    /// Every parameter of the unit and of the stream the random bits come from.
    pub parameters: Map<String, Value>,
    /// The bit-level rules the unit follows (rounding, overflow, packing, ...), by name.
    pub rules: Map<String, Value>,
    /// The unit's function in terms of the column names.
    pub formula: String,
    /// The rows.
    pub table: Table,
    /// Extra files (name, contents), e.g. a noise table's `$readmemh` image.
    pub files: Vec<(String, String)>,
    /// The matching RTL, if `hw/` has one.
    pub rtl: Option<Rtl>,
}

/// What [`VectorSet::write`] reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Written {
    /// The kind.
    pub kind: String,
    /// Number of vectors (rows).
    pub vectors: usize,
    /// The files written, in order (`vectors.json` last).
    pub files: Vec<String>,
}

impl VectorSet {
    /// An empty set of `kind` (fill `parameters`, `rules`, `formula`, `table`).
    pub fn new(kind: &str) -> Self {
        VectorSet {
            kind: kind.to_string(),
            parameters: Map::new(),
            rules: Map::new(),
            formula: String::new(),
            table: Table::default(),
            files: Vec::new(),
            rtl: None,
        }
    }

    /// Sets parameter `name`.
    pub fn param(&mut self, name: &str, value: impl Serialize) {
        self.parameters.insert(
            name.to_string(),
            serde_json::to_value(value).expect("parameter serializes"),
        );
    }

    /// Sets rule `name` (a sentence or a small object).
    pub fn rule(&mut self, name: &str, value: impl Serialize) {
        self.rules.insert(
            name.to_string(),
            serde_json::to_value(value).expect("rule serializes"),
        );
    }

    /// The `vectors.json` document.
    pub fn json(&self) -> Value {
        let mut rtl = self.rtl.clone();
        if let Some(r) = &mut rtl {
            r.parameters
                .insert("N".into(), Value::from(self.table.rows.len()));
        }
        serde_json::json!({
            "kind": self.kind,
            "lpmc_version": env!("CARGO_PKG_VERSION"),
            "vectors": self.table.rows.len(),
            "parameters": self.parameters,
            "rules": self.rules,
            "formula": self.formula,
            "columns": self.table.columns,
            "encoding": "vectors.csv: signed columns as signed decimal, unsigned as unsigned decimal; <column>.hex: one word per line, width bits, two's complement for signed columns, ⌈width/4⌉ hex digits ($readmemh)",
            "files": self.files.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
            "rtl": rtl,
        })
    }

    /// Writes the set into `dir` (created if needed): `vectors.csv`, one `.hex` per column,
    /// the extra files, then `vectors.json`; each atomically.
    pub fn write(&self, dir: &Path) -> Result<Written> {
        if self.table.rows.is_empty() {
            return Err(Error::param(
                "--n",
                0,
                "the set must have at least 1 vector",
            ));
        }
        let mut files = Vec::new();
        let mut put = |name: &str, text: &str| -> Result<()> {
            write_atomic(&dir.join(name), text.as_bytes())?;
            files.push(name.to_string());
            Ok(())
        };
        put("vectors.csv", &self.table.csv())?;
        for (i, c) in self.table.columns.iter().enumerate() {
            put(&c.hex, &self.table.hex(i))?;
        }
        for (name, text) in &self.files {
            put(name, text)?;
        }
        write_json(&dir.join("vectors.json"), &self.json())?;
        files.push("vectors.json".into());
        Ok(Written {
            kind: self.kind.clone(),
            vectors: self.table.rows.len(),
            files,
        })
    }
}

/// A `BigInt` from any primitive integer (shorthand for the producers).
pub fn int(v: impl Into<BigInt>) -> BigInt {
    v.into()
}

/// Bits needed for the unsigned integer `v` (0 for 0).
pub fn bit_length(v: u128) -> u32 {
    128 - v.leading_zeros()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_twos_complement_at_width_and_csv_is_decimal() {
        let mut t = Table::default();
        t.column("code", 6, true, "a code");
        t.column("word", 64, false, "a word");
        t.column("none", 0, false, "always 0");
        t.push(vec![int(-1), int(u64::MAX), int(0)]);
        t.push(vec![int(-32), int(5u64), int(0)]);
        t.push(vec![int(31), int(1u64 << 63), int(0)]);
        assert_eq!(t.hex(0), "3f\n20\n1f\n");
        assert_eq!(
            t.hex(1),
            "ffffffffffffffff\n0000000000000005\n8000000000000000\n"
        );
        assert_eq!(t.hex(2), "0\n0\n0\n");
        assert_eq!(
            t.csv(),
            "code,word,none\n-1,18446744073709551615,0\n-32,5,0\n31,9223372036854775808,0\n"
        );
    }

    #[test]
    #[should_panic(expected = "does not fit")]
    fn a_value_outside_its_width_is_a_bug() {
        let mut t = Table::default();
        t.column("code", 4, true, "a code");
        t.push(vec![int(8)]);
    }
}
