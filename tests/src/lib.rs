//! Helpers for the end-to-end tests: start the real `kongjian` binary as a process, find the
//! address it listens on, and stop it the way an operator or an orchestrator does.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub use kongjian::testing::{Backend, TestDatabase};

/// The `kongjian` binary under test: `KONGJIAN_BIN`, or the one cargo built beside this test
/// (`target/<profile>/kongjian`). `cargo test --workspace` builds it for the server's own tests.
pub fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("KONGJIAN_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test executable lives in target/<profile>/deps");
    let binary = profile_dir.join(format!("kongjian{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.exists(),
        "{} does not exist: run the tests with `cargo test --workspace` (which builds it) or set KONGJIAN_BIN",
        binary.display()
    );
    binary
}

/// A `kongjian` command with a clean environment: no `KONGJIAN_*` settings leak in from the
/// developer's shell, and it runs in `dir`.
pub fn command(dir: &Path) -> Command {
    let mut command = Command::new(binary());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("KONGJIAN_")
            || key.to_string_lossy().starts_with("AWS_")
        {
            command.env_remove(key);
        }
    }
    command
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// A running server process and the base URL it announced.
pub struct ServerProcess {
    child: Child,
    pub base_url: String,
    log: mpsc::Receiver<String>,
}

impl ServerProcess {
    /// Start `command` and wait (up to 30 s) for its "listening on http://…" log line.
    // The child is either returned inside `ServerProcess` (whose `Drop` kills and waits) or
    // killed before the panic; clippy cannot follow it into the struct.
    #[allow(clippy::zombie_processes)]
    pub fn start(mut command: Command) -> ServerProcess {
        let mut child = command.spawn().expect("start kongjian");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (sender, log) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            match log.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    if let Some(base_url) = listening_address(&line) {
                        return ServerProcess {
                            child,
                            base_url,
                            log,
                        };
                    }
                    seen.push(line);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Ok(Some(status)) = child.try_wait() {
                        panic!(
                            "kongjian exited with {status} before listening:\n{}",
                            seen.join("\n")
                        );
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = child.wait().expect("wait");
                    panic!(
                        "kongjian exited with {status} before listening:\n{}",
                        seen.join("\n")
                    );
                }
            }
        }
        let _ = child.kill();
        panic!(
            "kongjian did not start listening within 30 s:\n{}",
            seen.join("\n")
        );
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Send SIGTERM and wait (up to `within`) for the process to exit; returns its status and
    /// everything it logged after start-up.
    pub fn terminate(mut self, within: Duration) -> (ExitStatus, Vec<String>) {
        // The shell's built-in kill: present wherever sh is, unlike /usr/bin/kill.
        let status = Command::new("sh")
            .args(["-c", &format!("kill -TERM {}", self.child.id())])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                let log = self.log.try_iter().collect();
                return (status, log);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("kongjian did not exit within {within:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The URL in a "listening on http://ADDR" line, in text or JSON log format.
fn listening_address(line: &str) -> Option<String> {
    let start = line.find("listening on http://")? + "listening on ".len();
    let rest = &line[start..];
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '"')
        .unwrap_or(rest.len());
    Some(rest[..end].to_owned())
}

/// Run a command to completion (up to 60 s) and return its status, stdout and stderr.
pub fn run_to_end(mut command: Command) -> (ExitStatus, String, String) {
    let output = command.output().expect("run kongjian");
    (
        output.status,
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A real S3-compatible server on loopback: moto (`pip install 'moto[server]'`), started with
/// `python3 -m moto.server`. Killed when dropped.
pub struct S3Server {
    child: Child,
    pub endpoint: String,
}

impl S3Server {
    pub async fn start() -> S3Server {
        let port = free_port();
        let child = Command::new("python3")
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto: install it with `pip install 'moto[server]'`");
        let server = S3Server {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if client.get(&server.endpoint).send().await.is_ok() {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "moto did not start on {} within 30 s: is `moto[server]` installed for python3?",
            server.endpoint
        );
    }

    /// Create a bucket (moto does not check signatures, so a plain PUT does).
    pub async fn create_bucket(&self, bucket: &str) {
        let response = reqwest::Client::new()
            .put(format!("{}/{bucket}", self.endpoint))
            .send()
            .await
            .expect("create bucket");
        assert!(
            response.status().is_success(),
            "create bucket: {}",
            response.status()
        );
    }

    /// The keys stored in a bucket (from the ListObjectsV2 XML).
    pub async fn keys(&self, bucket: &str) -> Vec<String> {
        let xml = reqwest::Client::new()
            .get(format!("{}/{bucket}?list-type=2", self.endpoint))
            .send()
            .await
            .expect("list bucket")
            .text()
            .await
            .expect("list body");
        xml.split("<Key>")
            .skip(1)
            .filter_map(|part| part.split("</Key>").next())
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::listening_address;

    #[test]
    fn finds_the_address_in_text_and_json_logs() {
        let text = "2026-12-04T16:27:37Z  INFO kongjian: listening on http://127.0.0.1:18081 backend=\"sqlite\"";
        assert_eq!(
            listening_address(text).as_deref(),
            Some("http://127.0.0.1:18081")
        );
        let json = r#"{"level":"INFO","message":"listening on http://127.0.0.1:4000","backend":"postgres"}"#;
        assert_eq!(
            listening_address(json).as_deref(),
            Some("http://127.0.0.1:4000")
        );
    }
}
