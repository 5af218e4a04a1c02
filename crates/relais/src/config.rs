//! Configuration: defaults in code, an optional TOML file, then `RELAIS_…` environment
//! variables, then command-line flags. `relais default-config` prints the commented example.

use std::path::{Path, PathBuf};

use relais_web::mail::SmtpSettings;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub listen: String,
    pub data_dir: PathBuf,
    /// Empty means `sqlite://<data_dir>/relais.db`.
    pub database_url: String,
    /// Empty means `http://<listen>`.
    pub public_url: String,
    /// Empty means `<data_dir>/master.key`.
    pub master_key_file: String,
    pub log: LogSettings,
    pub worker: WorkerSettings,
    pub security: SecuritySettings,
    pub smtp: Option<SmtpSettings>,
    pub database: DatabaseSettings,
    pub media: MediaSettings,
    pub listening: ListeningSettings,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ListeningSettings {
    /// A sentiment lexicon (TSV, see docs/enrich.md) added to the built-in French and English
    /// ones; empty = built-in only.
    pub sentiment_lexicon: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MediaSettings {
    /// Folder of the media library; empty means `<data_dir>/media`.
    pub dir: String,
    /// Largest upload, in megabytes (10⁶ bytes).
    pub max_upload_mb: u64,
}

impl Default for MediaSettings {
    fn default() -> Self {
        MediaSettings {
            dir: String::new(),
            max_upload_mb: 50,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// `text` or `json`.
    pub format: String,
    /// A tracing filter such as `info` or `relais=debug,info`.
    pub level: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkerSettings {
    pub concurrency: usize,
    pub poll_ms: u64,
    pub lease_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecuritySettings {
    pub login_max_failures: i64,
    /// Private networks the server may fetch anyway (CIDRs, e.g. "127.0.0.1/32" for tests).
    /// Everything private, loopback and link-local is refused otherwise (SSRF guard).
    pub fetch_allow: Vec<String>,
    /// `auto` (from public_url), `true` or `false`.
    pub secure_cookies: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    pub max_connections: u32,
    pub acquire_timeout_secs: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("data"),
            database_url: String::new(),
            public_url: String::new(),
            master_key_file: String::new(),
            log: LogSettings::default(),
            worker: WorkerSettings::default(),
            security: SecuritySettings::default(),
            smtp: None,
            database: DatabaseSettings::default(),
            media: MediaSettings::default(),
            listening: ListeningSettings::default(),
        }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            format: "text".into(),
            level: "info".into(),
        }
    }
}
impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings {
            concurrency: 8,
            poll_ms: 250,
            lease_secs: 60,
        }
    }
}
impl Default for SecuritySettings {
    fn default() -> Self {
        SecuritySettings {
            login_max_failures: 5,
            secure_cookies: "auto".into(),
            fetch_allow: Vec::new(),
        }
    }
}
impl Default for DatabaseSettings {
    fn default() -> Self {
        DatabaseSettings {
            max_connections: 10,
            acquire_timeout_secs: 10,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the configuration file {path} is not valid: {message}")]
    Parse { path: String, message: String },
    #[error("{var} = {value:?} is not valid: {hint}")]
    Env {
        var: String,
        value: String,
        hint: &'static str,
    },
    #[error("{0}")]
    Invalid(String),
}

pub const EXAMPLE: &str = include_str!("../relais.example.toml");

/// Command-line overrides (highest precedence).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub database_url: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub listen: Option<String>,
}

impl Settings {
    pub fn load(o: &Overrides) -> Result<Settings, ConfigError> {
        let path = o
            .config
            .clone()
            .or_else(|| std::env::var_os("RELAIS_CONFIG").map(PathBuf::from));
        let mut s = match &path {
            Some(p) => Self::from_file(p)?,
            None => Settings::default(),
        };
        s.apply_env(|k| std::env::var(k).ok())?;
        if let Some(v) = &o.database_url {
            s.database_url = v.clone();
        }
        if let Some(v) = &o.data_dir {
            s.data_dir = v.clone();
        }
        if let Some(v) = &o.listen {
            s.listen = v.clone();
        }
        s.finish()?;
        Ok(s)
    }

    pub fn from_file(p: &Path) -> Result<Settings, ConfigError> {
        let text = std::fs::read_to_string(p).map_err(|e| ConfigError::Read {
            path: p.display().to_string(),
            source: e,
        })?;
        Self::from_toml(&text, &p.display().to_string())
    }

    pub fn from_toml(text: &str, origin: &str) -> Result<Settings, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: origin.into(),
            message: e.to_string().trim().replace('\n', " "),
        })
    }

    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let num = |var: &str, v: String| -> Result<u64, ConfigError> {
            v.trim().parse().map_err(|_| ConfigError::Env {
                var: var.into(),
                value: v,
                hint: "expected a whole number",
            })
        };
        if let Some(v) = get("RELAIS_LISTEN") {
            self.listen = v;
        }
        if let Some(v) = get("RELAIS_DATA_DIR") {
            self.data_dir = v.into();
        }
        if let Some(v) = get("RELAIS_DATABASE_URL") {
            self.database_url = v;
        }
        if let Some(v) = get("RELAIS_PUBLIC_URL") {
            self.public_url = v;
        }
        if let Some(v) = get("RELAIS_MASTER_KEY_FILE") {
            self.master_key_file = v;
        }
        if let Some(v) = get("RELAIS_LOG_FORMAT") {
            self.log.format = v;
        }
        if let Some(v) = get("RELAIS_LOG") {
            self.log.level = v;
        }
        if let Some(v) = get("RELAIS_WORKER_CONCURRENCY") {
            self.worker.concurrency = num("RELAIS_WORKER_CONCURRENCY", v)? as usize;
        }
        if let Some(v) = get("RELAIS_FETCH_ALLOW") {
            self.security.fetch_allow = v
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
        }
        if let Some(v) = get("RELAIS_SENTIMENT_LEXICON") {
            self.listening.sentiment_lexicon = v;
        }
        if let Some(v) = get("RELAIS_SECURE_COOKIES") {
            self.security.secure_cookies = v;
        }
        if let Some(host) = get("RELAIS_SMTP_HOST") {
            let mut smtp = self.smtp.clone().unwrap_or_default();
            smtp.host = host;
            if let Some(v) = get("RELAIS_SMTP_PORT") {
                smtp.port = num("RELAIS_SMTP_PORT", v)? as u16;
            } else if smtp.port == 0 {
                smtp.port = 587;
            }
            if let Some(v) = get("RELAIS_SMTP_USERNAME") {
                smtp.username = Some(v);
            }
            if let Some(v) = get("RELAIS_SMTP_PASSWORD") {
                smtp.password = Some(v);
            }
            smtp.security = get("RELAIS_SMTP_SECURITY").unwrap_or(if smtp.security.is_empty() {
                "starttls".into()
            } else {
                smtp.security
            });
            if let Some(v) = get("RELAIS_SMTP_FROM") {
                smtp.from = v;
            }
            self.smtp = Some(smtp);
        }
        Ok(())
    }

    /// Derives defaults that depend on other fields and checks the whole.
    fn finish(&mut self) -> Result<(), ConfigError> {
        if self.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(ConfigError::Invalid(format!(
                "listen = {:?} is not an address: write it like 127.0.0.1:8080",
                self.listen
            )));
        }
        if self.database_url.is_empty() {
            self.database_url = format!("sqlite://{}", self.data_dir.join("relais.db").display());
        }
        relais_store::Backend::from_url(&self.database_url).map_err(ConfigError::Invalid)?;
        if self.public_url.is_empty() {
            self.public_url = format!("http://{}", self.listen);
        }
        let u = url::Url::parse(&self.public_url).map_err(|_| {
            ConfigError::Invalid(format!(
                "public_url = {:?} is not a URL: write it like https://relais.example.com",
                self.public_url
            ))
        })?;
        if !matches!(u.scheme(), "http" | "https") {
            return Err(ConfigError::Invalid(
                "public_url must start with http:// or https://".into(),
            ));
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            return Err(ConfigError::Invalid(format!(
                "log.format = {:?}: use text or json",
                self.log.format
            )));
        }
        if !matches!(
            self.security.secure_cookies.as_str(),
            "auto" | "true" | "false"
        ) {
            return Err(ConfigError::Invalid(
                "security.secure_cookies: use auto, true or false".into(),
            ));
        }
        if self.media.max_upload_mb == 0 {
            return Err(ConfigError::Invalid(
                "media.max_upload_mb must be at least 1".into(),
            ));
        }
        if self.worker.concurrency == 0 {
            return Err(ConfigError::Invalid(
                "worker.concurrency must be at least 1".into(),
            ));
        }
        Ok(())
    }

    pub fn secure_cookies(&self) -> bool {
        match self.security.secure_cookies.as_str() {
            "true" => true,
            "false" => false,
            _ => self.public_url.starts_with("https://"),
        }
    }

    pub fn media_dir(&self) -> PathBuf {
        if self.media.dir.is_empty() {
            self.data_dir.join("media")
        } else {
            PathBuf::from(&self.media.dir)
        }
    }

    pub fn master_key_path(&self) -> PathBuf {
        if self.master_key_file.is_empty() {
            self.data_dir.join("master.key")
        } else {
            PathBuf::from(&self.master_key_file)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_from(toml_text: &str, env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let mut s = Settings::from_toml(toml_text, "test.toml")?;
        s.apply_env(|k| {
            env.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })?;
        s.finish()?;
        Ok(s)
    }

    #[test]
    fn defaults_make_a_sqlite_url_in_the_data_dir() {
        let s = load_from("", &[]).unwrap();
        assert_eq!(s.database_url, "sqlite://data/relais.db");
        assert_eq!(s.public_url, "http://127.0.0.1:8080");
        assert!(!s.secure_cookies());
    }

    #[test]
    fn the_example_config_parses() {
        let s = load_from(EXAMPLE, &[]).unwrap();
        assert_eq!(s.listen, "127.0.0.1:8080");
    }

    #[test]
    fn env_overrides_file() {
        let s = load_from(
            "listen = \"0.0.0.0:9000\"\npublic_url = \"https://r.example\"",
            &[
                ("RELAIS_LISTEN", "127.0.0.1:9001"),
                ("RELAIS_SMTP_HOST", "mail"),
                ("RELAIS_SMTP_FROM", "relais <r@example.com>"),
            ],
        )
        .unwrap();
        assert_eq!(s.listen, "127.0.0.1:9001");
        assert!(s.secure_cookies());
        let smtp = s.smtp.unwrap();
        assert_eq!(
            (smtp.host.as_str(), smtp.port, smtp.security.as_str()),
            ("mail", 587, "starttls")
        );
    }

    #[test]
    fn corrupted_or_wrong_configs_say_what_is_wrong() {
        let e = load_from("listen = \"127.0.0.1:8080\"\n[worker\nconcurrency = 2", &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("test.toml is not valid"), "{e}");
        let e = load_from("lisen = \"x\"", &[]).unwrap_err().to_string();
        assert!(e.contains("unknown field `lisen`"), "{e}");
        let e = load_from("database_url = \"mysql://x\"", &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("unsupported database scheme"), "{e}");
        let e = load_from("database_url = \"relais.db\"", &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("malformed database URL"), "{e}");
        let e = load_from("", &[("RELAIS_WORKER_CONCURRENCY", "many")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("RELAIS_WORKER_CONCURRENCY"), "{e}");
        let e = load_from("listen = \"localhost\"", &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("not an address"), "{e}");
    }
}
