//! Where an answer goes: stdout, or a file given with `-o` that is replaced only by a whole
//! answer. [`AtomicFile`] is the one writer of files: every command writes through it.

use std::fs::File;
use std::io::{self, BufWriter, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};

/// Where `-o` sends an answer.
pub enum Destination {
    /// Stdout: no `-o`, `-o -` or `-o /dev/stdout`.
    Stdout,
    /// A regular file (after symlinks), written through an [`AtomicFile`].
    File(PathBuf),
}

impl Destination {
    /// Checks `-o`: a new or regular file (through symlinks: the file a link names is replaced,
    /// the link kept), or stdout by its plain names. Any other node (a FIFO, a device, a socket,
    /// a directory) is refused: the rename would replace it with a regular file. Nothing is
    /// opened, so a FIFO cannot block the check.
    pub fn of(output: Option<&Path>) -> Result<Destination, String> {
        let Some(path) = output else {
            return Ok(Destination::Stdout);
        };
        if STDOUT_NAMES.iter().any(|n| path.as_os_str() == *n) {
            return Ok(Destination::Stdout);
        }
        let link = match std::fs::symlink_metadata(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(Destination::File(path.to_path_buf()))
            }
            Err(e) => return Err(cannot_write(path, &e)),
            Ok(meta) => meta,
        };
        if !link.file_type().is_symlink() {
            return match node_kind(&link) {
                None => Ok(Destination::File(path.to_path_buf())),
                Some(kind) => Err(not_regular(path, kind)),
            };
        }
        let meta = std::fs::metadata(path).map_err(|e| {
            format!(
                "-o {}: a symbolic link to nothing that can be written ({e}); give the file itself",
                path.display()
            )
        })?;
        match node_kind(&meta) {
            None => std::fs::canonicalize(path)
                .map(Destination::File)
                .map_err(|e| cannot_write(path, &e)),
            Some(kind) => Err(not_regular(path, &format!("a symbolic link to {kind}"))),
        }
    }

    /// The file, if it is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Destination::Stdout => None,
            Destination::File(path) => Some(path),
        }
    }
}

/// The names of stdout that `-o` writes through rather than replaces.
const STDOUT_NAMES: &[&str] = &["-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"];

/// What a node other than a regular file is, for the error; `None` for a regular file.
fn node_kind(meta: &std::fs::Metadata) -> Option<&'static str> {
    let kind = meta.file_type();
    if kind.is_file() {
        return None;
    }
    if kind.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return Some("a FIFO");
        }
        if kind.is_char_device() {
            return Some("a character device");
        }
        if kind.is_block_device() {
            return Some("a block device");
        }
        if kind.is_socket() {
            return Some("a socket");
        }
    }
    Some("not a regular file")
}

fn not_regular(path: &Path, kind: &str) -> String {
    format!(
        "-o {} is {kind}: -o replaces a regular file whole (through a temporary file renamed over \
         it), which would put a file in its place. Give a file, - (or /dev/stdout) for stdout, \
         or redirect: > {}",
        path.display(),
        path.display()
    )
}

/// A file written beside its target and renamed over it once complete: an existing file is
/// replaced only by a whole answer, never truncated by a failed one. The temporary file is
/// created 0600; the target keeps the mode it had (a new one stays 0600). Dropped without
/// [`AtomicFile::commit`], or when the run is interrupted (SIGINT, SIGTERM, SIGHUP), it leaves
/// no temporary file behind.
pub struct AtomicFile {
    // Dropped in this order: the file is removed, then forgotten by the signal handler.
    temp: tempfile::NamedTempFile,
    target: PathBuf,
    _registered: Registered,
}

/// A temporary file's path known to the signal handler until this is dropped.
struct Registered(PathBuf);

impl Drop for Registered {
    fn drop(&mut self) {
        let mut temporaries = TEMPORARIES.lock().unwrap_or_else(|e| e.into_inner());
        temporaries.retain(|p| *p != self.0);
    }
}

/// The temporary files not yet renamed, for the signal handler to remove.
static TEMPORARIES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

impl AtomicFile {
    /// A temporary file in `target`'s directory (so that the rename cannot cross file systems).
    pub fn create(target: &Path) -> Result<AtomicFile, String> {
        remove_temporaries_on_signal();
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        // Registered while the lock is held, so an interruption cannot fall between the
        // creation and the registration.
        let mut temporaries = TEMPORARIES.lock().unwrap_or_else(|e| e.into_inner());
        let temp = tempfile::Builder::new()
            .prefix(".sg-analytics-")
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(|e| cannot_write(target, &e))?;
        temporaries.push(temp.path().to_path_buf());
        Ok(AtomicFile {
            _registered: Registered(temp.path().to_path_buf()),
            temp,
            target: target.to_path_buf(),
        })
    }

    /// The temporary file.
    pub fn file(&mut self) -> &mut File {
        self.temp.as_file_mut()
    }

    /// Renames the temporary file over the target, with the permissions of the file it replaces.
    pub fn commit(self) -> Result<(), String> {
        let AtomicFile { temp, target, .. } = self;
        if let Ok(meta) = std::fs::metadata(&target) {
            let _ = temp.as_file().set_permissions(meta.permissions());
        }
        let result = temp
            .as_file()
            .sync_all()
            .map_err(|e| cannot_write(&target, &e))
            .and_then(|()| {
                temp.persist(&target)
                    .map(drop)
                    .map_err(|e| cannot_write(&target, &e.error))
            });
        result
    }
}

/// Once: a thread that, on SIGINT, SIGTERM or SIGHUP, removes the temporary files and then ends
/// the process as the signal would have.
fn remove_temporaries_on_signal() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            return;
        };
        std::thread::spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let temporaries = TEMPORARIES.lock().unwrap_or_else(|e| e.into_inner());
                for path in temporaries.iter() {
                    let _ = std::fs::remove_file(path);
                }
                let _ = signal_hook::low_level::emulate_default_handler(signal);
                std::process::exit(128 + signal);
            }
        });
    });
}

fn cannot_write(path: &Path, e: &dyn std::fmt::Display) -> String {
    format!("cannot write {}: {e}", path.display())
}

/// Writes through `write` to the destination: stdout, or a file atomically ([`AtomicFile`]).
pub fn write_to<T>(
    destination: &Destination,
    write: impl FnOnce(&mut dyn Write) -> Result<T, String>,
) -> Result<T, String> {
    match destination {
        Destination::Stdout => {
            let mut out = TerminalSafe::stdout();
            let result = {
                let mut buffered = BufWriter::new(&mut out);
                let result = write(&mut buffered)?;
                buffered
                    .flush()
                    .map_err(|e| format!("writing the output: {e}"))?;
                result
            };
            out.finish()
                .map_err(|e| format!("writing the output: {e}"))?;
            Ok(result)
        }
        Destination::File(path) => write_atomically(path, |out| write(out)),
    }
}

/// Writes `text` to the destination; a closed pipe (`| head`) is not an error of ours.
pub fn write_text(destination: &Destination, text: &str) -> Result<(), String> {
    match destination {
        Destination::Stdout => write_stdout(text),
        Destination::File(path) => write_atomically(path, |out| {
            out.write_all(text.as_bytes())
                .map_err(|e| cannot_write(path, &e))
        }),
    }
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
    destination: &Destination,
    make: impl FnOnce(Option<File>) -> Result<T, String>,
) -> Result<T, String> {
    match destination.path() {
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
            let mut out = TerminalSafe::stdout();
            match io::copy(&mut file, &mut out).and_then(|_| out.finish()) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
                Err(e) => return Err(format!("writing the output: {e}")),
            }
            Ok(value)
        }
    }
}

/// Writes `text` to stdout; a closed pipe (`| head`) is not an error of ours.
fn write_stdout(text: &str) -> Result<(), String> {
    let mut out = TerminalSafe::stdout();
    out.write_all(text.as_bytes())
        .and_then(|()| out.finish())
        .or_else(|e| {
            if e.kind() == io::ErrorKind::BrokenPipe {
                Ok(())
            } else {
                Err(e)
            }
        })
        .map_err(|e| format!("writing the output: {e}"))
}

/// Stdout for an answer: when it is a terminal, the data's control characters (C0 but tab and
/// line feed, DEL, C1), which would recolour, move the cursor or retitle the terminal, are written
/// as escapes (`\u{1b}`) and counted, and a note on stderr says so. Into a pipe or a file the
/// bytes go as they are.
pub struct TerminalSafe {
    out: io::StdoutLock<'static>,
    terminal: bool,
    escaped: u64,
    /// A 0xC2 byte held back: with the next byte it may be a C1 control.
    after_c2: bool,
}

impl TerminalSafe {
    /// Stdout, locked.
    pub fn stdout() -> TerminalSafe {
        use std::io::IsTerminal;
        let out = io::stdout();
        TerminalSafe {
            terminal: out.is_terminal(),
            out: out.lock(),
            escaped: 0,
            after_c2: false,
        }
    }

    fn escape(&mut self, b: u8) -> io::Result<()> {
        self.escaped += 1;
        write!(self.out, "\\u{{{b:x}}}")
    }

    /// Writes what is held back, flushes, and says on stderr how many characters were escaped.
    pub fn finish(&mut self) -> io::Result<()> {
        if std::mem::take(&mut self.after_c2) {
            self.out.write_all(&[0xC2])?;
        }
        self.out.flush()?;
        if self.escaped > 0 {
            eprintln!(
                "sg-analytics: stdout is a terminal: {} control character(s) in the data are \
                 shown as \\u{{..}} escapes; redirect to a file or a pipe for the exact bytes",
                std::mem::take(&mut self.escaped)
            );
        }
        Ok(())
    }
}

impl Write for TerminalSafe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !self.terminal {
            return self.out.write(buf);
        }
        let mut run = 0;
        for (i, &b) in buf.iter().enumerate() {
            if std::mem::take(&mut self.after_c2) {
                if (0x80..=0x9F).contains(&b) {
                    self.escape(b)?;
                    run = i + 1;
                    continue;
                }
                self.out.write_all(&[0xC2])?;
            }
            let control = (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7F;
            if control || b == 0xC2 {
                self.out.write_all(&buf[run..i])?;
                run = i + 1;
                if control {
                    self.escape(b)?;
                } else {
                    self.after_c2 = true;
                }
            }
        }
        self.out.write_all(&buf[run..])?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Refuses `-o` naming the input file: the rows would overwrite the export they come from.
/// Compared by device and inode (another spelling, a symlink or a hard link too) from the file
/// system's records, without opening either file (a FIFO would block the open).
pub fn refuse_input_as_output(input: Option<&Path>, output: &Destination) -> Result<(), String> {
    let (Some(input), Some(output)) = (input, output.path()) else {
        return Ok(());
    };
    if input.as_os_str() == "-" {
        return Ok(());
    }
    if same_file(input, output) {
        return Err(format!(
            "-o {} names the input file: the rows would overwrite the export they come \
             from; write them to another file",
            output.display()
        ));
    }
    Ok(())
}

#[cfg(unix)]
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(a: &Path, b: &Path) -> bool {
    same_file::is_same_file(a, b).unwrap_or(false)
}
