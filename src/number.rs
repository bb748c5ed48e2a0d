//! Numeric cells: decimals kept exactly as a mantissa and a count of decimal places, so they can be
//! stored as small integers and written back without floating-point noise.

/// A parsed numeric cell.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Num {
    /// `mantissa / 10^scale`.
    Dec { mantissa: i64, scale: u8 },
    /// Anything else that is a finite number (exponents, very long decimals).
    Float(f64),
}

/// The most decimal places kept exactly; longer decimals become floats.
pub(crate) const MAX_SCALE: u8 = 9;

impl Num {
    pub(crate) fn to_f64(self) -> f64 {
        match self {
            Num::Dec { mantissa, scale } => mantissa as f64 / pow10(scale) as f64,
            Num::Float(f) => f,
        }
    }
}

const POW10: [i64; 19] = {
    let mut table = [1i64; 19];
    let mut i = 1;
    while i < 19 {
        table[i] = table[i - 1] * 10;
        i += 1;
    }
    table
};

/// `10^scale`, for scales up to 18 (callers keep scales at most [`MAX_SCALE`] apart).
#[inline]
pub(crate) fn pow10(scale: u8) -> i64 {
    POW10[usize::from(scale).min(18)]
}

/// Parses a number cell: optional sign, digits, optional fraction; or a float with an exponent.
/// Returns `None` for anything else (the caller reports it).
pub(crate) fn parse_num(cell: &str) -> Option<Num> {
    parse_num_bytes(cell.as_bytes())
}

/// [`parse_num`] on raw bytes (no UTF-8 check needed: a number is ASCII).
#[inline]
pub(crate) fn parse_num_bytes(cell: &[u8]) -> Option<Num> {
    // The common case first: a short run of digits, as most cells of an export are.
    if !cell.is_empty() && cell.len() <= 18 && cell.iter().all(u8::is_ascii_digit) {
        let mantissa = cell.iter().fold(0i64, |m, &d| m * 10 + i64::from(d - b'0'));
        return Some(Num::Dec { mantissa, scale: 0 });
    }
    let b = cell.trim_ascii();
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    let mut mantissa: i64 = 0;
    let mut scale: u8 = 0;
    let mut seen_digit = false;
    let mut seen_dot = false;
    let mut exact = true;
    for &c in digits {
        match c {
            b'0'..=b'9' => {
                seen_digit = true;
                if seen_dot {
                    if scale == MAX_SCALE {
                        exact = false;
                        continue;
                    }
                    scale += 1;
                }
                match mantissa
                    .checked_mul(10)
                    .and_then(|m| m.checked_add(i64::from(c - b'0')))
                {
                    Some(m) => mantissa = m,
                    None => exact = false,
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => return parse_float(b),
        }
    }
    if !seen_digit {
        return None;
    }
    if !exact {
        return parse_float(b);
    }
    // Trailing zeros after the point add no information: "1.50" is "1.5".
    while scale > 0 && mantissa % 10 == 0 {
        mantissa /= 10;
        scale -= 1;
    }
    Some(Num::Dec {
        mantissa: if neg { -mantissa } else { mantissa },
        scale,
    })
}

fn parse_float(b: &[u8]) -> Option<Num> {
    // Only plain scientific notation: "inf", "NaN" and friends are not numbers in an export.
    if !b
        .iter()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'-' | b'+' | b'e' | b'E'))
    {
        return None;
    }
    std::str::from_utf8(b)
        .ok()?
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .map(Num::Float)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(mantissa: i64, scale: u8) -> Option<Num> {
        Some(Num::Dec { mantissa, scale })
    }

    #[test]
    fn parses_decimals_exactly() {
        assert_eq!(parse_num("42"), dec(42, 0));
        assert_eq!(parse_num(" 0.2992 "), dec(2992, 4));
        assert_eq!(parse_num("52.3480"), dec(52348, 3));
        assert_eq!(parse_num("-3.5"), dec(-35, 1));
        assert_eq!(parse_num("+7"), dec(7, 0));
        assert_eq!(parse_num(".5"), dec(5, 1));
        assert_eq!(parse_num("5."), dec(5, 0));
        assert_eq!(parse_num("0.0000"), dec(0, 0));
    }

    #[test]
    fn falls_back_to_floats_and_rejects_the_rest() {
        assert_eq!(parse_num("1e3"), Some(Num::Float(1000.0)));
        assert_eq!(
            parse_num("0.1234567890123"),
            Some(Num::Float(0.1234567890123))
        );
        assert_eq!(parse_num("99999999999999999999"), Some(Num::Float(1e20)));
        for bad in [
            "", "-", ".", "abc", "1,234", "NaN", "inf", "1.2.3", "12 34", "0x10",
        ] {
            assert_eq!(parse_num(bad), None, "{bad}");
        }
    }
}
