//! A PostgreSQL cluster of a test's own, made and run by
//! scripts/postgres.sh in a temporary directory on a free port: a test may
//! stop and start it without disturbing the shared server other tests use.

use std::process::{Command, Output};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/postgres.sh");

/// A PostgreSQL cluster of the test's own, in a temporary directory;
/// stopped when dropped.
pub struct Cluster {
    /// The cluster's directory (ROLECALL_PG_DIR); removed after the stop.
    dir: tempfile::TempDir,
    port: u16,
    /// The URL scripts/postgres.sh printed.
    pub url: String,
}

impl Cluster {
    /// Creates and starts the cluster; `None` (after saying so) when the
    /// PostgreSQL server binaries are missing and CI is not set.
    pub fn start() -> Option<Cluster> {
        if !server_binaries_installed() {
            assert!(
                std::env::var_os("CI").is_none(),
                "this test needs the PostgreSQL server binaries \
                 (/usr/lib/postgresql/*/bin); scripts/postgres.sh installs them as root"
            );
            eprintln!(
                "skipped: no PostgreSQL server binaries in /usr/lib/postgresql/*/bin \
                 (install the postgresql package, or run scripts/postgres.sh once as root)"
            );
            return None;
        }
        // A free port: bound by the system, then released for PostgreSQL.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cluster = Cluster {
            dir: tempfile::tempdir().unwrap(),
            port,
            url: String::new(),
        };
        cluster.url = cluster.start_again();
        Some(cluster)
    }

    fn script(&self, action: &str) -> Output {
        let output = Command::new("bash")
            .args([SCRIPT, action])
            .env("ROLECALL_PG_DIR", self.dir.path())
            .env("ROLECALL_PG_PORT", self.port.to_string())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "scripts/postgres.sh {action}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// Starts the server (creating the cluster the first time); returns the
    /// URL once it accepts connections.
    pub fn start_again(&self) -> String {
        let output = self.script("start");
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    }

    /// Stops the server (`pg_ctl -m fast`: every connection is closed).
    pub fn stop(&self) {
        self.script("stop");
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .args([SCRIPT, "stop"])
            .env("ROLECALL_PG_DIR", self.dir.path())
            .env("ROLECALL_PG_PORT", self.port.to_string())
            .output();
    }
}

fn server_binaries_installed() -> bool {
    let Ok(versions) = std::fs::read_dir("/usr/lib/postgresql") else {
        return false;
    };
    versions.filter_map(Result::ok).any(|version| {
        let bin = version.path().join("bin");
        ["postgres", "initdb", "pg_ctl"]
            .iter()
            .all(|name| bin.join(name).is_file())
    })
}
