//! Crash points for the crash-safety tests; they live in ferry-aws so that
//! adapters can mark points inside long operations (an image copy) too.

pub use ferry_aws::failpoint::hit;
