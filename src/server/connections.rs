//! Accepting connections, each with timeouts, and only so many at once: a client that sends its
//! headers a byte at a time, dribbles a body, or opens connections and leaves them idle cannot
//! hold the server's sockets or memory (axum::serve has no timeouts and no cap).

use super::protocol_errors::JsonProtocolErrors;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;
use tower_http::timeout::RequestBodyTimeoutLayer;

/// How long clients may take, and how many may be connected (flags or environment, see `cli`).
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// A request's headers must arrive within this; a keep-alive connection idle for this long
    /// is closed too (the wait for the next request's headers is the same timer).
    pub header_timeout: Duration,
    /// A request's body must arrive within this.
    pub body_timeout: Duration,
    /// Connections served at once; further ones wait in the listen queue until one closes.
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            max_connections: 1024,
        }
    }
}

/// How long in-flight requests get to finish after the shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Serves `app` on `listener` until `shutdown` completes, then lets in-flight requests finish.
pub async fn serve(listener: TcpListener, app: Router, limits: ConnectionLimits, shutdown: impl Future<Output = ()>) {
    let app = app.layer(RequestBodyTimeoutLayer::new(limits.body_timeout));
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    // Each connection holds a receiver; the sender tells them to finish.
    let (stop_tx, stop_rx) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!("cannot accept a connection: {err}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // The dashboard's pages stream in chunks: without TCP_NODELAY, Nagle's algorithm and
        // delayed ACKs hold a small last chunk back for ~40 ms.
        let _ = tcp.set_nodelay(true);
        let service = app.clone().map_request(move |mut request: axum::http::Request<Incoming>| {
            // The peer's address reaches the handlers (the throttles count failures per client).
            request.extensions_mut().insert(ConnectInfo(peer));
            request.map(Body::new)
        });
        let mut stop = stop_rx.clone();
        let header_timeout = limits.header_timeout;
        tokio::spawn(async move {
            // HTTP/1 only: HTTP/2 is for the proxy in front to speak with browsers (and a server
            // sniffing for it would wait on a silent connection with no timeout running).
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                // Above `security::MAX_HEADERS`: past ours, the refusal is the API's JSON error,
                // not hyper's empty 431.
                .max_headers(4 * super::security::MAX_HEADERS)
                .serve_connection(JsonProtocolErrors::new(TokioIo::new(tcp)), TowerToHyperService::new(service))
                .with_upgrades();
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = stop.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop(slot);
        });
    }
    drop(listener);
    let _ = stop_tx.send(());
    drop(stop_rx);
    // Every connection task holds a receiver: the channel closes when the last one ends.
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, stop_tx.closed()).await;
}
