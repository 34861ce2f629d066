//! The benchmark ceiling (`make bench`): the least an axum server on this machine can do.
//!
//! It answers every request with the same bytes from memory (the real list-assigned response,
//! captured once by `bench/bench.py`), on the same runtime and HTTP stack as the service, so the
//! service's figures can be read as a share of what the machine and the load generator allow.
//!
//!     cargo build --release --example ceiling --features ssr
//!     target/release/examples/ceiling BODY_FILE 127.0.0.1:PORT

use axum::body::Bytes;
use axum::http::header;
use axum::Router;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let body_file = args.next().expect("usage: ceiling BODY_FILE [ADDR]");
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:0".to_string());
    let body = Bytes::from(std::fs::read(&body_file).unwrap_or_else(|e| panic!("cannot read {body_file}: {e}")));
    let app = Router::new().fallback(move || {
        let body = body.clone();
        async move { ([(header::CONTENT_TYPE, "application/json")], body) }
    });
    let listener =
        tokio::net::TcpListener::bind(&addr).await.unwrap_or_else(|e| panic!("cannot listen on {addr}: {e}"));
    println!("ceiling serving on http://{}", listener.local_addr().expect("a bound address"));
    axum::serve(listener, app).await.expect("serve");
}
