//! Running a learner's service by hand (`twelve run N`, the TUI's run panel): in the lesson
//! folder, with the lesson's default environment and the built-in stores it needs.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::lesson::{Lesson, PLACEHOLDER, Pack, parse_procfile};
use crate::sandbox::kv::KvServer;
use crate::sandbox::output::LineHook;
use crate::sandbox::process::{Limits, Spec, Supervised};
use crate::sandbox::{self, Python, Sandbox};

/// A running service with the stores it uses; dropping it stops everything.
#[must_use = "dropping the service stops it"]
pub struct Service {
    pub proc: Supervised,
    pub port: u16,
    pub url: String,
    pub command: String,
    /// The variables it was started with (besides PATH, HOME, LANG).
    pub env: BTreeMap<String, String>,
    stores: Vec<(String, KvServer)>,
    _sandbox: Sandbox,
}

impl Service {
    /// Start `lesson`'s service from the files in `dir` on `port` (0: pick one, preferring 8000).
    pub fn start(
        pack: &Pack,
        lesson: &Lesson,
        dir: &Path,
        port: u16,
        hook: Option<LineHook>,
    ) -> anyhow::Result<Service> {
        let python = Python::get()?;
        let sandbox = Sandbox::new(python).context("cannot create a temporary folder")?;
        let port = match port {
            0 if !sandbox::port_open(8000)
                && std::net::TcpListener::bind("127.0.0.1:8000").is_ok() =>
            {
                8000
            }
            0 => sandbox::free_port()?,
            p => p,
        };
        let mut stores = Vec::new();
        for name in &lesson.run.stores {
            stores.push((name.clone(), KvServer::start(0)?));
        }
        let command = match (&lesson.run.proc, &lesson.run.command) {
            (Some(p), _) => {
                let procfile = dir.join("Procfile");
                let text = std::fs::read_to_string(&procfile).with_context(|| {
                    format!(
                        "lesson {} runs the `{p}` process of its Procfile, but `{}` cannot be read",
                        lesson.number,
                        procfile.display()
                    )
                })?;
                match parse_procfile(&text).into_iter().find(|(t, _)| t == p) {
                    Some((_, c)) => c,
                    None => bail!("the Procfile in `{}` has no `{p}:` line", dir.display()),
                }
            }
            (None, Some(c)) => c.clone(),
            (None, None) => bail!("lesson {} says nothing about how to run it", lesson.number),
        };
        let mut env = BTreeMap::new();
        env.insert("PORT".to_string(), port.to_string());
        env.insert("DYNO".to_string(), "web.1".to_string());
        for (k, v) in &lesson.run.env {
            env.insert(k.clone(), expand(v, port, &stores, &sandbox));
        }
        if let Some(req) = &lesson.run.install {
            crate::check::files::install(dir, req, &pack.vendor, &sandbox.site)
                .map_err(|(message, _, _)| anyhow::anyhow!("{message}"))?;
        }
        let mut full = sandbox.base_env(lesson.run.install.is_some());
        full.extend(env.clone());
        let spec = Spec {
            name: "web.1".into(),
            command: command.clone(),
            cwd: dir.to_path_buf(),
            env: full,
            limits: Limits {
                cpu_secs: None,
                ..Limits::default()
            },
        };
        let proc =
            Supervised::spawn(&spec, hook).with_context(|| format!("cannot start `{command}`"))?;
        Ok(Service {
            proc,
            port,
            url: format!("http://127.0.0.1:{port}"),
            command,
            env,
            stores,
            _sandbox: sandbox,
        })
    }

    /// The stores it uses: (name, url).
    pub fn stores(&self) -> Vec<(String, String)> {
        self.stores
            .iter()
            .map(|(n, s)| (n.clone(), s.url()))
            .collect()
    }

    /// SIGTERM, then SIGKILL after a grace period.
    pub fn stop(&mut self) -> crate::sandbox::process::ExitInfo {
        self.proc.stop(Duration::from_secs(3))
    }

    /// The shared output buffer.
    pub fn output(&self) -> Arc<crate::sandbox::output::Output> {
        Arc::clone(&self.proc.output)
    }
}

fn expand(v: &str, port: u16, stores: &[(String, KvServer)], sb: &Sandbox) -> String {
    PLACEHOLDER
        .replace_all(v, |c: &regex::Captures<'_>| {
            let full = &c[1];
            let (root, rest) = full.split_once('.').unwrap_or((full, ""));
            match (root, rest) {
                ("port", "") => port.to_string(),
                ("dyno", "") => "web.1".into(),
                ("kv", n) => stores
                    .iter()
                    .find(|(name, _)| name == n)
                    .map_or_else(|| c[0].to_string(), |(_, s)| s.url()),
                ("sandbox", "") => sb.root.display().to_string(),
                ("random", _) => "dev".into(),
                _ => c[0].to_string(),
            }
        })
        .into_owned()
}
