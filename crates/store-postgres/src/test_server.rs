//! A throwaway PostgreSQL for tests and benchmarks (feature `test-server`):
//! `initdb` into a temporary directory, `pg_ctl start` on 127.0.0.1 and a
//! free port, stopped (`-m immediate`, bounded) when dropped. Run as root
//! (CI), the server runs as the `postgres` user (`runuser`). A watchdog
//! shell stops it too if the test process dies without dropping it.
//!
//! Without PostgreSQL's binaries (Debian: `apt-get install postgresql`)
//! [`PgServer::start`] fails with a message saying so; callers use
//! [`PgServer::start_or_skip`], which fails the test unless
//! `GOVLEDGER_SKIP_POSTGRES=1` is set, and then says that it skipped.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The superuser's password of every test server.
pub const PASSWORD: &str = "govledger-test";

/// One running PostgreSQL server.
pub struct PgServer {
    bin: PathBuf,
    data: PathBuf,
    pub port: u16,
    // Kept last: removed after the server stopped.
    _dir: tempfile::TempDir,
}

/// The directory of PostgreSQL's server binaries (the newest version).
pub fn bin_dir() -> Result<PathBuf, String> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| missing())?
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.file_name().to_str()?.parse::<u32>().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or_else(missing)
}

fn missing() -> String {
    "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): run `apt-get install -y postgresql` \
     (.ci/run does), or set GOVLEDGER_SKIP_POSTGRES=1 to skip the PostgreSQL tests"
        .into()
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// Runs a PostgreSQL binary as the `postgres` user when we are root (the
/// server refuses to run as root).
fn run(bin: &Path, program: &str, args: &[&str]) -> Result<Output, String> {
    let exe = bin.join(program);
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(&exe);
        c
    } else {
        Command::new(&exe)
    };
    let out = cmd.args(args).output().map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{program} {} failed: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(out)
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

impl PgServer {
    /// A fresh cluster (password authentication over TCP), started.
    pub fn start() -> Result<Self, String> {
        Self::start_with(&[])
    }

    /// A fresh cluster with extra `postgresql.conf` lines, started.
    pub fn start_with(settings: &[&str]) -> Result<Self, String> {
        let bin = bin_dir()?;
        let dir = tempfile::Builder::new().prefix("govledger-pg-").tempdir().map_err(|e| e.to_string())?;
        give_to_postgres(dir.path())?;
        let data = dir.path().join("data");
        let pwfile = dir.path().join("pw");
        std::fs::write(&pwfile, PASSWORD).map_err(|e| e.to_string())?;
        give_to_postgres(&pwfile)?;
        let (data_s, pw_s) = (data.display().to_string(), format!("--pwfile={}", pwfile.display()));
        run(
            &bin,
            "initdb",
            &["-D", &data_s, "-U", "postgres", &pw_s, "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"],
        )?;
        let port = free_port()?;
        let server = PgServer { bin, data, port, _dir: dir };
        let mut conf = vec![
            "listen_addresses = '127.0.0.1'".to_owned(),
            format!("port = {port}"),
            format!("unix_socket_directories = '{}'", server.socket_dir().display()),
            "max_connections = 200".to_owned(),
            "fsync = on".to_owned(),
        ];
        conf.extend(settings.iter().map(|s| (*s).to_owned()));
        server.append_conf(&conf)?;
        server.start_again()?;
        Ok(server)
    }

    /// [`PgServer::start`], or `None` (after saying so) when
    /// `GOVLEDGER_SKIP_POSTGRES=1`; panics with the reason otherwise.
    pub fn start_or_skip(what: &str) -> Option<Self> {
        if std::env::var("GOVLEDGER_SKIP_POSTGRES").is_ok_and(|v| v == "1") {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "SKIPPED: GOVLEDGER_SKIP_POSTGRES=1; {what} did not run");
            return None;
        }
        match Self::start() {
            Ok(server) => Some(server),
            Err(e) => panic!("cannot start a PostgreSQL test server for {what}: {e}"),
        }
    }

    /// A cluster copied from a running primary with `pg_basebackup`, set up
    /// as its streaming standby named `name`, started.
    pub fn standby_of(primary: &PgServer, name: &str) -> Result<Self, String> {
        let dir = tempfile::Builder::new().prefix("govledger-pg-standby-").tempdir().map_err(|e| e.to_string())?;
        give_to_postgres(dir.path())?;
        let data = dir.path().join("data");
        let conninfo =
            format!("host=127.0.0.1 port={} user=postgres password={PASSWORD} application_name={name}", primary.port);
        run(
            &primary.bin,
            "pg_basebackup",
            &["-d", &conninfo, "-D", &data.display().to_string(), "-R", "-X", "stream", "--no-sync"],
        )?;
        let port = free_port()?;
        let server = PgServer { bin: primary.bin.clone(), data, port, _dir: dir };
        server.append_conf(&[
            format!("port = {port}"),
            format!("unix_socket_directories = '{}'", server.socket_dir().display()),
            format!("primary_conninfo = '{conninfo}'"),
        ])?;
        server.start_again()?;
        Ok(server)
    }

    fn socket_dir(&self) -> PathBuf {
        self.data.parent().unwrap_or(&self.data).to_path_buf()
    }

    fn append_conf(&self, lines: &[String]) -> Result<(), String> {
        use std::io::Write;
        let path = self.data.join("postgresql.conf");
        let mut file = std::fs::OpenOptions::new().append(true).open(&path).map_err(|e| e.to_string())?;
        for line in lines {
            writeln!(file, "{line}").map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Adds settings and reloads them.
    pub fn reconfigure(&self, lines: &[&str]) -> Result<(), String> {
        self.append_conf(&lines.iter().map(|l| (*l).to_owned()).collect::<Vec<_>>())?;
        run(&self.bin, "pg_ctl", &["-D", &self.data.display().to_string(), "reload"]).map(|_| ())
    }

    /// Starts the (stopped) server and waits, at most 60 s, until it accepts
    /// connections (`pg_ctl -w`). A watchdog stops it if this process dies.
    pub fn start_again(&self) -> Result<(), String> {
        let data = self.data.display().to_string();
        let log = self.data.parent().unwrap_or(&self.data).join("server.log").display().to_string();
        run(&self.bin, "pg_ctl", &["-D", &data, "-l", &log, "-w", "-t", "60", "start"])?;
        let watchdog = format!(
            "while [ -d /proc/{pid} ] && [ -f '{data}/postmaster.pid' ]; do sleep 1; done; \
             [ -d /proc/{pid} ] || '{bin}/pg_ctl' -D '{data}' -m immediate -t 10 stop",
            pid = std::process::id(),
            bin = self.bin.display()
        );
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", "sh", "-c", &watchdog]);
            c
        } else {
            let mut c = Command::new("sh");
            c.args(["-c", &watchdog]);
            c
        };
        cmd.stdin(std::process::Stdio::null()).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
        cmd.spawn().map_err(|e| format!("cannot start the watchdog: {e}"))?;
        Ok(())
    }

    /// Stops the server (`immediate`: like a crash, WAL replayed at start).
    pub fn stop(&self) -> Result<(), String> {
        run(&self.bin, "pg_ctl", &["-D", &self.data.display().to_string(), "-m", "immediate", "-t", "30", "stop"])
            .map(|_| ())
    }

    /// Kills the postmaster with SIGKILL (a crashed machine, as far as
    /// clients can tell); its backends end as they notice.
    pub fn kill_9(&self) -> Result<(), String> {
        let pid = std::fs::read_to_string(self.data.join("postmaster.pid")).map_err(|e| e.to_string())?;
        let pid = pid.lines().next().unwrap_or("").trim().to_owned();
        let out = Command::new("kill").args(["-9", &pid]).output().map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!("kill -9 {pid}: {}", String::from_utf8_lossy(&out.stderr)));
        }
        // Its backends: killed too, as a machine's crash would.
        let _ = Command::new("pkill").args(["-9", "-P", &pid]).output();
        Ok(())
    }

    /// Promotes a standby to primary and waits for it.
    pub fn promote(&self) -> Result<(), String> {
        run(&self.bin, "pg_ctl", &["-D", &self.data.display().to_string(), "-w", "-t", "60", "promote"]).map(|_| ())
    }

    /// Runs SQL with `psql` over the socket, returning its unaligned output.
    pub fn psql(&self, sql: &str) -> Result<String, String> {
        let port = self.port.to_string();
        let host = self.socket_dir().display().to_string();
        let out = run(
            &self.bin,
            "psql",
            &[
                "-h",
                &host,
                "-p",
                &port,
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-XAtq",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                sql,
            ],
        )?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// A store URL for this server (`schema` as given).
    pub fn url(&self, schema: &str) -> String {
        format!("postgres://postgres:{PASSWORD}@127.0.0.1:{}/postgres?schema={schema}", self.port)
    }
}

/// Makes `path` the `postgres` user's (when we are root).
fn give_to_postgres(path: &Path) -> Result<(), String> {
    if !is_root() {
        return Ok(());
    }
    let out = Command::new("chown").args(["postgres:postgres"]).arg(path).output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("chown postgres {}: {}", path.display(), String::from_utf8_lossy(&out.stderr)));
    }
    Ok(())
}

impl Drop for PgServer {
    fn drop(&mut self) {
        if self.data.join("postmaster.pid").exists()
            && let Err(e) = self.stop()
        {
            eprintln!("could not stop the PostgreSQL test server: {e}");
        }
    }
}
