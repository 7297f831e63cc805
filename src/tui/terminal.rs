//! The one owner of the terminal: raw mode, the alternate screen and mouse capture are entered
//! and left only here, on every path out (quit, error, panic, Ctrl-C) and around the editor.

use std::io::{self, Write};
use std::sync::Once;

use crossterm::cursor::Show;
use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{EnterAlternateScreen, enable_raw_mode};
use ratatui::DefaultTerminal;

/// The terminal in TUI mode; dropping it puts the terminal back.
#[must_use = "dropping the terminal guard restores the terminal"]
pub struct Tui {
    pub terminal: DefaultTerminal,
}

static PANIC_HOOK: Once = Once::new();

impl Tui {
    /// Enter raw mode and the alternate screen, and capture the mouse.
    pub fn init() -> io::Result<Tui> {
        // ratatui installs a hook that leaves raw mode and the alternate screen on panic; ours
        // runs first and also releases the mouse and shows the cursor.
        let terminal = ratatui::try_init()?;
        PANIC_HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                let _ = execute!(io::stdout(), DisableMouseCapture, Show);
                previous(info);
            }));
        });
        if let Err(e) = execute!(io::stdout(), EnableMouseCapture) {
            restore();
            return Err(e);
        }
        Ok(Tui { terminal })
    }

    /// Hand the terminal to another program (the editor) until [`Tui::resume`].
    pub fn suspend(&mut self) {
        restore();
    }

    /// Ask the terminal to put `text` on the system clipboard (OSC 52). Most terminals do,
    /// also over SSH; inside tmux it needs `set-clipboard on`, or `allow-passthrough on` for
    /// the wrapped copy sent as well. Nothing comes back to say whether it worked.
    pub fn copy_osc52(&mut self, text: &str) -> io::Result<()> {
        let mut out = io::stdout();
        out.write_all(osc52(text, std::env::var_os("TMUX").is_some()).as_bytes())?;
        out.flush()
    }

    /// Take the terminal back after [`Tui::suspend`] and redraw everything.
    pub fn resume(&mut self) -> io::Result<()> {
        enable_raw_mode()?;
        execute!(io::stdout(), EnterAlternateScreen, EnableMouseCapture)?;
        self.terminal.clear()
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        restore();
    }
}

/// The OSC 52 request for `text`; in tmux also wrapped for passthrough to the outer terminal.
fn osc52(text: &str, tmux: bool) -> String {
    let seq = format!("\x1b]52;c;{}\x07", base64(text.as_bytes()));
    if tmux {
        // tmux passes a DCS on when it is told to, with every ESC inside doubled.
        format!("{seq}\x1bPtmux;{}\x1b\\", seq.replace('\x1b', "\x1b\x1b"))
    } else {
        seq
    }
}

/// Standard base64 with padding (all OSC 52 needs; not worth a dependency).
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Release the mouse, show the cursor, leave the alternate screen and raw mode.
fn restore() {
    let _ = execute!(io::stdout(), DisableMouseCapture, Show);
    ratatui::restore();
    let _ = io::stdout().flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_carries_the_text_in_base64() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(
            base64("curl -s localhost:5050/health\n✓".as_bytes()),
            "Y3VybCAtcyBsb2NhbGhvc3Q6NTA1MC9oZWFsdGgK4pyT"
        );
        assert_eq!(osc52("hi", false), "\x1b]52;c;aGk=\x07");
        assert_eq!(
            osc52("hi", true),
            "\x1b]52;c;aGk=\x07\x1bPtmux;\x1b\x1b]52;c;aGk=\x07\x1b\\"
        );
    }
}
