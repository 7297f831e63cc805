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

/// Release the mouse, show the cursor, leave the alternate screen and raw mode.
fn restore() {
    let _ = execute!(io::stdout(), DisableMouseCapture, Show);
    ratatui::restore();
    let _ = io::stdout().flush();
}
