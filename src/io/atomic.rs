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
    let mut builder = tempfile::Builder::new();
    builder.prefix(".layerdecomp-").suffix(".tmp");
    // A temporary file is private (0600); the export is a normal file: it keeps the mode of the
    // file it replaces, or gets what any new file gets (0666 less the umask).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(match std::fs::metadata(path) {
            Ok(old) => old.permissions(),
            Err(_) => std::fs::Permissions::from_mode(0o666),
        });
    }
    let tmp = builder.tempfile_in(dir).map_err(err)?;
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

    #[cfg(unix)]
    #[test]
    fn an_export_is_a_normal_file_not_a_private_temporary() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.png");
        write_bytes_atomically(&path, b"new").unwrap();
        // What any new file gets: 0666 less the process's umask (Linux reports it in
        // /proc/self/status), not the temporary file's private 0600.
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        let umask = std::fs::read_to_string("/proc/self/status").ok().and_then(|s| {
            s.lines().find_map(|l| l.strip_prefix("Umask:").map(|v| u32::from_str_radix(v.trim(), 8).ok())).flatten()
        });
        if let Some(umask) = umask {
            assert_eq!(mode, 0o666 & !umask, "mode {mode:o}, umask {umask:o}");
        }
        // Overwriting keeps the mode the user gave the file.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        write_bytes_atomically(&path, b"again").unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }

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
