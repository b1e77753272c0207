//! Starting moto's server (the AWS emulator the tests use) as a plain process on 127.0.0.1.
//!
//! `.ci/run` installs `moto[server]` into `.venv`; `ENVSCHED_MOTO_SERVER` may name another
//! `moto_server` binary. Each [`MotoServer`] is its own process on a free port, so tests run
//! in parallel without sharing state; dropping it stops the process.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running moto server.
#[derive(Debug)]
pub struct MotoServer {
    child: Child,
    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL` / `endpoint_url`.
    pub url: String,
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where `moto_server` is: `ENVSCHED_MOTO_SERVER`, else the workspace's `.venv`.
pub fn moto_server_path() -> PathBuf {
    std::env::var_os("ENVSCHED_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/moto_server"))
}

impl MotoServer {
    /// Starts a server and waits (up to 30 s) until it listens.
    pub fn start() -> std::io::Result<MotoServer> {
        let bin = moto_server_path();
        if !bin.exists() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!(
                    "moto_server not found at {}: run .ci/run (it installs moto[server] into .venv) or set ENVSCHED_MOTO_SERVER",
                    bin.display()
                ),
            ));
        }
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let server = MotoServer { child, url: format!("http://127.0.0.1:{port}") };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("moto_server did not listen on {port} within 30 s"),
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(server)
    }
}
