//! Side files (a people file, a user registry, a token file) read whole, and so with a size
//! limit: never the whole of a wrong file.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// The most a people file or a user registry may hold: read whole, so bounded (a registry of a
/// million users is about 60 MB).
pub const MAX_SIDE_FILE_BYTES: u64 = 256 << 20;

/// The file at `path` (`-`: stdin), read whole, if it holds at most `limit` bytes; `what` names it
/// in the errors.
pub fn read(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>, String> {
    let name = path.display();
    let cannot = |e: io::Error| format!("reading {what} {name}: {e}");
    let too_big = || {
        format!(
            "{what} {name} is larger than {limit} bytes, more than such a file holds; is it \
             the right file?"
        )
    };
    let mut source: Box<dyn Read> = if path.as_os_str() == "-" {
        Box::new(io::stdin().lock())
    } else {
        let file = File::open(path).map_err(cannot)?;
        // A regular file says its size: refused before a byte is read.
        if file.metadata().map_err(cannot)?.len() > limit {
            return Err(too_big());
        }
        Box::new(file)
    };
    let mut bytes = Vec::new();
    source
        .by_ref()
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > limit {
        return Err(too_big());
    }
    Ok(bytes)
}
