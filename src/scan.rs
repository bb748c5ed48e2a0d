//! The ingester's fast path: the structure of quote-free records, found 16 bytes at a time.
//!
//! Most of an export is plain records: no quote, one line each. For those, the field boundaries
//! are the commas before the line end, and the fields can be read where they lie in the input,
//! without csv-core's state machine and without copying them. [`split_record`] finds them with
//! 16-byte compares (WebAssembly `simd128`, SSE2 natively, a plain loop elsewhere) and gives up on
//! anything it does not handle (a quote, a record not complete in this input, a record at the
//! limits): csv-core reads those, exactly as before.

/// Bit `i` set where `block[i]` is a comma (first mask) or a byte the fast path stops at: CR, LF
/// or a quote (second mask).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn classify(block: &[u8; 16]) -> (u32, u32) {
    use core::arch::wasm32::{u8x16_bitmask, u8x16_eq, u8x16_splat, v128, v128_load, v128_or};
    // SAFETY: reads exactly the 16 bytes of `block`; wasm loads need no alignment.
    let v = unsafe { v128_load(block.as_ptr().cast::<v128>()) };
    let commas = u8x16_eq(v, u8x16_splat(b','));
    let stops = v128_or(
        v128_or(
            u8x16_eq(v, u8x16_splat(b'\n')),
            u8x16_eq(v, u8x16_splat(b'\r')),
        ),
        u8x16_eq(v, u8x16_splat(b'"')),
    );
    (
        u32::from(u8x16_bitmask(commas)),
        u32::from(u8x16_bitmask(stops)),
    )
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn classify(block: &[u8; 16]) -> (u32, u32) {
    use core::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of the x86_64 baseline; the load reads exactly the 16 bytes of
    // `block`, unaligned loads being allowed.
    unsafe {
        let v = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
        let eq = |b: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8));
        let commas = _mm_movemask_epi8(eq(b',')) as u32;
        let stops = _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(eq(b'\n'), eq(b'\r')), eq(b'"')));
        (commas, stops as u32)
    }
}

#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "wasm32", target_feature = "simd128")
)))]
#[inline(always)]
fn classify(block: &[u8; 16]) -> (u32, u32) {
    let (mut commas, mut stops) = (0u32, 0u32);
    for (i, &b) in block.iter().enumerate() {
        commas |= u32::from(b == b',') << i;
        stops |= u32::from(matches!(b, b'\n' | b'\r' | b'"')) << i;
    }
    (commas, stops)
}

/// Splits the record at the start of `input` when the fast path can: its fields lie between the
/// commas before the first CR or LF, and none holds a quote. On success `ends` holds, for each
/// field, the offset just past it (the last one is the line end's offset), and the line end's
/// offset is returned; the fields are `input[0..ends[0]]`, `input[ends[0] + 1..ends[1]]`, ...
///
/// `None` (with `ends` in any state) when csv-core must read the record: a quote before the line
/// end, no line end in `input`, `max_fields` fields or more, or `max_bytes` bytes or more before
/// the line end.
#[inline]
pub(crate) fn split_record(
    input: &[u8],
    ends: &mut Vec<usize>,
    max_fields: usize,
    max_bytes: usize,
) -> Option<usize> {
    ends.clear();
    let limit = input.len().min(max_bytes);
    let mut at = 0;
    while at + 16 <= limit {
        let block: &[u8; 16] = input[at..at + 16].try_into().ok()?;
        let (mut commas, stops) = classify(block);
        if stops != 0 {
            // Only the commas before the first stop belong to this record.
            let stop = stops.trailing_zeros() as usize;
            commas &= (1u32 << stop) - 1;
        }
        while commas != 0 {
            ends.push(at + commas.trailing_zeros() as usize);
            commas &= commas - 1;
        }
        if stops != 0 {
            let end = at + stops.trailing_zeros() as usize;
            return finish(input, ends, end, max_fields);
        }
        if ends.len() >= max_fields {
            return None;
        }
        at += 16;
    }
    while at < limit {
        match input[at] {
            b',' => ends.push(at),
            b'\n' | b'\r' | b'"' => return finish(input, ends, at, max_fields),
            _ => {}
        }
        at += 1;
    }
    None
}

#[inline(always)]
fn finish(input: &[u8], ends: &mut Vec<usize>, end: usize, max_fields: usize) -> Option<usize> {
    if input[end] == b'"' || ends.len() + 1 >= max_fields {
        return None;
    }
    ends.push(end);
    Some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(input: &[u8]) -> Option<(usize, Vec<&[u8]>)> {
        let mut ends = Vec::new();
        let end = split_record(input, &mut ends, 10_000, 1 << 20)?;
        let mut start = 0;
        let fields = ends
            .iter()
            .map(|&e| {
                let f = &input[start..e];
                start = e + 1;
                f
            })
            .collect();
        Some((end, fields))
    }

    #[test]
    fn plain_records_split_at_every_length() {
        // Lengths around the 16-byte blocks, so that commas and the line end fall in the block
        // loop and in the tail loop alike.
        for n in 0..70 {
            let cells: Vec<String> = (0..n).map(|i| "x".repeat(i % 5)).collect();
            let line = cells.join(",");
            for end in ["\n", "\r\n", "\r"] {
                let input = format!("{line}{end}next,line\n");
                let (at, fields) = split(input.as_bytes()).unwrap();
                assert_eq!(at, line.len());
                let want: Vec<&[u8]> = if n == 0 {
                    vec![b""]
                } else {
                    cells.iter().map(|c| c.as_bytes()).collect()
                };
                assert_eq!(fields, want, "{input:?}");
            }
        }
    }

    #[test]
    fn quotes_unterminated_records_and_limits_go_to_csv_core() {
        assert_eq!(split(b"a,\"b\",c\n"), None);
        assert_eq!(split(b"aaaaaaaaaaaaaaaaaaaaaaaaa,b\"c\n"), None);
        assert_eq!(split(b"a,b,c"), None);
        assert_eq!(split(b""), None);
        let mut ends = Vec::new();
        assert_eq!(split_record(b"a,b,c\n", &mut ends, 3, 100), None);
        assert_eq!(split_record(b"a,b,c\n", &mut ends, 4, 100), Some(5));
        assert_eq!(split_record(b"a,b,c\n", &mut ends, 4, 5), None);
        assert_eq!(split_record(b"a,b,c\n", &mut ends, 4, 6), Some(5));
        let wide = format!("{}\n", vec!["1"; 40].join(","));
        assert_eq!(split_record(wide.as_bytes(), &mut ends, 20, 1000), None);
    }
}
