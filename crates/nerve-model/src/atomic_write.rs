//! [`write_atomically`]: how every file nerve writes reaches the disk (model files here; the
//! CLI's run files, predictions and charts too).

use std::io::Write as _;
use std::path::Path;

/// Writes `bytes` to `path` so that a reader (or a crash) never sees half a file: into a
/// temporary beside it, synced, renamed over `path` in one step, and the folder synced so the
/// rename survives a power loss. A failed write removes its temporary and leaves an older
/// `path` intact.
///
/// The temporary, from the `tempfile` crate, is named `.NAME.RANDOM.PID.tmp`: hidden, and
/// carrying the writer's process id, so that a later run can tell a killed writer's leftover
/// from a live one's.
///
/// # Errors
/// The folder cannot hold the temporary (missing, unwritable, full) or the rename fails (a
/// folder stands at `path`).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file path"))?;
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut temporary = tempfile::Builder::new()
        .prefix(&format!(".{}.", name.to_string_lossy()))
        .suffix(&format!(".{}.tmp", std::process::id()))
        .rand_bytes(6)
        .tempfile_in(folder)?;
    temporary.write_all(bytes)?;
    temporary.as_file().sync_all()?;
    // On failure the temporary is removed when `persist`'s error drops it.
    temporary.persist(path).map_err(|err| err.error)?;
    if let Ok(dir) = std::fs::File::open(folder) {
        // Where folders can be opened (Unix), the new name is made durable.
        let _ = dir.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_replaces_whole_and_a_failed_one_leaves_nothing() {
        let dir = std::env::temp_dir().join(format!("nerve-atomic-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|err| panic!("{err}"));
        let path = dir.join("a.txt");
        write_atomically(&path, b"one").unwrap_or_else(|err| panic!("{err}"));
        write_atomically(&path, b"two").unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(std::fs::read(&path).unwrap_or_default(), b"two");
        // A folder in the way of the rename: an error, and no temporary left.
        let blocked = dir.join("blocked");
        std::fs::create_dir_all(blocked.join("inside")).unwrap_or_else(|err| panic!("{err}"));
        assert!(write_atomically(&blocked, b"x").is_err());
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|err| panic!("{err}"))
            .map(|e| {
                e.map(|e| e.file_name().to_string_lossy().into_owned())
                    .unwrap_or_default()
            })
            .collect();
        names.sort();
        assert_eq!(names, ["a.txt", "blocked"]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
