//! A round-robin router over the instances of a process type, like a platform's HTTP router.
//!
//! It balances connections (each check request uses its own connection, so that is per
//! request), passes bytes through unchanged, skips an instance that refuses connections
//! (one that was killed and not restarted yet) and answers 502 when none accepts.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// A running router; dropping it stops it.
#[must_use = "dropping the router stops it"]
pub struct Router {
    port: u16,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

struct Shared {
    backends: Mutex<Vec<u16>>,
    next: AtomicUsize,
    stop: AtomicBool,
    /// Connections served per backend port, to show how load was spread.
    served: Mutex<Vec<(u16, usize)>>,
}

impl Router {
    /// Start on a free port over `backends` (ports on 127.0.0.1).
    pub fn start(backends: Vec<u16>) -> std::io::Result<Router> {
        Router::start_on(0, backends)
    }

    /// Start on `port` (0: a free one) over `backends`.
    pub fn start_on(port: u16, backends: Vec<u16>) -> std::io::Result<Router> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared {
            served: Mutex::new(backends.iter().map(|p| (*p, 0)).collect()),
            backends: Mutex::new(backends),
            next: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
        });
        let s = Arc::clone(&shared);
        let accept = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let s = Arc::clone(&s);
                std::thread::spawn(move || serve(&s, conn));
            }
        });
        Ok(Router {
            port,
            shared,
            accept: Some(accept),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Connections forwarded to each backend so far.
    pub fn served(&self) -> Vec<(u16, usize)> {
        self.shared
            .served
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

fn serve(s: &Shared, mut client: TcpStream) {
    let backends = s
        .backends
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let n = backends.len();
    let start = s.next.fetch_add(1, Ordering::SeqCst);
    let mut upstream = None;
    for i in 0..n {
        let port = backends[(start + i) % n];
        if let Ok(up) = TcpStream::connect_timeout(
            &(Ipv4Addr::LOCALHOST, port).into(),
            Duration::from_millis(500),
        ) {
            if let Some(e) = s
                .served
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .iter_mut()
                .find(|(p, _)| *p == port)
            {
                e.1 += 1;
            }
            upstream = Some(up);
            break;
        }
    }
    let Some(up) = upstream else {
        // Read the request first: closing with unread bytes would reset the connection
        // and the client would never see the answer.
        let _ = client.set_read_timeout(Some(Duration::from_millis(100)));
        let mut buf = [0u8; 16384];
        let _ = client.read(&mut buf);
        let body = "no instance accepted the connection\n";
        let _ = write!(
            client,
            "HTTP/1.1 502 Bad Gateway\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        return;
    };
    let (Ok(client2), Ok(up2)) = (client.try_clone(), up.try_clone()) else {
        return;
    };
    let t = std::thread::spawn(move || pipe(client2, up2));
    pipe(up, client);
    let _ = t.join();
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16384];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::http::{Request, send};

    fn backend(name: &'static str) -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for c in l.incoming() {
                let mut c = c.unwrap();
                let mut buf = [0u8; 4096];
                let _ = c.read(&mut buf);
                let _ = write!(
                    c,
                    "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{name}",
                    name.len()
                );
            }
        });
        port
    }

    fn get(port: u16) -> String {
        send(&Request {
            method: "GET".into(),
            port,
            path: "/".into(),
            headers: vec![],
            body: vec![],
            timeout: Duration::from_secs(2),
            servers: Vec::new(),
        })
        .map_or_else(|e| e.to_string(), |r| format!("{} {}", r.status, r.text()))
    }

    #[test]
    fn round_robin_skips_dead_backends_and_answers_502() {
        let a = backend("a");
        let b = backend("b");
        let dead = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let r = Router::start(vec![a, dead, b]).unwrap();
        let got: Vec<String> = (0..6).map(|_| get(r.port())).collect();
        // a, (dead) b, b, a, (dead) b, b
        assert_eq!(got.iter().filter(|g| *g == "200 a").count(), 2, "{got:?}");
        assert_eq!(got.iter().filter(|g| *g == "200 b").count(), 4, "{got:?}");
        assert_eq!(r.served().iter().map(|s| s.1).sum::<usize>(), 6);
        let none = Router::start(vec![dead]).unwrap();
        assert!(get(none.port()).starts_with("502"));
    }
}
