//! The dynamic probes: each is a check scenario built from the engine's own step kinds and
//! run by [`crate::check::run_check`] in a fresh sandbox holding a copy of the app.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use super::app::App;
use crate::check::{CancelToken, CheckReport, Failure, Outcome};
use crate::lesson::{Check, Lesson, Pack, PackSource, RunSpec, Step, StepSpec};

/// What a step of a probe is there to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Store,
    Build,
    Release,
    /// Starting the web process (readiness on its PORT).
    Start,
    /// Waiting for a process that does not listen on its PORT.
    Wait,
    /// Two instances at once.
    Scale,
    /// The other long-running process types.
    Others,
    Pause,
    /// An HTTP request that must be answered.
    Served,
    Running,
    Listening,
    Kill,
    Restart,
    AfterRestart,
    StateWrite,
    /// Reading the state back through the other instance.
    StateShared,
    /// Reading the state back after a kill -9 and restart.
    StateKept,
    /// A request carrying a made-up value.
    Trace,
    NoTrace,
    Snapshot,
    Unchanged,
    Output,
    Growth,
    NoPort,
    Required,
    InFlight,
    Term,
    Refused,
    Await,
    Exit,
    EnvRun,
    ReleaseAgain,
    Admin,
    BuildBare,
    Baked,
}

/// How the web process can be reached, learned from the first start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// It listens on its PORT.
    Port,
    /// It listens on a port of its own (ignoring PORT).
    Foreign(u16),
    /// It runs, but listens on nothing the audit can find.
    Deaf,
}

/// One probe: a titled scenario whose steps each have a role.
#[derive(Debug, Clone)]
pub struct Plan {
    pub id: String,
    pub title: String,
    pub steps: Vec<(Role, Value)>,
    pub timeout: Duration,
}

/// A probe that ran.
#[derive(Debug, Clone)]
pub struct Ran {
    pub id: String,
    pub roles: Vec<Role>,
    pub report: CheckReport,
}

impl Ran {
    /// The failing step's role and the failure.
    pub fn failed(&self) -> Option<(Role, &Failure)> {
        let f = self.report.failure.as_ref()?;
        let role = self.roles.get(f.step.checked_sub(1)?).copied()?;
        Some((role, f))
    }

    pub fn passed(&self) -> bool {
        self.report.outcome == Outcome::Passed
    }

    /// Whether every step with `role` ran and passed.
    pub fn reached_past(&self, role: Role) -> bool {
        let Some(pos) = self.roles.iter().rposition(|r| *r == role) else {
            return false;
        };
        match &self.report.failure {
            None => self.report.outcome == Outcome::Passed,
            Some(f) => f.step > pos + 1,
        }
    }

    /// Whether the probe could not run at all (no sandbox, cancelled).
    pub fn broken(&self) -> bool {
        matches!(self.report.outcome, Outcome::Error | Outcome::Cancelled)
    }
}

fn ms(d: Duration) -> String {
    format!("{}ms", d.as_millis())
}

/// Builds the probes for one app.
pub struct Builder<'a> {
    pub app: &'a App,
    pub reach: Reach,
    /// The readiness bound that worked on the first start.
    pub within: Duration,
    pub health: String,
}

const RUN_BOUND: Duration = Duration::from_secs(2);

impl Builder<'_> {
    fn env(&self) -> BTreeMap<String, String> {
        self.app.env.clone()
    }

    /// The stores, then the build and the release, as a platform runs them before the
    /// formation starts.
    pub fn prelude(&self) -> Vec<(Role, Value)> {
        let mut v = self.stores();
        if self.app.has_type("build") {
            v.push((
                Role::Build,
                json!({"kind": "run", "proc": "build", "env": self.env(), "within": "300s"}),
            ));
        }
        if self.app.has_type("release") {
            v.push((
                Role::Release,
                json!({"kind": "run", "proc": "release", "env": self.env(), "within": "120s"}),
            ));
        }
        v
    }

    fn stores(&self) -> Vec<(Role, Value)> {
        self.app
            .kv
            .iter()
            .map(|k| (Role::Store, json!({"kind": "kv", "name": k})))
            .collect()
    }

    /// Start `instances` of the web process and wait until it can be reached.
    pub fn start_web(&self, instances: usize, role: Role) -> Vec<(Role, Value)> {
        match self.reach {
            Reach::Port => vec![(
                role,
                json!({"kind": "start", "proc": "web", "env": self.env(), "instances": instances,
                       "within": ms(self.within)}),
            )],
            Reach::Foreign(port) => vec![
                (
                    role,
                    json!({"kind": "start", "proc": "web", "env": self.env(),
                           "instances": instances, "ready": "none"}),
                ),
                (
                    Role::Wait,
                    wait_for_port(port, self.within.max(Duration::from_secs(5))),
                ),
            ],
            Reach::Deaf => vec![
                (
                    role,
                    json!({"kind": "start", "proc": "web", "env": self.env(),
                           "instances": instances, "ready": "none"}),
                ),
                (Role::Wait, pause(Duration::from_secs(1))),
            ],
        }
    }

    /// A GET to `target` (a process instance), however it can be reached; `None` when it
    /// cannot.
    pub fn get(&self, target: &str, path: &str, role: Role) -> Option<(Role, Value)> {
        match self.reach {
            Reach::Port => Some((
                role,
                json!({"kind": "http", "target": target, "path": path, "timeout": "5s"}),
            )),
            Reach::Foreign(port) => Some((role, foreign_get(port, path))),
            Reach::Deaf => None,
        }
    }

    pub fn plan(&self, id: &str, title: &str, steps: Vec<(Role, Value)>) -> Plan {
        let mut all = self.prelude();
        all.extend(steps);
        Plan {
            id: id.to_string(),
            title: title.to_string(),
            steps: all,
            timeout: Duration::from_secs(420) + self.app.grace,
        }
    }

    /// The first start: does the web process come up on its PORT, and how soon?
    pub fn smoke(&self, within: Duration) -> Plan {
        let steps = vec![
            (
                Role::Start,
                json!({"kind": "start", "proc": "web", "env": self.env(), "within": ms(within)}),
            ),
            (
                Role::Served,
                json!({"kind": "http", "target": "web", "path": self.health, "timeout": "5s"}),
            ),
        ];
        self.plan("start", "start the web process on its PORT", steps)
    }

    /// VII and VIII: two web instances, each on its own PORT and nothing else, and the other
    /// process types, all staying in the foreground.
    pub fn formation(&self) -> Plan {
        let mut s = self.start_web(2, Role::Scale);
        s.extend(self.get("web.1", &self.health, Role::Served));
        s.extend(self.get("web.2", &self.health, Role::Served));
        let others: Vec<&str> = self
            .app
            .formation()
            .into_iter()
            .filter(|t| *t != "web")
            .collect();
        for t in &others {
            s.push((
                Role::Others,
                json!({"kind": "start", "proc": t, "env": self.env(), "ready": "none"}),
            ));
        }
        s.push((Role::Pause, pause(Duration::from_secs(1))));
        s.push((
            Role::Running,
            json!({"kind": "expect_running", "target": "web"}),
        ));
        for t in &others {
            s.push((
                Role::Running,
                json!({"kind": "expect_running", "target": t}),
            ));
        }
        s.push((
            Role::Listening,
            json!({"kind": "listening", "target": "web"}),
        ));
        self.plan("formation", "run web×2 and every other process type", s)
    }

    /// VII: the web process without PORT.
    pub fn no_port(&self) -> Plan {
        let s = vec![(
            Role::NoPort,
            json!({"kind": "run", "proc": "web", "env": self.env(),
                   "within": ms(RUN_BOUND.max(self.within)), "expect_exit": "nonzero"}),
        )];
        self.plan("no-port", "start web without PORT", s)
    }

    /// VI: two instances, one killed with SIGKILL and restarted; the declared state shared
    /// and kept; a made-up value that must not land on a disk.
    pub fn restart(&self) -> Plan {
        let mut s = self.start_web(2, Role::Scale);
        if let Some(st) = &self.app.state {
            s.push((Role::StateWrite, state_write(st)));
            s.push((Role::StateShared, state_read(st, "web.2")));
        }
        s.push((Role::Kill, json!({"kind": "kill", "target": "web.1"})));
        s.push((Role::Restart, json!({"kind": "restart", "target": "web.1"})));
        s.extend(self.get("web.1", &self.health, Role::AfterRestart));
        if let Some(st) = &self.app.state {
            s.push((Role::StateKept, state_read(st, "web.1")));
        }
        let path = format!("{}?twelve-audit={{random.trace}}", self.health);
        s.extend(self.get("web.2", &path, Role::Trace));
        s.push((
            Role::NoTrace,
            json!({"kind": "no_trace", "text": "{random.trace}"}),
        ));
        self.plan("restart", "web×2, kill -9 and restart one", s)
    }

    /// V: nothing written into the code folder while the formation starts and web serves.
    pub fn code_files(&self) -> Plan {
        let mut s = vec![(
            Role::Snapshot,
            json!({"kind": "files", "path": ".", "snapshot": "release"}),
        )];
        s.extend(self.start_web(1, Role::Start));
        for t in self.app.formation().into_iter().filter(|t| *t != "web") {
            s.push((
                Role::Others,
                json!({"kind": "start", "proc": t, "env": self.env(), "ready": "none"}),
            ));
        }
        s.extend(self.get("web", &self.health, Role::Served));
        s.extend(self.get("web", "/twelve-audit-{random.v}", Role::Served));
        if let (Some(st), Reach::Port) = (&self.app.state, self.reach) {
            s.push((Role::StateWrite, state_write(st)));
        }
        s.push((Role::Pause, pause(Duration::from_secs(1))));
        s.push((
            Role::Unchanged,
            json!({"kind": "files", "path": ".", "unchanged": "release"}),
        ));
        self.plan(
            "code-files",
            "start and serve; the code folder unchanged",
            s,
        )
    }

    /// XI: a request shows up on stdout or stderr within a second.
    pub fn log_output(&self) -> Option<Plan> {
        let mut s = self.start_web(1, Role::Start);
        s.push(self.get("web", "/twelve-audit-{random.log}", Role::Trace)?);
        s.push((
            Role::Output,
            json!({"kind": "expect_output", "target": "web", "stream": "both",
                   "contains": "twelve-audit-{random.log}", "within": "1s"}),
        ));
        Some(self.plan(
            "log-output",
            "a request, then its line on stdout or stderr",
            s,
        ))
    }

    /// XI: no file appears or grows while the app serves (its folder, every process's HOME
    /// and TMPDIR).
    pub fn log_files(&self) -> Plan {
        // After the start: what the start writes is the Build, release, run probe's business;
        // here only what serving adds counts.
        let mut s = self.start_web(1, Role::Start);
        s.extend(self.get("web", &self.health, Role::Served));
        s.push((
            Role::Snapshot,
            json!({"kind": "files", "path": ".", "snapshot": "code"}),
        ));
        s.push((
            Role::Snapshot,
            json!({"kind": "files", "path": "../proc", "snapshot": "proc"}),
        ));
        for i in 0..3 {
            s.extend(self.get(
                "web",
                &format!("/twelve-audit-{{random.f{i}}}"),
                Role::Served,
            ));
        }
        s.push((Role::Pause, pause(Duration::from_millis(300))));
        s.push((
            Role::Growth,
            json!({"kind": "files", "path": ".", "no_growth": "code"}),
        ));
        s.push((
            Role::Growth,
            json!({"kind": "files", "path": "../proc", "no_growth": "proc"}),
        ));
        self.plan("log-files", "serve requests; no file appears or grows", s)
    }

    /// IX: SIGTERM to web: the request in flight answered, new connections refused, exit 0
    /// within the grace period.
    pub fn sigterm(&self) -> Plan {
        let mut s = self.start_web(1, Role::Start);
        s.extend(self.get("web", &self.health, Role::Served));
        let slow = self.app.slow.as_ref().filter(|_| self.reach == Reach::Port);
        if let Some(path) = slow {
            s.push((
                Role::InFlight,
                json!({"kind": "http", "target": "web", "path": path, "background": "slow",
                       "timeout": ms(self.app.grace + Duration::from_secs(5))}),
            ));
        }
        s.push((
            Role::Term,
            json!({"kind": "signal", "target": "web", "signal": "TERM"}),
        ));
        if slow.is_some() {
            s.push((
                Role::Refused,
                json!({"kind": "http", "target": "web", "path": self.health, "timeout": "3s",
                       "expect": {"refused": true}}),
            ));
            s.push((Role::Await, json!({"kind": "await", "request": "slow"})));
        }
        s.push((
            Role::Exit,
            json!({"kind": "expect_exit", "target": "web", "code": 0, "within": ms(self.app.grace)}),
        ));
        self.plan("sigterm", "SIGTERM to web", s)
    }

    /// IX: SIGTERM to another process type.
    pub fn sigterm_type(&self, t: &str) -> Plan {
        let s = vec![
            (
                Role::Start,
                json!({"kind": "start", "proc": t, "env": self.env(), "ready": "none"}),
            ),
            // A process with no port gives no sign of being ready: give it time to set up
            // its signal handlers, even on a busy machine.
            (Role::Pause, pause(Duration::from_secs(2))),
            (
                Role::Running,
                json!({"kind": "expect_running", "target": t}),
            ),
            (
                Role::Term,
                json!({"kind": "signal", "target": t, "signal": "TERM"}),
            ),
            (
                Role::Exit,
                json!({"kind": "expect_exit", "target": t, "code": 0, "within": ms(self.app.grace)}),
            ),
        ];
        self.plan(&format!("sigterm-{t}"), &format!("SIGTERM to {t}"), s)
    }

    /// III: the web process without `var`.
    pub fn without(&self, var: &str) -> Plan {
        let mut env = self.env();
        env.remove(var);
        env.insert("PORT".into(), "{unused.required}".into());
        let s = vec![(
            Role::Required,
            json!({"kind": "run", "proc": "web", "env": env, "within": ms(RUN_BOUND.max(self.within)),
                   "expect_exit": "nonzero", "output_contains": [var]}),
        )];
        self.plan(
            &format!("without-{var}"),
            &format!("start web without {var}"),
            s,
        )
    }

    /// X: the web process with `var=value` and none of the backing services.
    pub fn env_name(&self, var: &str, value: &str, attached: &[String]) -> Plan {
        let mut env = self.env();
        for a in attached {
            env.remove(a);
        }
        env.insert(var.into(), value.into());
        env.insert("PORT".into(), "{unused.envname}".into());
        let s = vec![(
            Role::EnvRun,
            json!({"kind": "run", "proc": "web", "env": env, "within": ms(RUN_BOUND.max(self.within)),
                   "expect_exit": "nonzero"}),
        )];
        self.plan(
            &format!("env-{var}-{value}"),
            &format!("start web with {var}={value} and no backing services"),
            s,
        )
    }

    /// XII: the release again (idempotent), with the same config.
    pub fn release_again(&self) -> Plan {
        let s = vec![(
            Role::ReleaseAgain,
            json!({"kind": "run", "proc": "release", "env": self.env(), "within": "120s"}),
        )];
        self.plan("release-again", "run the release twice", s)
    }

    /// XII: an admin-looking path must not do its work for an HTTP request.
    pub fn admin(&self, n: usize, path: &str) -> Plan {
        let refused: Vec<u16> = vec![400, 401, 403, 404, 405, 410, 421, 501];
        let mut s = self.start_web(1, Role::Start);
        for method in ["POST", "GET"] {
            s.push((
                Role::Admin,
                json!({"kind": "http", "target": "web", "method": method, "path": path,
                       "timeout": "10s", "expect": {"status": refused}}),
            ));
        }
        self.plan(&format!("admin-{n}"), &format!("request {path}"), s)
    }

    /// V: the build with no config at all.
    pub fn build_bare(&self) -> Plan {
        let mut s = self.stores();
        s.push((
            Role::BuildBare,
            json!({"kind": "run", "proc": "build", "within": "300s"}),
        ));
        Plan {
            id: "build-bare".into(),
            title: "run the build with no config".into(),
            steps: s,
            timeout: Duration::from_secs(330),
        }
    }

    /// V: the build with the config; the config's values must not be in what it wrote.
    pub fn build_baked(&self, values: &[(String, String)]) -> Plan {
        let mut s = self.stores();
        s.push((
            Role::Build,
            json!({"kind": "run", "proc": "build", "env": self.env(), "within": "300s"}),
        ));
        let pats: Vec<String> = values.iter().map(|(_, v)| regex::escape(v)).collect();
        s.push((
            Role::Baked,
            json!({"kind": "source", "files": "**/*", "must_not_contain": pats}),
        ));
        Plan {
            id: "build-baked".into(),
            title: "run the build; the config must not be in its output".into(),
            steps: s,
            timeout: Duration::from_secs(330),
        }
    }
}

fn pause(d: Duration) -> Value {
    json!({"kind": "run", "command": format!("sleep {}", d.as_secs_f64()), "within": "30s"})
}

/// Wait until something accepts connections on `port` (Python is always there: the
/// sandbox links it).
fn wait_for_port(port: u16, within: Duration) -> Value {
    let tries = within.as_millis() / 50;
    let cmd = format!(
        "python3 -c \"import socket,time; any(socket.socket().connect_ex(('127.0.0.1',{port}))==0 \
         or time.sleep(0.05) for _ in range({tries})) or exit(1)\""
    );
    json!({"kind": "run", "command": cmd, "within": ms(within + Duration::from_secs(2)),
           "expect_exit": "any"})
}

/// A GET to a port that is not the process's PORT.
fn foreign_get(port: u16, path: &str) -> Value {
    let cmd = format!(
        "python3 -c \"import socket; s=socket.create_connection(('127.0.0.1',{port}),5); \
         s.settimeout(5); s.sendall(b'GET {path} HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n'); \
         print(s.recv(200)[:60])\""
    );
    json!({"kind": "run", "command": cmd, "within": "10s", "expect_exit": "any"})
}

fn token(s: &str) -> String {
    s.replace("{token}", "{random.state}")
        .replace("{saved}", "{saved.state}")
}

fn token_json(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(token(s)),
        toml::Value::Integer(i) => json!(i),
        toml::Value::Float(f) => json!(f),
        toml::Value::Boolean(b) => json!(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.iter().map(token_json).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.iter().map(|(k, v)| (k.clone(), token_json(v))).collect())
        }
    }
}

/// The answers that mean "done" (a short list, so a failure message stays readable).
const OK_STATUS: [u16; 5] = [200, 201, 202, 204, 206];

fn state_write(st: &super::app::StateProbe) -> Value {
    let mut v = json!({"kind": "http", "target": "web.1", "method": st.write.method,
                       "path": token(&st.write.path), "timeout": "5s",
                       "expect": {"status": OK_STATUS}});
    if let Some(b) = &st.write.body {
        v["body"] = Value::String(token(b));
    }
    if let Some(j) = &st.write.json {
        v["json"] = token_json(j);
    }
    if let Some(save) = &st.save {
        v["save"] = json!({"state": save});
    }
    v
}

fn state_read(st: &super::app::StateProbe, target: &str) -> Value {
    let want = token(st.expect.as_deref().unwrap_or("{token}"));
    json!({"kind": "http", "target": target, "path": token(&st.read), "timeout": "5s",
           "expect": {"status": OK_STATUS, "body_contains": [want]}})
}

/// Runs probes through the check engine.
pub struct Engine {
    pack: Pack,
    lesson: Lesson,
    /// The copy of the app the sandboxes copy from.
    staged: std::path::PathBuf,
    /// The app's folder as shown in transcripts.
    shown: String,
}

impl Engine {
    pub fn new(staged: &Path, shown: &str) -> Engine {
        let pack = Pack {
            source: PackSource::Dir(staged.to_path_buf()),
            lessons: Vec::new(),
            shared: crate::lesson::Files::new(),
            vendor: crate::lesson::Files::new(),
            info: crate::lesson::PackInfo::default(),
        };
        let lesson = Lesson {
            number: 0,
            id: "audit".into(),
            dir_name: "audit".into(),
            factor: None,
            label: String::new(),
            factor_name: String::new(),
            title: "twelve audit".into(),
            summary: String::new(),
            hints: Vec::new(),
            link: String::new(),
            text: String::new(),
            run: RunSpec::default(),
            checks: Vec::new(),
            starter_fails: Vec::new(),
            starter: crate::lesson::Files::new(),
            solution: crate::lesson::Files::new(),
            check_files: crate::lesson::Files::new(),
            toml_path: "twelve.toml".into(),
            rules: Vec::new(),
            variants: Vec::new(),
            deploy: crate::lesson::Deploy::Folder,
            verify_setup: None,
        };
        Engine {
            pack,
            lesson,
            staged: staged.to_path_buf(),
            shown: shown.to_string(),
        }
    }

    fn check_of(plan: &Plan) -> Check {
        let steps = plan
            .steps
            .iter()
            .enumerate()
            .map(|(i, (_, v))| StepSpec {
                line: i + 1,
                fail: None,
                step: serde_json::from_value::<Step>(v.clone())
                    .unwrap_or_else(|e| panic!("audit step {v}: {e}")),
            })
            .collect();
        Check {
            id: plan.id.clone(),
            title: plan.title.clone(),
            why: String::new(),
            timeout: plan.timeout,
            steps,
            line: 1,
        }
    }

    /// Run one probe.
    pub fn run(&self, plan: &Plan, cancel: &CancelToken) -> Ran {
        let check = Self::check_of(plan);
        let mut report =
            crate::check::run_check(&self.pack, &self.lesson, &check, &self.staged, cancel);
        // Transcripts and messages name the app's folder, not the audit's copy of it.
        let staged = self.staged.display().to_string();
        let tidy = |s: &mut String| {
            if s.contains(&staged) {
                *s = s.replace(&staged, &self.shown);
            }
        };
        report.transcript.iter_mut().for_each(tidy);
        if let Some(f) = &mut report.failure {
            tidy(&mut f.message);
            tidy(&mut f.observed);
            if let Some(d) = &mut f.detail {
                tidy(d);
            }
        }
        Ran {
            id: plan.id.clone(),
            roles: plan.steps.iter().map(|(r, _)| *r).collect(),
            report,
        }
    }

    /// Run probes `width` at a time; results come back in the order given.
    pub fn run_all(&self, plans: &[Plan], width: usize, cancel: &CancelToken) -> Vec<Ran> {
        crate::check::in_parallel(plans.len(), width, |i| self.run(&plans[i], cancel))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> App {
        App {
            shown: ".".into(),
            dir: ".".into(),
            procfile: vec![
                ("release".into(), "true".into()),
                ("web".into(), "python3 app.py".into()),
                ("worker".into(), "python3 worker.py".into()),
            ],
            env: BTreeMap::from([("REDIS_URL".to_string(), "{kv.REDIS_URL}".to_string())]),
            kv: vec!["REDIS_URL".into()],
            required: std::collections::BTreeSet::default(),
            required_by: BTreeMap::default(),
            health: None,
            slow: Some("/slow".into()),
            ready_within: Duration::from_secs(2),
            grace: Duration::from_secs(10),
            state: None,
            notes: Vec::new(),
        }
    }

    /// Every probe's steps are steps the engine accepts.
    #[test]
    fn every_plan_parses() {
        let app = app();
        for reach in [Reach::Port, Reach::Foreign(8080), Reach::Deaf] {
            let b = Builder {
                app: &app,
                reach,
                within: Duration::from_secs(2),
                health: "/health".into(),
            };
            let mut plans = vec![
                b.smoke(Duration::from_secs(2)),
                b.formation(),
                b.no_port(),
                b.restart(),
                b.code_files(),
                b.log_files(),
                b.sigterm(),
                b.sigterm_type("worker"),
                b.without("REDIS_URL"),
                b.env_name("APP_ENV", "development", &["REDIS_URL".into()]),
                b.release_again(),
                b.admin(1, "/admin/migrate"),
                b.build_bare(),
                b.build_baked(&[("SECRET_KEY".into(), "s3cr3t.value".into())]),
            ];
            plans.extend(b.log_output());
            for p in &plans {
                let c = Engine::check_of(p);
                assert_eq!(c.steps.len(), p.steps.len());
                assert!(matches!(c.steps[0].step, Step::Kv { .. }), "{}", p.id);
            }
        }
    }
}
