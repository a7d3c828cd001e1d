//! Per-handle logging: the library prints nothing by itself; lines go to the caller's callback.

use crate::error::{Redactor, MAX_MESSAGE};

/// Severity, as the C API passes it (1 error .. 4 debug). The discriminants are the C values;
/// ffi/mod.rs checks at compile time that every `VAULT_PARTS_LOG_*` constant equals its level.
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
    /// Every line passes through it, whatever a server sent.
    redactor: Redactor,
}

impl Log {
    pub fn new(redactor: Redactor) -> Self {
        Log { sink: None, redactor }
    }

    pub fn set_sink(&mut self, sink: Option<Sink>) {
        self.sink = sink;
    }

    /// Sets the sink and hands back the one it replaces (the verifier relays a listing's lines
    /// from its listing thread this way).
    pub fn replace_sink(&mut self, sink: Option<Sink>) -> Option<Sink> {
        std::mem::replace(&mut self.sink, sink)
    }

    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Formats the line only when somebody listens; redacts, neutralises and caps it.
    pub fn emit(&mut self, level: Level, line: impl FnOnce() -> String) {
        if let Some(sink) = self.sink.as_mut() {
            sink(level, &self.redactor.show(&line(), MAX_MESSAGE));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn lines_are_redacted_capped_and_lazy() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut log = Log::new(Redactor::new("SECRET-0123-abcd"));
        log.emit(Level::Info, || unreachable!("no sink, no formatting"));
        let sink_seen = seen.clone();
        log.set_sink(Some(Box::new(move |l, m| sink_seen.lock().unwrap().push((l, m.to_owned())))));
        log.emit(Level::Warn, || "token SECRET-0123-abcd here\u{2028}".into());
        log.emit(Level::Debug, || "x".repeat(5_000_000));
        let seen = seen.lock().unwrap();
        assert_eq!(seen[0], (Level::Warn, "token [redacted] here ".to_owned()));
        assert!(seen[1].1.len() <= MAX_MESSAGE && seen[1].1.contains(" bytes]..."));
    }
}
