//! The `ferry` command: parses arguments, loads the configuration and state,
//! calls the engine, prints results and maps errors to the documented exit
//! codes (0 ok, 1 finding, 2 bad input/config, 3 AWS failure).

mod bootstrap;
mod cli;
mod progress;
mod serve;
mod warnings;

use clap::Parser;
use cli::{Cli, Command, Output};
use ferry_core::config::Config;
use ferry_engine::{notify, planning, rollback, run, Context, EngineError};
use ferry_state::{RunState, State};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

type Result<T> = std::result::Result<T, EngineError>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    warnings::install();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match rt.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

async fn run(cli: Cli) -> Result<u8> {
    match &cli.command {
        Command::Init { force } => init(&cli, *force),
        Command::Bootstrap { out, apply } => bootstrap::run(&cli, out.output, *apply).await,
        Command::Runs { out } => runs(&cli, out.output),
        Command::Mapping { out } => mapping(&cli, out.output),
        Command::Serve { port, bind, token } => serve::run(&cli, *bind, *port, token.clone()).await,
        _ => with_context(cli).await,
    }
}

fn init(cli: &Cli, force: bool) -> Result<u8> {
    if cli.config.exists() && !force {
        return Err(EngineError::Input(format!(
            "{} already exists; pass --force to overwrite it",
            cli.config.display()
        )));
    }
    std::fs::write(&cli.config, ferry_core::config::skeleton())
        .map_err(|e| EngineError::Input(format!("cannot write {}: {e}", cli.config.display())))?;
    println!(
        "wrote {}: set [source] and [destination], then run `ferry plan`",
        cli.config.display()
    );
    Ok(0)
}

fn json<T: serde::Serialize>(v: &T) {
    println!("{}", serde_json::to_string_pretty(v).expect("json"));
}

fn runs(cli: &Cli, output: Output) -> Result<u8> {
    let state = State::open_existing(&cli.state_dir)?;
    // Nobody holds the lock: a run still marked running died with its process.
    if let Ok(_lock) = state.lock("runs") {
        state.mark_interrupted()?;
    }
    let runs = state.runs()?;
    if output == Output::Json {
        let list: Vec<_> = runs
            .iter()
            .map(|r| serde_json::json!({"id": r.id, "state": r.state, "started_at": r.started_at, "ended_at": r.ended_at, "summary": r.summary}))
            .collect();
        json(&list);
        return Ok(0);
    }
    if runs.is_empty() {
        println!("no runs yet");
        return Ok(0);
    }
    println!(
        "{:<5} {:<16} {:<22} {:<22} SUMMARY",
        "RUN", "STATE", "STARTED", "ENDED"
    );
    for r in runs {
        let s = &r.summary;
        let summary = if s.is_null() {
            String::new()
        } else {
            format!(
                "{} created, {} adopted, {} failed",
                s["created"].as_u64().unwrap_or(0),
                s["adopted"].as_u64().unwrap_or(0),
                s["failed"].as_u64().unwrap_or(0)
            )
        };
        println!(
            "{:<5} {:<16} {:<22} {:<22} {summary}",
            r.id,
            r.state.to_string(),
            r.started_at,
            r.ended_at.unwrap_or_default()
        );
    }
    Ok(0)
}

fn mapping(cli: &Cli, output: Output) -> Result<u8> {
    let state = State::open_existing(&cli.state_dir)?;
    let all = state.map_all()?;
    if output == Output::Json {
        json(&all);
        return Ok(0);
    }
    println!(
        "{:<18} {:<32} {:<26} {:<8} RUN",
        "KIND", "SOURCE", "DESTINATION", "ORIGIN"
    );
    for m in all {
        let source = m
            .source_key
            .split_once('/')
            .map(|(_, id)| id)
            .unwrap_or(&m.source_key);
        println!(
            "{:<18} {:<32} {:<26} {:<8} {}",
            m.kind, source, m.dest_id, m.origin, m.run_id
        );
    }
    Ok(0)
}

async fn with_context(cli: Cli) -> Result<u8> {
    let config = Config::load(&cli.config)?;
    let read_only = matches!(
        cli.command,
        Command::Verify { .. } | Command::Rollback { .. }
    );
    if read_only {
        // Fail before any AWS call when there is nothing to read.
        State::open_existing(&cli.state_dir)?;
    }
    let kinds = ferry_core::kind::select(&config.scope.include, &config.scope.exclude);
    let printer = progress::Printer::spawn(cli.progress, &kinds);
    warnings::route(printer.warner());
    let notifier = notify::Notifier::spawn(&config.notify, printer.warner());
    let sinks = std::iter::once(printer.sink()).chain(notifier.as_ref().map(|n| n.sink()));
    let (events, fan_out) = ferry_engine::event::fan_out(sinks.collect());
    let cx = Context::connect(config, &cli.state_dir, read_only, Some(events)).await?;
    if let Some(n) = &notifier {
        n.attach(&cx.source, &cx.dest);
    }
    let cx = Arc::new(cx);
    let code = match &cli.command {
        Command::Discover { out } => discover(&cx, out.output).await,
        Command::Plan {
            out,
            strict,
            output,
        } => plan(&cx, out.as_deref(), *strict, output.output).await,
        Command::Apply {
            yes,
            plan,
            concurrency,
            skip_conflicts,
        } => {
            apply(
                cx.clone(),
                *yes,
                plan.as_deref(),
                concurrency.map(usize::from),
                *skip_conflicts,
            )
            .await
        }
        Command::Verify { out } => verify(&cx, out.output).await,
        Command::Rollback { run, yes } => rollback(&cx, *run, *yes).await,
        _ => unreachable!("handled without AWS"),
    };
    drop(cx);
    let _ = fan_out.await;
    printer.finish().await;
    if let Some(n) = notifier {
        n.finish(notify::FLUSH_WITHIN).await;
    }
    code
}

async fn discover(cx: &Context, output: Output) -> Result<u8> {
    let (s, d) = ferry_engine::discover::both(cx).await?;
    progress::settle().await;
    if output == Output::Json {
        json(&serde_json::json!({"source": s, "destination": d}));
        return Ok(0);
    }
    for snap in [&s, &d] {
        println!(
            "{} / {}: {} resources",
            snap.side.account,
            snap.side.region,
            snap.resources.len()
        );
        for k in &snap.kinds {
            println!("  {:<18} {}", k.to_string(), snap.of_kind(*k).count());
        }
    }
    Ok(0)
}

async fn plan(
    cx: &Context,
    out: Option<&std::path::Path>,
    strict: bool,
    output: Output,
) -> Result<u8> {
    // Refused before discovery, which can take minutes.
    if let Some(path) = out {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        if let Some(dir) = dir.filter(|d| !d.is_dir()) {
            let why = if dir.exists() {
                "is not a directory"
            } else {
                "does not exist"
            };
            return Err(EngineError::Input(format!(
                "cannot write the plan to {}: {} {why}",
                path.display(),
                dir.display()
            )));
        }
    }
    let p = planning::make(cx).await?;
    progress::settle().await;
    if let Some(r) = cx.state.runs()?.into_iter().last() {
        if matches!(
            r.state,
            RunState::Running | RunState::Interrupted | RunState::Failed
        ) {
            eprintln!(
                "note: run {} did not finish ({}); `ferry apply` resumes it with its own plan, `ferry apply --plan FILE` starts a new run",
                r.id, r.state
            );
        }
    }
    if let Some(path) = out {
        write_atomic(path, &serde_json::to_string_pretty(&p).expect("plan json"))?;
    }
    if output == Output::Json {
        json(&p);
    } else {
        print!("{}", ferry_core::render::plan(&p));
        if let Some(path) = out {
            println!(
                "plan written to {}; run it with `ferry apply --plan {}`",
                path.display(),
                path.display()
            );
        }
    }
    Ok(if strict && p.conflicts().next().is_some() {
        1
    } else {
        0
    })
}

/// Writes via a temporary file and rename, so a reader never sees half a plan.
fn write_atomic(path: &std::path::Path, text: &str) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| EngineError::Input(format!("cannot write {}: {e}", path.display())))
}

fn confirm(question: &str, yes: bool, what: &str) -> Result<bool> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(EngineError::Input(format!(
            "refusing to {what} without confirmation: stdin is not a terminal; pass --yes to {what} non-interactively"
        )));
    }
    print!("{question} [y/N] ");
    std::io::stdout().flush().ok();
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).ok();
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

async fn apply(
    cx: Arc<Context>,
    yes: bool,
    plan_file: Option<&std::path::Path>,
    concurrency: Option<usize>,
    skip_conflicts: bool,
) -> Result<u8> {
    let _lock = cx.state.lock("apply")?;
    let request = run::ApplyRequest {
        plan_file: plan_file.map(|p| p.to_path_buf()),
        skip_conflicts,
    };
    let prepared = run::prepare(&cx, &request).await?;
    progress::settle().await;
    if let Some((id, why)) = prepared.resume {
        eprintln!("resuming run {id} (it {why}); its plan:");
    }
    print!("{}", ferry_core::render::plan(&prepared.plan));
    if prepared.plan.conflicts().next().is_some() {
        return Err(run::conflicts_error());
    }
    if prepared.is_noop() {
        println!("Nothing to do: the destination is up to date.");
        return Ok(0);
    }
    if !confirm(
        &format!(
            "Apply {} change(s) to {}/{}?",
            prepared.work, prepared.plan.destination.account, prepared.plan.destination.region
        ),
        yes,
        "apply",
    )? {
        println!("Nothing applied.");
        return Ok(0);
    }
    let (run_id, summary) = run::execute(cx.clone(), prepared, concurrency).await?;
    progress::settle().await;
    println!(
        "Run {run_id} succeeded: {} created, {} adopted, {} reconciled, {} change(s), {} AWS calls ({} writes). Check it with `ferry verify`.",
        summary.created,
        summary.adopted,
        summary.converged,
        summary.changes,
        summary.api_calls.0 + summary.api_calls.1,
        summary.api_calls.1
    );
    Ok(0)
}

async fn verify(cx: &Context, output: Output) -> Result<u8> {
    let report = ferry_engine::verify::run(cx).await?;
    progress::settle().await;
    if output == Output::Json {
        json(
            &serde_json::json!({"equivalent": report.is_equivalent(), "counts": report.counts(), "report": report}),
        );
    } else {
        print!("{}", ferry_core::render::verify(&report));
    }
    Ok(if report.is_equivalent() { 0 } else { 1 })
}

async fn rollback(cx: &Context, run: Option<i64>, yes: bool) -> Result<u8> {
    let _lock = cx.state.lock("rollback")?;
    cx.state.mark_interrupted()?;
    let run = match run {
        Some(id) => {
            cx.state.run(id)?.ok_or_else(|| {
                EngineError::Input(format!("there is no run {id}; `ferry runs` lists them"))
            })?;
            id
        }
        None => rollback::default_run(cx)?,
    };
    let steps = rollback::preview(cx, run).await?;
    println!(
        "Rollback of run {run}: {} step(s), newest first",
        steps.len()
    );
    for s in &steps {
        println!("  {s}");
    }
    if !confirm(&format!("Roll back run {run}?"), yes, "roll back")? {
        println!("Nothing rolled back.");
        return Ok(0);
    }
    let s = rollback::run(cx, run).await?;
    progress::settle().await;
    if !s.failed.is_empty() {
        return Err(EngineError::Failed(format!(
            "rollback of run {run} left {} step(s) undone:\n  {}\nrun `ferry rollback {run}` again once the cause is fixed",
            s.failed.len(),
            s.failed.join("\n  ")
        )));
    }
    println!(
        "Run {run} rolled back: {} deleted, {} restored.",
        s.deleted, s.restored
    );
    Ok(0)
}
