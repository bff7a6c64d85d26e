//! `cargo flags unleash diff` against a scripted Unleash server on loopback: drift is
//! listed with exit code 1, agreement exits 0, an unreachable server or a refused
//! payload exits 2.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::Command;

use common::{BIN, TempDir};

const MANIFEST: &str = r#"
[flags.layout]
description = "Checkout layout"
owner = "shop"
kind = "ops"
variants = ["control", "red", "green", "blue"]
default = "control"

[flags.child]
description = "Depends on layout"
owner = "shop"
kind = "ops"
requires = ["parent"]

[flags.parent]
description = "A parent"
owner = "shop"
kind = "ops"

[flags.absent]
description = "Not on the server"
owner = "shop"
kind = "ops"
"#;

/// Serves `body` to every `GET /api/client/features` until the test ends; returns the
/// base URL.
fn serve(body: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut first = String::new();
            let _ = reader.read_line(&mut first);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
                    break;
                }
            }
            let response = if first.starts_with("GET /api/client/features") {
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
            } else {
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_owned()
            };
            let _ = stream.write_all(response.as_bytes());
        }
    });
    url
}

fn diff(dir: &TempDir, url: &str, extra: &[&str]) -> (i32, String, String) {
    std::fs::write(dir.path.join("flags.toml"), MANIFEST).unwrap();
    let out = Command::new(BIN)
        .current_dir(&dir.path)
        .args([
            "unleash",
            "diff",
            "--url",
            url,
            "--token",
            "default:development.t",
        ])
        .args(extra)
        .env_remove("UNLEASH_URL")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn drift_is_listed_and_fails_the_build() {
    let url = serve(
        r#"{"version":2,"features":[
        {"name":"layout","enabled":true,"variants":[{"name":"red","weight":500},{"name":"purple","weight":500}]},
        {"name":"child","enabled":true,"dependencies":[{"feature":"other"}]},
        {"name":"parent","enabled":true},
        {"name":"stray","enabled":true}]}"#,
    );
    let dir = TempDir::new("unleash-diff");
    let (code, stdout, stderr) = diff(&dir, &url, &[]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    for line in [
        "5 difference(s)",
        "`layout`: the server's variant `purple` is not one of the flag's variants",
        "`child`: Unleash makes it depend on `other` being enabled, which the manifest does not declare",
        "`child`: the manifest's `requires = [\"parent\"]` has no matching dependency in Unleash",
        "`absent`: no toggle on the server",
        "`stray`: a toggle no manifest flag is named after",
    ] {
        assert!(stdout.contains(line), "{line}\n{stdout}");
    }
    let (code, stdout, _) = diff(&dir, &url, &["--format", "json"]);
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["drift"].as_array().map(Vec::len), Some(5), "{stdout}");
}

#[test]
fn agreement_exits_zero() {
    let url = serve(
        r#"{"version":2,"features":[
        {"name":"layout","enabled":true,"variants":[{"name":"red","weight":1000}]},
        {"name":"child","enabled":true,"dependencies":[{"feature":"parent"}]},
        {"name":"parent","enabled":true},
        {"name":"absent","enabled":false}]}"#,
    );
    let dir = TempDir::new("unleash-agree");
    let (code, stdout, stderr) = diff(&dir, &url, &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("agree"), "{stdout}");
}

#[test]
fn a_refused_payload_or_no_server_is_an_error() {
    let url = serve(r#"{"version":2,"features":null}"#);
    let dir = TempDir::new("unleash-refused");
    let (code, _, stderr) = diff(&dir, &url, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("refused payload"), "{stderr}");

    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let (code, _, stderr) = diff(&dir, &dead, &["--timeout", "5"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.starts_with("error:"), "{stderr}");
}
