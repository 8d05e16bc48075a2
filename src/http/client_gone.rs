//! Knowing that the client has gone. actix-web keeps running a handler whose client has
//! disconnected, so long work (a realm import hashing thousands of passwords) races
//! `ClientGone::wait` and is dropped, with everything it queued, when the client leaves.
//!
//! Each connection keeps a duplicate of its socket (`remember_socket`, run by the server on
//! every new connection); `wait` peeks at it now and then without reading: end of stream or
//! an error means the client closed the connection.

use std::any::Any;
use std::net::TcpStream;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Extensions, Payload};
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::{ready, Ready};

/// How often a waiting request looks at its connection.
const CHECK_EVERY: Duration = Duration::from_millis(200);

/// A connection's own copy of its socket, for peeking.
#[derive(Clone)]
struct PeerSocket(Arc<OwnedFd>);

/// Keeps a duplicate of a new connection's socket in its extensions (`HttpServer::on_connect`).
pub fn remember_socket(connection: &dyn Any, extensions: &mut Extensions) {
    type TlsStream = actix_tls::accept::rustls_0_23::TlsStream<actix_web::rt::net::TcpStream>;
    let stream = match connection.downcast_ref::<actix_web::rt::net::TcpStream>() {
        Some(plain) => plain,
        None => match connection.downcast_ref::<TlsStream>() {
            Some(tls) => tls.get_ref().0,
            None => return,
        },
    };
    if let Ok(copy) = stream.as_fd().try_clone_to_owned() {
        extensions.insert(PeerSocket(Arc::new(copy)));
    }
}

/// The connection a request arrived on, to wait for its client to go away.
pub struct ClientGone(Option<PeerSocket>);

impl FromRequest for ClientGone {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(ClientGone(req.conn_data::<PeerSocket>().cloned())))
    }
}

impl ClientGone {
    /// Resolves once the client has closed the connection (never, when it cannot be known).
    pub async fn wait(&self) {
        let Some(stream) = self
            .0
            .as_ref()
            .and_then(|socket| socket.0.try_clone().ok())
            .map(TcpStream::from)
        else {
            return std::future::pending().await;
        };
        let mut interval = tokio::time::interval(CHECK_EVERY);
        loop {
            interval.tick().await;
            if closed(&stream) {
                return;
            }
        }
    }
}

/// Whether the peer closed the (non-blocking) socket: a peek finds the end of the stream or an
/// error; data waiting, or nothing yet, means it is still there.
fn closed(stream: &TcpStream) -> bool {
    match stream.peek(&mut [0u8; 1]) {
        Ok(0) => true,
        Ok(_) => false,
        Err(err) => err.kind() != std::io::ErrorKind::WouldBlock,
    }
}
