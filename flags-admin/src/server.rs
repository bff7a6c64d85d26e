//! The standalone server: HTTP/1.1 on `std::net`, one thread accepting and one thread
//! per connection (at most [`AdminBuilder::max_connections`](crate::AdminBuilder::max_connections),
//! more are answered 503), one request per connection, handed to [`Admin::handle`].
//! No async runtime is started or required.
//!
//! # Why not a server crate
//!
//! The admin port must not be held by a client that connects and then sends nothing,
//! or a byte at a time (slowloris): every request needs a deadline for arriving whole,
//! and every response a write timeout. `tiny_http` 0.12, the small, well-kept sync
//! server, has neither: it accepts and reads connections on its own threads with no
//! read or write timeout and no hook to set one (its `ServerConfig` holds the address
//! and TLS only), so one idle client pins one of its threads for ever. The sync
//! servers built on hyper bring hyper and an event loop for what is, here, a handful
//! of requests a second on loopback. So the loop is written here, on the parts that
//! matter being standard: `httparse` (hyper's parser) reads the request head with a
//! size limit, the `http` crate's types carry the request to the handler, and the
//! socket's own timeouts bound every read and write:
//!
//! - the whole request (head and body) must arrive within the timeout
//!   ([`AdminBuilder::timeout`](crate::AdminBuilder::timeout), 10 s by default), or
//!   the answer is 408; each read waits at most for what is left of it;
//! - the head is at most 16 KiB and 64 headers (431 beyond), the body at most the
//!   body limit (413, decided from `Content-Length` before reading it, or as soon as
//!   a chunked body passes it); a transfer encoding other than `chunked` is 501;
//! - each write of the response times out after the same timeout;
//! - reachable on loopback (bound to it, the default, or to every address), it answers
//!   only requests whose `Host` is an IP address, `localhost` or a name allowed with
//!   [`AdminBuilder::allow_host`](crate::AdminBuilder::allow_host) (403 otherwise), so
//!   that a web page cannot read `/flags.json` through a domain of its own pointed at
//!   127.0.0.1 (DNS rebinding).

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode, Version};

use crate::builder::ServerConfig;
use crate::error::AdminError;
use crate::error::ApiError;
use crate::handler::Admin;

/// The largest request head (request line and headers) read.
const MAX_HEAD: usize = 16 * 1024;
/// The most headers a request may have.
const MAX_HEADERS: usize = 64;
/// After answering without reading a whole body (413), how much of it is read and
/// dropped so that closing does not reset the connection before the client has read
/// the answer.
const DRAIN_LIMIT: usize = 256 * 1024;

/// A running standalone admin server; stops when [`AdminServer::stop`] is called or
/// when dropped. Built by [`AdminBuilder::start`](crate::AdminBuilder::start).
///
/// Stopping closes the listening socket and waits for the accept thread; a request
/// being served finishes on its own thread (bounded by the timeout).
#[derive(Debug)]
pub struct AdminServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl AdminServer {
    pub(crate) fn start(admin: Admin, config: ServerConfig) -> Result<AdminServer, AdminError> {
        let listener = TcpListener::bind(config.addr).map_err(|source| AdminError::Bind {
            addr: config.addr,
            source,
        })?;
        let addr = listener.local_addr().map_err(|source| AdminError::Bind {
            addr: config.addr,
            source,
        })?;
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("flags-admin".to_owned())
                .spawn(move || accept_loop(&listener, &admin, &config, &stop))
                .map_err(AdminError::Thread)?
        };
        tracing::info!(target: "flags::admin", %addr, "admin endpoint listening");
        Ok(AdminServer {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    /// The address the server listens on (with the port chosen when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the server: no connection is accepted after this returns.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        self.stop.store(true, Ordering::SeqCst);
        // The accept thread is blocked in `accept`: a connection of our own wakes it
        // to see the flag. If even that fails the thread is left to end with the
        // process rather than joined for ever.
        let wake = SocketAddr::new(wake_ip(self.addr.ip()), self.addr.port());
        if TcpStream::connect_timeout(&wake, Duration::from_secs(5)).is_ok() {
            let _ = thread.join();
        }
    }
}

impl Drop for AdminServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Where to connect to reach a listener bound to `ip`.
fn wake_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        other => other,
    }
}

/// Decrements the count of connections being served when the connection's thread ends.
struct Active(Arc<AtomicUsize>);

impl Drop for Active {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn accept_loop(listener: &TcpListener, admin: &Admin, config: &ServerConfig, stop: &AtomicBool) {
    let active = Arc::new(AtomicUsize::new(0));
    for conn in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let stream = match conn {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(target: "flags::admin", error = %e, "accept failed");
                // Out of file descriptors, say: back off a little rather than spin a
                // core on a failing accept (not synchronisation, a retry pace).
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        if active.load(Ordering::SeqCst) >= config.max_connections {
            let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
            let res = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the admin endpoint is serving its maximum number of connections; try again",
            )
            .into_response();
            let _ = write_response(&stream, &res);
            // Take in what the client sent before closing (briefly: this is the accept
            // thread), so that the close does not reset the connection under the 503.
            let _ = stream.shutdown(Shutdown::Write);
            let _ = stream.set_read_timeout(Some(Duration::from_millis(20)));
            let _ = (&stream).read(&mut [0u8; 4096]);
            continue;
        }
        active.fetch_add(1, Ordering::SeqCst);
        let guard = Active(active.clone());
        let admin = admin.clone();
        let (timeout, limit) = (config.timeout, config.body_limit);
        let hosts = config.hosts.clone();
        let spawned = std::thread::Builder::new()
            .name("flags-admin-conn".to_owned())
            .spawn(move || {
                let _guard = guard;
                serve(stream, &admin, timeout, limit, hosts.as_deref());
            });
        if let Err(e) = spawned {
            // The closure, and with it the guard and the stream, were dropped.
            tracing::warn!(target: "flags::admin", error = %e, "cannot start a connection thread");
        }
    }
}

/// Why a request could not be read.
enum ReadError {
    /// The client went away or the socket failed: nothing to answer.
    Gone,
    /// Answer this and close.
    Answer(ApiError),
}

fn answer(status: StatusCode, message: impl Into<String>) -> ReadError {
    ReadError::Answer(ApiError::new(status, message))
}

/// `hosts`: when the listener is reachable on loopback (bound to it, or to every
/// address), the names besides IP addresses and `localhost` that requests may carry
/// in their `Host` header; `None` when any is accepted.
fn serve(
    stream: TcpStream,
    admin: &Admin,
    timeout: Duration,
    limit: usize,
    hosts: Option<&[String]>,
) {
    let _ = stream.set_nodelay(true);
    if stream.set_write_timeout(Some(timeout)).is_err() {
        return;
    }
    let deadline = Instant::now() + timeout;
    let mut reader = Deadline {
        stream: &stream,
        deadline,
        timeout,
    };
    let res = match read_request(&mut reader, limit) {
        Ok(req) if hosts.is_some_and(|names| !allowed_host(&req, names)) => ApiError::new(
            StatusCode::FORBIDDEN,
            "this admin endpoint is reachable on loopback and answers only requests addressed \
             to an IP address, localhost or a name allowed with AdminBuilder::allow_host \
             (the Host header)",
        )
        .into_response(),
        Ok(req) => admin.handle(req),
        Err(ReadError::Gone) => return,
        Err(ReadError::Answer(e)) => e.into_response(),
    };
    if write_response(&stream, &res).is_err() {
        return;
    }
    let _ = stream.shutdown(Shutdown::Write);
    // Read what the client may still send (an unread body), so that closing does not
    // reset the connection before it read the answer; bounded in bytes and time.
    let mut sink = [0u8; 4096];
    let mut drained = 0;
    reader.deadline = Instant::now() + Duration::from_secs(1).min(timeout);
    while drained < DRAIN_LIMIT {
        match reader.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n,
        }
    }
}

/// Whether `req` names this machine in its `Host` header: an IP address or
/// `localhost`. A server on loopback refuses other names: a web page can point a
/// domain of its own at 127.0.0.1 (DNS rebinding) and read what that domain "serves",
/// but its requests then carry that domain, never an IP address, as their host.
fn allowed_host(req: &Request<Vec<u8>>, names: &[String]) -> bool {
    let Some(host) = req.headers().get(http::header::HOST) else {
        // HTTP/1.0 clients may send none; only browsers matter here, and they do.
        return true;
    };
    let Ok(host) = host.to_str() else {
        return false;
    };
    let name = match host.rsplit_once(':') {
        // `[::1]:8080` and `127.0.0.1:8080`; a bare `::1` has no brackets to strip.
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !name.ends_with(':') => {
            name
        }
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost")
        || name.to_ascii_lowercase().ends_with(".localhost")
        || name.parse::<IpAddr>().is_ok()
        || names.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// Reads from a socket with an overall deadline: each read waits at most for what is
/// left of it.
struct Deadline<'a> {
    stream: &'a TcpStream,
    deadline: Instant,
    timeout: Duration,
}

impl Deadline<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ReadError> {
        loop {
            let left = self.deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(self.late());
            }
            if self.stream.set_read_timeout(Some(left)).is_err() {
                return Err(ReadError::Gone);
            }
            let mut stream = self.stream;
            match stream.read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(self.late());
                }
                Err(_) => return Err(ReadError::Gone),
            }
        }
    }

    fn late(&self) -> ReadError {
        answer(
            StatusCode::REQUEST_TIMEOUT,
            format!("the request did not arrive whole within {:?}", self.timeout),
        )
    }
}

/// The request head, owned.
struct Head {
    method: Method,
    path: String,
    version: Version,
    headers: Vec<(HeaderName, HeaderValue)>,
    len: usize,
}

fn parse_head(buf: &[u8]) -> Result<Option<Head>, ReadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let len = match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(answer(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                format!("more than {MAX_HEADERS} headers"),
            ));
        }
        Err(e) => {
            return Err(answer(
                StatusCode::BAD_REQUEST,
                format!("malformed HTTP request: {e}"),
            ));
        }
    };
    let bad = |what: &str| {
        answer(
            StatusCode::BAD_REQUEST,
            format!("malformed HTTP request: {what}"),
        )
    };
    let method = Method::from_bytes(req.method.unwrap_or("").as_bytes())
        .map_err(|_| bad("invalid method"))?;
    let path = req.path.unwrap_or("/").to_owned();
    let version = match req.version {
        Some(0) => Version::HTTP_10,
        _ => Version::HTTP_11,
    };
    let headers = req
        .headers
        .iter()
        .map(|h| {
            Ok((
                HeaderName::from_bytes(h.name.as_bytes())
                    .map_err(|_| bad("invalid header name"))?,
                HeaderValue::from_bytes(h.value).map_err(|_| bad("invalid header value"))?,
            ))
        })
        .collect::<Result<Vec<_>, ReadError>>()?;
    Ok(Some(Head {
        method,
        path,
        version,
        headers,
        len,
    }))
}

fn read_request(reader: &mut Deadline<'_>, limit: usize) -> Result<Request<Vec<u8>>, ReadError> {
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    let head = loop {
        if let Some(head) = parse_head(&buf)? {
            break head;
        }
        if buf.len() >= MAX_HEAD {
            return Err(answer(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                format!("the request head is over {MAX_HEAD} bytes"),
            ));
        }
        let n = reader.read(&mut chunk)?;
        if n == 0 {
            return Err(if buf.is_empty() {
                ReadError::Gone
            } else {
                answer(StatusCode::BAD_REQUEST, "the request ended inside its head")
            });
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    fn header<'h>(
        head: &'h Head,
        name: &'static str,
    ) -> impl Iterator<Item = &'h (HeaderName, HeaderValue)> {
        head.headers.iter().filter(move |(n, _)| n == name)
    }
    let mut chunked = false;
    for (_, v) in header(&head, "transfer-encoding") {
        if v.as_bytes().eq_ignore_ascii_case(b"chunked") && !chunked {
            chunked = true;
        } else {
            return Err(answer(
                StatusCode::NOT_IMPLEMENTED,
                "only `Transfer-Encoding: chunked` is accepted",
            ));
        }
    }
    let mut length: Option<usize> = None;
    for (_, v) in header(&head, "content-length") {
        let n = v
            .to_str()
            .ok()
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<usize>().ok());
        match (n, length) {
            (None, _) => return Err(answer(StatusCode::BAD_REQUEST, "invalid Content-Length")),
            (Some(n), Some(m)) if n != m => {
                return Err(answer(
                    StatusCode::BAD_REQUEST,
                    "conflicting Content-Length headers",
                ));
            }
            (Some(n), _) => length = Some(n),
        }
    }
    if chunked && length.is_some() {
        return Err(answer(
            StatusCode::BAD_REQUEST,
            "both Content-Length and Transfer-Encoding: the body's length is ambiguous",
        ));
    }
    let length = length.unwrap_or(0);
    if length > limit {
        return Err(ReadError::Answer(ApiError::too_large(limit)));
    }
    let expects_continue =
        header(&head, "expect").any(|(_, v)| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let mut input = Input {
        buf: buf[head.len..].to_vec(),
        reader,
    };
    if expects_continue && (chunked || input.buf.len() < length) {
        let mut stream = input.reader.stream;
        if stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").is_err() {
            return Err(ReadError::Gone);
        }
    }
    let body = if chunked {
        read_chunked(&mut input, limit)?
    } else {
        input.take(length)?
    };
    let mut req = Request::new(body);
    *req.method_mut() = head.method;
    *req.version_mut() = head.version;
    *req.uri_mut() = head
        .path
        .parse()
        .map_err(|_| answer(StatusCode::BAD_REQUEST, "malformed request target"))?;
    let map = req.headers_mut();
    for (name, value) in head.headers {
        map.append(name, value);
    }
    Ok(req)
}

/// The bytes after the request head: those already read, then the socket.
struct Input<'r, 's> {
    buf: Vec<u8>,
    reader: &'r mut Deadline<'s>,
}

/// The longest chunk-size or trailer line read.
const MAX_LINE: usize = 4096;

impl Input<'_, '_> {
    fn fill(&mut self) -> Result<(), ReadError> {
        let mut chunk = [0u8; 4096];
        let n = self.reader.read(&mut chunk)?;
        if n == 0 {
            return Err(answer(
                StatusCode::BAD_REQUEST,
                "the request ended inside its body",
            ));
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    /// The next `n` bytes.
    fn take(&mut self, n: usize) -> Result<Vec<u8>, ReadError> {
        while self.buf.len() < n {
            self.fill()?;
        }
        let rest = self.buf.split_off(n);
        Ok(std::mem::replace(&mut self.buf, rest))
    }

    /// The next line, without its CRLF.
    fn line(&mut self) -> Result<Vec<u8>, ReadError> {
        loop {
            if let Some(at) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let mut line = self.take(at + 2)?;
                line.truncate(at);
                return Ok(line);
            }
            if self.buf.len() > MAX_LINE {
                return Err(answer(
                    StatusCode::BAD_REQUEST,
                    "a chunk-size line is too long",
                ));
            }
            self.fill()?;
        }
    }
}

/// A chunked body, at most `limit` bytes once decoded (413 beyond).
fn read_chunked(input: &mut Input<'_, '_>, limit: usize) -> Result<Vec<u8>, ReadError> {
    let bad = || answer(StatusCode::BAD_REQUEST, "malformed chunked body");
    let mut body = Vec::new();
    loop {
        let line = input.line()?;
        let size = line.split(|b| *b == b';').next().unwrap_or_default();
        let size = std::str::from_utf8(size)
            .ok()
            .and_then(|s| usize::from_str_radix(s.trim(), 16).ok())
            .ok_or_else(bad)?;
        if size == 0 {
            // Trailers, up to the blank line that ends the body.
            while !input.line()?.is_empty() {}
            return Ok(body);
        }
        if body.len().saturating_add(size) > limit {
            return Err(ReadError::Answer(ApiError::too_large(limit)));
        }
        body.extend_from_slice(&input.take(size)?);
        if input.take(2)? != b"\r\n" {
            return Err(bad());
        }
    }
}

fn write_response(mut stream: &TcpStream, res: &Response<Vec<u8>>) -> io::Result<()> {
    let status = res.status();
    let mut out = Vec::with_capacity(256 + res.body().len());
    out.extend_from_slice(
        format!(
            "HTTP/1.1 {} {}\r\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        )
        .as_bytes(),
    );
    for (name, value) in res.headers() {
        if name == http::header::CONTENT_LENGTH || name == http::header::CONNECTION {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(
        format!(
            "content-length: {}\r\nconnection: close\r\n\r\n",
            res.body().len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(res.body());
    stream.write_all(&out)?;
    stream.flush()
}
