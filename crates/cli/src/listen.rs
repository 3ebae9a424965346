//! The HTTP listener of `govledger serve` (SPEC 4, Limits): hyper's HTTP/1
//! connections with a time limit on reading a request's headers (hyper's
//! `header_read_timeout`, which also closes a connection that sends nothing,
//! and an idle keep-alive one), a time limit on each wait for the next piece
//! of a request body (tower-http's `RequestBodyTimeoutLayer`), and a limit on
//! open connections (a semaphore; a connection beyond it is closed at once).
//! A connection holds its permit for as long as its socket lives, upgraded
//! WebSockets included.
//!
//! Graceful shutdown: when `stop` turns true the listener stops accepting,
//! every connection finishes the request in flight and closes, and
//! [`serve_http`] returns once every connection is closed (the caller bounds
//! the wait with the grace period).

use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::Result;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tower::ServiceBuilder;
use tower_http::timeout::RequestBodyTimeoutLayer;

/// The listener's limits (the `serve` flags `--header-timeout-ms`,
/// `--body-timeout-ms`, `--max-connections`).
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// A request's headers must arrive within this time of the connection
    /// being ready for them (after it opens, or after the previous response).
    pub header_timeout: Duration,
    /// At most this long between two pieces of a request body.
    pub body_timeout: Duration,
    /// Open connections at most.
    pub max_connections: u32,
}

/// Serves `app` on `listener` until `stop` turns true, then drains (see the module docs).
pub async fn serve_http(
    listener: TcpListener,
    app: axum::Router,
    limits: ConnectionLimits,
    mut stop: watch::Receiver<bool>,
) -> Result<()> {
    let max = limits.max_connections.max(1);
    let connections = Arc::new(Semaphore::new(max as usize));
    let service = ServiceBuilder::new().layer(RequestBodyTimeoutLayer::new(limits.body_timeout)).service(app);
    let mut http1 = hyper::server::conn::http1::Builder::new();
    http1.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    loop {
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: the listener itself is fine; let connections close.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_millis(100)) => continue,
                        _ = stopped(&mut stop) => break,
                    }
                }
            },
            _ = stopped(&mut stop) => break,
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            tracing::debug!(max_connections = max, "connection limit reached; closing a new connection");
            drop(stream);
            continue;
        };
        let io = TokioIo::new(Counted { stream, _permit: permit });
        let conn = http1.serve_connection(io, TowerToHyperService::new(service.clone())).with_upgrades();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let mut conn = pin!(conn);
            tokio::select! {
                served = conn.as_mut() => if let Err(e) = served {
                    tracing::debug!(error = %e, "connection ended with an error");
                },
                _ = stopped(&mut stop) => {
                    conn.as_mut().graceful_shutdown();
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection ended with an error during shutdown");
                    }
                }
            }
        });
    }
    drop(listener);
    // Every connection returns its permit when its socket closes.
    let _all = connections.acquire_many(max).await;
    Ok(())
}

/// Resolves when `stop` turns true (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// A connection's socket with its place under the connection limit.
struct Counted {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
}

impl AsyncRead for Counted {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
