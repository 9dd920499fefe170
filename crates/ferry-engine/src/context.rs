//! What every command works with: the configuration, the state directory,
//! and connected source and destination sides.

use crate::error::{EngineError, Result};
use crate::event::{Event, Sink};
use ferry_aws::{Registry, Side};
use ferry_core::config::Config;
use ferry_state::State;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

pub struct Context {
    pub config: Config,
    pub state: Arc<State>,
    pub source: Side,
    pub dest: Side,
    /// The adapters every command reaches AWS through (ARCHITECTURE.md,
    /// "adding a kind"): [`Registry::aws`], or fakes in the engine's tests.
    pub registry: Registry,
    pub events: Option<Sink>,
    /// Object copy requests in flight across every bucket (`[s3] workers`).
    pub s3_slots: Arc<tokio::sync::Semaphore>,
    /// Where the in-process tests kill an apply (see [`crate::failpoint`]).
    #[cfg(test)]
    pub(crate) crash: Option<Arc<crate::failpoint::Crash>>,
}

impl Context {
    /// Connects both sides (concurrently), refuses a migration onto itself,
    /// and only then opens the state directory, so a refused command leaves
    /// nothing behind. Read-only commands never create state.
    pub async fn connect(
        config: Config,
        state_dir: &Path,
        read_only: bool,
        events: Option<Sink>,
    ) -> Result<Context> {
        let limits: BTreeMap<String, (u32, f64)> = config
            .apply
            .rate_limits
            .iter()
            .map(|(k, v)| (k.clone(), (v.burst, v.per_second)))
            .collect();
        let (source, dest) = tokio::join!(
            Side::connect("source", &config.source, &limits),
            Side::connect("destination", &config.destination, &limits)
        );
        let sides = Sides {
            source: source?,
            dest: dest?,
            registry: Registry::aws(),
        };
        Context::with_sides(config, state_dir, read_only, events, sides)
    }

    /// A context on sides made already: [`Context::connect`]'s, or sides
    /// made without AWS ([`Side::offline`]) for tests, with their adapters.
    pub fn with_sides(
        config: Config,
        state_dir: &Path,
        read_only: bool,
        events: Option<Sink>,
        sides: Sides,
    ) -> Result<Context> {
        let Sides {
            source,
            dest,
            registry,
        } = sides;
        if source.info.account == dest.info.account && source.info.region == dest.info.region {
            return Err(EngineError::Input(format!(
                "source and destination are the same account ({}) and region ({}): ferry copies between accounts or regions; check [source] and [destination] in {}",
                source.info.account,
                source.info.region,
                config.path.display()
            )));
        }
        let state = Arc::new(if read_only {
            State::open_existing(state_dir)?
        } else {
            State::open(state_dir)?
        });
        Ok(Context {
            s3_slots: Arc::new(tokio::sync::Semaphore::new(config.s3.workers.max(1))),
            config,
            state,
            source,
            dest,
            registry,
            events,
            #[cfg(test)]
            crash: None,
        })
    }

    pub fn emit(&self, e: Event) {
        if let Some(s) = &self.events {
            let _ = s.send(e);
        }
    }

    pub fn kinds(&self) -> BTreeSet<ferry_core::Kind> {
        ferry_core::kind::select(&self.config.scope.include, &self.config.scope.exclude)
    }
}

/// The two sides of a migration and the adapters that reach them.
pub struct Sides {
    pub source: Side,
    pub dest: Side,
    pub registry: Registry,
}
