//! Crash points for the crash-safety tests. The points themselves live in
//! ferry-aws so that adapters can mark points inside long operations (an
//! image copy) too: `FERRY_FAILPOINT=name:n` kills the process there.
//!
//! The engine's in-process tests cannot kill their own process: a
//! [`Crash`] set on the test's [`Context`] makes the point end the apply
//! task instead, by unwinding out of it with nothing after the point run
//! (no journal update, no error handling), which is what a kill leaves.

use crate::context::Context;

/// Passes the point `name` of the apply in `cx`.
pub fn hit(cx: &Context, name: &str) {
    ferry_aws::failpoint::hit(name);
    #[cfg(test)]
    if let Some(crash) = &cx.crash {
        crash.passed(name);
    }
    #[cfg(not(test))]
    let _ = cx;
}

/// A kill at the `n`-th pass of one point (counted from 1), in-process.
#[cfg(test)]
#[derive(Debug)]
pub struct Crash {
    name: String,
    n: u64,
    hits: std::sync::atomic::AtomicU64,
    /// Every point passed, in order (to draw kill points from).
    pub log: std::sync::Mutex<Vec<String>>,
}

/// What a [`Crash`] unwinds with.
#[cfg(test)]
#[derive(Debug)]
pub struct Killed;

#[cfg(test)]
impl Crash {
    pub fn at(name: &str, n: u64) -> Crash {
        Crash {
            name: name.to_string(),
            n,
            hits: Default::default(),
            log: Default::default(),
        }
    }

    /// Only records the points passed.
    pub fn never() -> Crash {
        Crash::at("", 0)
    }

    fn passed(&self, name: &str) {
        self.log.lock().unwrap().push(name.to_string());
        if name == self.name
            && self.hits.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1 == self.n
        {
            // resume_unwind, not panic!: no panic hook, no message.
            std::panic::resume_unwind(Box::new(Killed));
        }
    }
}
