//! `ferry serve`: checks the configuration and the token, binds the
//! dashboard's socket (a taken port is an input error, exit 2), prints the
//! URL with the token, and serves until Ctrl-C.

use crate::cli::Cli;
use ferry_core::config::Config;
use ferry_engine::EngineError;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};

pub async fn run(
    cli: &Cli,
    bind: IpAddr,
    port: u16,
    token: Option<String>,
) -> Result<u8, EngineError> {
    // The dashboard re-reads ferry.toml for every plan, apply and verify;
    // a broken one is refused now rather than at the first button.
    Config::load(&cli.config)?;
    let token = match token {
        Some(t) => {
            ferry_web::auth::check_format(&t).map_err(EngineError::Input)?;
            t
        }
        None => ferry_web::auth::generate(),
    };
    let listener = ferry_web::bind(SocketAddr::new(bind, port))
        .await
        .map_err(|e| EngineError::Input(e.to_string()))?;
    let addr = listener
        .local_addr()
        .map_err(|e| EngineError::Input(format!("cannot read the dashboard's address: {e}")))?;
    let host = match addr {
        SocketAddr::V6(a) => format!("[{}]", a.ip()),
        SocketAddr::V4(a) => a.ip().to_string(),
    };
    if !bind.is_loopback() {
        eprintln!(
            "warning: the dashboard listens on {addr}, reachable from the network over plain HTTP; only the token protects it"
        );
    }
    println!(
        "ferry dashboard: http://{host}:{}/?token={token}",
        addr.port()
    );
    println!(
        "state {}, config {}; stop with Ctrl-C",
        cli.state_dir.display(),
        cli.config.display()
    );
    std::io::stdout().flush().ok();
    let opts = ferry_web::Options {
        config: cli.config.clone(),
        state_dir: cli.state_dir.clone(),
    };
    tokio::select! {
        r = ferry_web::serve(listener, opts, token) => {
            r.map_err(|e| EngineError::Input(e.to_string()))?;
        }
        _ = tokio::signal::ctrl_c() => eprintln!("stopping the dashboard"),
    }
    Ok(0)
}
