//! Command-line definitions. The help texts are the reference: keep them
//! complete and in step with the README.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "ferry",
    version,
    about = "Replicate AWS infrastructure from one account and region into another",
    long_about = "ferry discovers an AWS estate in a source account, shows a plan, creates the \
equivalent estate in a destination account (and region) with every ID rewritten, verifies the \
result, resumes after a crash and rolls back on request.\n\n\
Typical session:  ferry init; edit ferry.toml; ferry plan; ferry apply; ferry verify\n\n\
Exit codes: 0 success, 1 a finding (verify differences, plan conflicts with --strict, apply \
refused because of conflicts), 2 bad input or configuration, 3 an AWS/API failure after retries.\n\n\
Credentials come from the standard AWS chain (environment, profiles, SSO, instance roles); \
ferry never asks for, prints or stores keys."
)]
pub struct Cli {
    /// Configuration file.
    #[arg(
        long,
        global = true,
        default_value = "ferry.toml",
        env = "FERRY_CONFIG"
    )]
    pub config: PathBuf,
    /// State directory (runs, snapshots, mapping, journal); created 0700.
    #[arg(long, global = true, default_value = ".ferry", env = "FERRY_STATE_DIR")]
    pub state_dir: PathBuf,
    /// Progress on stderr: auto (live bars per service and per bucket copy,
    /// with done/total, rate and ETA, when stderr is a terminal; plain lines
    /// otherwise), plain (stable lines, one per resource, plus a status line
    /// per service or copy every few seconds: for logs and scripts) or none.
    #[arg(long, global = true, value_enum, default_value = "auto")]
    pub progress: Progress,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Progress {
    Auto,
    Plain,
    None,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq, Default)]
pub enum Output {
    #[default]
    Text,
    Json,
}

#[derive(Args, Debug, Clone, Copy)]
pub struct OutputArg {
    /// Output format: text for people, json for scripts.
    #[arg(long, value_enum, default_value = "text")]
    pub output: Output,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Write a commented ferry.toml skeleton (refuses to overwrite without --force).
    Init {
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Print the IAM policies ferry needs on each side, derived from the API
    /// calls its adapters make, and the destination role's trust policy.
    ///
    /// With --apply, creates (or updates) the destination role named by
    /// [destination] role_arn, using the destination's own credentials
    /// (its profile or the default chain, without assuming the role), and then
    /// assumes it to prove ferry can.
    Bootstrap {
        /// Create or update the destination role in the destination account.
        #[arg(long)]
        apply: bool,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Inventory source and destination and store a snapshot of each.
    Discover {
        #[command(flatten)]
        out: OutputArg,
    },
    /// Print what apply would do (create / adopt / update / skip / conflict), with reasons.
    Plan {
        /// Also write the plan to FILE, for `apply --plan FILE`.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Exit 1 when the plan has conflicts.
        #[arg(long)]
        strict: bool,
        #[command(flatten)]
        output: OutputArg,
    },
    /// Execute a plan: create, adopt and reconcile the destination.
    ///
    /// Without --plan, makes a fresh plan, prints it and asks for confirmation
    /// (on a terminal) before running exactly that plan. If the previous run was
    /// interrupted (killed, crashed) or failed, apply resumes it with its own
    /// plan: nothing is created twice. With --plan, a new run starts instead.
    /// S3 objects are synced on every apply: only missing or changed objects
    /// are copied, so an interrupted copy resumes where it was.
    Apply {
        /// Do not ask for confirmation (required when stdin is not a terminal).
        #[arg(long, short = 'y')]
        yes: bool,
        /// Run this saved plan (from `ferry plan --out`) instead of planning anew.
        #[arg(long, value_name = "FILE")]
        plan: Option<PathBuf>,
        /// How many resources to work on at once (default: [apply] concurrency, 16).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
        concurrency: Option<u16>,
        /// Leave out resources in conflict, and what depends on them, instead of refusing.
        #[arg(long)]
        skip_conflicts: bool,
    },
    /// Compare the destination with the source through the mapping; exit 1 on differences.
    ///
    /// Every in-scope resource is re-read on both sides and compared. The
    /// objects of each migrated S3 bucket are listed afresh on both sides and
    /// compared key by key (size, ETag, or a checksum where ETags cannot be
    /// compared), with totals and the first keys that differ.
    Verify {
        #[command(flatten)]
        out: OutputArg,
    },
    /// Delete what a run created (newest first) and restore the AWS defaults it changed.
    ///
    /// RUN defaults to the newest run that changed something and has not been rolled back.
    Rollback {
        /// Run number (see `ferry runs`).
        run: Option<i64>,
        /// Do not ask for confirmation (required when stdin is not a terminal).
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// List runs and their state.
    Runs {
        #[command(flatten)]
        out: OutputArg,
    },
    /// Show the source -> destination ID mapping.
    Mapping {
        #[command(flatten)]
        out: OutputArg,
    },
    /// Serve the local web dashboard: runs, live progress, mapping, verify, rollback state.
    ///
    /// Pages: Runs (state, duration and counts of every run); a run (its plan
    /// grouped by service, each section red while queued, yellow while
    /// running, green when done, dark red when something failed, updated live
    /// over server-sent events whether the apply runs in the dashboard or in a
    /// `ferry apply` elsewhere; and the plan's dependency graph); Plan; Apply
    /// (the plan to confirm, then its progress); Mapping (searchable);
    /// Verify; a run's rollback state (what `ferry rollback` would do, and
    /// temporaries still recorded). The Plan, Apply and Verify buttons do
    /// what the commands do, with this ferry.toml, state directory and the
    /// same AWS credential chain; an apply shows its plan and waits for
    /// confirmation, holding the state lock meanwhile.
    ///
    /// Every request needs the token: a random one (256 bits) is made at each
    /// start unless --token or FERRY_TOKEN gives one. The URL printed at start
    /// carries it (?token=...); the page then keeps it in a cookie. Scripts
    /// may send `Authorization: Bearer <token>`. Without it: 401.
    ///
    /// Binds 127.0.0.1 unless --bind says otherwise; stop it with Ctrl-C (an
    /// apply it is running is then interrupted, and the next apply resumes it).
    Serve {
        /// TCP port; 0 picks a free one (the printed URL says which).
        #[arg(long, value_name = "N", default_value_t = 7464)]
        port: u16,
        /// Address to listen on. Anything but loopback exposes the dashboard
        /// (token-protected, plain HTTP) to the network.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
        /// The access token (at least 16 of A-Z a-z 0-9 - _ . ~); default: a new random one.
        #[arg(long, value_name = "T", env = "FERRY_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
}
