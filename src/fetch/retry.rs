//! Which failures are tried again and after how long: the server's `Retry-After`, else an
//! exponential backoff with jitter; at most `maxRetries` retries per request, whatever failed.

use super::error::{FetchCode, FetchError};

/// The longest `Retry-After` honoured, in milliseconds; longer waits are capped.
pub(super) const MAX_RETRY_AFTER_MS: f64 = 60_000.0;

/// Whether a status is worth retrying: rate limits and server errors.
pub(super) fn is_retryable(status: u16) -> bool {
    status == 429 || (500..600).contains(&status)
}

/// The wait a `Retry-After` header asks for, in milliseconds: seconds, or an HTTP date
/// (`now_ms` is the current time in milliseconds since the epoch); capped at
/// [`MAX_RETRY_AFTER_MS`].
pub(super) fn retry_after_ms(value: &str, now_ms: f64) -> Option<f64> {
    let v = value.trim();
    if let Ok(seconds) = v.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0)
            .then(|| (seconds * 1000.0).min(MAX_RETRY_AFTER_MS));
    }
    http_date_ms(v).map(|at| (at - now_ms).clamp(0.0, MAX_RETRY_AFTER_MS))
}

/// Parses an IMF-fixdate (`Wed, 21 Oct 2015 07:28:00 GMT`).
fn http_date_ms(v: &str) -> Option<f64> {
    let parts: Vec<&str> = v.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m == month)? as u32 + 1;
    let day = crate::date::parse_day(&format!(
        "{year}-{month:02}-{:02}",
        day.parse::<u32>().ok()?
    ))?;
    let hms: Vec<f64> = time
        .split(':')
        .map(|x| x.parse::<f64>())
        .collect::<Result<_, _>>()
        .ok()?;
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    Some(((f64::from(day) * 24.0 + h) * 60.0 + m) * 60_000.0 + s * 1000.0)
}

/// The wait before retry `attempt` (0-based) when the server gave no `Retry-After`: exponential
/// from half a second, plus `jitter` (0..1) of the same again, so clients don't retry in step.
fn backoff_ms(attempt: u32, jitter: f64) -> f64 {
    let base = 500.0 * f64::from(2u32.saturating_pow(attempt.min(10)));
    (base + base * jitter.clamp(0.0, 1.0)).min(MAX_RETRY_AFTER_MS)
}

/// Counts the retries of one request (one URL): at most `max_retries` in all, whatever failed.
#[derive(Clone, Debug)]
pub(super) struct Retries {
    made: u32,
    max_retries: u32,
}

impl Retries {
    pub(super) fn new(max_retries: u32) -> Retries {
        Retries {
            made: 0,
            max_retries,
        }
    }

    /// Retries made so far.
    pub(super) fn made(&self) -> u32 {
        self.made
    }

    /// The most retries.
    pub(super) fn most(&self) -> u32 {
        self.max_retries
    }

    /// After an answer with `status` (not a success): the wait before the next attempt (the
    /// server's `Retry-After`, else a backoff with `jitter` in 0..1), or `None` when the status is
    /// not worth retrying or the retries are spent.
    pub(super) fn after_status(
        &mut self,
        status: u16,
        retry_after: Option<&str>,
        now_ms: f64,
        jitter: f64,
    ) -> Option<f64> {
        if !is_retryable(status) || self.made >= self.max_retries {
            return None;
        }
        let wait = retry_after
            .and_then(|v| retry_after_ms(v, now_ms))
            .unwrap_or_else(|| backoff_ms(self.made, jitter));
        self.made += 1;
        Some(wait)
    }

    /// After a failure of the body (`error`): the wait before fetching it again from its start,
    /// or `None` when it is not retried (only a cut, a stall or a bad window is) or the retries
    /// are spent.
    pub(super) fn after_failure(&mut self, error: &FetchError, jitter: f64) -> Option<f64> {
        let retried = matches!(
            error.code,
            FetchCode::CutShort | FetchCode::Stalled | FetchCode::BadWindow
        );
        if !retried || self.made >= self.max_retries {
            return None;
        }
        let wait = backoff_ms(self.made, jitter);
        self.made += 1;
        Some(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_or_a_date_and_is_capped() {
        assert_eq!(retry_after_ms("2", 0.0), Some(2000.0));
        assert_eq!(retry_after_ms("86400", 0.0), Some(MAX_RETRY_AFTER_MS));
        assert_eq!(retry_after_ms("-1", 0.0), None);
        assert_eq!(retry_after_ms("NaN", 0.0), None);
        let now = http_date_ms("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        assert_eq!(
            retry_after_ms("Wed, 21 Oct 2015 07:28:05 GMT", now),
            Some(5000.0)
        );
        // A date in the past: no wait.
        assert_eq!(
            retry_after_ms("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(0.0)
        );
        assert_eq!(retry_after_ms("soon", now), None);
        assert!(backoff_ms(0, 0.0) < backoff_ms(1, 0.0));
        assert!(backoff_ms(30, 1.0) <= MAX_RETRY_AFTER_MS);
        assert!(is_retryable(429) && is_retryable(503) && !is_retryable(401));
    }

    #[test]
    fn retries_honour_retry_after_and_stop_when_spent() {
        let mut r = Retries::new(2);
        assert_eq!(r.after_status(429, Some("3"), 0.0, 0.5), Some(3000.0));
        // No Retry-After: the backoff of the second attempt, 1 s plus jitter.
        assert_eq!(r.after_status(503, None, 0.0, 0.0), Some(1000.0));
        assert_eq!(r.after_status(503, None, 0.0, 0.0), None);
        let mut r = Retries::new(3);
        assert_eq!(r.after_status(401, None, 0.0, 0.0), None);
        assert_eq!(r.after_status(404, Some("1"), 0.0, 0.0), None);
        // Cuts, stalls and bad windows share the same budget; other failures are not retried.
        assert_eq!(
            r.after_failure(&FetchError::new(FetchCode::CutShort, ""), 0.0),
            Some(500.0)
        );
        assert_eq!(r.after_status(500, Some("86400"), 0.0, 0.0), Some(60_000.0));
        let not_csv = FetchError::new(FetchCode::NotCsv, "html");
        assert_eq!(r.after_failure(&not_csv, 0.0), None);
        let stalled = FetchError::new(FetchCode::Stalled, "");
        assert!(r.after_failure(&stalled, 0.0).is_some());
        assert_eq!(r.after_failure(&stalled, 0.0), None);
        assert_eq!(r.made(), 3);
    }
}
