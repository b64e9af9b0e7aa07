//! The IDX format of MNIST (LeCun et al.): a 4-byte magic `00 00 T R` (`T` the element type,
//! `0x08` for unsigned bytes, `R` the rank), `R` big-endian `u32` dimensions, then the
//! elements in row-major order. lpmc reads unsigned-byte files only, which is what MNIST's
//! images (rank 3: n × 28 × 28) and labels (rank 1: n) are.

use crate::error::{Error, Result};

/// The element type code of unsigned bytes.
pub const UBYTE: u8 = 0x08;

/// An unsigned-byte IDX array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Idx {
    /// Dimensions, outermost first.
    pub dims: Vec<usize>,
    /// The elements, row-major (`dims` multiplied out).
    pub data: Vec<u8>,
}

impl Idx {
    /// Parses `bytes` as an unsigned-byte IDX array of rank `rank`; `what` names the file in
    /// errors (a wrong magic, rank or type, a header or body shorter or longer than the
    /// dimensions say).
    pub fn parse(bytes: &[u8], rank: u8, what: &str) -> Result<Self> {
        let bad =
            |why: String| Error::Data(format!("{what}: not an IDX file of rank {rank}: {why}"));
        if bytes.len() < 4 {
            return Err(bad(format!(
                "{} bytes, shorter than the 4-byte magic",
                bytes.len()
            )));
        }
        if bytes[0] != 0 || bytes[1] != 0 {
            return Err(bad(format!(
                "magic {:02x} {:02x} {:02x} {:02x} does not start with 00 00",
                bytes[0], bytes[1], bytes[2], bytes[3]
            )));
        }
        if bytes[2] != UBYTE {
            return Err(bad(format!(
                "element type 0x{:02x}, not 0x08 (unsigned byte)",
                bytes[2]
            )));
        }
        if bytes[3] != rank {
            return Err(bad(format!("rank {}", bytes[3])));
        }
        let head = 4 + 4 * rank as usize;
        if bytes.len() < head {
            return Err(bad(format!(
                "truncated: {} bytes, the header alone has {head}",
                bytes.len()
            )));
        }
        let dims: Vec<usize> = bytes[4..head]
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
            .collect();
        let n = dims
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .ok_or_else(|| bad(format!("dimensions {dims:?} overflow")))?;
        let body = bytes.len() - head;
        if body != n {
            return Err(bad(format!(
                "{} after the header: {body} bytes where dimensions {dims:?} need {n}",
                if body < n {
                    "truncated"
                } else {
                    "trailing data"
                }
            )));
        }
        Ok(Idx {
            dims,
            data: bytes[head..].to_vec(),
        })
    }

    /// The IDX encoding of the array (the inverse of [`Idx::parse`]).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![0, 0, UBYTE, self.dims.len() as u8];
        for &d in &self.dims {
            out.extend_from_slice(&(d as u32).to_be_bytes());
        }
        out.extend_from_slice(&self.data);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images() -> Idx {
        Idx {
            dims: vec![2, 3, 2],
            data: (0..12).collect(),
        }
    }

    #[test]
    fn round_trip() {
        let a = images();
        assert_eq!(Idx::parse(&a.encode(), 3, "x").unwrap(), a);
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let good = images().encode();
        let err = |b: &[u8], rank: u8| Idx::parse(b, rank, "f").unwrap_err().to_string();
        assert!(err(&good[..good.len() - 1], 3).contains("truncated after the header"));
        assert!(err(&good[..9], 3).contains("the header alone has 16"));
        let mut long = good.clone();
        long.push(0);
        assert!(err(&long, 3).contains("trailing data"));
        assert!(err(&good, 1).contains("rank 3"));
        let mut typ = good.clone();
        typ[2] = 0x0d;
        assert!(err(&typ, 3).contains("element type 0x0d"));
        assert!(err(&[1, 2, 3, 4, 5], 3).contains("does not start with 00 00"));
        assert!(err(&[0, 0], 3).contains("shorter than the 4-byte magic"));
    }
}
