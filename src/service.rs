//! Running a learner's service by hand (`twelve run N`, the TUI's run panel): in the lesson
//! folder, with the lesson's default environment and the built-in stores it needs. A lesson
//! may ask for several instances behind a router (processes) or extra process types such as a
//! worker (concurrency), so the learner can see the formation the checks use.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::lesson::{Lesson, PLACEHOLDER, Pack, parse_procfile};
use crate::sandbox::kv::KvServer;
use crate::sandbox::output::{LineHook, StreamKind};
use crate::sandbox::process::{ExitInfo, Limits, Spec, Supervised};
use crate::sandbox::router::Router;
use crate::sandbox::{self, Python, Sandbox};

/// A running service with the stores it uses; dropping it stops everything.
#[must_use = "dropping the service stops it"]
pub struct Service {
    /// The first instance of the main process type (its exit ends the run).
    pub proc: Supervised,
    /// Further instances and extra process types (`web.2`, `worker.1`).
    others: Vec<Supervised>,
    router: Option<Router>,
    pub port: u16,
    pub url: String,
    pub command: String,
    /// The variables it was started with (besides PATH, HOME, LANG).
    pub env: BTreeMap<String, String>,
    stores: Vec<(String, KvServer)>,
    _sandbox: Sandbox,
}

/// A hook that prefixes each line with the process's name (when several run).
fn labelled(hook: Option<&LineHook>, dyno: &str, label: bool) -> Option<LineHook> {
    let hook = Arc::clone(hook?);
    if !label {
        return Some(hook);
    }
    let prefix = format!("{dyno} | ");
    Some(Arc::new(move |stream, line: &str| {
        hook(stream, &format!("{prefix}{line}"));
    }))
}

impl Service {
    /// The process group that must hold the listener on `port` for the service to count as
    /// running (None when the port is a router's, inside `twelve`).
    pub fn listener_group(&self) -> Option<i32> {
        self.router.is_none().then(|| self.proc.pid())
    }
}

impl Service {
    /// Start `lesson`'s service from the files in `dir` on `port` (0: pick one, preferring 8000).
    pub fn start(
        pack: &Pack,
        lesson: &Lesson,
        dir: &Path,
        port: u16,
        hook: Option<&LineHook>,
    ) -> anyhow::Result<Service> {
        Service::start_with(pack, lesson, dir, port, hook, &BTreeMap::new())
    }

    /// [`Service::start`] where the learner's own settings win over the lesson's defaults:
    /// `given` (from `twelve run --env KEY=VALUE`), then this program's environment. A
    /// backing service is attached by config: with `REDIS_URL` given, the built-in store it
    /// would have replaced is not started.
    pub fn start_with(
        pack: &Pack,
        lesson: &Lesson,
        dir: &Path,
        port: u16,
        hook: Option<&LineHook>,
        given: &BTreeMap<String, String>,
    ) -> anyhow::Result<Service> {
        let mut yours: BTreeMap<String, (String, &'static str)> = BTreeMap::new();
        for k in lesson.run.env.keys() {
            if let Some(v) = given.get(k) {
                yours.insert(k.clone(), (v.clone(), "--env"));
            } else if let Some(v) = std::env::var(k).ok().filter(|v| !v.is_empty()) {
                yours.insert(k.clone(), (v, "your environment"));
            }
        }
        // Variables the lesson does not set are passed as given, too.
        for (k, v) in given {
            yours
                .entry(k.clone())
                .or_insert_with(|| (v.clone(), "--env"));
        }
        let python = Python::get()?;
        let sandbox = Sandbox::new(python).context("cannot create a temporary folder")?;
        let port = match port {
            0 if !sandbox::port_open(8000)
                && std::net::TcpListener::bind("127.0.0.1:8000").is_ok() =>
            {
                8000
            }
            0 => sandbox::free_port()?,
            p => {
                std::net::TcpListener::bind(("127.0.0.1", p))
                    .with_context(|| format!("port {p} is busy; choose another with --port"))?;
                p
            }
        };
        let mut stores = Vec::new();
        for name in &lesson.run.stores {
            // Only the stores some default the learner did not replace still points at.
            let wanted = format!("{{kv.{name}}}");
            let needed = lesson
                .run
                .env
                .iter()
                .any(|(k, v)| v.contains(&wanted) && !yours.contains_key(k));
            if needed {
                stores.push((name.clone(), KvServer::start(0)?));
            }
        }
        let procfile = std::fs::read_to_string(dir.join("Procfile")).unwrap_or_default();
        let entries = parse_procfile(&procfile);
        let command = match (&lesson.run.proc, &lesson.run.command) {
            (Some(p), _) => match entries.iter().find(|(t, _)| t == p) {
                Some((_, c)) => c.clone(),
                None => bail!(
                    "lesson {} runs the `{p}` process of its Procfile, but `{}` has no `{p}:` line",
                    lesson.number,
                    dir.join("Procfile").display()
                ),
            },
            (None, Some(c)) => c.clone(),
            (None, None) => bail!("lesson {} says nothing about how to run it", lesson.number),
        };
        if let Some(req) = &lesson.run.install {
            crate::check::files::install(dir, req, &pack.vendor, &sandbox.site)
                .map_err(|(message, _, _)| anyhow::anyhow!("{message}"))?;
        }
        let isolated = lesson.run.install.is_some();

        // The formation: the main type's instances, then one of each extra type the Procfile
        // declares. A missing extra type is what some starters are about: say so and go on.
        let main_type = lesson.run.proc.clone().unwrap_or_else(|| "web".into());
        let instances = lesson.run.instances.max(1);
        let mut plan: Vec<(String, String)> = (1..=instances)
            .map(|i| (format!("{main_type}.{i}"), command.clone()))
            .collect();
        let mut notes = Vec::new();
        for extra in &lesson.run.also {
            match entries.iter().find(|(t, _)| t == extra) {
                Some((_, c)) => plan.push((format!("{extra}.1"), c.clone())),
                None => notes.push(format!(
                    "twelve: the Procfile declares no `{extra}` process type, so only {main_type} runs"
                )),
            }
        }
        let several = plan.len() > 1;
        if let Some(h) = hook {
            for n in &notes {
                h(StreamKind::Stderr, n);
            }
        }

        let mut env = BTreeMap::new();
        let mut procs = Vec::new();
        let mut backends = Vec::new();
        for (i, (dyno, cmd)) in plan.iter().enumerate() {
            // With one instance it takes the port itself; with several, the router does.
            let own_port = if i == 0 && instances == 1 {
                port
            } else {
                sandbox::free_port()?
            };
            if dyno.starts_with(&format!("{main_type}.")) {
                backends.push(own_port);
            }
            let mut vars = BTreeMap::new();
            vars.insert("PORT".to_string(), own_port.to_string());
            vars.insert("DYNO".to_string(), dyno.clone());
            for (k, v) in &lesson.run.env {
                // `{port}` is the public one: the router's when there is one.
                vars.insert(k.clone(), expand(v, port, dyno, &stores, &sandbox));
            }
            for (k, (v, _)) in &yours {
                vars.insert(k.clone(), v.clone());
            }
            let mut full = sandbox.base_env(isolated);
            full.extend(vars.clone());
            if i == 0 {
                env = vars;
            }
            let spec = Spec {
                name: dyno.clone(),
                command: cmd.clone(),
                cwd: dir.to_path_buf(),
                env: full,
                limits: Limits {
                    cpu_secs: None,
                    ..Limits::default()
                },
            };
            let proc = Supervised::spawn(&spec, labelled(hook, dyno, several))
                .with_context(|| format!("cannot start `{cmd}`"))?;
            procs.push(proc);
        }
        let router = if instances > 1 {
            Some(
                Router::start_on(port, backends)
                    .with_context(|| format!("cannot listen on port {port} for the router"))?,
            )
        } else {
            None
        };
        let mut procs = procs.into_iter();
        let proc = procs.next().context("nothing to start")?;
        let mut shown = command;
        if instances > 1 {
            shown = format!("{shown}   (×{instances} behind a round-robin router)");
        }
        for (dyno, cmd) in plan.iter().skip(instances) {
            shown = format!("{shown}\n{dyno}: {cmd}");
        }
        // Say what is attached: the learner's own services, or the built-in store.
        for (k, (v, from)) in &yours {
            shown = format!("{shown}\n{k} from {from}: {v}");
        }
        for (name, s) in &stores {
            shown = format!(
                "{shown}\nstore `{name}`: twelve's built-in store at {}",
                s.url()
            );
        }
        Ok(Service {
            proc,
            others: procs.collect(),
            router,
            port,
            url: format!("http://127.0.0.1:{port}"),
            command: shown,
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

    /// SIGTERM, then SIGKILL after a grace period, to every process; the main one's exit.
    pub fn stop(&mut self) -> ExitInfo {
        self.stop_within(Duration::from_secs(3))
    }

    /// [`Service::stop`] with a chosen grace period.
    pub fn stop_within(&mut self, grace: Duration) -> ExitInfo {
        for p in &mut self.others {
            p.stop(grace);
        }
        self.router = None;
        self.proc.stop(grace)
    }

    /// The main process's output buffer.
    pub fn output(&self) -> Arc<crate::sandbox::output::Output> {
        Arc::clone(&self.proc.output)
    }
}

fn expand(v: &str, port: u16, dyno: &str, stores: &[(String, KvServer)], sb: &Sandbox) -> String {
    PLACEHOLDER
        .replace_all(v, |c: &regex::Captures<'_>| {
            let full = &c[1];
            let (root, rest) = full.split_once('.').unwrap_or((full, ""));
            match (root, rest) {
                ("port", "") => port.to_string(),
                ("dyno", "") => dyno.to_string(),
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
