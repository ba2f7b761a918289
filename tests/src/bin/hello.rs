//! `hello [ADDR]`: the peer of the sign-in benchmark (`tests/bench/auth.sh`) — a bare axum
//! server with one `GET /` handler answering "hello", nothing else: no middleware, no state, no
//! database. It runs on the same tokio runtime as `kongjian serve` (multi-thread, default
//! worker count, everything enabled), so that the two differ only in what a request does.
//!
//! Listens on ADDR (default `127.0.0.1:8081`; port 0 picks a free one) and prints
//! `listening on ADDR` to standard output once it accepts connections.

use std::process::ExitCode;

use axum::Router;
use axum::routing::get;
use tokio::net::TcpListener;

async fn hello() -> &'static str {
    "hello"
}

async fn serve(addr: String) -> std::io::Result<()> {
    let listener = TcpListener::bind(&addr).await?;
    println!("listening on {}", listener.local_addr()?);
    let app = Router::new().route("/", get(hello));
    axum::serve(listener, app).await
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let addr = match (args.next(), args.next()) {
        (Some(a), None) if a == "-h" || a == "--help" => {
            println!("usage: hello [ADDR (default 127.0.0.1:8081)]");
            return ExitCode::SUCCESS;
        }
        (Some(a), None) => a,
        (None, _) => "127.0.0.1:8081".to_owned(),
        (Some(_), Some(_)) => {
            eprintln!("usage: hello [ADDR (default 127.0.0.1:8081)]");
            return ExitCode::from(2);
        }
    };
    // The same runtime `kongjian` builds in its main().
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("hello: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(addr)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("hello: {err}");
            ExitCode::FAILURE
        }
    }
}
