//! Settings: the one place that reads the environment.
//!
//! Every setting comes from a `KONGJIAN_*` environment variable or the same-named flag
//! (`KONGJIAN_DATABASE_URL` ⇔ `--database-url`); clap reads both. [`Settings::resolve`] turns the
//! raw strings into a checked [`Config`], and every failure names the setting it is about.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, ValueEnum};
use url::Url;

/// Raw settings as given on the command line or in the environment.
#[derive(Debug, Clone, Default, Args)]
pub struct Settings {
    /// Database URL: `sqlite://PATH` or `postgres://USER@HOST/DB`. Default: `<data dir>/kongjian.db`.
    #[arg(long, env = "KONGJIAN_DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Directory for the SQLite file, local objects and the search index.
    #[arg(long, env = "KONGJIAN_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,

    /// Address to listen on.
    #[arg(long, env = "KONGJIAN_BIND", global = true)]
    pub bind: Option<String>,

    /// Where uploaded files live: a directory, or `s3://bucket/prefix`. Default: `<data dir>/objects`.
    #[arg(long, env = "KONGJIAN_OBJECT_STORE", global = true)]
    pub object_store: Option<String>,

    /// Endpoint of an S3-compatible store (otherwise the usual `AWS_ENDPOINT_URL`, or AWS itself).
    #[arg(long, env = "KONGJIAN_S3_ENDPOINT", global = true)]
    pub s3_endpoint: Option<String>,

    /// The URL people use to reach this server, e.g. `https://kongjian.example.edu.cn`.
    #[arg(long, env = "KONGJIAN_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Log format: `text` (default) or `json`.
    #[arg(long, env = "KONGJIAN_LOG_FORMAT", global = true, value_enum)]
    pub log_format: Option<LogFormat>,

    /// Load the demo district when the database is empty: `on` (default) or `off`.
    #[arg(long, env = "KONGJIAN_DEMO", global = true)]
    pub demo: Option<String>,

    /// Log filter in `tracing` syntax, e.g. `info,kongjian=debug`.
    #[arg(long, env = "KONGJIAN_LOG", global = true)]
    pub log: Option<String>,

    /// A signed-in session ends after this long without a request, e.g. `7d`, `8h`, `30m`.
    #[arg(long, env = "KONGJIAN_SESSION_IDLE", global = true)]
    pub session_idle: Option<String>,

    /// A signed-in session ends this long after sign-in, whatever happens, e.g. `30d`.
    #[arg(long, env = "KONGJIAN_SESSION_MAX", global = true)]
    pub session_max: Option<String>,

    /// How many days an activation code stays valid (default 30).
    #[arg(long, env = "KONGJIAN_CODE_DAYS", global = true)]
    pub code_days: Option<u32>,

    /// Proxies whose `X-Forwarded-For` is believed, comma-separated IPs (default: loopback).
    #[arg(long, env = "KONGJIAN_TRUSTED_PROXIES", global = true)]
    pub trusted_proxies: Option<String>,

    /// OpenID Connect issuer of the management platform, e.g. `https://idp.example.edu.cn`.
    /// Quiet hours for messages to families, in each school's time zone: `21:30-07:00` or `off`.
    #[arg(long, env = "KONGJIAN_QUIET_HOURS", global = true)]
    pub quiet_hours: Option<String>,

    /// The schools' time zone (IANA name), for quiet hours and dates shown: `Asia/Shanghai`.
    #[arg(long, env = "KONGJIAN_TIME_ZONE", global = true)]
    pub time_zone: Option<String>,

    /// How many messages one person may send per minute (default 30).
    #[arg(long, env = "KONGJIAN_MESSAGE_RATE", global = true)]
    pub message_rate: Option<u32>,

    /// How many notices one person may post per hour (default 20).
    #[arg(long, env = "KONGJIAN_NOTICE_RATE", global = true)]
    pub notice_rate: Option<u32>,

    /// The largest resource upload in megabytes (default 200).
    #[arg(long, env = "KONGJIAN_RESOURCE_MAX_MB", global = true)]
    pub resource_max_mb: Option<u32>,

    /// The largest file of a pupil's hand-in, in megabytes (default 20).
    #[arg(long, env = "KONGJIAN_SUBMISSION_MAX_MB", global = true)]
    pub submission_max_mb: Option<u32>,

    /// The most all files of one hand-in may add up to, in megabytes (default 100).
    #[arg(long, env = "KONGJIAN_SUBMISSION_TOTAL_MB", global = true)]
    pub submission_total_mb: Option<u32>,

    /// A file of extra words (one per line) the resource machine check flags for reviewers,
    /// beside the built-in list in assets/negative-words.txt.
    #[arg(long, env = "KONGJIAN_NEGATIVE_WORDS", global = true)]
    pub negative_words: Option<PathBuf>,

    #[arg(long, env = "KONGJIAN_OIDC_ISSUER", global = true)]
    pub oidc_issuer: Option<String>,

    /// Client id registered at the OpenID provider.
    #[arg(long, env = "KONGJIAN_OIDC_CLIENT_ID", global = true)]
    pub oidc_client_id: Option<String>,

    /// Client secret registered at the OpenID provider.
    #[arg(
        long,
        env = "KONGJIAN_OIDC_CLIENT_SECRET",
        global = true,
        hide_env_values = true
    )]
    pub oidc_client_secret: Option<String>,

    /// The ID-token or userinfo claim that names the person: `sub` (default),
    /// `preferred_username`, or any custom claim.
    #[arg(long, env = "KONGJIAN_OIDC_CLAIM", global = true)]
    pub oidc_claim: Option<String>,

    /// What the claim is matched against in the roster: `sourced_id` (default) or `username`.
    #[arg(long, env = "KONGJIAN_OIDC_MATCH", global = true)]
    pub oidc_match: Option<String>,

    /// The provider's name on the sign-in button, e.g. `省教育管理平台` (default 统一身份认证).
    #[arg(long, env = "KONGJIAN_OIDC_LABEL", global = true)]
    pub oidc_label: Option<String>,
}

/// What an OpenID Connect claim is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OidcMatch {
    SourcedId,
    Username,
}

/// Single sign-on with the management platform's OpenID provider.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    pub issuer: Url,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub claim: String,
    pub match_on: OidcMatch,
    pub label: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Where objects (uploaded files) are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectStoreConfig {
    /// A local directory, created when missing.
    Local(PathBuf),
    /// An S3-compatible bucket; credentials and region come from the usual `AWS_*` variables.
    S3 {
        bucket: String,
        prefix: String,
        endpoint: Option<Url>,
    },
}

/// Checked configuration: everything the server needs, with defaults applied.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub data_dir: PathBuf,
    pub bind: SocketAddr,
    pub object_store: ObjectStoreConfig,
    pub index_dir: PathBuf,
    pub public_url: Option<Url>,
    pub log_format: LogFormat,
    pub log_filter: String,
    /// How long in-flight requests may run on after a shutdown signal.
    pub shutdown_grace: Duration,
    /// The largest request body accepted by default (features with uploads set their own).
    pub body_limit: usize,
    /// Import the demo district on start when the database has no people yet.
    pub load_demo: bool,
    pub session_idle: Duration,
    pub session_max: Duration,
    pub code_days: u32,
    pub trusted_proxies: Vec<std::net::IpAddr>,
    pub oidc: Option<OidcConfig>,
    /// The server-wide default; a school administrator may set their school's own.
    pub quiet_hours: crate::messaging::QuietHours,
    pub time_zone: chrono_tz::Tz,
    pub message_rate: u32,
    pub notice_rate: u32,
    /// The largest resource upload, in bytes.
    pub resource_max_size: u64,
    /// The largest file of a hand-in, in bytes.
    pub submission_max_size: u64,
    /// The most the files of one hand-in may add up to, in bytes.
    pub submission_total_size: u64,
    /// Administrators' extra negative words (see `resources::check`).
    pub negative_words: Option<PathBuf>,
    /// How often a socket is pinged; one silent for three of these is closed.
    pub heartbeat: Duration,
    /// How long a socket being closed gives its last frames, the close frame included, to
    /// go out before the connection is dropped (a client that reads nothing more does not
    /// keep its task).
    pub close_wait: Duration,
}

impl Config {
    /// Whether cookies must be `Secure`: the public URL is https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_ref()
            .is_some_and(|u| u.scheme() == "https")
    }

    /// The URL people reach this server at: the public URL, else the bind address.
    pub fn base_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.as_str().trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.bind),
        }
    }
}

/// A setting that cannot be used, with the setting's name and a reason a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{setting}: {zh} / {en}")]
pub struct ConfigError {
    pub setting: &'static str,
    pub zh: String,
    pub en: String,
}

impl ConfigError {
    pub fn new(setting: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            setting,
            zh: zh.into(),
            en: en.into(),
        }
    }
}

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
const DEFAULT_BODY_LIMIT: usize = 2 * 1024 * 1024;

impl Settings {
    /// Apply defaults and check every setting.
    pub fn resolve(&self) -> Result<Config, ConfigError> {
        let data_dir = self
            .data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("data"));
        if data_dir.as_os_str().is_empty() {
            return Err(ConfigError::new(
                "KONGJIAN_DATA_DIR",
                "不能为空",
                "must not be empty",
            ));
        }
        let database_url = match self.database_url.as_deref().map(str::trim) {
            None | Some("") => sqlite_url(&data_dir.join("kongjian.db")),
            Some(url) => parse_database_url(url)?,
        };
        let bind = parse_bind(self.bind.as_deref().unwrap_or(DEFAULT_BIND))?;
        let object_store = match self.object_store.as_deref().map(str::trim) {
            None | Some("") => ObjectStoreConfig::Local(data_dir.join("objects")),
            Some(value) => parse_object_store(value, self.s3_endpoint.as_deref())?,
        };
        let public_url = self
            .public_url
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(parse_public_url)
            .transpose()?;
        let load_demo = match self.demo.as_deref().map(|v| v.trim().to_ascii_lowercase()) {
            None => true,
            Some(v) if matches!(v.as_str(), "" | "on" | "true" | "1" | "yes") => true,
            Some(v) if matches!(v.as_str(), "off" | "false" | "0" | "no") => false,
            Some(v) => {
                return Err(ConfigError::new(
                    "KONGJIAN_DEMO",
                    format!("“{v}”无效，应为 on 或 off"),
                    format!("\"{v}\" is not valid; use on or off"),
                ));
            }
        };
        let session_idle = parse_duration(
            "KONGJIAN_SESSION_IDLE",
            self.session_idle.as_deref().unwrap_or("7d"),
        )?;
        let session_max = parse_duration(
            "KONGJIAN_SESSION_MAX",
            self.session_max.as_deref().unwrap_or("30d"),
        )?;
        let code_days = match self.code_days {
            Some(0) => {
                return Err(ConfigError::new(
                    "KONGJIAN_CODE_DAYS",
                    "至少为 1 天",
                    "must be at least 1 day",
                ));
            }
            Some(days) => days,
            None => 30,
        };
        let trusted_proxies = match self.trusted_proxies.as_deref() {
            None => vec![
                std::net::IpAddr::from([127, 0, 0, 1]),
                std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
            ],
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse().map_err(|_| {
                        ConfigError::new(
                            "KONGJIAN_TRUSTED_PROXIES",
                            format!("“{s}”不是 IP 地址"),
                            format!("\"{s}\" is not an IP address"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let oidc = self.oidc()?;
        let quiet_hours = match self.quiet_hours.as_deref() {
            None => crate::messaging::QuietHours::default(),
            Some(value) => value
                .parse()
                .map_err(|e: crate::messaging::quiet::BadQuietHours| {
                    ConfigError::new("KONGJIAN_QUIET_HOURS", e.zh(), e.en())
                })?,
        };
        let time_zone = match self.time_zone.as_deref().map(str::trim) {
            None | Some("") => chrono_tz::Asia::Shanghai,
            Some(name) => name.parse().map_err(|_| {
                ConfigError::new(
                    "KONGJIAN_TIME_ZONE",
                    format!("“{name}”不是时区名称（例如 Asia/Shanghai）"),
                    format!("\"{name}\" is not a time zone name (e.g. Asia/Shanghai)"),
                )
            })?,
        };
        let rate = |setting: &'static str, value: Option<u32>, default: u32| match value {
            Some(0) => Err(ConfigError::new(setting, "至少为 1", "must be at least 1")),
            Some(n) => Ok(n),
            None => Ok(default),
        };
        let message_rate = rate("KONGJIAN_MESSAGE_RATE", self.message_rate, 30)?;
        let notice_rate = rate("KONGJIAN_NOTICE_RATE", self.notice_rate, 20)?;
        let resource_max_mb = rate("KONGJIAN_RESOURCE_MAX_MB", self.resource_max_mb, 200)?;
        let submission_max_mb = rate("KONGJIAN_SUBMISSION_MAX_MB", self.submission_max_mb, 20)?;
        let submission_total_mb = rate(
            "KONGJIAN_SUBMISSION_TOTAL_MB",
            self.submission_total_mb,
            100,
        )?;
        Ok(Config {
            quiet_hours,
            time_zone,
            message_rate,
            notice_rate,
            resource_max_size: u64::from(resource_max_mb) * 1024 * 1024,
            submission_max_size: u64::from(submission_max_mb) * 1024 * 1024,
            submission_total_size: u64::from(submission_total_mb) * 1024 * 1024,
            negative_words: self
                .negative_words
                .clone()
                .filter(|p| !p.as_os_str().is_empty()),
            heartbeat: Duration::from_secs(20),
            close_wait: Duration::from_secs(5),
            load_demo,
            session_idle,
            session_max,
            code_days,
            trusted_proxies,
            oidc,
            database_url,
            index_dir: data_dir.join("index"),
            data_dir,
            bind,
            object_store,
            public_url,
            log_format: self.log_format.unwrap_or_default(),
            log_filter: self.log.clone().unwrap_or_else(|| {
                "info,sqlx=warn,sea_orm=warn,tower_sessions=warn,tower_sessions_core=error"
                    .to_owned()
            }),
            shutdown_grace: Duration::from_secs(5),
            body_limit: DEFAULT_BODY_LIMIT,
        })
    }
}

impl Settings {
    fn oidc(&self) -> Result<Option<OidcConfig>, ConfigError> {
        let issuer = self
            .oidc_issuer
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let Some(issuer) = issuer else {
            return Ok(None);
        };
        let issuer = Url::parse(issuer).map_err(|e| {
            ConfigError::new(
                "KONGJIAN_OIDC_ISSUER",
                format!("“{issuer}”不是有效的网址（{e}）"),
                format!("\"{issuer}\" is not a valid URL ({e})"),
            )
        })?;
        let client_id = self
            .oidc_client_id
            .clone()
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| {
                ConfigError::new(
                    "KONGJIAN_OIDC_CLIENT_ID",
                    "设置了 KONGJIAN_OIDC_ISSUER 时必须同时设置客户端标识",
                    "is required when KONGJIAN_OIDC_ISSUER is set",
                )
            })?;
        let match_on = match self.oidc_match.as_deref().map(str::trim) {
            None | Some("") | Some("sourced_id") | Some("sourcedId") => OidcMatch::SourcedId,
            Some("username") => OidcMatch::Username,
            Some(other) => {
                return Err(ConfigError::new(
                    "KONGJIAN_OIDC_MATCH",
                    format!("“{other}”无效，应为 sourced_id 或 username"),
                    format!("\"{other}\" is not valid; use sourced_id or username"),
                ));
            }
        };
        Ok(Some(OidcConfig {
            issuer,
            client_id,
            client_secret: self.oidc_client_secret.clone().filter(|s| !s.is_empty()),
            claim: self
                .oidc_claim
                .clone()
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| "sub".to_owned()),
            match_on,
            label: self
                .oidc_label
                .clone()
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| "统一身份认证".to_owned()),
        }))
    }
}

/// A duration such as `30m`, `8h`, `7d` or `90s`.
fn parse_duration(setting: &'static str, value: &str) -> Result<Duration, ConfigError> {
    let value = value.trim();
    let split = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => 0,
    };
    match number.parse::<u64>() {
        Ok(n) if n > 0 && seconds > 0 => Ok(Duration::from_secs(n * seconds)),
        _ => Err(ConfigError::new(
            setting,
            format!("“{value}”不是有效的时长，应为数字加单位 s、m、h 或 d，例如 8h"),
            format!("\"{value}\" is not a duration; use a number and s, m, h or d, such as 8h"),
        )),
    }
}

/// The sqlx URL of a SQLite file that is created when missing.
pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

fn parse_database_url(value: &str) -> Result<String, ConfigError> {
    const NAME: &str = "KONGJIAN_DATABASE_URL";
    if value.starts_with("sqlite:") {
        return Ok(value.to_owned());
    }
    let url = Url::parse(value).map_err(|e| {
        ConfigError::new(
            NAME,
            format!("不是有效的数据库地址（{e}），应为 sqlite://路径 或 postgres://用户@主机/数据库"),
            format!("is not a valid database URL ({e}); expected sqlite://PATH or postgres://USER@HOST/DB"),
        )
    })?;
    match url.scheme() {
        "postgres" | "postgresql" if url.host_str().is_some_and(|h| !h.is_empty()) => {
            Ok(value.to_owned())
        }
        "postgres" | "postgresql" => Err(ConfigError::new(
            NAME,
            "PostgreSQL 地址缺少主机名",
            "the PostgreSQL URL has no host",
        )),
        other => Err(ConfigError::new(
            NAME,
            format!("不支持的数据库类型“{other}”，只支持 sqlite 和 postgres"),
            format!(
                "unsupported database scheme \"{other}\"; only sqlite and postgres are supported"
            ),
        )),
    }
}

fn parse_bind(value: &str) -> Result<SocketAddr, ConfigError> {
    value.trim().parse().map_err(|_| {
        ConfigError::new(
            "KONGJIAN_BIND",
            format!("“{value}”不是有效的监听地址，应为 IP:端口，例如 127.0.0.1:8080"),
            format!("\"{value}\" is not a listen address; expected IP:PORT such as 127.0.0.1:8080"),
        )
    })
}

fn parse_object_store(
    value: &str,
    endpoint: Option<&str>,
) -> Result<ObjectStoreConfig, ConfigError> {
    const NAME: &str = "KONGJIAN_OBJECT_STORE";
    let Some(rest) = value.strip_prefix("s3://") else {
        if value.contains("://") && !value.starts_with("file://") {
            return Err(ConfigError::new(
                NAME,
                format!("不支持“{value}”，应为本地目录或 s3://存储桶/前缀"),
                format!("\"{value}\" is not supported; expected a directory or s3://bucket/prefix"),
            ));
        }
        let path = value.strip_prefix("file://").unwrap_or(value);
        return Ok(ObjectStoreConfig::Local(PathBuf::from(path)));
    };
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(ConfigError::new(
            NAME,
            "s3:// 后缺少存储桶名称",
            "the bucket name after s3:// is missing",
        ));
    }
    let endpoint = endpoint
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|e| {
            Url::parse(e).map_err(|err| {
                ConfigError::new(
                    "KONGJIAN_S3_ENDPOINT",
                    format!("“{e}”不是有效的网址（{err}）"),
                    format!("\"{e}\" is not a valid URL ({err})"),
                )
            })
        })
        .transpose()?;
    Ok(ObjectStoreConfig::S3 {
        bucket: bucket.to_owned(),
        prefix: prefix.trim_matches('/').to_owned(),
        endpoint,
    })
}

fn parse_public_url(value: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(value).map_err(|e| {
        ConfigError::new(
            "KONGJIAN_PUBLIC_URL",
            format!("“{value}”不是有效的网址（{e}）"),
            format!("\"{value}\" is not a valid URL ({e})"),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ConfigError::new(
            "KONGJIAN_PUBLIC_URL",
            "必须以 http:// 或 https:// 开头",
            "must start with http:// or https://",
        ));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings::default()
    }

    #[test]
    fn defaults_put_everything_under_the_data_dir() -> Result<(), ConfigError> {
        let config = settings().resolve()?;
        assert_eq!(config.database_url, "sqlite://data/kongjian.db?mode=rwc");
        assert_eq!(config.bind.to_string(), DEFAULT_BIND);
        assert_eq!(
            config.object_store,
            ObjectStoreConfig::Local(PathBuf::from("data/objects"))
        );
        assert_eq!(config.index_dir, PathBuf::from("data/index"));
        Ok(())
    }

    #[test]
    fn s3_url_gives_bucket_and_prefix() -> Result<(), ConfigError> {
        let config = Settings {
            object_store: Some("s3://school-files/kongjian/prod/".into()),
            s3_endpoint: Some("http://127.0.0.1:9000".into()),
            ..settings()
        }
        .resolve()?;
        let ObjectStoreConfig::S3 {
            bucket,
            prefix,
            endpoint,
        } = config.object_store
        else {
            panic!("expected S3");
        };
        assert_eq!(bucket, "school-files");
        assert_eq!(prefix, "kongjian/prod");
        assert_eq!(
            endpoint.map(|u| u.to_string()).as_deref(),
            Some("http://127.0.0.1:9000/")
        );
        Ok(())
    }

    #[test]
    fn bad_settings_name_the_setting() {
        let cases = [
            (
                Settings {
                    database_url: Some("mysql://x/y".into()),
                    ..settings()
                },
                "KONGJIAN_DATABASE_URL",
            ),
            (
                Settings {
                    database_url: Some("not a url".into()),
                    ..settings()
                },
                "KONGJIAN_DATABASE_URL",
            ),
            (
                Settings {
                    bind: Some("localhost".into()),
                    ..settings()
                },
                "KONGJIAN_BIND",
            ),
            (
                Settings {
                    object_store: Some("s3://".into()),
                    ..settings()
                },
                "KONGJIAN_OBJECT_STORE",
            ),
            (
                Settings {
                    object_store: Some("ftp://x".into()),
                    ..settings()
                },
                "KONGJIAN_OBJECT_STORE",
            ),
            (
                Settings {
                    public_url: Some("ftp://x".into()),
                    ..settings()
                },
                "KONGJIAN_PUBLIC_URL",
            ),
            (
                Settings {
                    data_dir: Some(PathBuf::new()),
                    ..settings()
                },
                "KONGJIAN_DATA_DIR",
            ),
            (
                Settings {
                    session_idle: Some("soon".into()),
                    ..settings()
                },
                "KONGJIAN_SESSION_IDLE",
            ),
            (
                Settings {
                    oidc_issuer: Some("http://127.0.0.1:9/".into()),
                    ..settings()
                },
                "KONGJIAN_OIDC_CLIENT_ID",
            ),
            (
                Settings {
                    oidc_issuer: Some("http://127.0.0.1:9/".into()),
                    oidc_client_id: Some("kongjian".into()),
                    oidc_match: Some("email".into()),
                    ..settings()
                },
                "KONGJIAN_OIDC_MATCH",
            ),
            (
                Settings {
                    trusted_proxies: Some("10.0.0.1, nginx".into()),
                    ..settings()
                },
                "KONGJIAN_TRUSTED_PROXIES",
            ),
        ];
        for (settings, name) in cases {
            let err = settings.resolve().err();
            assert_eq!(err.map(|e| e.setting), Some(name));
        }
    }
}
