//! The input reader: a thread that turns terminal events into messages, and can be paused
//! while another program (the editor) owns the terminal.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crossterm::event::{self, Event};

use super::message::Message;

/// Shared between the reader thread and whoever pauses it.
#[derive(Debug, Default)]
struct Shared {
    paused: AtomicBool,
    stop: AtomicBool,
    /// Held by the reader while it polls, so a pause waits until it is out of `poll`.
    reading: Mutex<()>,
}

/// The running reader.
#[derive(Debug, Clone)]
pub struct Input {
    shared: Arc<Shared>,
}

/// While alive, the reader does not touch the terminal.
#[must_use = "the reader resumes when the guard is dropped"]
pub struct Pause {
    shared: Arc<Shared>,
}

impl Drop for Pause {
    fn drop(&mut self) {
        self.shared.paused.store(false, Ordering::SeqCst);
    }
}

impl Input {
    /// Start reading events into `tx`.
    pub fn spawn(tx: Sender<Message>) -> Input {
        let shared = Arc::new(Shared::default());
        let s = Arc::clone(&shared);
        std::thread::spawn(move || {
            while !s.stop.load(Ordering::SeqCst) {
                let guard = s.reading.lock().unwrap_or_else(PoisonError::into_inner);
                if s.paused.load(Ordering::SeqCst) {
                    drop(guard);
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
                let msg = match event::poll(Duration::from_millis(50)) {
                    Ok(true) => match event::read() {
                        Ok(Event::Key(k)) => Some(Message::Key(k)),
                        Ok(Event::Mouse(m)) => Some(Message::Mouse(m)),
                        Ok(Event::Resize(w, h)) => Some(Message::Resize(w, h)),
                        Ok(_) => None,
                        Err(_) => break,
                    },
                    Ok(false) => None,
                    Err(_) => break,
                };
                drop(guard);
                if let Some(m) = msg {
                    if tx.send(m).is_err() {
                        break;
                    }
                }
            }
        });
        Input { shared }
    }

    /// Stop reading until the guard is dropped (returns once the reader is out of `poll`).
    pub fn pause(&self) -> Pause {
        self.shared.paused.store(true, Ordering::SeqCst);
        drop(
            self.shared
                .reading
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        Pause {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Ask the reader to end.
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
    }
}
