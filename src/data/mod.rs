//! Real data sets: the IDX file format ([`idx`]) and MNIST ([`mnist`]), fetched once into a
//! directory the user chooses and checked by SHA-256 every time they are read.

pub mod idx;
pub mod mnist;

use sha2::{Digest, Sha256};

/// The SHA-256 of `bytes` as 64 lowercase hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
