//! `twelve lessons new NN-slug`: a lesson that `twelve lessons verify NN` passes as written,
//! for an author to change into their own.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};

/// Write the lesson's files under `pack` (which gets `lessons/` and `sandbox-apps/`).
pub fn new_lesson(pack: &Path, name: &str) -> anyhow::Result<ExitCode> {
    let Some((nn, slug)) = name.split_once('-') else {
        bail!("name the lesson NN-slug, e.g. `13-telemetry`");
    };
    let number: u8 = nn
        .parse()
        .ok()
        .filter(|_| nn.len() == 2)
        .with_context(|| format!("`{name}`: NN is two digits, e.g. `13-telemetry`"))?;
    if slug.is_empty()
        || !slug.split('-').all(|w| {
            !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
    {
        bail!("`{name}`: the slug is lowercase words joined by dashes, e.g. `13-telemetry`");
    }
    let lesson = pack.join("lessons").join(name);
    let apps = pack.join("sandbox-apps").join(name);
    if lesson.exists() || apps.exists() {
        bail!("`{}` already exists", lesson.display());
    }
    let label = crate::lesson::roman(u32::from(number));
    let title = slug.replace('-', " ");
    let files: Vec<(std::path::PathBuf, String)> = vec![
        (
            lesson.join("lesson.toml"),
            lesson_toml(slug, &label, &title),
        ),
        (
            lesson.join("lesson.md"),
            format!(
                "# {label}. {title}\n\nWhat the service does, what is wrong with it, and why it matters.\n\n\
             ## What to change\n\n- `GET /hello` answers 200 with `hello`.\n"
            ),
        ),
        (
            lesson.join("variants/longer-greeting.toml"),
            VARIANT.to_string(),
        ),
        (
            apps.join("starter/Procfile"),
            "web: python3 app.py\n".to_string(),
        ),
        (
            apps.join("solution/Procfile"),
            "web: python3 app.py\n".to_string(),
        ),
        (apps.join("starter/app.py"), app(&title, false)),
        (apps.join("solution/app.py"), app(&title, true)),
    ];
    for (path, text) in &files {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create `{}`", dir.display()))?;
        }
        std::fs::write(path, text).with_context(|| format!("cannot write `{}`", path.display()))?;
        println!("Wrote {}", path.display());
    }
    println!(
        "\nProve it: twelve --lessons {} lessons verify {number}",
        crate::sandbox::http::shell_quote(&pack.display().to_string())
    );
    Ok(ExitCode::SUCCESS)
}

fn lesson_toml(slug: &str, label: &str, title: &str) -> String {
    format!(
        r#"id = "{slug}"
# factor = 3                  # the factor (1-12) this lesson teaches; leave out beyond the twelve
label = "{label}"
factor_name = "{title}"
title = "Say hello"
summary = "One line for the lesson map."
hints = [
  "Which paths does the service answer?",
  "Add a branch for /hello in do_GET.",
  "if self.path == \"/hello\": self.answer(200, \"hello\")",
]

[run]
proc = "web"

[[verify.starter_fails]]
check = "hello"
message = "GET /hello"

[[rules]]
rule = "GET /hello answers 200 with hello"
checks = ["hello"]

[[checks]]
id = "hello"
title = "The service says hello"
why = "Why this matters, in one or two sentences."

[[checks.steps]]
kind = "start"
proc = "web"
fail = "the service did not start listening on PORT={{port}}: read its output below"

[[checks.steps]]
kind = "http"
target = "web"
path = "/hello"
expect = {{ status = 200, body_contains = ["hello"] }}
fail = "GET /hello did not answer 200 with hello"
"#
    )
}

const VARIANT: &str = r#"verdict = "pass"
why = "a longer greeting that still says hello"

[[edit]]
file = "app.py"
find = "self.answer(200, \"hello\")"
replace = "self.answer(200, \"hello, world\")"
"#;

fn app(title: &str, solved: bool) -> String {
    let hello = if solved {
        "        if self.path == \"/hello\":\n            self.answer(200, \"hello\")\n            return\n"
    } else {
        "        # The lesson: this service does not answer /hello yet.\n"
    };
    format!(
        r#""""The service of the lesson "{title}"."""
import os
from http.server import BaseHTTPRequestHandler, HTTPServer

PORT = int(os.environ["PORT"])


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
{hello}        self.answer(404, "not found")

    def answer(self, status, text):
        body = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


HTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
"#
    )
}
