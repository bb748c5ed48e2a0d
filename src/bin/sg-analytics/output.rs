//! Where an answer goes: stdout, or a file given with `-o` that is replaced only by a whole
//! answer. [`AtomicFile`] is the one writer of files: every command writes through it.

use std::fs::File;
use std::io::{self, BufWriter, Seek, Write};
use std::path::{Path, PathBuf};

/// A file written beside its target and renamed over it once complete: an existing file is
/// replaced only by a whole answer, never truncated by a failed one. Dropped without
/// [`AtomicFile::commit`], it leaves no temporary file behind.
pub struct AtomicFile {
    temp: tempfile::NamedTempFile,
    target: PathBuf,
}

impl AtomicFile {
    /// A temporary file in `target`'s directory (so that the rename cannot cross file systems).
    pub fn create(target: &Path) -> Result<AtomicFile, String> {
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let temp = tempfile::Builder::new()
            .prefix(".sg-analytics-")
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(|e| cannot_write(target, &e))?;
        Ok(AtomicFile {
            temp,
            target: target.to_path_buf(),
        })
    }

    /// The temporary file.
    pub fn file(&mut self) -> &mut File {
        self.temp.as_file_mut()
    }

    /// Renames the temporary file over the target, with the permissions of the file it replaces
    /// (a temporary file is 0600).
    pub fn commit(self) -> Result<(), String> {
        let target = self.target;
        if let Ok(meta) = std::fs::metadata(&target) {
            let _ = self.temp.as_file().set_permissions(meta.permissions());
        }
        self.temp
            .as_file()
            .sync_all()
            .map_err(|e| cannot_write(&target, &e))?;
        self.temp
            .persist(&target)
            .map_err(|e| cannot_write(&target, &e.error))?;
        Ok(())
    }
}

fn cannot_write(path: &Path, e: &dyn std::fmt::Display) -> String {
    format!("cannot write {}: {e}", path.display())
}

/// Writes through `write` into `path` atomically ([`AtomicFile`]).
pub fn write_atomically<T>(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<&mut File>) -> Result<T, String>,
) -> Result<T, String> {
    let mut file = AtomicFile::create(path)?;
    let result = {
        let mut out = BufWriter::new(file.file());
        let result = write(&mut out)?;
        out.flush().map_err(|e| cannot_write(path, &e))?;
        result
    };
    file.commit()?;
    Ok(result)
}

/// Gives `make` a file to write into that it may rewind and truncate (a fetch starts again on a
/// retry), then moves what it wrote to `path` atomically, or to stdout without a path.
pub fn with_output<T>(
    path: Option<&Path>,
    make: impl FnOnce(Option<File>) -> Result<T, String>,
) -> Result<T, String> {
    match path {
        Some(path) => {
            let mut file = AtomicFile::create(path)?;
            let handle = file
                .file()
                .try_clone()
                .map_err(|e| cannot_write(path, &e))?;
            let value = make(Some(handle))?;
            file.commit()?;
            Ok(value)
        }
        None => {
            // Unnamed: the system removes it however the process ends.
            let mut file =
                tempfile::tempfile().map_err(|e| format!("cannot create a temporary file: {e}"))?;
            let handle = file.try_clone().map_err(|e| e.to_string())?;
            let value = make(Some(handle))?;
            file.rewind().map_err(|e| e.to_string())?;
            let stdout = io::stdout();
            let mut out = stdout.lock();
            match io::copy(&mut file, &mut out).and_then(|_| out.flush()) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
                Err(e) => return Err(format!("writing the output: {e}")),
            }
            Ok(value)
        }
    }
}

/// Writes `text` to stdout; a closed pipe (`| head`) is not an error of ours.
pub fn write_stdout(text: &str) -> Result<(), String> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .or_else(|e| {
            if e.kind() == io::ErrorKind::BrokenPipe {
                Ok(())
            } else {
                Err(e)
            }
        })
        .map_err(|e| format!("writing the output: {e}"))
}

/// Refuses `-o` naming the input file: the rows would overwrite the export they come from.
pub fn refuse_input_as_output(input: Option<&Path>, output: Option<&Path>) -> Result<(), String> {
    if let (Some(output), Some(input)) = (output, input) {
        // Same file by device and inode: another spelling, a symlink or a hard link too.
        if input.as_os_str() != "-" && same_file::is_same_file(input, output).unwrap_or(false) {
            return Err(format!(
                "-o {} names the input file: the rows would overwrite the export they come \
                 from; write them to another file",
                output.display()
            ));
        }
    }
    Ok(())
}
