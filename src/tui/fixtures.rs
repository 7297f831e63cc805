//! A fixed, fake state for tests: a pack whose texts do not change when the real lessons do,
//! a workspace that is never touched, and reports that no check produced.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::check::{CheckReport, Failure, LessonReport, Outcome, OutputTail};
use crate::lesson::Pack;
use crate::workspace::{Progress, Workspace};

use super::model::{FACTORS, Model};

const TITLES: [&str; 12] = [
    "One codebase, many deploys",
    "Explicitly declare and isolate dependencies",
    "Store config in the environment",
    "Treat backing services as attached resources",
    "Strictly separate build and run stages",
    "Execute the app as stateless processes",
    "Export services via port binding",
    "Scale out via the process model",
    "Fast startup and graceful shutdown",
    "Keep development and production alike",
    "Treat logs as event streams",
    "Run admin tasks as one-off processes",
];

pub const TEXT: &str = "# VII. Port binding\n\nThe app is **self-contained**: it opens a port \
and answers HTTP on it. Which port is *not* the app's choice: the platform passes it in `PORT`.\n\n\
## What to change\n\n- Serve the app from `app.py` itself.\n- Read the port from `PORT`; no default.\n\n\
```sh\nPORT=5050 python3 app.py\n```\n\n> See [the factor](https://12factor.net/port-binding).\n";

/// The embedded pack with fixed texts, titles, hints and two checks per lesson.
pub fn pack() -> Arc<Pack> {
    let mut pack = Pack::embedded().expect("the embedded pack loads");
    pack.lessons.truncate(12);
    for l in &mut pack.lessons {
        let i = usize::from(l.number) - 1;
        l.title = TITLES[i].to_string();
        l.factor_name = FACTORS[i].to_string();
        l.text = TEXT.to_string();
        l.hints = vec![
            "Which port does the app open, and who chose it?".into(),
            "wsgiref.simple_server.make_server(host, port, app) serves a WSGI app.".into(),
            "PORT = int(os.environ[\"PORT\"]) and make_server(\"127.0.0.1\", PORT, application).serve_forever()".into(),
        ];
        l.checks.truncate(2);
        for (n, c) in l.checks.iter_mut().enumerate() {
            c.title = [
                "The shortlink service works",
                "Each instance listens on the port it is given",
            ][n]
                .into();
            c.id = ["smoke", "port-binding"][n].into();
        }
    }
    Arc::new(pack)
}

/// A model at 80×24 in a workspace at `/ws` (never read or written).
pub fn model() -> Model {
    let ws = Workspace {
        root: PathBuf::from("/ws"),
        lessons: None,
    };
    let progress = Progress {
        started: Some("2025-01-06T09:00:00Z".into()),
        ..Progress::default()
    };
    let mut m = Model::new(pack(), Some(ws), progress, (80, 24));
    m.colour_code = false;
    m
}

/// Files as the runtime would load them.
pub fn files() -> (std::collections::BTreeMap<String, String>, Vec<String>) {
    let app = "#!/usr/bin/env python3\n\"\"\"shortlink: a small URL shortener.\"\"\"\nimport os\n\n\
PORT = 8080  # factor VII: the port is chosen by the code\n\n\ndef application(environ, start_response):\n    \
start_response(\"200 OK\", [(\"Content-Type\", \"text/plain\")])\n    return [b\"ok\"]\n";
    let mut files = std::collections::BTreeMap::new();
    files.insert("app.py".to_string(), app.to_string());
    files.insert("Procfile".to_string(), "web: python3 app.py\n".to_string());
    files.insert("kv.py".to_string(), "# the tiny KV client\n".to_string());
    (
        files,
        vec!["app.py".into(), "Procfile".into(), "kv.py".into()],
    )
}

pub fn passed(title: &str, ms: u64) -> CheckReport {
    CheckReport {
        id: "smoke".into(),
        title: title.into(),
        why: "Every lesson keeps the service working.".into(),
        outcome: Outcome::Passed,
        duration_ms: ms,
        failure: None,
        transcript: Vec::new(),
    }
}

pub fn failed(title: &str) -> CheckReport {
    CheckReport {
        id: "port-binding".into(),
        title: title.into(),
        why: "The app brings its own web server and binds the port the platform assigns in PORT."
            .into(),
        outcome: Outcome::Failed,
        duration_ms: 5012,
        failure: Some(Failure {
            step: 1,
            kind: "start".into(),
            line: 80,
            message: "an instance accepted no connections on its PORT within 5s".into(),
            detail: None,
            expected: "connections accepted on port 41234".into(),
            observed: "nothing listening after 5s".into(),
            outputs: vec![OutputTail {
                process: "web.1".into(),
                stdout: vec!["shortlink: development server on http://127.0.0.1:8080".into()],
                stderr: vec!["OSError: [Errno 98] Address already in use".into()],
                dropped_lines: 0,
                exit: Some("exit code 1".into()),
            }],
        }),
        transcript: vec![
            "cd \"$(mktemp -d)\" && cp -R ~/twelve-factor/07-port-binding/. .".into(),
            "PORT=41234 SECRET_KEY=s python3 app.py &".into(),
            "curl -s localhost:41234/health".into(),
        ],
    }
}

pub fn report(checks: Vec<CheckReport>) -> LessonReport {
    LessonReport {
        number: 7,
        lesson: "07-port-binding".into(),
        title: TITLES[6].into(),
        outcome: LessonReport::combine(&checks),
        duration_ms: checks.iter().map(|c| c.duration_ms).sum(),
        checks,
    }
}

/// A point `secs` before the model's clock.
pub fn ago(m: &Model, secs: f64) -> std::time::Instant {
    m.now
        .checked_sub(Duration::from_secs_f64(secs))
        .unwrap_or(m.now)
}
