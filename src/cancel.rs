//! Stopping a listing from outside: an interrupt any thread may raise at any time, and the
//! deadlines a listing and each of its attempts run under.
//!
//! The interrupt is sticky (like every error of a listing) and is never reset: once raised,
//! every wait and every network call made under it ends with [`Stop::Cancelled`].

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Why work ended before it finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// [`Interrupt::interrupt`] was called.
    Cancelled,
    /// The current attempt's time ran out; another attempt may still succeed.
    AttemptTimeout,
    /// The budget of the whole listing is spent: nothing more is tried.
    ListingDeadline,
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stop::Cancelled => "interrupted",
            Stop::AttemptTimeout => "the attempt timed out",
            Stop::ListingDeadline => "the listing's deadline was reached",
        })
    }
}

/// Carried inside `io::Error`s out of the network layer, so callers can tell a stop from a
/// failure of the network (see `net::stop_of`).
impl std::error::Error for Stop {}

/// A point in time after which nothing may run; `Deadline::NONE` never comes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Deadline(Option<Instant>);

impl Deadline {
    pub(crate) const NONE: Deadline = Deadline(None);

    /// `budget` from now; a budget too large to represent never comes.
    pub fn after(budget: Duration) -> Deadline {
        Deadline(Instant::now().checked_add(budget))
    }

    pub fn at(instant: Instant) -> Deadline {
        Deadline(Some(instant))
    }

    pub fn instant(self) -> Option<Instant> {
        self.0
    }

    /// Time left (zero once passed); None when there is no deadline.
    pub fn remaining(self) -> Option<Duration> {
        self.0.map(|at| at.saturating_duration_since(Instant::now()))
    }

    pub fn has_passed(self) -> bool {
        self.0.is_some_and(|at| Instant::now() >= at)
    }

    /// Whether a wait of `wait` started now would end after the deadline: such a wait is not
    /// worth starting.
    pub fn would_overrun(self, wait: Duration) -> bool {
        self.remaining().is_some_and(|left| wait > left)
    }

    /// The earlier of two deadlines.
    pub fn min(self, other: Deadline) -> Deadline {
        match (self.0, other.0) {
            (Some(a), Some(b)) => Deadline(Some(a.min(b))),
            (a, b) => Deadline(a.or(b)),
        }
    }
}

/// A listing's interrupt: cheap to clone, every clone raises and sees the same flag.
#[derive(Clone, Debug, Default)]
pub struct Interrupt(Arc<Flag>);

#[derive(Debug, Default)]
struct Flag {
    /// Read without the lock by every network call; the lock only orders it with sleepers.
    raised: AtomicBool,
    lock: Mutex<()>,
    wake: Condvar,
}

impl Interrupt {
    pub fn new() -> Interrupt {
        Interrupt::default()
    }

    /// Raises the flag and wakes every sleeper. Any thread, any number of times.
    pub fn interrupt(&self) {
        self.0.raised.store(true, Ordering::SeqCst);
        // Taking the lock after the store means a sleeper is either still before its check
        // (and will see the flag) or already waiting (and gets the notification).
        drop(self.0.lock.lock().unwrap_or_else(|e| e.into_inner()));
        self.0.wake.notify_all();
    }

    pub fn is_raised(&self) -> bool {
        self.0.raised.load(Ordering::SeqCst)
    }

    pub fn check(&self) -> Result<(), Stop> {
        if self.is_raised() {
            return Err(Stop::Cancelled);
        }
        Ok(())
    }

    /// Waits `wait` (a retry's backoff), returning early with `Stop::Cancelled` when
    /// interrupted. A wait that would end after `deadline` is not started:
    /// `Stop::ListingDeadline` at once.
    pub fn sleep(&self, wait: Duration, deadline: Deadline) -> Result<(), Stop> {
        self.check()?;
        if deadline.would_overrun(wait) {
            return Err(Stop::ListingDeadline);
        }
        let Some(end) = Instant::now().checked_add(wait) else {
            return Err(Stop::ListingDeadline);
        };
        let mut guard = self.0.lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            self.check()?;
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            guard = self.0.wake.wait_timeout(guard, left).unwrap_or_else(|e| e.into_inner()).0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn a_sleep_runs_its_full_length_without_an_interrupt() {
        let started = Instant::now();
        assert_eq!(Interrupt::new().sleep(50 * MS, Deadline::NONE), Ok(()));
        assert!(started.elapsed() >= 50 * MS);
    }

    #[test]
    fn an_interrupt_from_another_thread_ends_a_long_sleep_at_once() {
        let interrupt = Interrupt::new();
        let other = interrupt.clone();
        let raiser = thread::spawn(move || {
            thread::sleep(100 * MS);
            let raised = Instant::now();
            other.interrupt();
            raised
        });
        let result = interrupt.sleep(Duration::from_secs(30), Deadline::NONE);
        let woke = Instant::now();
        let raised = raiser.join().unwrap();
        assert_eq!(result, Err(Stop::Cancelled));
        let latency = woke.duration_since(raised);
        assert!(latency < 100 * MS, "sleep returned {latency:?} after the interrupt");
    }

    #[test]
    fn the_interrupt_is_sticky_and_repeatable() {
        let interrupt = Interrupt::new();
        assert_eq!(interrupt.check(), Ok(()));
        for _ in 0..3 {
            interrupt.interrupt();
        }
        assert!(interrupt.clone().is_raised());
        let started = Instant::now();
        assert_eq!(interrupt.sleep(Duration::from_secs(30), Deadline::NONE), Err(Stop::Cancelled));
        assert_eq!(interrupt.sleep(Duration::ZERO, Deadline::NONE), Err(Stop::Cancelled));
        assert!(started.elapsed() < 100 * MS);
    }

    #[test]
    fn many_threads_interrupting_many_sleepers_all_return() {
        let interrupt = Interrupt::new();
        let sleepers: Vec<_> = (0..8)
            .map(|_| {
                let i = interrupt.clone();
                thread::spawn(move || i.sleep(Duration::from_secs(30), Deadline::NONE))
            })
            .collect();
        let raisers: Vec<_> = (0..8)
            .map(|_| {
                let i = interrupt.clone();
                thread::spawn(move || i.interrupt())
            })
            .collect();
        for r in raisers {
            r.join().unwrap();
        }
        for s in sleepers {
            assert_eq!(s.join().unwrap(), Err(Stop::Cancelled));
        }
    }

    #[test]
    fn a_wait_past_the_deadline_is_not_started() {
        let deadline = Deadline::after(Duration::from_secs(1));
        let started = Instant::now();
        assert_eq!(Interrupt::new().sleep(Duration::from_secs(30), deadline), Err(Stop::ListingDeadline));
        assert!(started.elapsed() < 100 * MS, "the wait must not begin");
        assert_eq!(Interrupt::new().sleep(10 * MS, deadline), Ok(()));
    }

    #[test]
    fn deadline_arithmetic() {
        let none = Deadline::NONE;
        assert_eq!(none.remaining(), None);
        assert!(!none.has_passed());
        assert!(!none.would_overrun(Duration::MAX));
        assert_eq!(Deadline::after(Duration::MAX), Deadline::NONE, "an unrepresentable budget never ends");

        let soon = Deadline::after(Duration::from_secs(10));
        let left = soon.remaining().unwrap();
        assert!(left <= Duration::from_secs(10) && left > Duration::from_secs(9));
        assert!(soon.would_overrun(Duration::from_secs(11)));
        assert!(!soon.would_overrun(Duration::from_secs(9)));
        assert!(!soon.has_passed());

        let past = Deadline::at(Instant::now() - MS);
        assert!(past.has_passed());
        assert_eq!(past.remaining(), Some(Duration::ZERO));
        assert!(past.would_overrun(MS));

        assert_eq!(soon.min(past), past);
        assert_eq!(past.min(soon), past);
        assert_eq!(none.min(soon), soon);
        assert_eq!(soon.min(none), soon);
    }
}
