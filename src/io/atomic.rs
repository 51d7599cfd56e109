//! Atomic file writes: bytes go to a temporary file beside the target, which is synced and then
//! renamed over it. A crash or error midway leaves the previous file untouched and no partial
//! file behind (the temporary file is removed when dropped).

use std::io::{BufWriter, Write};
use std::path::Path;

use super::FileError;

/// Write `path` atomically with whatever `write` produces. If `write` fails, the previous file
/// (if any) is left exactly as it was.
pub fn write_atomically<F>(path: &Path, write: F) -> Result<(), FileError>
where
    F: FnOnce(&mut dyn Write) -> std::io::Result<()>,
{
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let err = |e: std::io::Error| FileError::write(path, e);
    let tmp = tempfile::Builder::new()
        .prefix(".layerdecomp-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(err)?;
    {
        let mut out = BufWriter::new(tmp.as_file());
        write(&mut out).map_err(err)?;
        out.flush().map_err(err)?;
    }
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

/// Write a byte buffer atomically.
pub fn write_bytes_atomically(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    write_atomically(path, |w| w.write_all(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_midway_keeps_the_old_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.psd");
        write_bytes_atomically(&path, b"previous export").unwrap();
        let result = write_atomically(&path, |w| {
            w.write_all(&[0u8; 100_000])?;
            Err(std::io::Error::other("disk full (simulated)"))
        });
        let msg = result.unwrap_err().to_string();
        assert!(msg.contains("out.psd") && msg.contains("disk full"), "{msg}");
        assert_eq!(std::fs::read(&path).unwrap(), b"previous export");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out.psd")]);
    }
}
