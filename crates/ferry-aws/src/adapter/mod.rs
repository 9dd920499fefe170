//! The toolkit every service's adapters share, so that each rule is written
//! once: reading a typed spec and one resource ([`read`]), waiting for a
//! state ([`wait`]), the errors that mean a step is already done
//! ([`errors`]), and which tags to set and remove ([`tags`]).
//!
//! What only one service needs (its SDK's tag types, filters, how it says
//! "not found") stays in that service's module. The [`crate::KindAdapter`]
//! trait and the list of adapters are in `lib.rs`; ARCHITECTURE.md says how
//! the pieces fit.

pub mod errors;
pub mod read;
pub mod tags;
pub mod wait;

pub use errors::{duplicate_ok, gone_ok, ok_when};
pub use read::{by_ids, capped_page_size, one, page_size, parse, reference, text, PAGE_SIZE};
pub use tags::TagDiff;
pub use wait::wait_for;
