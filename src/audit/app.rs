//! The app under audit: its Procfile, the settings it runs with (`twelve.toml`, Heroku's
//! `app.json`, `--env-file`, `--env`, `--kv`), and the copy of its folder the probes start from.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Process types that run once, to completion, rather than as part of the formation.
pub const ONE_OFF_TYPES: [&str; 9] = [
    "release",
    "build",
    "console",
    "shell",
    "repl",
    "migrate",
    "test",
    "setup",
    "postdeploy",
];

/// A problem with what the user gave: the command line, `twelve.toml`, `app.json`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

fn usage(s: impl Into<String>) -> UsageError {
    UsageError(s.into())
}

/// A request that stores something and one that reads it back (`[state]` in `twelve.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateProbe {
    /// The request that writes: `{ method = "POST", path = "/items", json = { ... } }`.
    pub write: StateRequest,
    /// What of the write's answer names the item (`json.id`, `header.Location`, `body`).
    pub save: Option<String>,
    /// The path that reads it back; `{saved}` is what `save` captured.
    pub read: String,
    /// Text the read's answer must hold (default `{token}`, the value the write sent).
    pub expect: Option<String>,
}

/// One request of a [`StateProbe`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateRequest {
    #[serde(default = "post")]
    pub method: String,
    pub path: String,
    pub body: Option<String>,
    pub json: Option<toml::Value>,
}

fn post() -> String {
    "POST".into()
}

/// `twelve.toml` in the app's folder.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TwelveToml {
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    required: Vec<String>,
    #[serde(default)]
    kv: Vec<String>,
    health: Option<String>,
    slow: Option<String>,
    ready_within: Option<String>,
    grace: Option<String>,
    state: Option<StateProbe>,
}

/// What the audit knows about the app before running anything.
#[derive(Debug, Clone)]
pub struct App {
    /// The folder as given on the command line (for messages).
    pub shown: String,
    /// The folder, absolute.
    pub dir: PathBuf,
    /// Procfile entries in order: (type, command).
    pub procfile: Vec<(String, String)>,
    /// The environment every process gets (besides PORT and DYNO); values may hold
    /// `{sandbox}` and `{kv.NAME}`.
    pub env: BTreeMap<String, String>,
    /// Variables that get a built-in store's URL.
    pub kv: Vec<String>,
    /// Variables declared required (`twelve.toml`, `app.json`).
    pub required: BTreeSet<String>,
    /// Where each required variable was declared.
    pub required_by: BTreeMap<String, String>,
    pub health: Option<String>,
    pub slow: Option<String>,
    /// How soon the web process must accept connections (default 2 s).
    pub ready_within: Duration,
    /// How long a process may take to exit after SIGTERM (default 10 s).
    pub grace: Duration,
    pub state: Option<StateProbe>,
    /// Where the settings came from, for the report.
    pub notes: Vec<String>,
}

/// What the command line gives.
#[derive(Debug, Clone, Default)]
pub struct Given {
    pub dir: PathBuf,
    pub env: Vec<(String, String)>,
    pub env_file: Option<PathBuf>,
    pub kv: Vec<String>,
}

impl App {
    /// The long-running process types (the formation), in Procfile order.
    pub fn formation(&self) -> Vec<&str> {
        self.procfile
            .iter()
            .map(|(t, _)| t.as_str())
            .filter(|t| !ONE_OFF_TYPES.contains(t))
            .collect()
    }

    pub fn has_type(&self, t: &str) -> bool {
        self.procfile.iter().any(|(p, _)| p == t)
    }

    pub fn command_of(&self, t: &str) -> Option<&str> {
        self.procfile
            .iter()
            .find(|(p, _)| p == t)
            .map(|(_, c)| c.as_str())
    }

    /// Load everything from `given`.
    pub fn load(given: &Given) -> Result<App, UsageError> {
        let shown = given.dir.display().to_string();
        let dir = given
            .dir
            .canonicalize()
            .map_err(|e| usage(format!("cannot open `{shown}`: {e}")))?;
        if !dir.is_dir() {
            return Err(usage(format!("`{shown}` is not a folder")));
        }
        let procfile_path = dir.join("Procfile");
        let text = std::fs::read_to_string(&procfile_path).map_err(|_| {
            usage(format!(
                "`{shown}` has no Procfile: `twelve audit` starts the app's processes from \
                 it (a line like `web: node server.js`)"
            ))
        })?;
        let procfile = crate::lesson::parse_procfile(&text);
        if procfile.is_empty() {
            return Err(usage(format!(
                "`{shown}/Procfile` declares no process types (lines like `web: node server.js`)"
            )));
        }
        let mut notes = Vec::new();
        let mut env = BTreeMap::new();
        let mut required = BTreeSet::new();
        let mut required_by = BTreeMap::new();
        let toml_path = dir.join("twelve.toml");
        let cfg = if toml_path.is_file() {
            let t = std::fs::read_to_string(&toml_path)
                .map_err(|e| usage(format!("cannot read `{shown}/twelve.toml`: {e}")))?;
            let cfg: TwelveToml = toml::from_str(&t).map_err(|e| {
                let line = e
                    .span()
                    .map_or(String::new(), |s| format!(":{}", line_of(&t, s.start)));
                usage(format!("{shown}/twelve.toml{line}: {}", e.message()))
            })?;
            notes.push("settings from twelve.toml".to_string());
            cfg
        } else {
            TwelveToml::default()
        };
        env.extend(cfg.env.clone());
        for r in &cfg.required {
            required.insert(r.clone());
            required_by.insert(r.clone(), "twelve.toml".to_string());
        }
        let app_json = dir.join("app.json");
        if app_json.is_file() {
            read_app_json(&app_json, &mut env, &mut required, &mut required_by)?;
            notes.push("env from app.json".to_string());
        }
        if let Some(f) = &given.env_file {
            let t = std::fs::read_to_string(f)
                .map_err(|e| usage(format!("cannot read `{}`: {e}", f.display())))?;
            env.extend(parse_env_file(&t).map_err(|e| usage(format!("{}:{e}", f.display())))?);
            notes.push(format!("env from {}", f.display()));
        }
        for (k, v) in &given.env {
            env.insert(k.clone(), v.clone());
        }
        let mut kv: Vec<String> = cfg.kv.clone();
        for k in &given.kv {
            if !kv.contains(k) {
                kv.push(k.clone());
            }
        }
        for k in &kv {
            if !is_var_name(k) {
                return Err(usage(format!(
                    "`--kv {k}`: not an environment variable name"
                )));
            }
            env.insert(k.clone(), format!("{{kv.{k}}}"));
        }
        for k in env.keys() {
            if !is_var_name(k) {
                return Err(usage(format!("`{k}` is not an environment variable name")));
            }
        }
        // A PATH of the user's comes first; the sandbox's own (its python, the system's
        // folders) still follows, so the probes' helpers keep working.
        if let Some(path) = env.get_mut("PATH") {
            path.push_str(":{sandbox}/bin:/usr/local/bin:/usr/bin:/bin");
        }
        for k in ["PORT", "DYNO"] {
            if env.remove(k).is_some() {
                notes.push(format!(
                    "{k} is set by the audit for each process; the given value is not used"
                ));
            }
        }
        let missing: Vec<&String> = required
            .iter()
            .filter(|r| !env.contains_key(*r) && *r != "PORT" && *r != "DYNO")
            .collect();
        if !missing.is_empty() {
            let list: Vec<String> = missing
                .iter()
                .map(|m| format!("{m} ({})", required_by[*m]))
                .collect();
            return Err(usage(format!(
                "required but not given: {}; pass each with --env NAME=VALUE (or --kv NAME for \
                 a store)",
                list.join(", ")
            )));
        }
        let dur = |s: &Option<String>, what: &str, default: Duration| match s {
            None => Ok(default),
            Some(s) => crate::lesson::step::parse_duration(s)
                .map_err(|e| usage(format!("{shown}/twelve.toml: `{what}`: {e}"))),
        };
        for (what, p) in [("health", &cfg.health), ("slow", &cfg.slow)] {
            if let Some(p) = p {
                if !p.starts_with('/') {
                    return Err(usage(format!(
                        "{shown}/twelve.toml: `{what}` must be a path starting with /"
                    )));
                }
            }
        }
        let ready_within = dur(&cfg.ready_within, "ready_within", Duration::from_secs(2))?;
        let grace = dur(&cfg.grace, "grace", Duration::from_secs(10))?;
        Ok(App {
            shown,
            procfile,
            env,
            kv,
            required,
            required_by,
            health: cfg.health.clone(),
            slow: cfg.slow.clone(),
            ready_within,
            grace,
            state: cfg.state.clone(),
            notes,
            dir,
        })
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// An environment variable name: letters, digits and `_`, not starting with a digit.
pub fn is_var_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Heroku's `app.json`: `env` maps a name to a value, or to `{ value, required, generator }`.
fn read_app_json(
    path: &Path,
    env: &mut BTreeMap<String, String>,
    required: &mut BTreeSet<String>,
    required_by: &mut BTreeMap<String, String>,
) -> Result<(), UsageError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| usage(format!("cannot read `{}`: {e}", path.display())))?;
    let doc: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| usage(format!("{}:{}: {e}", path.display(), e.line())))?;
    let Some(vars) = doc.get("env").and_then(serde_json::Value::as_object) else {
        return Ok(());
    };
    for (name, spec) in vars {
        match spec {
            serde_json::Value::String(v) => {
                env.insert(name.clone(), v.clone());
            }
            serde_json::Value::Object(o) => {
                if let Some(v) = o.get("value").and_then(serde_json::Value::as_str) {
                    env.insert(name.clone(), v.to_string());
                } else if o.get("generator").and_then(serde_json::Value::as_str) == Some("secret") {
                    let mut rng = fastrand::Rng::new();
                    let secret: String = (0..32).map(|_| rng.alphanumeric()).collect();
                    env.insert(name.clone(), secret);
                }
                // Heroku treats a variable as required unless it says otherwise.
                if o.get("required").and_then(serde_json::Value::as_bool) != Some(false) {
                    required.insert(name.clone());
                    required_by.insert(name.clone(), "app.json".to_string());
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// A dotenv file: `KEY=VALUE` lines, `#` comments, optional `export `, quoted values.
pub fn parse_env_file(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((k, v)) = line.split_once('=') else {
            return Err(format!("{}: `{raw}` is not KEY=VALUE", i + 1));
        };
        let k = k.trim();
        if !is_var_name(k) {
            return Err(format!("{}: `{k}` is not a variable name", i + 1));
        }
        let v = v.trim();
        let v = if v.len() >= 2
            && ((v.starts_with('"') && v.ends_with('"'))
                || (v.starts_with('\'') && v.ends_with('\'')))
        {
            &v[1..v.len() - 1]
        } else {
            v
        };
        out.push((k.to_string(), v.to_string()));
    }
    Ok(out)
}

/// Folders never copied into the probes' sandboxes or read as the app's code.
pub const SKIPPED_DIRS: [&str; 4] = [".git", ".hg", ".svn", "__pycache__"];

/// Copy the app's folder (without version-control data) to `to`. Links to files are copied
/// as files; links to folders are left out, so a link loop cannot make the copy endless.
pub fn stage(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let name = e.file_name();
        if SKIPPED_DIRS.iter().any(|s| name == *s) {
            continue;
        }
        let src = e.path();
        let dst = to.join(&name);
        let meta = std::fs::symlink_metadata(&src)?;
        if meta.file_type().is_symlink() {
            match std::fs::metadata(&src) {
                Ok(m) if m.is_file() => {
                    std::fs::copy(&src, &dst)?;
                }
                _ => {}
            }
        } else if meta.is_dir() {
            stage(&src, &dst)?;
        } else if meta.is_file() {
            std::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_files() {
        let v = parse_env_file("# c\nexport A=1\nB=\"two words\"\n\nC='x=y'\n").unwrap();
        assert_eq!(
            v,
            vec![
                ("A".into(), "1".into()),
                ("B".into(), "two words".into()),
                ("C".into(), "x=y".into())
            ]
        );
        assert!(parse_env_file("nope\n").is_err());
    }

    #[test]
    fn settings_from_every_source() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("Procfile"), "release: ./migrate\nweb: ./serve\n").unwrap();
        std::fs::write(
            d.join("twelve.toml"),
            "env = { A = \"toml\", B = \"toml\" }\nrequired = [\"PORT\"]\nkv = [\"REDIS_URL\"]\n",
        )
        .unwrap();
        std::fs::write(
            d.join("app.json"),
            r#"{"env": {"B": {"value": "json"}, "TOKEN": {"generator": "secret"},
                        "OPT": {"required": false}}}"#,
        )
        .unwrap();
        std::fs::write(d.join("extra.env"), "C=file\n").unwrap();
        let app = App::load(&Given {
            dir: d.to_path_buf(),
            env: vec![
                ("C".into(), "flag".into()),
                ("PATH".into(), "/opt/bin".into()),
            ],
            env_file: Some(d.join("extra.env")),
            kv: vec!["REDIS_URL".into()],
        })
        .unwrap();
        assert_eq!(app.env["A"], "toml");
        assert_eq!(app.env["B"], "json");
        assert_eq!(app.env["C"], "flag");
        assert_eq!(app.env["TOKEN"].len(), 32);
        assert_eq!(app.env["REDIS_URL"], "{kv.REDIS_URL}");
        assert!(app.env["PATH"].starts_with("/opt/bin:{sandbox}/bin:"));
        assert_eq!(app.kv, vec!["REDIS_URL".to_string()]);
        assert!(app.required.contains("TOKEN") && !app.required.contains("OPT"));
        assert_eq!(app.formation(), vec!["web"]);
        // A required setting nobody gives is a usage error, naming it and who requires it.
        std::fs::write(
            d.join("app.json"),
            r#"{"env": {"API_KEY": {"required": true}}}"#,
        )
        .unwrap();
        let e = App::load(&Given {
            dir: d.to_path_buf(),
            ..Given::default()
        })
        .unwrap_err();
        assert!(e.0.contains("API_KEY (app.json)"), "{e}");
    }

    #[test]
    fn var_names() {
        assert!(is_var_name("REDIS_URL"));
        assert!(!is_var_name("1A"));
        assert!(!is_var_name("A-B"));
    }
}
