//! [`RunLock`]: the exclusive lock a run holds on its folder, so that two processes never
//! write one run folder at once.
//!
//! The lock is an advisory lock (`flock` on Unix, `LockFileEx` on Windows, through
//! [`std::fs::File::try_lock`]) on `.nerve.lock` in the folder, which holds the holder's
//! process id for the message a second process prints. The operating system releases the lock
//! when its holder dies, even by `kill -9`, so a killed run never leaves a folder locked: the
//! next run finds the file, takes the lock and writes its own pid.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// The lock file's name in a run folder.
pub(crate) const LOCK_FILE: &str = ".nerve.lock";

/// An exclusive lock on a run folder, released (and its file removed) when dropped.
#[derive(Debug)]
pub(crate) struct RunLock {
    file: File,
    path: PathBuf,
    /// The folders this lock created, the innermost first: removed again on drop if the run
    /// wrote nothing in them.
    created: Vec<PathBuf>,
}

impl RunLock {
    /// Locks `folder` (created, with its parents, when missing) or refuses at once, naming the
    /// process that holds it.
    ///
    /// # Errors
    /// The folder cannot be created, the lock file cannot be opened, or another process holds
    /// the lock.
    pub(crate) fn acquire(folder: &Path) -> Result<RunLock> {
        let created: Vec<PathBuf> = folder
            .ancestors()
            .take_while(|dir| !dir.as_os_str().is_empty() && !dir.exists())
            .map(Path::to_path_buf)
            .collect();
        std::fs::create_dir_all(folder)
            .with_context(|| format!("cannot create run folder {}", folder.display()))?;
        let path = folder.join(LOCK_FILE);
        if let Ok(meta) = std::fs::symlink_metadata(&path)
            && !meta.file_type().is_file()
        {
            bail!(
                "{} is not a regular file (a link or a folder?); nerve locks the run folder with it: remove it",
                path.display()
            );
        }
        // Removing the lock file on drop races with a process that opened it just before: that
        // process would lock a file no longer in the folder. So a lock counts only when the
        // file locked is still the one at `path`; otherwise try again with the new file.
        for _ in 0..100 {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .with_context(|| {
                    format!(
                        "cannot open {} to lock the run folder (is it writable?)",
                        path.display()
                    )
                })?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    let mut holder = String::new();
                    let _ = file.read_to_string(&mut holder);
                    let holder = match holder.trim().parse::<u32>() {
                        Ok(pid) => format!("process {pid}"),
                        Err(_) => "another process".to_owned(),
                    };
                    bail!(
                        "the run folder {} is in use by another nerve run ({holder}); wait for it to end or choose another --out",
                        folder.display()
                    );
                }
                Err(std::fs::TryLockError::Error(err)) => {
                    return Err(err).with_context(|| format!("cannot lock {}", path.display()));
                }
            }
            if !same_file(&file, &path) {
                continue;
            }
            if linked_elsewhere(&file) {
                bail!(
                    "{} has other names (a hard link); nerve writes its pid into it to lock the run folder: remove it",
                    path.display()
                );
            }
            file.set_len(0)
                .and_then(|()| file.rewind())
                .and_then(|()| writeln!(file, "{}", std::process::id()))
                .with_context(|| format!("cannot write {}", path.display()))?;
            return Ok(RunLock {
                file,
                path,
                created,
            });
        }
        bail!(
            "cannot lock {}: its lock file keeps changing",
            path.display()
        )
    }

    /// The folder is this run's to keep: it is no longer removed on drop if empty.
    pub(crate) fn keep_folder(&mut self) {
        self.created.clear();
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // The file goes before the lock is released (by closing it), so a waiting process
        // that locks the removed file sees it is gone and opens the path again.
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
        for folder in &self.created {
            // Fails, harmlessly, when the run wrote anything; then so would the parents.
            if std::fs::remove_dir(folder).is_err() {
                break;
            }
        }
    }
}

/// Whether `file` is the file now at `path` (itself, not a link to it).
#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (file.metadata(), std::fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Whether `file` has other names (hard links): writing the pid into it would change a file
/// elsewhere.
#[cfg(unix)]
fn linked_elsewhere(file: &File) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    file.metadata().is_ok_and(|meta| meta.nlink() > 1)
}

/// Whether `file` has other names (hard links; not checked outside Unix).
#[cfg(not(unix))]
fn linked_elsewhere(_file: &File) -> bool {
    false
}

/// Whether `file` is the file now at `path` (Windows refuses to remove an open file, so the
/// race [`RunLock::acquire`] guards against cannot happen there).
#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_naming_the_holder_and_granted_after_release() {
        let top = std::env::temp_dir().join(format!("nerve-lock-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&top);
        let dir = top.join("a/b");
        let first = RunLock::acquire(&dir).unwrap_or_else(|err| panic!("{err:#}"));
        let text = std::fs::read_to_string(dir.join(LOCK_FILE)).unwrap_or_default();
        assert_eq!(text.trim(), std::process::id().to_string());
        // Another open file description of the same file: flock treats it as another holder.
        let err = RunLock::acquire(&dir).unwrap_err();
        let message = format!("{err:#}");
        assert!(
            message.contains("in use by another nerve run")
                && message.contains(&format!("process {}", std::process::id())),
            "{message}"
        );
        drop(first);
        // The folders were created by the lock and nothing else was written: they are gone.
        assert!(!top.exists());
        let mut again = RunLock::acquire(&dir).unwrap_or_else(|err| panic!("{err:#}"));
        again.keep_folder();
        drop(again);
        assert!(dir.is_dir() && !dir.join(LOCK_FILE).exists());
        let _ = std::fs::remove_dir_all(&top);
    }

    #[cfg(unix)]
    #[test]
    fn a_lock_file_that_is_a_link_is_refused_and_its_target_untouched() {
        let dir = std::env::temp_dir().join(format!("nerve-lock-link-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|err| panic!("{err}"));
        let victim = dir.join("victim.txt");
        std::fs::write(&victim, b"precious").unwrap_or_else(|err| panic!("{err}"));
        std::os::unix::fs::symlink(&victim, dir.join(LOCK_FILE))
            .unwrap_or_else(|err| panic!("{err}"));
        let err = RunLock::acquire(&dir).unwrap_err();
        assert!(
            format!("{err:#}").contains("is not a regular file"),
            "{err:#}"
        );
        assert_eq!(std::fs::read(&victim).unwrap_or_default(), b"precious");
        // A hard link: the same.
        std::fs::remove_file(dir.join(LOCK_FILE)).unwrap_or_else(|err| panic!("{err}"));
        std::fs::hard_link(&victim, dir.join(LOCK_FILE)).unwrap_or_else(|err| panic!("{err}"));
        let err = RunLock::acquire(&dir).unwrap_err();
        assert!(format!("{err:#}").contains("a hard link"), "{err:#}");
        assert_eq!(std::fs::read(&victim).unwrap_or_default(), b"precious");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
