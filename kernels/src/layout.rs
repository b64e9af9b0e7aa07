//! Where the random bits of one sampler step are: regions of fields, packed into the step's
//! words.
//!
//! # The packing rule
//! A step draws whole 64-bit words from its chain's stream and takes *fields* from them in
//! order. A field of `w` bits (`1 ≤ w ≤ 64`) is taken at the current bit position of the
//! current word when it fits (`position + w ≤ 64`), otherwise at bit 0 of the next word (the
//! rest of the word is dropped); bit 0 is the least significant. A step starts at bit 0 of a
//! fresh word, and its last partly used word is not shared with the next step. So the fields
//! of a step, and the number of words it draws, depend only on the configuration and the
//! dimension, never on the data.
//!
//! # Regions
//! A step's fields come in regions, one per random quantity, in the order of [`Region`]'s
//! variants (word-wide fields first, so that narrow fields share words). Every region has one
//! entry per coordinate `i = 0..d` (a field, a Box–Muller normal, or a noise code made of
//! several fields):
//!
//! | region | fields per coordinate | used by |
//! |---|---|---|
//! | `GradNoise` | ½ Box–Muller pair (two 64-bit fields per pair of coordinates) | σ_g > 0 |
//! | `Normal1`, `Normal2` | ½ pair each | float-datapath noise, VC, integer `box-muller` noise |
//! | `QvcX0`, `QvcX1`, `QvcV0`, `QvcV1` | one 64-bit field each (its low 53 bits) | VC quantizers |
//! | `RoundGrad` | one `R_g`-bit field | Q_G |
//! | `Noise1`, `Noise2` | `K` fields of `B` bits (`clt:K:B`) or one `T`-bit field (`table:T`) | integer noise |
//! | `RoundV`, `RoundX` | one field of the rounding's bits | Q_V, Q_W |
//!
//! Normals: pair `j` of a normal region (coordinates `2j`, `2j + 1`) takes two 64-bit fields
//! `w1`, `w2` and gives `(r·cos 2πu₂, r·sin 2πu₂)` ([`crate::noise::box_muller`]); for odd `d`
//! the last sine is dropped. `Normal1` is `ξ` (SGLD) or `z₁` (SGHMC's momentum noise),
//! `Normal2` SGHMC's `z₂`. The `lp-f` variants first round x to the param format (Q_W before
//! the gradient): that region, `RoundPre`, is a part of its own before the main part, word
//! aligned, so that a target which draws minibatch words in between ([`crate::rules::Gradient::Given`])
//! fits between the two.

/// A random quantity of a step (see the [module docs](self)); the main part packs them in
/// this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Region {
    /// Gaussian gradient noise σ_g·ξ (normals).
    GradNoise,
    /// The first Langevin normal (SGLD's ξ, SGHMC's z₁).
    Normal1,
    /// SGHMC's second normal z₂.
    Normal2,
    /// x's Q^vc: the stochastic-rounding uniform.
    QvcX0,
    /// x's Q^vc: the categorical uniform.
    QvcX1,
    /// v's Q^vc: the stochastic-rounding uniform.
    QvcV0,
    /// v's Q^vc: the categorical uniform.
    QvcV1,
    /// The gradient's rounding Q_G.
    RoundGrad,
    /// The first fixed-point noise code (integer datapath).
    Noise1,
    /// SGHMC's second fixed-point noise code.
    Noise2,
    /// The momentum's rounding Q_V.
    RoundV,
    /// The position's rounding Q_W.
    RoundX,
}

/// Number of [`Region`] variants.
pub const REGIONS: usize = 12;

/// The shape of one region's entries: what one coordinate takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// `count` fields of `bits` bits (`bits = 0`: nothing).
    Fields {
        /// Fields per coordinate.
        count: u32,
        /// Bits per field, 0..=64.
        bits: u32,
    },
    /// Half a Box–Muller pair.
    Normal,
}

/// Where a run of equal-width fields starts: word and bit position.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fields {
    /// Word of the first field (within the step's words).
    pub word: usize,
    /// Bit position of the first field in that word.
    pub bit: u32,
    /// Bits per field (0: the region is empty).
    pub width: u32,
    /// Fields in the first word (from `bit` on).
    pub first: usize,
    /// Fields per whole word, `⌊64/width⌋`.
    pub per: usize,
}

impl Fields {
    /// `(word, bit)` of field `f` of the run.
    #[inline(always)]
    pub fn at(&self, f: usize) -> (usize, u32) {
        if f < self.first {
            (self.word, self.bit + f as u32 * self.width)
        } else {
            let g = f - self.first;
            (
                self.word + 1 + g / self.per,
                (g % self.per) as u32 * self.width,
            )
        }
    }

    /// The bits of field `f` of the run in `words` (the step's words).
    #[inline(always)]
    pub fn get(&self, words: &[u64], f: usize) -> u64 {
        if self.width == 0 {
            return 0;
        }
        let (w, b) = self.at(f);
        let v = words[w] >> b;
        if self.width == 64 {
            v
        } else {
            v & ((1u64 << self.width) - 1)
        }
    }
}

impl Fields {
    /// Fields `first..first + out.len()` of the run into `out` (0s for an empty run): the
    /// head up to a word boundary one at a time, then whole words (a loop per width that
    /// divides 64, which vectorizes), then the tail.
    #[inline(always)]
    pub fn unpack(&self, words: &[u64], first: usize, out: &mut [u64]) {
        if self.width == 0 {
            out.fill(0);
            return;
        }
        let n = out.len();
        let (mut w, mut b) = self.at(first);
        let width = self.width;
        let mask = if width == 64 {
            u64::MAX
        } else {
            (1u64 << width) - 1
        };
        let mut j = 0;
        // Head: until the next field starts a word.
        while j < n && b != 0 {
            out[j] = (words[w] >> b) & mask;
            j += 1;
            b += width;
            if b + width > 64 {
                w += 1;
                b = 0;
            }
        }
        let per = self.per;
        let whole = (n - j) / per;
        let body = &mut out[j..j + whole * per];
        let ws = &words[w..w + whole];
        match width {
            1 => whole_words::<1>(ws, body),
            2 => whole_words::<2>(ws, body),
            4 => whole_words::<4>(ws, body),
            8 => whole_words::<8>(ws, body),
            16 => whole_words::<16>(ws, body),
            32 => whole_words::<32>(ws, body),
            64 => body.copy_from_slice(ws),
            _ => {
                for (wd, c) in ws.iter().zip(body.chunks_exact_mut(per)) {
                    for (k, o) in c.iter_mut().enumerate() {
                        *o = (wd >> (k as u32 * width)) & mask;
                    }
                }
            }
        }
        j += whole * per;
        w += whole;
        let mut b = 0;
        while j < n {
            out[j] = (words[w] >> b) & mask;
            j += 1;
            b += width;
            if b + width > 64 {
                w += 1;
                b = 0;
            }
        }
    }
}

#[inline(always)]
fn whole_words<const R: u32>(ws: &[u64], out: &mut [u64]) {
    let per = (64 / R) as usize;
    let m = u64::MAX >> (64 - R);
    for (w, c) in ws.iter().zip(out.chunks_exact_mut(per)) {
        for (j, o) in c.iter_mut().enumerate() {
            *o = (w >> (j as u32 * R)) & m;
        }
    }
}

/// The packing cursor: word and bit position.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Cursor {
    word: usize,
    bit: u32,
}

impl Cursor {
    /// Places `n` fields of `width` bits; returns where they start.
    fn place(&mut self, n: usize, width: u32) -> Fields {
        if n == 0 || width == 0 {
            return Fields {
                word: self.word,
                bit: self.bit,
                width: 0,
                first: 0,
                per: 1,
            };
        }
        let per = (64 / width) as usize;
        let first = ((64 - self.bit) / width) as usize;
        let run = Fields {
            word: self.word,
            bit: self.bit,
            width,
            first,
            per,
        };
        let (w, b) = run.at(n - 1);
        self.word = w;
        self.bit = b + width;
        run
    }

    /// Words used so far.
    fn words(&self) -> usize {
        self.word + (self.bit > 0) as usize
    }
}

/// Every region of a step placed in its words: the layout of [`crate::rules::Step::layout`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Coordinates.
    pub d: usize,
    /// Where each region's fields start (`Fields::width == 0` for an absent region).
    pub regions: [Fields; REGIONS],
    /// The fields of the lp-f pre-rounding (its own part).
    pub pre: Fields,
    /// Words of the pre part (0 when there is none).
    pub pre_words: usize,
    /// Words of the main part.
    pub main_words: usize,
    /// Fields per coordinate of each region (noise codes: `K` for `clt:K:B`).
    pub per_coord: [u32; REGIONS],
}

impl Layout {
    /// The layout of `d` coordinates with `pre` bits per coordinate in the pre part and
    /// `entries[r]` for region `r` of the main part (`None`: absent).
    pub fn new(d: usize, pre: u32, entries: &[Option<Entry>; REGIONS]) -> Self {
        let mut c = Cursor::default();
        let pre_fields = c.place(d, pre);
        let pre_words = c.words();
        let mut c = Cursor::default();
        let mut regions = [Fields::default(); REGIONS];
        let mut per_coord = [0u32; REGIONS];
        for (r, e) in entries.iter().enumerate() {
            regions[r] = match *e {
                None => c.place(0, 0),
                Some(Entry::Fields { count, bits }) => {
                    per_coord[r] = count;
                    c.place(d * count as usize, bits)
                }
                Some(Entry::Normal) => {
                    per_coord[r] = 1;
                    c.place(2 * d.div_ceil(2), 64)
                }
            };
        }
        Layout {
            d,
            regions,
            pre: pre_fields,
            pre_words,
            main_words: c.words(),
            per_coord,
        }
    }

    /// Words one step draws (both parts).
    pub fn words(&self) -> usize {
        self.pre_words + self.main_words
    }

    /// The fields of region `r`.
    #[inline(always)]
    pub fn region(&self, r: Region) -> &Fields {
        &self.regions[r as usize]
    }
}
