//! What the kernel knows about a process group's TCP sockets (Linux, through /proc; other
//! systems answer "unknown"). Used to explain failures ("it listens on 8081 instead") and to
//! know when a service has accepted a connection, rather than guessing with a pause.

use std::collections::BTreeSet;

/// One row of /proc/net/tcp{,6}.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TcpEntry {
    local_port: u16,
    remote_port: u16,
    listening: bool,
    inode: String,
}

fn port_of(addr: &str) -> Option<u16> {
    addr.rsplit_once(':')
        .and_then(|(_, p)| u16::from_str_radix(p, 16).ok())
}

fn parse_table(text: &str) -> Vec<TcpEntry> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            // sl local_address rem_address st ... inode (field 9); st 0A is LISTEN.
            (f.len() > 9).then(|| TcpEntry {
                local_port: port_of(f[1]).unwrap_or(0),
                remote_port: port_of(f[2]).unwrap_or(0),
                listening: f[3] == "0A",
                inode: f[9].to_string(),
            })
        })
        .collect()
}

fn tcp_table() -> Vec<TcpEntry> {
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|t| std::fs::read_to_string(t).ok())
        .flat_map(|text| parse_table(&text))
        .collect()
}

/// Inodes of the sockets open in any process of group `pgid`.
fn group_sockets(pgid: i32) -> BTreeSet<String> {
    let mut inodes = BTreeSet::new();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return inodes;
    };
    for p in procs.flatten() {
        let Some(pid) = p.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // Fields after the ")" of the command: state ppid pgrp ...
        let after = stat.rsplit_once(')').map_or("", |(_, a)| a);
        let pgrp: Option<i32> = after.split_whitespace().nth(2).and_then(|s| s.parse().ok());
        if pgrp != Some(pgid) {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(link) = std::fs::read_link(fd.path()) {
                let l = link.to_string_lossy();
                if let Some(n) = l.strip_prefix("socket:[").and_then(|r| r.strip_suffix(']')) {
                    inodes.insert(n.to_string());
                }
            }
        }
    }
    inodes
}

/// TCP ports the processes of group `pgid` listen on (empty where unknown).
pub fn listening_ports(pgid: i32) -> Vec<u16> {
    if !cfg!(target_os = "linux") {
        return Vec::new();
    }
    let mine = group_sockets(pgid);
    let ports: BTreeSet<u16> = tcp_table()
        .into_iter()
        .filter(|e| e.listening && mine.contains(&e.inode))
        .map(|e| e.local_port)
        .collect();
    ports.into_iter().collect()
}

/// Whether a process of group `pgid` listens on `port` (true where this cannot be known, so
/// readiness falls back to "something accepts").
pub fn owns_port(pgid: i32, port: u16) -> bool {
    !cfg!(target_os = "linux") || listening_ports(pgid).contains(&port)
}

/// Whether a process of group `pgid` has accepted the connection from `client_port` to
/// `server_port` (None where this cannot be known).
pub fn accepted(pgid: i32, server_port: u16, client_port: u16) -> Option<bool> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let mine = group_sockets(pgid);
    Some(tcp_table().iter().any(|e| {
        e.local_port == server_port && e.remote_port == client_port && mine.contains(&e.inode)
    }))
}

/// Whether the connection from `client_port` to `server_port` still waits in the server's
/// listen queue: the kernel holds it, but no process has accepted it (its server-side socket
/// has no inode yet). False where this cannot be known, and once accepted or gone.
pub fn queued(server_port: u16, client_port: u16) -> bool {
    if !cfg!(target_os = "linux") {
        return false;
    }
    let rows: Vec<TcpEntry> = tcp_table()
        .into_iter()
        .filter(|e| e.local_port == server_port && e.remote_port == client_port)
        .collect();
    !rows.is_empty() && rows.iter().all(|e| e.inode == "0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_read() {
        let text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1\n   1: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 12346 1\n";
        let rows = parse_table(text);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].local_port, 8080);
        assert!(rows[0].listening);
        assert_eq!(rows[1].remote_port, 0xD431);
        assert_eq!(rows[1].inode, "12346");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn an_accepted_connection_is_seen() {
        use std::net::{TcpListener, TcpStream};
        // This test process is the "group": use our own process group id.
        let pgid = nix::unistd::getpgrp().as_raw();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let server_port = listener.local_addr().unwrap().port();
        assert!(listening_ports(pgid).contains(&server_port));
        let client = TcpStream::connect(("127.0.0.1", server_port)).unwrap();
        let client_port = client.local_addr().unwrap().port();
        // Our process holds the client end too, but not yet a server-side socket.
        assert_eq!(accepted(pgid, server_port, client_port), Some(false));
        assert!(
            queued(server_port, client_port),
            "waits in the listen queue"
        );
        let (_conn, _) = listener.accept().unwrap();
        assert_eq!(accepted(pgid, server_port, client_port), Some(true));
        assert!(!queued(server_port, client_port), "taken off the queue");
    }
}
