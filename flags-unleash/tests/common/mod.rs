//! A scripted Unleash server on loopback (std only): it serves a payload with an ETag
//! (answering `304` to a matching `If-None-Match`), optionally chunked, can fail with a
//! status, and records every request for the test to inspect.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use flags_test_support::wait::{self, wait_until};

/// A request the mock received.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// When the mock began reading it.
    pub at: Instant,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// What the mock answers.
#[derive(Clone, Debug)]
pub struct Script {
    pub body: Vec<u8>,
    pub etag: String,
    pub chunked: bool,
    pub fail_with: Option<u16>,
}

pub struct Mock {
    pub url: String,
    addr: SocketAddr,
    script: Arc<Mutex<Script>>,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Mock {
    /// A mock serving `body` with ETag `etag`.
    pub fn start(body: &str, etag: &str) -> Mock {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let url = format!("http://{addr}");
        let script = Arc::new(Mutex::new(Script {
            body: body.as_bytes().to_vec(),
            etag: etag.to_owned(),
            chunked: false,
            fail_with: None,
        }));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (script, requests, stop) = (script.clone(), requests.clone(), stop.clone());
            std::thread::spawn(move || {
                // A blocking accept: dropping the mock sets `stop` and then connects
                // once to wake it.
                for stream in listener.incoming() {
                    if stop.load(Ordering::Acquire) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        serve(stream, &script, &requests);
                    }
                }
            })
        };
        Mock {
            url,
            addr,
            script,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    pub fn set(&self, body: &str, etag: &str) {
        let mut s = lock(&self.script);
        s.body = body.as_bytes().to_vec();
        s.etag = etag.to_owned();
    }

    pub fn set_bytes(&self, body: &[u8], etag: &str) {
        let mut s = lock(&self.script);
        s.body = body.to_vec();
        s.etag = etag.to_owned();
    }

    pub fn chunked(&self, on: bool) {
        lock(&self.script).chunked = on;
    }

    pub fn fail_with(&self, status: Option<u16>) {
        lock(&self.script).fail_with = status;
    }

    pub fn requests(&self) -> Vec<Request> {
        lock(&self.requests).clone()
    }

    pub fn requests_to(&self, path: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    /// Waits (with the shared generous deadline) until `pred` holds for the recorded
    /// requests; the timeout message lists them.
    pub fn wait_for(&self, what: &str, pred: impl Fn(&[Request]) -> bool) {
        let seen = || {
            self.requests()
                .iter()
                .map(|r| format!("{} {}", r.method, r.path))
                .collect::<Vec<_>>()
        };
        let what = format!("{what} (requests when the wait began: {:?})", seen());
        let took = wait_until(&what, || pred(&lock(&self.requests)));
        eprintln!("{what}: after {took:?}");
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Wakes the blocking accept; if the connection fails the thread is not
        // waiting in accept, and it sees `stop` at its next turn.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(5));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(stream: TcpStream, script: &Mutex<Script>, requests: &Mutex<Vec<Request>>) {
    let _ = stream.set_read_timeout(Some(wait::patience()));
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let at = Instant::now();
    let mut reader = BufReader::new(read_half);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() || line.is_empty() {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let length = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let request = Request {
        method,
        path,
        headers,
        body,
        at,
    };
    let script = lock(script).clone();
    let response = respond(&request, &script);
    lock(requests).push(request);
    let mut stream = stream;
    let _ = stream.write_all(&response);
    let _ = stream.flush();
}

fn respond(request: &Request, script: &Script) -> Vec<u8> {
    if let Some(status) = script.fail_with {
        return format!(
            "HTTP/1.1 {status} Failing\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .into_bytes();
    }
    match (request.method.as_str(), request.path.as_str()) {
        ("GET", "/api/client/features") => {
            if request.header("if-none-match") == Some(script.etag.as_str()) {
                return format!(
                    "HTTP/1.1 304 Not Modified\r\nETag: {}\r\nConnection: close\r\n\r\n",
                    script.etag
                )
                .into_bytes();
            }
            let mut out = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nETag: {}\r\nConnection: close\r\n",
                script.etag
            )
            .into_bytes();
            if script.chunked {
                out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                // Uneven chunks, to exercise the client's decoding.
                for chunk in script.body.chunks(7) {
                    out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                    out.extend_from_slice(chunk);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"0\r\n\r\n");
            } else {
                out.extend_from_slice(
                    format!("Content-Length: {}\r\n\r\n", script.body.len()).as_bytes(),
                );
                out.extend_from_slice(&script.body);
            }
            out
        }
        ("POST", "/api/client/register" | "/api/client/metrics") => {
            b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
        }
        _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
    }
}

/// A server on loopback that accepts connections, reads each request and answers it
/// with `body` only once the test releases it (one `release` per request): until
/// then it hangs, as a stuck proxy or an overloaded server does. Dropping the
/// releaser closes the held connections unanswered.
pub struct Held {
    pub url: String,
    release: Option<std::sync::mpsc::Sender<()>>,
}

impl Held {
    pub fn start(body: &str) -> Held {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let (release, released) = std::sync::mpsc::channel::<()>();
        let body = body.as_bytes().to_vec();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let Ok(read_half) = stream.try_clone() else {
                    continue;
                };
                let mut reader = BufReader::new(read_half);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
                        break;
                    }
                }
                // Held until released; a dropped releaser ends the server.
                if released.recv().is_err() {
                    return;
                }
                let mut out = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nETag: \"held\"\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                out.extend_from_slice(&body);
                let _ = stream.write_all(&out);
            }
        });
        Held {
            url: format!("http://{addr}"),
            release: Some(release),
        }
    }

    /// Lets the next held request be answered.
    pub fn release(&self) {
        if let Some(r) = &self.release {
            let _ = r.send(());
        }
    }
}

/// A loopback URL nothing listens on.
pub fn dead_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    drop(listener);
    format!("http://{addr}")
}

/// A fresh temporary folder for one test, removed when dropped.
pub fn temp_dir(test: &str) -> flags_test_support::scratch::ScratchDir {
    flags_test_support::scratch::ScratchDir::new(&format!("unleash-{test}"))
}

/// The sum of `key` (`yes`/`no`) for `toggle` over the usage metrics posted in
/// `requests`.
pub fn metrics_sum(requests: &[Request], toggle: &str, key: &str) -> u64 {
    requests
        .iter()
        .filter(|r| r.path == "/api/client/metrics")
        .filter_map(|r| r.json()["bucket"]["toggles"][toggle][key].as_u64())
        .sum()
}
