//! Colours: what the terminal supports (`NO_COLOR`, 256 colours, truecolor) and the palette.
//!
//! Views draw with the palette below and syntect's RGB colours; [`adapt`] then maps the finished
//! buffer to what the terminal can show, so no view has to think about colour support.

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier, Style};

/// What the terminal can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorMode {
    /// `NO_COLOR` is set: no colours at all (bold, reverse and underline stay).
    None,
    /// 256 colours: RGB is mapped to the nearest indexed colour.
    Indexed,
    /// 24-bit colour.
    TrueColor,
}

impl ColorMode {
    /// Decide from `NO_COLOR` and `COLORTERM`.
    pub fn detect() -> ColorMode {
        Self::from_env(
            std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            std::env::var("COLORTERM").ok().as_deref(),
        )
    }

    /// Decide from the two variables (separate for tests).
    pub fn from_env(no_color: bool, colorterm: Option<&str>) -> ColorMode {
        if no_color {
            ColorMode::None
        } else if colorterm.is_some_and(|v| v.contains("truecolor") || v.contains("24bit")) {
            ColorMode::TrueColor
        } else {
            ColorMode::Indexed
        }
    }
}

/// Map every cell of a drawn frame to the colours the terminal supports.
pub fn adapt(buf: &mut Buffer, mode: ColorMode) {
    if mode == ColorMode::TrueColor {
        return;
    }
    for cell in &mut buf.content {
        cell.fg = map(cell.fg, mode);
        cell.bg = map(cell.bg, mode);
    }
}

fn map(c: Color, mode: ColorMode) -> Color {
    match (mode, c) {
        (ColorMode::None, _) => Color::Reset,
        (_, Color::Rgb(r, g, b)) => Color::Indexed(ansi256(r, g, b)),
        (_, c) => c,
    }
}

/// The nearest colour of the xterm 256-colour palette (the 6×6×6 cube or the grey ramp).
pub fn ansi256(r: u8, g: u8, b: u8) -> u8 {
    const STEPS: [u8; 6] = [0, 95, 135, 175, 215, 255];
    let nearest = |v: u8| -> usize {
        STEPS
            .iter()
            .enumerate()
            .min_by_key(|(_, s)| (i32::from(**s) - i32::from(v)).abs())
            .map_or(0, |(i, _)| i)
    };
    let (ri, gi, bi) = (nearest(r), nearest(g), nearest(b));
    let cube = (ri * 36 + gi * 6 + bi + 16) as u8;
    let dist = |a: (u8, u8, u8)| -> i32 {
        let d = |x: u8, y: u8| (i32::from(x) - i32::from(y)).pow(2);
        d(a.0, r) + d(a.1, g) + d(a.2, b)
    };
    let cube_rgb = (STEPS[ri], STEPS[gi], STEPS[bi]);
    // The grey ramp 232..=255 runs 8, 18, ..., 238.
    let avg = (u16::from(r) + u16::from(g) + u16::from(b)) / 3;
    let gi = ((avg.saturating_sub(8)) / 10).min(23) as u8;
    let grey = 8 + 10 * gi;
    if dist((grey, grey, grey)) < dist(cube_rgb) {
        232 + gi
    } else {
        cube
    }
}

/// The palette: named ANSI colours, which every terminal shows in its own theme.
pub mod palette {
    use super::{Color, Modifier, Style};

    pub const ACCENT: Color = Color::Cyan;
    pub const PASS: Color = Color::Green;
    pub const FAIL: Color = Color::Red;
    pub const WARN: Color = Color::Yellow;
    pub const LINK: Color = Color::Blue;
    pub const CODE: Color = Color::Yellow;

    pub fn title() -> Style {
        Style::new().fg(ACCENT).add_modifier(Modifier::BOLD)
    }
    pub fn dim() -> Style {
        Style::new().add_modifier(Modifier::DIM)
    }
    pub fn bold() -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }
    pub fn key() -> Style {
        Style::new().fg(ACCENT).add_modifier(Modifier::BOLD)
    }
    pub fn selected() -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }
    pub fn border(focused: bool) -> Style {
        if focused {
            Style::new().fg(ACCENT)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_follow_the_environment() {
        assert_eq!(
            ColorMode::from_env(true, Some("truecolor")),
            ColorMode::None
        );
        assert_eq!(
            ColorMode::from_env(false, Some("24bit")),
            ColorMode::TrueColor
        );
        assert_eq!(ColorMode::from_env(false, None), ColorMode::Indexed);
    }

    #[test]
    fn rgb_maps_to_the_nearest_indexed_colour() {
        assert_eq!(ansi256(255, 0, 0), 196);
        assert_eq!(ansi256(0, 0, 0), 16);
        assert_eq!(ansi256(128, 128, 128), 244);
    }

    #[test]
    fn no_color_strips_everything_but_modifiers() {
        let mut buf = Buffer::empty(ratatui::layout::Rect::new(0, 0, 2, 1));
        buf.set_style(
            buf.area,
            Style::new()
                .fg(Color::Rgb(1, 2, 3))
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD),
        );
        adapt(&mut buf, ColorMode::None);
        assert_eq!(buf.content[0].fg, Color::Reset);
        assert_eq!(buf.content[0].bg, Color::Reset);
        assert!(buf.content[0].modifier.contains(Modifier::BOLD));
    }
}
