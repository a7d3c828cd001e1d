//! Per-handle logging: the library prints nothing by itself; lines go to the caller's callback.

use crate::error::redact;

/// Severity, as the C API passes it (1 error .. 4 debug).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
}

/// Receives each log line. Send so that a handle can move between threads.
pub type Sink = Box<dyn FnMut(Level, &str) + Send>;

/// A handle's log: no sink means no formatting work at all.
#[derive(Default)]
pub struct Log {
    sink: Option<Sink>,
    /// Removed from every line, whatever a server sent.
    secret: String,
}

impl Log {
    pub fn new(secret: &str) -> Self {
        Log { sink: None, secret: secret.to_owned() }
    }

    pub fn set_sink(&mut self, sink: Option<Sink>) {
        self.sink = sink;
    }

    /// Formats the line only when somebody listens.
    pub fn emit(&mut self, level: Level, line: impl FnOnce() -> String) {
        if let Some(sink) = self.sink.as_mut() {
            sink(level, &redact(&line(), &self.secret));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn lines_are_redacted_and_lazy() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut log = Log::new("SECRET");
        log.emit(Level::Info, || unreachable!("no sink, no formatting"));
        let sink_seen = seen.clone();
        log.set_sink(Some(Box::new(move |l, m| sink_seen.lock().unwrap().push((l, m.to_owned())))));
        log.emit(Level::Warn, || "token SECRET here".into());
        assert_eq!(*seen.lock().unwrap(), vec![(Level::Warn, "token [redacted] here".to_owned())]);
    }
}
