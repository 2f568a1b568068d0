//! [`write_atomically`]: how every file nerve writes reaches the disk (model files here; the
//! CLI's run files, predictions and charts too).

use std::io::Write as _;
use std::path::Path;

/// Writes `bytes` to `path` so that a reader (or a crash) never sees half a file: into a
/// temporary beside it, synced, renamed over `path` in one step, and the folder synced so the
/// rename survives a power loss. A failed write removes its temporary and leaves an older
/// `path` intact.
///
/// The temporary, from the `tempfile` crate, is named `.NAME.RANDOM.PID@HOST.tmp` (HOST as
/// [`host_name`], `.NAME.RANDOM.PID.tmp` where there is none): hidden, and carrying the
/// writer's process id and machine, so that a later run can tell a killed writer's leftover
/// from a live one's, also in a folder that other machines write into (a search's trials). It is created as `File::create` would (mode 0666 less the umask, not
/// tempfile's private 0600), so the file others read stays readable to them.
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
    let prefix = format!(".{}.", name.to_string_lossy());
    let suffix = match host_name() {
        Some(host) => format!(".{}@{host}.tmp", std::process::id()),
        None => format!(".{}.tmp", std::process::id()),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(&suffix).rand_bytes(6);
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut temporary = builder.tempfile_in(folder)?;
    temporary.write_all(bytes)?;
    temporary.as_file().sync_all()?;
    // On failure the temporary is removed when `persist`'s error drops it.
    temporary.persist(path).map_err(|err| err.error)?;
    sync_folder(folder);
    Ok(())
}

/// This machine's name as temporaries carry it (Linux's `/proc/sys/kernel/hostname`, with
/// anything but letters, digits and `-` as `-`, at most 64 characters); `None` where it
/// cannot be read.
pub fn host_name() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let name: String = name
        .trim()
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Syncs a folder's entries (names renamed or created in it) to disk, so that a power loss
/// cannot undo them. A no-op where folders cannot be opened (Windows).
pub fn sync_folder(folder: &Path) {
    if let Ok(dir) = std::fs::File::open(folder) {
        let _ = dir.sync_all();
    }
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
        #[cfg(unix)]
        {
            // As File::create makes it: readable by others under the usual umask 022.
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path)
                .map(|m| m.permissions().mode())
                .unwrap_or(0);
            let umask_allows_reading = std::fs::File::create(dir.join("probe"))
                .and_then(|f| f.metadata())
                .map(|m| m.permissions().mode() & 0o044)
                .unwrap_or(0);
            assert_eq!(mode & 0o044, umask_allows_reading, "{mode:o}");
            let _ = std::fs::remove_file(dir.join("probe"));
        }
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
