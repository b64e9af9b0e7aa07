//! `lpmc data fetch`: bad archives and paths are one `error:` line, exit 2, and no files.
//! (The download itself needs the network and is not part of the suite.)

use std::process::Command;

#[test]
fn bad_archives_write_nothing() {
    let base = std::env::temp_dir().join(format!("lpmc-data-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    let not_archive = base.join("not-an-archive.tar.gz");
    std::fs::write(&not_archive, b"hello").unwrap();
    let missing = base.join("missing.tar.gz");
    let dir = base.join("cache");
    for (from, needle) in [(&not_archive, "SHA-256"), (&missing, "missing.tar.gz")] {
        let out = Command::new(env!("CARGO_BIN_EXE_lpmc"))
            .args(["data", "fetch", "mnist", "--dir"])
            .arg(&dir)
            .arg("--from")
            .arg(from)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("error:") && err.contains(needle), "{err}");
        assert!(!dir.exists(), "{} was created", dir.display());
    }
    let out = Command::new(env!("CARGO_BIN_EXE_lpmc"))
        .args(["data", "fetch", "cifar"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cifar"));
    std::fs::remove_dir_all(&base).unwrap();
}
