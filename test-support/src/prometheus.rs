//! A real Prometheus on loopback for tests, scraping given targets every second, and
//! [`Exporter`]: a tiny HTTP server that serves a text a test sets as its `/metrics`,
//! to play an instance of a service (one that can restart, or leave).
//!
//! The binary comes from `TEST_PROMETHEUS` (scripts/test.sh installs Debian's
//! `prometheus` and sets it); without it a test skips, or fails under
//! `TEST_REQUIRE_SERVICES=1`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::{scratch::ScratchDir, service, wait};

/// The environment variable naming the Prometheus binary.
pub const VAR: &str = "TEST_PROMETHEUS";

/// A Prometheus server started for a test; killed when dropped.
pub struct Prometheus {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    addr: SocketAddr,
    targets: Vec<SocketAddr>,
    _dir: ScratchDir,
    binary: PathBuf,
    dir: PathBuf,
}

/// A free loopback port (bound, then released for the child to take).
fn free_port() -> std::io::Result<SocketAddr> {
    TcpListener::bind("127.0.0.1:0")?.local_addr()
}

/// A plain `GET path` to `addr`: the status and body, or `None` without an answer.
pub fn get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    Some((status, body))
}

impl Prometheus {
    /// Starts Prometheus scraping `targets` every second, and waits until it is ready;
    /// `None` (after saying so) when `TEST_PROMETHEUS` is unset and not required.
    pub fn start(targets: &[SocketAddr]) -> Option<Prometheus> {
        let binary = service::from_env(
            VAR,
            "Prometheus",
            "`apt-get install prometheus` and TEST_PROMETHEUS=/usr/bin/prometheus (scripts/test.sh does both)",
        )?;
        let dir = ScratchDir::new("prometheus");
        let path = dir.path().to_path_buf();
        let addr = free_port().unwrap_or_else(|e| panic!("no free port: {e}"));
        let mut p = Prometheus {
            child: None,
            url: format!("http://{addr}"),
            addr,
            targets: targets.to_vec(),
            _dir: dir,
            binary: PathBuf::from(binary),
            dir: path,
        };
        p.restart();
        Some(p)
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the server (an outage); [`restart`](Self::restart) brings it back with
    /// its data.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again (or for the first time) and waits until it is ready.
    pub fn restart(&mut self) {
        self.stop();
        let targets: Vec<String> = self.targets.iter().map(|t| format!("'{t}'")).collect();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n  - job_name: fleet\n    static_configs:\n      - targets: [{}]\n",
            targets.join(", ")
        );
        let config_path = self.dir.join("prometheus.yml");
        std::fs::write(&config_path, config)
            .unwrap_or_else(|e| panic!("{}: {e}", config_path.display()));
        let log = std::fs::File::create(self.dir.join("prometheus.log")).ok();
        let child = Command::new(&self.binary)
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                self.dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={}", self.addr))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log.map_or_else(Stdio::null, Stdio::from))
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", self.binary.display()));
        self.child = Some(child);
        let addr = self.addr;
        wait::wait_until("Prometheus ready", || {
            get(addr, "/-/ready").is_some_and(|(status, _)| status == 200)
        });
    }

    /// The log Prometheus wrote, for a failing test's message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("prometheus.log")).unwrap_or_default()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A fake instance: serves the text set with [`Exporter::set`] at every path, or 503
/// while [`Exporter::down`] (an instance gone); stops when dropped.
pub struct Exporter {
    addr: SocketAddr,
    body: Arc<Mutex<String>>,
    down: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

impl Exporter {
    /// Starts serving an empty text.
    pub fn start() -> Exporter {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("addr: {e}"));
        let body = Arc::new(Mutex::new(String::new()));
        let down = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (b, d, s) = (body.clone(), down.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let (status, text) = if d.load(Ordering::SeqCst) {
                    ("503 Service Unavailable", String::new())
                } else {
                    (
                        "200 OK",
                        b.lock().unwrap_or_else(PoisonError::into_inner).clone(),
                    )
                };
                let _ = write!(
                    conn,
                    "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                    text.len()
                );
            }
        });
        Exporter {
            addr,
            body,
            down,
            stop,
        }
    }

    /// Its address (a scrape target).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves `text` from now on.
    pub fn set(&self, text: String) {
        *self.body.lock().unwrap_or_else(PoisonError::into_inner) = text;
    }

    /// A handle that sets the text from another thread.
    pub fn handle(&self) -> ExporterHandle {
        ExporterHandle {
            body: self.body.clone(),
        }
    }

    /// Answers 503 (`true`) or the text again (`false`).
    pub fn down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }
}

/// Sets an [`Exporter`]'s text from another thread.
#[derive(Clone)]
pub struct ExporterHandle {
    body: Arc<Mutex<String>>,
}

impl ExporterHandle {
    /// Serves `text` from now on.
    pub fn set(&self, text: String) {
        *self.body.lock().unwrap_or_else(PoisonError::into_inner) = text;
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the stop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}
