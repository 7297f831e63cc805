//! Temporary folders, process supervision, ports, the built-in store and the router.
//! Knows nothing of lessons.
//!
//! The sandbox is a hygiene boundary, not a security boundary: it keeps a check's processes,
//! files and ports from leaking, but it does not contain deliberately malicious code.

pub mod commit;
pub mod fair;
pub mod http;
pub mod keeper;
pub mod kv;
pub mod output;
pub mod process;
pub mod router;
pub mod sockets;
pub mod store;

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The Python interpreter every check uses, resolved once per run.
#[derive(Debug, Clone)]
pub struct Python {
    /// The real interpreter (never a version-manager shim).
    pub path: PathBuf,
    pub version: (u32, u32, u32),
}

/// Why Python cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PythonError {
    #[error("python3 was not found on PATH; install Python 3.8 or newer")]
    Missing,
    #[error("python3 is {0}.{1}; the lessons need Python 3.8 or newer")]
    TooOld(u32, u32),
    #[error("python3 could not be started: {0}")]
    Broken(String),
}

static PYTHON: OnceLock<Result<Python, PythonError>> = OnceLock::new();

impl Python {
    /// Find `python3` on PATH (or `TWELVE_PYTHON`) and ask it for its real path and version.
    pub fn get() -> Result<&'static Python, PythonError> {
        PYTHON
            .get_or_init(|| {
                let exe = std::env::var("TWELVE_PYTHON").unwrap_or_else(|_| "python3".into());
                let out = std::process::Command::new(&exe)
                    .args([
                        "-c",
                        "import sys; print(sys.executable); print('%d.%d.%d' % sys.version_info[:3])",
                    ])
                    .output()
                    .map_err(|e| match e.kind() {
                        io::ErrorKind::NotFound => PythonError::Missing,
                        _ => PythonError::Broken(e.to_string()),
                    })?;
                if !out.status.success() {
                    return Err(PythonError::Broken(
                        String::from_utf8_lossy(&out.stderr).trim().to_string(),
                    ));
                }
                let text = String::from_utf8_lossy(&out.stdout);
                let mut lines = text.lines();
                let path = PathBuf::from(lines.next().unwrap_or_default());
                let v: Vec<u32> = lines
                    .next()
                    .unwrap_or_default()
                    .split('.')
                    .filter_map(|p| p.parse().ok())
                    .collect();
                let version = (
                    v.first().copied().unwrap_or(0),
                    v.get(1).copied().unwrap_or(0),
                    v.get(2).copied().unwrap_or(0),
                );
                if version < (3, 8, 0) {
                    return Err(PythonError::TooOld(version.0, version.1));
                }
                Ok(Python { path, version })
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// Ports handed out by this process, so two parallel checks never get the same one.
static HANDED_OUT: LazyLock<Mutex<BTreeSet<u16>>> = LazyLock::new(Mutex::default);

/// A free TCP port on 127.0.0.1, not handed out before by this process.
///
/// Picked at random below the kernel's ephemeral range: a port the kernel hands out for
/// `bind(0)` or for an outgoing connection (this machine's HTTP clients, other tests, a
/// browser) never lands there, so between this check and the service's own `bind` nothing
/// else takes it in passing. Falls back to a kernel-chosen port when none is found.
pub fn free_port() -> io::Result<u16> {
    let below = ephemeral_low().clamp(FIRST_PICKED + 1000, u16::MAX);
    let mut seen = HANDED_OUT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for _ in 0..200 {
        let port = fastrand::u16(FIRST_PICKED..below);
        if !seen.contains(&port) && bindable_strictly(port) {
            seen.insert(port);
            return Ok(port);
        }
    }
    for _ in 0..50 {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
            .local_addr()?
            .port();
        if seen.insert(port) {
            return Ok(port);
        }
    }
    Err(io::Error::other("no free port found"))
}

/// Whether `port` can be bound without `SO_REUSEADDR`: nothing listens there and no
/// connection of an earlier user lingers in TIME_WAIT (a service that binds plainly would
/// fail there, as the kernel's own `bind(0)` knows to avoid).
fn bindable_strictly(port: u16) -> bool {
    #[cfg(unix)]
    {
        use nix::sys::socket::{AddressFamily, SockFlag, SockType, SockaddrIn, bind, socket};
        let Ok(fd) = socket(
            AddressFamily::Inet,
            SockType::Stream,
            SockFlag::SOCK_CLOEXEC,
            None,
        ) else {
            return false;
        };
        let [a, b, c, d] = Ipv4Addr::LOCALHOST.octets();
        bind(
            std::os::fd::AsRawFd::as_raw_fd(&fd),
            &SockaddrIn::new(a, b, c, d, port),
        )
        .is_ok()
    }
    #[cfg(not(unix))]
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}

/// The lowest port [`free_port`] picks (well above the services people run by hand).
const FIRST_PICKED: u16 = 20000;

/// The first port of the kernel's ephemeral range (Linux reads it; macOS and the BSDs use
/// the IANA range, 49152 and up).
fn ephemeral_low() -> u16 {
    #[cfg(target_os = "linux")]
    if let Some(low) = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse().ok())
    {
        return low;
    }
    49152
}

/// A port on 127.0.0.1 kept unused for as long as this lives: a socket bound to it that never
/// listens, so a connection is refused and no other program, in this process or another, can
/// bind it meanwhile (a "store where nothing listens" stays that way).
#[derive(Debug)]
pub struct HeldPort {
    pub port: u16,
    _socket: std::os::fd::OwnedFd,
}

/// Hold a free port: see [`HeldPort`].
#[cfg(unix)]
pub fn hold_port() -> io::Result<HeldPort> {
    use nix::sys::socket::{
        AddressFamily, SockFlag, SockType, SockaddrIn, bind, getsockname, socket,
    };
    let fd = socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    bind(
        std::os::fd::AsRawFd::as_raw_fd(&fd),
        &SockaddrIn::new(127, 0, 0, 1, 0),
    )?;
    let addr: SockaddrIn = getsockname(std::os::fd::AsRawFd::as_raw_fd(&fd))?;
    Ok(HeldPort {
        port: addr.port(),
        _socket: fd,
    })
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
pub fn port_open(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok()
}

/// A fresh temporary folder for one check:
///
/// ```text
/// <root>/app/   the copy of the learner's files (processes start here)
/// <root>/bin/   python and python3, linked to the one real interpreter
/// <root>/home/  HOME
/// <root>/site/  packages an `install` step put there
/// ```
///
/// Dropping it removes everything, read-only folders included.
#[must_use = "dropping the sandbox removes its folder"]
#[derive(Debug)]
pub struct Sandbox {
    dir: Option<tempfile::TempDir>,
    pub root: PathBuf,
    pub app: PathBuf,
    pub bin: PathBuf,
    pub home: PathBuf,
    pub site: PathBuf,
    /// `bin/` for isolated processes: the interpreter only, without site-packages.
    pub isolated_bin: PathBuf,
}

/// Folders of live sandboxes, removed by [`cleanup_all`] on exit paths without destructors.
static LIVE_DIRS: LazyLock<Mutex<BTreeSet<PathBuf>>> = LazyLock::new(Mutex::default);

fn live_dirs() -> std::sync::MutexGuard<'static, BTreeSet<PathBuf>> {
    LIVE_DIRS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Kill every process and remove every sandbox folder this program still holds.
pub fn cleanup_all() {
    process::kill_all();
    for dir in std::mem::take(&mut *live_dirs()) {
        make_writable(&dir);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// The prefix of every sandbox folder's name (tests look for leftovers by it).
pub const SANDBOX_PREFIX: &str = "twelve-check-";
/// The prefix of `lessons verify`'s folders.
pub const VERIFY_PREFIX: &str = "twelve-verify-";
/// In every sandbox folder: who made it (see [`keeper::sweep`]).
pub const OWNER_FILE: &str = ".owner";

/// A temporary folder named `prefix…`, announced to the keeper and stamped with its owner.
pub fn owned_tempdir(prefix: &str) -> io::Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new().prefix(prefix).tempdir()?;
    std::fs::write(dir.path().join(OWNER_FILE), keeper::owner_stamp())?;
    keeper::folder(dir.path(), true);
    Ok(dir)
}

/// Kill what still runs in an abandoned folder and remove it.
pub(crate) fn remove_abandoned(dir: &Path) {
    kill_strays(dir);
    make_writable(dir);
    let _ = std::fs::remove_dir_all(dir);
}

impl Sandbox {
    /// Create the folder tree and link the interpreter.
    pub fn new(python: &Python) -> io::Result<Sandbox> {
        let dir = owned_tempdir(SANDBOX_PREFIX)?;
        // Canonical, so paths in messages match what processes see (macOS /var -> /private/var).
        let root = dir.path().canonicalize()?;
        live_dirs().insert(root.clone());
        let sb = Sandbox {
            app: root.join("app"),
            bin: root.join("bin"),
            home: root.join("home"),
            site: root.join("site"),
            isolated_bin: root.join("isolated-bin"),
            root,
            dir: Some(dir),
        };
        for d in [&sb.app, &sb.bin, &sb.home, &sb.site, &sb.isolated_bin] {
            std::fs::create_dir_all(d)?;
        }
        for name in ["python", "python3"] {
            std::os::unix::fs::symlink(&python.path, sb.bin.join(name))?;
            // Isolated: no site-packages (-S), no user site (-s); PYTHONPATH still applies.
            let wrapper = format!("#!/bin/sh\nexec '{}' -s -S \"$@\"\n", python.path.display());
            let p = sb.isolated_bin.join(name);
            std::fs::write(&p, wrapper)?;
            set_mode(&p, 0o755)?;
        }
        Ok(sb)
    }

    /// The environment every process starts from: a minimal PATH, HOME and LANG.
    pub fn base_env(&self, isolated: bool) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        let path = if isolated {
            self.isolated_bin.display().to_string()
        } else {
            format!("{}:/usr/local/bin:/usr/bin:/bin", self.bin.display())
        };
        env.insert("PATH".into(), path);
        env.insert("HOME".into(), self.home.display().to_string());
        env.insert("LANG".into(), "C.UTF-8".into());
        if isolated {
            env.insert("PYTHONPATH".into(), self.site.display().to_string());
        }
        env
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        kill_strays(&self.root);
        make_writable(&self.root);
        if let Some(dir) = self.dir.take() {
            keeper::folder(dir.path(), false);
            let _ = dir.close();
        }
        live_dirs().remove(&self.root);
    }
}

/// Kill processes still working inside `root` (Linux): a process that left its group with
/// `setsid` escapes the group kill, but it still runs in the sandbox's folder.
fn kill_strays(root: &Path) {
    #[cfg(target_os = "linux")]
    {
        use nix::sys::signal::{Signal, kill};
        use nix::sys::wait::{WaitPidFlag, waitpid};
        use nix::unistd::Pid;
        let me = std::process::id();
        let Ok(procs) = std::fs::read_dir("/proc") else {
            return;
        };
        for p in procs.flatten() {
            let Some(pid) = p.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            if pid == me {
                continue;
            }
            let inside =
                std::fs::read_link(p.path().join("cwd")).is_ok_and(|cwd| cwd.starts_with(root));
            if inside {
                let pid = Pid::from_raw(pid as i32);
                let _ = kill(pid, Signal::SIGKILL);
                // It was reparented to us (the subreaper) when its parent died: reap it.
                let deadline = Instant::now() + Duration::from_millis(500);
                while Instant::now() < deadline {
                    match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
                        Ok(nix::sys::wait::WaitStatus::StillAlive) => {
                            std::thread::sleep(Duration::from_millis(2));
                        }
                        _ => break,
                    }
                }
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = root;
}

fn set_mode(p: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
}

/// Give the owner write access to everything under `dir` (so it can be removed).
fn make_writable(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::symlink_metadata(dir) else {
        return;
    };
    if meta.file_type().is_symlink() {
        return;
    }
    let mode = meta.permissions().mode();
    if mode & 0o200 == 0 {
        let _ = set_mode(dir, mode | 0o200);
    }
    if meta.is_dir() {
        if let Ok(rd) = std::fs::read_dir(dir) {
            for e in rd.flatten() {
                make_writable(&e.path());
            }
        }
    }
}

/// Remove write access recursively (the `read_only` step).
pub fn make_read_only(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::symlink_metadata(path)?;
    if meta.file_type().is_symlink() {
        return Ok(());
    }
    if meta.is_dir() {
        for e in std::fs::read_dir(path)? {
            make_read_only(&e?.path())?;
        }
    }
    let mode = meta.permissions().mode();
    set_mode(path, mode & !0o222)
}

/// Copy `files` under `dir`, creating folders.
pub fn write_files<'a>(
    dir: &Path,
    files: impl IntoIterator<Item = (&'a String, &'a Vec<u8>)>,
) -> io::Result<()> {
    for (rel, bytes) in files {
        let p = dir.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&p, bytes)?;
    }
    Ok(())
}

/// Copy a folder tree (files and folders; symlinks are copied as the files they point to),
/// leaving out `__pycache__` and a repository's `.git`.
pub fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let name = e.file_name();
        if name == "__pycache__" || name == ".git" {
            continue;
        }
        let src = e.path();
        let dst = to.join(&name);
        if std::fs::metadata(&src)?.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

/// Poll `cond` every few milliseconds until it holds, `deadline` passes, or `stop()` says so.
pub fn wait_until(
    deadline: Instant,
    stop: &dyn Fn() -> bool,
    mut cond: impl FnMut() -> bool,
) -> bool {
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline || stop() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_held_port_refuses_connections_and_cannot_be_bound() {
        let held = hold_port().unwrap();
        assert!(!port_open(held.port), "nothing accepts on a held port");
        // std sets SO_REUSEADDR before binding, as Python's servers do.
        assert!(TcpListener::bind((Ipv4Addr::LOCALHOST, held.port)).is_err());
        let port = held.port;
        drop(held);
        assert!(TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok());
    }

    #[test]
    fn free_ports_come_from_below_the_ephemeral_range_and_are_never_repeated() {
        let below = ephemeral_low().clamp(FIRST_PICKED + 1000, u16::MAX);
        let mut got = BTreeSet::new();
        for _ in 0..100 {
            let port = free_port().unwrap();
            assert!(
                (FIRST_PICKED..below).contains(&port),
                "{port} outside {FIRST_PICKED}..{below}"
            );
            assert!(got.insert(port), "{port} handed out twice");
            assert!(TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok());
        }
    }
}
