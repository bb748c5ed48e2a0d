//! The native peer of the browser benchmark (bench/run.mjs): a bare `csv::ByteRecord` loop with
//! ahash maps computing the same per-month summary as every other tool, in process, on the
//! export read into memory first. Only parsing and aggregating are timed.
//!
//! `cargo run --release --example csv_baseline -- FILE` prints one JSON line:
//! `{"ms": ..., "rows": ..., "summary": {"months": [...], "users": N, "avgDau": x}}`.

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    native::main();
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::time::Instant;

    use ahash::{AHashMap, AHashSet};

    #[derive(Default)]
    struct Month {
        users: AHashSet<u32>,
        chat: f64,
        sugg: f64,
        acc: f64,
    }

    /// Days since 1970-01-01 of `YYYY-MM-DD` (civil-from-days, Howard Hinnant's algorithm).
    fn day(b: &[u8]) -> Option<i32> {
        if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let n = |s: &[u8]| -> Option<i32> {
            s.iter().try_fold(0i32, |a, &c| {
                c.is_ascii_digit().then(|| a * 10 + i32::from(c - b'0'))
            })
        };
        let (y, m, d) = (n(&b[..4])?, n(&b[5..7])?, n(&b[8..10])?);
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Some(era * 146_097 + doe - 719_468)
    }

    fn num(b: &[u8]) -> f64 {
        std::str::from_utf8(b)
            .ok()
            .and_then(|s| s.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    }

    pub fn main() {
        let path = std::env::args().nth(1).expect("usage: csv_baseline FILE");
        let bytes = std::fs::read(&path).expect("read the export");
        let t0 = Instant::now();
        let mut reader = csv::ReaderBuilder::new().from_reader(&bytes[..]);
        let header: Vec<String> = reader
            .byte_headers()
            .expect("a header")
            .iter()
            .map(|h| String::from_utf8_lossy(h).trim().to_lowercase())
            .collect();
        let at = |name: &str| {
            header
                .iter()
                .position(|h| h == &name.to_lowercase())
                .unwrap_or_else(|| panic!("column {name} missing"))
        };
        let (i_user, i_active, i_date) = (
            at("Instance user ID"),
            at("Active Sourcegraph User"),
            at("Timestamp Date"),
        );
        let (i_chat, i_sugg, i_acc) = (
            at("Chat Events"),
            at("Combined Completion Suggestions"),
            at("Combined Completion Acceptances"),
        );
        let mut users: AHashMap<Vec<u8>, u32> = AHashMap::new();
        let mut months: AHashMap<[u8; 7], Month> = AHashMap::new();
        let mut active_days: AHashSet<(i32, u32)> = AHashSet::new();
        let (mut min_day, mut max_day) = (i32::MAX, i32::MIN);
        let mut record = csv::ByteRecord::new();
        let mut rows = 0u64;
        while reader.read_byte_record(&mut record).expect("a record") {
            if record.len() != header.len() {
                continue;
            }
            rows += 1;
            let raw_user = &record[i_user];
            let next = users.len() as u32;
            let user = match users.get(raw_user) {
                Some(&u) => u,
                None => *users.entry(raw_user.to_vec()).or_insert(next),
            };
            let date = &record[i_date];
            let Some(d) = day(date) else { continue };
            min_day = min_day.min(d);
            max_day = max_day.max(d);
            let mut key = [0u8; 7];
            key.copy_from_slice(&date[..7]);
            let m = months.entry(key).or_default();
            m.users.insert(user);
            m.chat += num(&record[i_chat]);
            m.sugg += num(&record[i_sugg]);
            m.acc += num(&record[i_acc]);
            let a = record[i_active].trim_ascii();
            if [&b"true"[..], b"yes", b"y", b"t", b"1"]
                .iter()
                .any(|t| a.eq_ignore_ascii_case(t))
            {
                active_days.insert((d, user));
            }
        }
        let mut out: Vec<_> = months.into_iter().collect();
        out.sort_by_key(|(k, _)| *k);
        let span = f64::from(max_day - min_day + 1);
        let avg_dau = if rows > 0 {
            Some(active_days.len() as f64 / span)
        } else {
            None
        };
        let ms = t0.elapsed().as_secs_f64() * 1000.0;
        let months: Vec<serde_json::Value> = out
            .iter()
            .map(|(k, m)| {
                serde_json::json!({
                    "month": String::from_utf8_lossy(k),
                    "users": m.users.len(),
                    "chat": m.chat, "sugg": m.sugg, "acc": m.acc,
                    "car": if m.sugg > 0.0 { Some(m.acc / m.sugg) } else { None },
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({
                "ms": ms,
                "rows": rows,
                "summary": {"months": months, "users": users.len(), "avgDau": avg_dau},
            })
        );
    }
}
