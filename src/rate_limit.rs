//! Per-credential rate limiting, per process (each app process keeps its own counters).

use crate::domain::Actor;
use crate::error::AppError;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::Arc;

#[derive(Clone)]
pub struct RateLimit(Option<Arc<DefaultKeyedRateLimiter<Actor>>>);

impl RateLimit {
    /// `per_second` requests per second per credential, with bursts of `burst`; 0 disables.
    pub fn new(per_second: u32, burst: u32) -> Self {
        let Some(rate) = NonZeroU32::new(per_second) else { return RateLimit(None) };
        let burst = NonZeroU32::new(burst.max(per_second)).unwrap_or(rate);
        RateLimit(Some(Arc::new(RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)))))
    }

    pub fn check(&self, actor: &Actor) -> Result<(), AppError> {
        let Some(limiter) = &self.0 else { return Ok(()) };
        limiter.check_key(actor).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            AppError::RateLimited { retry_after_secs: wait.as_secs_f64().ceil() as u64 }
        })
    }

    /// Forgets idle credentials so the table does not grow without bound.
    pub fn forget_idle(&self) {
        if let Some(limiter) = &self.0 {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// Failed attempts per key (an account, a client address): `burst` failures are answered as
/// usual; the one after them blocks the key, which is then refused outright (429 with
/// `Retry-After`) until its quota refills, at `burst` per `window`.
/// Only failures count, so a user who keeps getting it right is never slowed down; a key that is
/// blocked is refused before its credential is even checked, so guessing gains nothing.
pub struct FailureThrottle {
    failures: Option<DefaultKeyedRateLimiter<String>>,
    blocked_until: std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>,
}

impl FailureThrottle {
    /// `burst` failures per `window`; 0 disables.
    pub fn new(burst: u32, window: std::time::Duration) -> Self {
        let failures = NonZeroU32::new(burst).and_then(|burst| {
            let period = window / burst.get();
            Quota::with_period(period).map(|quota| RateLimiter::keyed(quota.allow_burst(burst)))
        });
        FailureThrottle { failures, blocked_until: Default::default() }
    }

    /// Refuses while `key` is blocked.
    pub fn check(&self, key: &str) -> Result<(), AppError> {
        let blocked = self.blocked_until.lock().unwrap_or_else(|e| e.into_inner());
        let wait = blocked.get(key).map(|until| until.saturating_duration_since(std::time::Instant::now()));
        match wait {
            Some(wait) if !wait.is_zero() => {
                Err(AppError::RateLimited { retry_after_secs: wait.as_secs_f64().ceil() as u64 })
            }
            _ => Ok(()),
        }
    }

    /// Counts a failure of `key`; the one over the quota blocks it.
    pub fn failed(&self, key: &str) {
        let Some(failures) = &self.failures else { return };
        if let Err(not_until) = failures.check_key(&key.to_string()) {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let mut blocked = self.blocked_until.lock().unwrap_or_else(|e| e.into_inner());
            blocked.insert(key.to_string(), std::time::Instant::now() + wait);
        }
    }

    /// Forgets keys that are no longer blocked or counted.
    pub fn forget_idle(&self) {
        if let Some(failures) = &self.failures {
            failures.retain_recent();
            failures.shrink_to_fit();
        }
        let now = std::time::Instant::now();
        self.blocked_until.lock().unwrap_or_else(|e| e.into_inner()).retain(|_, until| *until > now);
    }
}
