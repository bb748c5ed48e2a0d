//! The ceiling of a report's memory: how much a report may take, how reading projects what the
//! whole export will need, and what to say when it will not fit.
//!
//! A WebAssembly module addresses at most 4 GiB, and a browser tab dies with an internal message
//! when an allocation fails. So where addresses are 32 bits wide the ingester has a budget: while
//! it reads, it knows the table's bytes so far, the bytes of input read and (from a file's size or
//! a `Content-Length`) the bytes still to come; as soon as the projection for the whole export,
//! with room for queries on top, passes the budget, it stops, frees what it read and says why and
//! what to do instead. A size that cannot fit is refused before any row is read.

use crate::error::{Error, ErrorKind};

/// The memory a report may take where addresses are 32 bits wide (WebAssembly, i686): the table
/// and, on top, [`QUERY_ROOM`] of it for the queries. 3 GiB of the 4 GiB a 32-bit module can
/// address, so that the module's own data, the buffers reading uses and the allocator's
/// fragmentation have the last gigabyte.
pub const MEMORY_BUDGET_32: u64 = 3 << 30;

/// The room queries need on top of the table, as a fraction of it: a view's cached work (its
/// rows kept, group ids, ranking) measured 0.3× the table; half leaves a margin.
pub const QUERY_ROOM: f64 = 0.5;

/// The fewest bytes of table a byte of CSV can turn into, for refusing a size before reading:
/// an export's finest granularity measures 0.18–0.36; an eighth is well below any export seen,
/// so a size refused on this count could never have fit.
pub const MIN_TABLE_PER_CSV_BYTE: f64 = 0.125;

/// Input read before the projection is believed: the first rows show how long rows are.
const SAMPLE_BYTES: u64 = 1 << 20;

/// Rows read before the projection is believed: columns are packed a chunk at a time, so until
/// the first chunk is sealed a row's cells take their plain width, not the width they will take.
const SAMPLE_ROWS: usize = crate::column::chunked::CHUNK;

/// The budget an ingester starts with: [`MEMORY_BUDGET_32`] where addresses are 32 bits wide,
/// none (the machine's memory is the limit) where they are 64.
pub fn default_budget() -> Option<u64> {
    cfg!(target_pointer_width = "32").then_some(MEMORY_BUDGET_32)
}

/// What reading has shown so far.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reading {
    /// Data rows stored.
    pub rows: usize,
    /// Bytes of input read.
    pub bytes: u64,
    /// Bytes the table's cells take (its dictionaries included), by what is stored.
    pub table_bytes: u64,
    /// The whole input's size, when it is known (a file's size, a `Content-Length`).
    pub total: Option<u64>,
}

/// The memory the whole export will need with room for queries: the table's bytes per input byte
/// so far, times the whole input (once a sample has been read; until then, or without a size,
/// what is stored now).
pub(crate) fn projected_need(r: Reading) -> u64 {
    let table = match r.total {
        Some(total) if r.bytes >= SAMPLE_BYTES && r.rows >= SAMPLE_ROWS && total > r.bytes => {
            r.table_bytes as f64 / r.bytes as f64 * total as f64
        }
        _ => r.table_bytes as f64,
    };
    (table * (1.0 + QUERY_ROOM)) as u64
}

/// Fails with [`ErrorKind::TooLarge`] when the whole export will not fit in `budget`.
pub(crate) fn check_reading(r: Reading, budget: u64) -> Result<(), Error> {
    let need = projected_need(r);
    if need <= budget {
        return Ok(());
    }
    let read = match r.total {
        Some(total) => format!(
            "after {} of {} ({} rows)",
            human_bytes(r.bytes),
            human_bytes(total),
            thousands(r.rows as u64)
        ),
        None => format!(
            "after {} ({} rows, the whole size unknown)",
            human_bytes(r.bytes),
            thousands(r.rows as u64)
        ),
    };
    let per_row = if r.rows > 0 {
        format!(
            " ({:.0} bytes a row{})",
            r.table_bytes as f64 / r.rows as f64,
            match r.total.filter(|&t| r.bytes > 0 && t > r.bytes) {
                Some(t) => format!(
                    " for about {} rows",
                    thousands((r.rows as f64 * t as f64 / r.bytes as f64) as u64)
                ),
                None => String::new(),
            }
        )
    } else {
        String::new()
    };
    Err(too_large(format!(
        "This export is too large to open here: {read}, it would need about {} of memory{per_row} \
         with room for queries, more than the {} a report may take here. Reading stopped and \
         nothing was kept.",
        human_bytes(need),
        human_bytes(budget),
    )))
}

/// Fails with [`ErrorKind::TooLarge`] when an input of `total` bytes cannot fit in `budget`
/// whatever its rows hold (before reading it).
pub(crate) fn check_size(total: u64, budget: u64) -> Result<(), Error> {
    let least = (total as f64 * MIN_TABLE_PER_CSV_BYTE * (1.0 + QUERY_ROOM)) as u64;
    if least <= budget {
        return Ok(());
    }
    Err(too_large(format!(
        "This export is too large to open here: {} of CSV would need at least {} of memory with \
         room for queries, more than the {} a report may take here. Nothing was read.",
        human_bytes(total),
        human_bytes(least),
        human_bytes(budget),
    )))
}

/// The ways out, said once for every refusal.
const WAYS_OUT: &str = "Ways out: a coarser granularity (per user and day, or per user and \
    month: far fewer rows), a shorter date range (a quarter or a month at a time), or the \
    command-line tool, which reads an export of any size with the machine's memory: \
    `sg-analytics summarize export.csv --by month` for a file, or `sg-analytics fetch --instance \
    HOST --from YYYY-MM-DD --to YYYY-MM-DD --month-windows -o export.csv` (token in \
    SG_ANALYTICS_TOKEN) to download it month by month first.";

fn too_large(what: String) -> Error {
    Error::new(ErrorKind::TooLarge, format!("{what} {WAYS_OUT}"))
}

/// The error for an allocation that failed while reading, after `rows` rows.
pub(crate) fn out_of_memory(rows: usize, table_bytes: u64) -> Error {
    Error::new(
        ErrorKind::OutOfMemory,
        format!(
            "Ran out of memory while reading the export, after {} rows ({} stored): the export is \
             too large for the memory available here. Reading stopped and nothing was kept. {WAYS_OUT}",
            thousands(rows as u64),
            human_bytes(table_bytes)
        ),
    )
}

/// A size for people: `812 KB`, `3.6 GB` (powers of 1000, as file managers say).
pub(crate) fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KB", "MB", "GB", "TB"];
    let mut x = n as f64;
    let mut unit = 0;
    while x >= 1000.0 && unit + 1 < UNITS.len() {
        x /= 1000.0;
        unit += 1;
    }
    match unit {
        0 => format!("{n} bytes"),
        _ if x < 10.0 => format!("{x:.1} {}", UNITS[unit]),
        _ => format!("{x:.0} {}", UNITS[unit]),
    }
}

/// A count with thin spaces between thousands: `85 000 000`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(rows: usize, bytes: u64, table_bytes: u64, total: Option<u64>) -> Reading {
        Reading {
            rows,
            bytes,
            table_bytes,
            total,
        }
    }

    #[test]
    fn the_projection_scales_the_table_by_the_input_still_to_come() {
        // 2 MiB read, a third of it in table, 12 MiB in all: 4 MiB of table, 6 MiB with queries.
        let r = reading(20_000, 2 << 20, (2 << 20) / 3, Some(12 << 20));
        let need = projected_need(r);
        assert!(
            (need as f64 - 6.0 * (1 << 20) as f64).abs() < 16.0,
            "{need}"
        );
        assert!(check_reading(r, 7 << 20).is_ok());
        let e = check_reading(r, 5 << 20).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TooLarge);
        // What it read, what the whole would need, and the ways out.
        for part in [
            "20 000 rows",
            "2.1 MB of 13 MB",
            "about 6.3 MB",
            "sg-analytics summarize",
        ] {
            assert!(e.message().contains(part), "{part}: {e}");
        }
    }

    #[test]
    fn before_a_sample_is_read_only_what_is_stored_counts() {
        // A header and a few rows of a huge file: no projection from so little.
        let r = reading(3, 500, 300, Some(40 << 30));
        assert_eq!(projected_need(r), 450);
        // Nor from a megabyte of long rows that have not filled a chunk (their cells not packed
        // yet): what is stored counts until then.
        let r = reading(SAMPLE_ROWS - 1, 2 << 20, 1 << 20, Some(40 << 30));
        assert_eq!(projected_need(r), 3 << 19);
        let r = reading(SAMPLE_ROWS, 2 << 20, 1 << 20, Some(40 << 30));
        assert_eq!(projected_need(r), 30 << 30);
        // Without a size, what is stored (with room for queries) is the need.
        let r = reading(10_000, 100 << 20, 40 << 20, None);
        assert_eq!(projected_need(r), 60 << 20);
    }

    #[test]
    fn a_size_is_refused_before_reading_only_when_it_could_never_fit() {
        let budget = 3 << 30;
        // 11 GB at the least a CSV byte can take: 2.06 GB, within 3 GiB: it must be read to tell.
        assert!(check_size(11_000_000_000, budget).is_ok());
        let e = check_size(40_000_000_000, budget).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TooLarge);
        assert!(e.message().contains("40 GB"), "{e}");
        assert!(e.message().contains("Nothing was read"), "{e}");
    }

    #[test]
    fn sizes_and_counts_read_as_people_write_them() {
        assert_eq!(human_bytes(999), "999 bytes");
        assert_eq!(human_bytes(1_500), "1.5 KB");
        assert_eq!(human_bytes(3_600_000_000), "3.6 GB");
        assert_eq!(human_bytes(11_000_000_000), "11 GB");
        assert_eq!(human_bytes(u64::MAX), "18446744 TB");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(85_000_000), "85 000 000");
    }
}
