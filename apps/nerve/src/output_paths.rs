//! Where a command may write: output file paths checked before any work (`--output`,
//! `--plot`, `--save`), `--out` folders, and paths compared as the file system resolves them.

use std::path::{Component, Path, PathBuf};

use anyhow::{Result, bail};

use crate::run_dir::{RUN_FILE, RUN_FILES};

/// `path` with `.` and `..` folded as written (`a/b/../c` is `a/c`; a leading `..` stays), so
/// that creating it makes no folder it only passes through. Unlike the operating system, it
/// does not follow a link before a `..` (`link/../x` is `./x`): `--out` names folders to make,
/// and is read as written.
pub(crate) fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// `path` as the file system will see it: absolute, its longest existing part resolved
/// (links followed, `..` applied), the rest folded as written. Two spellings of one place give
/// the same result, even when the place does not exist yet.
fn resolved(path: &Path) -> PathBuf {
    let absolute = std::env::current_dir()
        .map(|cwd| cwd.join(path))
        .unwrap_or_else(|_| path.to_path_buf());
    let absolute = lexical_keeping_links(&absolute);
    for existing in absolute.ancestors() {
        if let Ok(real) = std::fs::canonicalize(existing) {
            let rest = absolute.strip_prefix(existing).unwrap_or(Path::new(""));
            return lexical(&real.join(rest));
        }
    }
    lexical(&absolute)
}

/// `path` with only `.` removed (a `..` after a link must go through the link).
fn lexical_keeping_links(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

/// Checks, before any work, that `path` can name a file to write: not a folder, not ending in
/// a path separator, in a folder that exists (or is `created`, the run folder the command
/// makes before writing). Writing is still atomic; this only refuses a hopeless path before
/// minutes of work, and before a temporary is left beside it.
pub(crate) fn check_output_file(path: &Path, flag: &str, created: Option<&Path>) -> Result<()> {
    let text = path.to_string_lossy();
    if path.is_dir() || text.ends_with(std::path::MAIN_SEPARATOR) || text.ends_with('/') {
        bail!("{flag} {} is a folder; give a file name", path.display());
    }
    let parent = parent_of(path);
    if !parent.is_dir() && created.is_none_or(|folder| resolved(parent) != resolved(folder)) {
        bail!(
            "{flag} {}: the folder {} does not exist",
            path.display(),
            parent.display()
        );
    }
    Ok(())
}

/// The folder a file path names its file in (`.` for a bare name).
fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Checks `--save` before any work: a file name (see [`check_output_file`]) that is neither
/// one of the run folder's own files (`run_folder`, when known) nor inside another run's
/// folder — a run folder is one run's, and `--save` writes a copy elsewhere — and that, if it
/// exists, is a model file (`.safetensors`), not a file of another kind (the data, say).
pub(crate) fn check_save(save: &Path, run_folder: Option<&Path>) -> Result<()> {
    check_output_file(save, "--save", run_folder)?;
    if save.exists() && save.extension().is_none_or(|ext| ext != "safetensors") {
        bail!(
            "--save {} would replace a file that is not a model file; give a .safetensors path",
            save.display()
        );
    }
    let name = save
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let parent = resolved(parent_of(save));
    if let Some(folder) = run_folder {
        let folder = resolved(folder);
        let own_file = parent == folder
            && (RUN_FILES.contains(&name.as_str()) || name == crate::run_lock::LOCK_FILE);
        if own_file || parent.starts_with(folder.join(crate::checkpoint::FOLDER)) {
            bail!(
                "--save {} would replace a file of the run folder itself; --save writes a copy of the model elsewhere (the run folder always gets model.safetensors)",
                save.display()
            );
        }
        if parent == folder {
            return Ok(());
        }
    }
    if let Some(run) = parent.ancestors().find(|dir| dir.join(RUN_FILE).is_file()) {
        bail!(
            "--save {}: {} is another run's folder (it holds a {RUN_FILE}); a run folder is one run's, so save the copy elsewhere",
            save.display(),
            run.display()
        );
    }
    Ok(())
}

/// Refuses an `--out` inside another run's folder (its checkpoint folder, say): that run would
/// remove or overwrite this one's files.
pub(crate) fn refuse_nested_run(out: &Path) -> Result<()> {
    let out_resolved = resolved(out);
    if let Some(run) = out_resolved
        .ancestors()
        .skip(1)
        .find(|dir| dir.join(RUN_FILE).is_file())
    {
        bail!(
            "--out {} lies inside the run folder {}; a run folder is one run's: choose a folder outside it",
            out.display(),
            run.display()
        );
    }
    Ok(())
}

/// Refuses a copy's path that would replace the model being read (by any path to it), a run
/// folder's model (its metrics would no longer describe it), or a name without `.safetensors`.
pub(crate) fn check_model_copy(path: &std::path::Path, model: &std::path::Path) -> Result<()> {
    check_output_file(path, "--output", None)?;
    anyhow::ensure!(
        path.extension().is_some_and(|e| e == "safetensors"),
        "--output {}: a model file's name ends in .safetensors",
        path.display()
    );
    if let (Ok(a), Ok(b)) = (path.canonicalize(), model.canonicalize()) {
        anyhow::ensure!(
            a != b,
            "--output {} is the model being read; write the copy to another file",
            path.display()
        );
    }
    if path.exists()
        && path.file_name().is_some_and(|n| n == "model.safetensors")
        && path.with_file_name("run.json").exists()
    {
        anyhow::bail!(
            "--output {} is a run folder's model (its metrics.json describes it); write the copy elsewhere",
            path.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_fold_as_written() {
        for (path, folded) in [
            ("a/b/../c", "a/c"),
            ("a/./b/", "a/b"),
            ("t4/.", "t4"),
            ("../x/../y", "../y"),
            ("a/..", "."),
            ("/a/../b", "/b"),
        ] {
            assert_eq!(lexical(Path::new(path)), Path::new(folded), "{path}");
        }
    }
}
