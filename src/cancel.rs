//! Stopping a handle's work from outside: an interrupt any thread may raise at any time, the
//! deadline of the whole operation, and the progress clock each attempt runs under.
//!
//! The interrupt is sticky (like every error of a listing) and is never reset: once raised,
//! every wait and every network call made under it ends with [`Stop::Cancelled`].

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Why work ended before it finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// [`Interrupt::interrupt`] was called.
    Cancelled,
    /// The current attempt made no progress for its timeout; another attempt may still succeed.
    AttemptTimeout,
    /// The budget of the whole operation (vault_parts_set_deadline_ms) is spent: nothing more
    /// is tried.
    OperationDeadline,
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stop::Cancelled => "interrupted",
            Stop::AttemptTimeout => "the attempt timed out",
            Stop::OperationDeadline => "the operation's deadline was reached",
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

    #[cfg(test)]
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
}

/// A handle's interrupt: cheap to clone, every clone raises and sees the same flag.
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

    /// Waits `wait`, returning early with `Stop::Cancelled` when interrupted. Whether a wait
    /// may start at all is [`Stops::pause`]'s to decide.
    fn sleep(&self, wait: Duration) -> Result<(), Stop> {
        self.check()?;
        // A wait too long to represent lasts until the interrupt.
        let end = Instant::now().checked_add(wait);
        let mut guard = self.0.lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            self.check()?;
            let left = end.map_or(Duration::MAX, |end| end.saturating_duration_since(Instant::now()));
            if left.is_zero() {
                return Ok(());
            }
            guard = self.0.wake.wait_timeout(guard, left).unwrap_or_else(|e| e.into_inner()).0;
        }
    }
}

/// What ends a handle's requests early, whichever call makes them: its interrupt and the
/// deadline of the whole operation (the first request to the last). One value, owned by the
/// handle's transport; the retry loop and the network layer read it there.
#[derive(Clone, Debug, Default)]
pub struct Stops {
    pub interrupt: Interrupt,
    pub deadline: Deadline,
}

impl Stops {
    /// Whether work must stop before the next step: interrupted, or out of time.
    pub fn check(&self) -> Result<(), Stop> {
        self.interrupt.check()?;
        if self.deadline.has_passed() {
            return Err(Stop::OperationDeadline);
        }
        Ok(())
    }

    /// Waits `wait` before the next request (a retry's backoff, a poll's interval). A wait that
    /// would end after the deadline is not started: `Stop::OperationDeadline` at once, and
    /// `announce` (the log line saying a wait begins) is not called. The one place that rule
    /// is checked.
    pub fn pause(&self, wait: Duration, announce: impl FnOnce()) -> Result<(), Stop> {
        self.interrupt.check()?;
        if self.deadline.would_overrun(wait) {
            return Err(Stop::OperationDeadline);
        }
        announce();
        self.interrupt.sleep(wait)
    }
}

/// An attempt's time limit, moved by progress: it ends `timeout` after the later of the
/// attempt's start and the last body byte moved (sent or received). A 50 MiB part on a slow
/// link keeps its attempt alive as long as bytes flow; a server that stops answering, or
/// answers only with heads (redirect after redirect), ends it `timeout` after the last byte of
/// a body. Clones share one clock.
#[derive(Clone, Debug, Default)]
pub struct AttemptClock(Option<Arc<Clock>>);

#[derive(Debug)]
struct Clock {
    start: Instant,
    timeout: Duration,
    /// Nanoseconds from `start` to the last progress.
    last: AtomicU64,
}

impl AttemptClock {
    /// No time limit.
    #[cfg(test)]
    pub const NONE: AttemptClock = AttemptClock(None);

    /// A clock that starts now.
    pub fn start(timeout: Duration) -> AttemptClock {
        AttemptClock(Some(Arc::new(Clock { start: Instant::now(), timeout, last: AtomicU64::new(0) })))
    }

    /// Body bytes moved just now: the limit moves to `timeout` from now.
    pub fn progressed(&self) {
        if let Some(clock) = &self.0 {
            let nanos = u64::try_from(clock.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
            clock.last.fetch_max(nanos, Ordering::Relaxed);
        }
    }

    /// When the attempt ends unless more progress comes.
    pub fn deadline(&self) -> Deadline {
        match &self.0 {
            None => Deadline::NONE,
            Some(clock) => {
                let last = clock.start.checked_add(Duration::from_nanos(clock.last.load(Ordering::Relaxed)));
                Deadline(last.and_then(|last| last.checked_add(clock.timeout)))
            }
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
        assert_eq!(Interrupt::new().sleep(50 * MS), Ok(()));
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
        let result = interrupt.sleep(Duration::from_secs(30));
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
        assert_eq!(interrupt.sleep(Duration::from_secs(30)), Err(Stop::Cancelled));
        assert_eq!(interrupt.sleep(Duration::ZERO), Err(Stop::Cancelled));
        assert!(started.elapsed() < 100 * MS);
    }

    #[test]
    fn many_threads_interrupting_many_sleepers_all_return() {
        let interrupt = Interrupt::new();
        let sleepers: Vec<_> = (0..8)
            .map(|_| {
                let i = interrupt.clone();
                thread::spawn(move || i.sleep(Duration::from_secs(30)))
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
        let stops = Stops { deadline: Deadline::after(Duration::from_secs(1)), ..Stops::default() };
        let started = Instant::now();
        let mut announced = 0;
        assert_eq!(stops.pause(Duration::from_secs(30), || announced += 1), Err(Stop::OperationDeadline));
        assert!(started.elapsed() < 100 * MS, "the wait must not begin");
        assert_eq!(announced, 0, "a wait that does not begin is not announced");
        assert_eq!(stops.pause(10 * MS, || announced += 1), Ok(()));
        assert_eq!(announced, 1);
        assert_eq!(stops.check(), Ok(()));
        let passed = Stops { deadline: Deadline::at(Instant::now() - MS), ..Stops::default() };
        assert_eq!(passed.check(), Err(Stop::OperationDeadline));
        passed.interrupt.interrupt();
        assert_eq!(passed.check(), Err(Stop::Cancelled), "the interrupt is named first");
        assert_eq!(passed.pause(Duration::ZERO, || announced += 1), Err(Stop::Cancelled));
        assert_eq!(announced, 1);
    }

    #[test]
    fn an_attempt_clock_moves_with_progress() {
        let clock = AttemptClock::start(200 * MS);
        let first = clock.deadline().instant().unwrap();
        thread::sleep(50 * MS);
        assert_eq!(clock.deadline().instant(), Some(first), "no progress, no move");
        clock.clone().progressed();
        let moved = clock.deadline().instant().unwrap();
        assert!(moved >= first + 50 * MS, "{:?} after the first deadline", moved - first);
        assert!(!clock.deadline().has_passed());
        assert_eq!(AttemptClock::NONE.deadline(), Deadline::NONE);
        AttemptClock::NONE.progressed();
        assert_eq!(AttemptClock::default().deadline(), Deadline::NONE);
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
    }
}
