//! Typed settings read from the environment (SPEC §7). A bad value stops
//! start-up with one error naming the variable.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rand::RngCore;

/// Everything the server needs to run; tests build it directly.
#[derive(Clone)]
pub struct Settings {
    pub bind_addr: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub redis_url: Option<String>,
    pub redis_prefix: String,
    /// About how many entries the notification stream keeps (`XADD MAXLEN ~`).
    pub stream_max_len: usize,
    /// How often the notifier looks for events committed by other replicas;
    /// this replica's own wake it at once (`NOTIFICATIONS_POLL_MS`).
    pub notifications_poll: Duration,
    pub jwt_secret: Vec<u8>,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub activation_code_ttl: Duration,
    pub wechat: Option<WechatSettings>,
    pub login_limit: LoginLimit,
    /// Worker threads for the HTTP server; `None` uses one per core.
    pub workers: Option<usize>,
    pub log_format: LogFormat,
    /// How many proxies in front of the server append to `X-Forwarded-For`
    /// (`TRUSTED_PROXY_HOPS`): the client address for per-client login limits
    /// is the one the outermost of them saw, the Nth from the right. `None`:
    /// the socket's peer.
    pub trusted_proxy_hops: Option<usize>,
    /// Where uploaded photos are kept.
    pub upload_store: UploadStore,
    /// Largest database pool of this replica (`DATABASE_MAX_CONNECTIONS`).
    pub database_max_connections: u32,
    /// Key of the ID numbers kept encrypted at rest (`ID_NUMBER_KEY`); empty
    /// until [`Settings::ensure_local_secret`] fills it on SQLite.
    pub id_number_key: Vec<u8>,
    /// The key ID numbers were sealed under before `ID_NUMBER_KEY` replaced
    /// it (`ID_NUMBER_KEY_PREVIOUS`): values under it still open, and
    /// `xianfeng reseal-id-numbers` moves them to the current key.
    pub id_number_key_previous: Option<Vec<u8>>,
    /// Web origins allowed to call the API from a browser (`CORS_ALLOWED_ORIGINS`);
    /// empty: same-origin only.
    pub cors_allowed_origins: Vec<String>,
    /// `Strict-Transport-Security` max-age when served over HTTPS
    /// (`HSTS_MAX_AGE_SECS`); `None`: no HSTS header.
    pub hsts_max_age: Option<u64>,
    /// How long deleted rows are kept before they are purged
    /// (`DELETED_RETENTION_DAYS`).
    pub deleted_retention: Duration,
    /// How long audit rows are kept before they are purged
    /// (`AUDIT_RETENTION_DAYS`, at least [`MIN_AUDIT_RETENTION_DAYS`]).
    pub audit_retention: Duration,
    /// What one member may upload in a day (`UPLOAD_DAILY_MAX_*`).
    pub upload_quota: UploadQuota,
    /// How long an upload attached to nothing is kept (`UPLOAD_ORPHAN_HOURS`).
    pub upload_orphan_after: Duration,
}

/// What one member may upload within 24 hours; past it, 429.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadQuota {
    /// Files (`UPLOAD_DAILY_MAX_FILES`).
    pub files: u64,
    /// Bytes (`UPLOAD_DAILY_MAX_MIB`, in MiB).
    pub bytes: u64,
}

impl Default for UploadQuota {
    fn default() -> Self {
        UploadQuota {
            files: 200,
            bytes: 500 * 1024 * 1024,
        }
    }
}

/// Shortest accepted `AUDIT_RETENTION_DAYS`: half a year of who saw what.
pub const MIN_AUDIT_RETENTION_DAYS: u64 = 180;

/// Everything but the signing key, which must never reach a log.
impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("bind_addr", &self.bind_addr)
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact(&self.database_url))
            .field("redis_url", &self.redis_url.as_deref().map(redact))
            .field("jwt_secret", &"[redacted]")
            .field("id_number_key", &"[redacted]")
            .field("cors_allowed_origins", &self.cors_allowed_origins)
            .field("wechat", &self.wechat.as_ref().map(|w| &w.appid))
            .field("upload_store", &self.upload_store)
            .finish_non_exhaustive()
    }
}

/// Where uploaded files are kept (`UPLOAD_STORE`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum UploadStore {
    /// Files under `DATA_DIR/uploads`: the embedded default.
    #[default]
    Local,
    /// An S3-compatible bucket, e.g. for replicas sharing one store.
    S3(S3Settings),
}

/// An S3-compatible bucket (`S3_*`).
#[derive(Clone, PartialEq, Eq)]
pub struct S3Settings {
    pub bucket: String,
    /// For MinIO-like stores; AWS when `None`.
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"***")
            .finish()
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct WechatSettings {
    pub appid: String,
    pub secret: String,
    /// Base of the WeChat API; configurable so tests run a local fake.
    pub api_base: String,
    /// Subscribe-message template for "a submission awaits your review"
    /// (`WECHAT_TEMPLATE_SUBMITTED`); unset: not sent.
    pub template_submitted: Option<String>,
    /// Subscribe-message template for "your submission was decided"
    /// (`WECHAT_TEMPLATE_REVIEWED`); unset: not sent.
    pub template_reviewed: Option<String>,
}

/// How many failed logins are allowed before 429 (SPEC §4).
#[derive(Debug, Clone, Copy)]
pub struct LoginLimit {
    /// Failed attempts for one phone (or WeChat code source) within `window`.
    pub per_account: u32,
    /// Failed attempts from one client address within `window`.
    pub per_client: u32,
    pub window: Duration,
}

impl Default for LoginLimit {
    fn default() -> Self {
        LoginLimit {
            per_account: 10,
            per_client: 100,
            window: Duration::from_secs(15 * 60),
        }
    }
}

/// A setting that could not be used; the message names the variable.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

fn bad(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

/// Shortest accepted `JWT_SECRET`, in bytes.
pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// Length of `ID_NUMBER_KEY`: a 256-bit key, written as 64 hex digits.
pub const ID_NUMBER_KEY_BYTES: usize = 32;

/// How to make a `JWT_SECRET`, told whenever one is refused.
const MAKE_JWT_SECRET: &str = "make one with `openssl rand -base64 48`";
/// How to make an `ID_NUMBER_KEY`, told whenever one is refused.
const MAKE_ID_NUMBER_KEY: &str = "make one with `openssl rand -hex 32`";

/// Secrets once published as examples (docker-compose.yml, .env.example, the
/// README): whoever read them can sign tokens or open ID numbers.
const PLACEHOLDER_SECRETS: [&str; 2] = [
    "change-me-change-me-change-me-change-me-0123456789",
    "00000000000000000000000000000000000000000000000000000000000000ff",
];
/// Words a secret holds only when someone meant to replace it.
const PLACEHOLDER_WORDS: [&str; 10] = [
    "changeme",
    "change-me",
    "change_me",
    "changethis",
    "change-this",
    "replaceme",
    "replace-me",
    "placeholder",
    "example",
    "your-secret",
];
/// Fewest distinct bytes of a `JWT_SECRET`: 32 random hex digits have 8 or
/// fewer about once in a million.
const MIN_DISTINCT_JWT_BYTES: usize = 8;
/// Fewest distinct bytes of the 32 of an `ID_NUMBER_KEY`: random keys have
/// about 30, and fewer than 20 practically never.
const MIN_DISTINCT_KEY_BYTES: usize = 20;

/// Why a secret cannot be trusted, if it cannot: `written` as it was set,
/// `bytes` as it is used. A published placeholder, few distinct bytes, or a
/// short pattern repeated (fewer distinct neighbouring pairs than half the
/// pairs; random secrets have nearly all pairs distinct).
fn weakness(written: &str, bytes: &[u8], min_distinct: usize) -> Option<&'static str> {
    let lower = written.trim().to_ascii_lowercase();
    if PLACEHOLDER_SECRETS.contains(&lower.as_str())
        || PLACEHOLDER_WORDS.iter().any(|word| lower.contains(word))
    {
        return Some("is a published placeholder, not a secret");
    }
    let distinct: std::collections::HashSet<u8> = bytes.iter().copied().collect();
    if distinct.len() < min_distinct {
        return Some("has too few distinct characters to be a random secret");
    }
    let pairs: std::collections::HashSet<&[u8]> = bytes.windows(2).collect();
    if pairs.len() * 2 < bytes.len().saturating_sub(1) {
        return Some("repeats a short pattern instead of being random");
    }
    None
}

impl Settings {
    /// Reads the process environment (after `.env`, if present).
    pub fn from_env() -> Result<Self, ConfigError> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// Reads settings through `lookup`, so tests can supply their own environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let bind_addr = match lookup("BIND_ADDR") {
            Some(v) => v
                .parse()
                .map_err(|_| bad("BIND_ADDR", format!("'{v}' is not host:port")))?,
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
        };
        let data_dir = PathBuf::from(lookup("DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database_url = match lookup("DATABASE_URL") {
            Some(url)
                if url.starts_with("postgres://")
                    || url.starts_with("postgresql://")
                    || url.starts_with("sqlite:") =>
            {
                url
            }
            Some(url) => {
                return Err(bad(
                    "DATABASE_URL",
                    format!("'{}' is neither postgres:// nor sqlite:", redact(&url)),
                ));
            }
            None => sqlite_url(&data_dir),
        };
        let redis_url = match lookup("REDIS_URL") {
            Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => Some(url),
            Some(url) => {
                return Err(bad(
                    "REDIS_URL",
                    format!("'{}' is not a redis:// URL", redact(&url)),
                ));
            }
            None => None,
        };
        let redis_prefix = lookup("REDIS_PREFIX").unwrap_or_else(|| "xianfeng".into());
        let on_postgres = database_url.starts_with("postgres");
        let jwt_secret = match lookup("JWT_SECRET") {
            Some(secret) if secret.len() < MIN_JWT_SECRET_BYTES => {
                return Err(bad(
                    "JWT_SECRET",
                    format!("must be at least {MIN_JWT_SECRET_BYTES} bytes; {MAKE_JWT_SECRET}"),
                ));
            }
            Some(secret) => match weakness(&secret, secret.as_bytes(), MIN_DISTINCT_JWT_BYTES) {
                Some(why) => return Err(bad("JWT_SECRET", format!("{why}; {MAKE_JWT_SECRET}"))),
                None => secret.into_bytes(),
            },
            None if on_postgres => {
                return Err(bad(
                    "JWT_SECRET",
                    format!("required when DATABASE_URL is PostgreSQL; {MAKE_JWT_SECRET}"),
                ));
            }
            None => Vec::new(), // filled from DATA_DIR by `ensure_local_secret`
        };
        let id_number_key = match lookup("ID_NUMBER_KEY") {
            Some(key) => {
                let parsed = parse_key(&key).ok_or_else(|| {
                    bad(
                        "ID_NUMBER_KEY",
                        format!(
                            "must be {} hex digits; {MAKE_ID_NUMBER_KEY}",
                            ID_NUMBER_KEY_BYTES * 2
                        ),
                    )
                })?;
                if let Some(why) = weakness(&key, &parsed, MIN_DISTINCT_KEY_BYTES) {
                    return Err(bad(
                        "ID_NUMBER_KEY",
                        format!(
                            "{why}; {MAKE_ID_NUMBER_KEY} (ID numbers sealed under this one: \
                             keep it in ID_NUMBER_KEY_PREVIOUS and run `xianfeng reseal-id-numbers`)"
                        ),
                    ));
                }
                parsed
            }
            None if on_postgres => {
                return Err(bad(
                    "ID_NUMBER_KEY",
                    format!("required when DATABASE_URL is PostgreSQL; {MAKE_ID_NUMBER_KEY}"),
                ));
            }
            None => Vec::new(), // filled from DATA_DIR by `ensure_local_secret`
        };
        let id_number_key_previous = match lookup("ID_NUMBER_KEY_PREVIOUS") {
            Some(key) => Some(parse_key(&key).ok_or_else(|| {
                bad(
                    "ID_NUMBER_KEY_PREVIOUS",
                    format!("must be {} hex digits", ID_NUMBER_KEY_BYTES * 2),
                )
            })?),
            None => None,
        };
        let cors_allowed_origins = match lookup("CORS_ALLOWED_ORIGINS") {
            Some(list) => parse_origins(&list)?,
            None => Vec::new(),
        };
        let hsts_max_age = match lookup("HSTS_MAX_AGE_SECS") {
            Some(_) => Some(number(&lookup, "HSTS_MAX_AGE_SECS", 0u64)?),
            None => None,
        };
        let deleted_retention =
            Duration::from_secs(number(&lookup, "DELETED_RETENTION_DAYS", 90u64)? * 24 * 3600);
        let audit_retention = match number(&lookup, "AUDIT_RETENTION_DAYS", 1095u64)? {
            days if days < MIN_AUDIT_RETENTION_DAYS => {
                return Err(bad(
                    "AUDIT_RETENTION_DAYS",
                    format!("must be at least {MIN_AUDIT_RETENTION_DAYS} days"),
                ));
            }
            days => Duration::from_secs(days * 24 * 3600),
        };
        let upload_quota = UploadQuota {
            files: number(
                &lookup,
                "UPLOAD_DAILY_MAX_FILES",
                UploadQuota::default().files,
            )?,
            bytes: number(&lookup, "UPLOAD_DAILY_MAX_MIB", 500u64)?.saturating_mul(1024 * 1024),
        };
        let upload_orphan_after =
            Duration::from_secs(number(&lookup, "UPLOAD_ORPHAN_HOURS", 48u64)? * 3600);
        let wechat = match (lookup("WECHAT_APPID"), lookup("WECHAT_SECRET")) {
            (Some(appid), Some(secret)) => Some(WechatSettings {
                appid,
                secret,
                api_base: lookup("WECHAT_API_BASE")
                    .unwrap_or_else(|| "https://api.weixin.qq.com".into()),
                template_submitted: lookup("WECHAT_TEMPLATE_SUBMITTED"),
                template_reviewed: lookup("WECHAT_TEMPLATE_REVIEWED"),
            }),
            (Some(_), None) => {
                return Err(bad("WECHAT_SECRET", "required when WECHAT_APPID is set"));
            }
            (None, Some(_)) => {
                return Err(bad("WECHAT_APPID", "required when WECHAT_SECRET is set"));
            }
            (None, None) => None,
        };
        let defaults = LoginLimit::default();
        let login_limit = LoginLimit {
            per_account: number(&lookup, "LOGIN_MAX_FAILURES", defaults.per_account)?,
            per_client: number(
                &lookup,
                "LOGIN_MAX_FAILURES_PER_CLIENT",
                defaults.per_client,
            )?,
            window: Duration::from_secs(number(
                &lookup,
                "LOGIN_WINDOW_SECS",
                defaults.window.as_secs(),
            )?),
        };
        let workers = match lookup("WORKERS") {
            Some(_) => Some(number(&lookup, "WORKERS", 1usize)?),
            None => None,
        };
        let log_format = match lookup("LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(bad(
                    "LOG_FORMAT",
                    format!("'{other}' is neither text nor json"),
                ));
            }
        };
        // `TRUST_PROXY_HEADERS=true`, from before the hops were counted,
        // meant one proxy.
        let legacy_hops = match lookup("TRUST_PROXY_HEADERS").as_deref() {
            None | Some("false") | Some("0") => None,
            Some("true") | Some("1") => Some(1),
            Some(other) => {
                return Err(bad(
                    "TRUST_PROXY_HEADERS",
                    format!("'{other}' is neither true nor false (use TRUSTED_PROXY_HOPS)"),
                ));
            }
        };
        let trusted_proxy_hops = match lookup("TRUSTED_PROXY_HOPS") {
            Some(_) => match number(&lookup, "TRUSTED_PROXY_HOPS", 0usize)? {
                0 => None,
                hops => Some(hops),
            },
            None => legacy_hops,
        };
        let upload_store = match lookup("UPLOAD_STORE").as_deref() {
            None | Some("local") => UploadStore::Local,
            Some("s3") => UploadStore::S3(s3_settings(&lookup)?),
            Some(other) => {
                return Err(bad(
                    "UPLOAD_STORE",
                    format!("'{other}' is neither local nor s3"),
                ));
            }
        };
        let default_pool = 8;
        let database_max_connections =
            match number(&lookup, "DATABASE_MAX_CONNECTIONS", default_pool)? {
                0 => return Err(bad("DATABASE_MAX_CONNECTIONS", "must be at least 1")),
                n => n,
            };
        Ok(Settings {
            id_number_key,
            id_number_key_previous,
            cors_allowed_origins,
            hsts_max_age,
            deleted_retention,
            audit_retention,
            upload_quota,
            upload_orphan_after,
            database_max_connections,
            upload_store,
            trusted_proxy_hops,
            log_format,
            bind_addr,
            data_dir,
            database_url,
            redis_url,
            redis_prefix,
            stream_max_len: number(&lookup, "NOTIFICATIONS_STREAM_MAXLEN", 100_000)?,
            notifications_poll: Duration::from_millis(number(
                &lookup,
                "NOTIFICATIONS_POLL_MS",
                250,
            )?),
            jwt_secret,
            access_token_ttl: Duration::from_secs(number(
                &lookup,
                "ACCESS_TOKEN_TTL_SECS",
                15 * 60,
            )?),
            refresh_token_ttl: Duration::from_secs(number(
                &lookup,
                "REFRESH_TOKEN_TTL_SECS",
                30 * 24 * 3600,
            )?),
            activation_code_ttl: Duration::from_secs(number(
                &lookup,
                "ACTIVATION_CODE_TTL_SECS",
                7 * 24 * 3600,
            )?),
            wechat,
            login_limit,
            workers,
        })
    }

    /// On SQLite without `JWT_SECRET` or `ID_NUMBER_KEY`: random keys, made
    /// once and kept in `DATA_DIR`.
    pub fn ensure_local_secret(&mut self) -> Result<(), ConfigError> {
        self.ensure_id_number_key()?;
        if !self.jwt_secret.is_empty() {
            return Ok(());
        }
        let path = self.data_dir.join("jwt_secret");
        let io = |e: std::io::Error| bad("DATA_DIR", format!("{}: {e}", path.display()));
        if let Ok(existing) = std::fs::read(&path)
            && existing.len() >= MIN_JWT_SECRET_BYTES
        {
            keep_private(&path).map_err(io)?;
            self.jwt_secret = existing;
            return Ok(());
        }
        std::fs::create_dir_all(&self.data_dir).map_err(io)?;
        let mut secret = [0u8; 48];
        rand::rng().fill_bytes(&mut secret);
        let encoded = hex::encode(secret).into_bytes();
        write_private(&path, &encoded).map_err(io)?;
        self.jwt_secret = encoded;
        Ok(())
    }

    /// The ID-number key from `DATA_DIR/id_number_key`, made there when missing.
    /// Losing this file loses the ID numbers: back it up with the database.
    fn ensure_id_number_key(&mut self) -> Result<(), ConfigError> {
        if !self.id_number_key.is_empty() {
            return Ok(());
        }
        let path = self.data_dir.join("id_number_key");
        let io = |e: std::io::Error| bad("DATA_DIR", format!("{}: {e}", path.display()));
        if let Ok(existing) = std::fs::read_to_string(&path) {
            self.id_number_key = parse_key(existing.trim()).ok_or_else(|| {
                bad(
                    "DATA_DIR",
                    format!("{}: not a key of 64 hex digits", path.display()),
                )
            })?;
            keep_private(&path).map_err(io)?;
            return Ok(());
        }
        std::fs::create_dir_all(&self.data_dir).map_err(io)?;
        let mut key = [0u8; ID_NUMBER_KEY_BYTES];
        rand::rng().fill_bytes(&mut key);
        write_private(&path, hex::encode(key).as_bytes()).map_err(io)?;
        self.id_number_key = key.to_vec();
        Ok(())
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

/// Writes a new key file readable by its owner only (0600): the keys sign
/// every token and open every ID number.
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    // The mode above applies to a new file only.
    keep_private(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Takes group and other access away from a key file an earlier version
/// left readable to every local user.
fn keep_private(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                mode = format!("{:o}", mode & 0o777),
                "key file was readable by others: now 0600"
            );
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// The embedded default: a SQLite file in `data_dir`, created when missing.
pub fn sqlite_url(data_dir: &Path) -> String {
    format!(
        "sqlite://{}?mode=rwc",
        data_dir.join("xianfeng.db").display()
    )
}

/// The bucket settings `UPLOAD_STORE=s3` needs.
fn s3_settings(lookup: &impl Fn(&str) -> Option<String>) -> Result<S3Settings, ConfigError> {
    let required = |variable: &'static str| {
        lookup(variable).ok_or_else(|| bad(variable, "required when UPLOAD_STORE is s3"))
    };
    let endpoint = match lookup("S3_ENDPOINT") {
        Some(url) if url.starts_with("http://") || url.starts_with("https://") => Some(url),
        Some(url) => {
            return Err(bad(
                "S3_ENDPOINT",
                format!("'{}' is not an http(s):// URL", redact(&url)),
            ));
        }
        None => None,
    };
    Ok(S3Settings {
        bucket: required("S3_BUCKET")?,
        endpoint,
        region: lookup("S3_REGION").unwrap_or_else(|| "us-east-1".into()),
        access_key_id: required("S3_ACCESS_KEY_ID")?,
        secret_access_key: required("S3_SECRET_ACCESS_KEY")?,
    })
}

/// A 256-bit key written as hex.
fn parse_key(value: &str) -> Option<Vec<u8>> {
    hex::decode(value)
        .ok()
        .filter(|key| key.len() == ID_NUMBER_KEY_BYTES)
}

/// `CORS_ALLOWED_ORIGINS`: comma-separated `scheme://host[:port]`, nothing after.
fn parse_origins(list: &str) -> Result<Vec<String>, ConfigError> {
    list.split(',')
        .map(str::trim)
        .filter(|origin| !origin.is_empty())
        .map(|origin| {
            let rest = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"));
            match rest {
                Some(host)
                    if !host.is_empty() && !host.contains(['/', '?', '#', '*', ' ', '@']) =>
                {
                    Ok(origin.to_ascii_lowercase())
                }
                _ => Err(bad(
                    "CORS_ALLOWED_ORIGINS",
                    format!("'{origin}' is not an origin like https://dashboard.example.cn"),
                )),
            }
        })
        .collect()
}

fn number<T: std::str::FromStr>(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: T,
) -> Result<T, ConfigError> {
    match lookup(variable) {
        Some(v) => v
            .parse()
            .map_err(|_| bad(variable, format!("'{v}' is not a whole number"))),
        None => Ok(default),
    }
}

/// Hides the password of a URL before it is printed.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://***{}", &url[..scheme_end], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let env: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| env.get(name).cloned())
    }

    #[test]
    fn defaults_to_sqlite_in_data_dir_on_localhost_8080() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.bind_addr.to_string(), "127.0.0.1:8080");
        assert!(s.is_sqlite());
        assert!(s.database_url.contains("data/xianfeng.db"));
        assert!(s.redis_url.is_none());
    }

    #[test]
    fn postgres_without_jwt_secret_is_refused() {
        let err = settings(&[("DATABASE_URL", "postgres://u@localhost/db")]).unwrap_err();
        assert_eq!(err.variable, "JWT_SECRET");
    }

    #[test]
    fn short_jwt_secret_is_refused() {
        let err = settings(&[("JWT_SECRET", "short")]).unwrap_err();
        assert_eq!(err.variable, "JWT_SECRET");
    }

    #[test]
    fn bad_values_name_their_variable() {
        assert_eq!(
            settings(&[("BIND_ADDR", "nowhere")]).unwrap_err().variable,
            "BIND_ADDR"
        );
        assert_eq!(
            settings(&[("REDIS_URL", "http://x")]).unwrap_err().variable,
            "REDIS_URL"
        );
        assert_eq!(
            settings(&[("LOGIN_MAX_FAILURES", "ten")])
                .unwrap_err()
                .variable,
            "LOGIN_MAX_FAILURES"
        );
        assert_eq!(
            settings(&[("WECHAT_APPID", "wx1")]).unwrap_err().variable,
            "WECHAT_SECRET"
        );
        assert_eq!(
            settings(&[("NOTIFICATIONS_STREAM_MAXLEN", "lots")])
                .unwrap_err()
                .variable,
            "NOTIFICATIONS_STREAM_MAXLEN"
        );
    }

    #[test]
    fn the_notification_stream_cap_is_configurable() {
        assert_eq!(settings(&[]).unwrap().stream_max_len, 100_000);
        let capped = settings(&[("NOTIFICATIONS_STREAM_MAXLEN", "5000")]).unwrap();
        assert_eq!(capped.stream_max_len, 5_000);
    }

    #[test]
    fn the_notifier_poll_is_configurable() {
        assert_eq!(
            settings(&[]).unwrap().notifications_poll,
            Duration::from_millis(250)
        );
        let slow = settings(&[("NOTIFICATIONS_POLL_MS", "60000")]).unwrap();
        assert_eq!(slow.notifications_poll, Duration::from_secs(60));
        assert_eq!(
            settings(&[("NOTIFICATIONS_POLL_MS", "soon")])
                .unwrap_err()
                .variable,
            "NOTIFICATIONS_POLL_MS"
        );
    }

    #[test]
    fn uploads_default_to_local_files() {
        assert_eq!(settings(&[]).unwrap().upload_store, UploadStore::Local);
        assert_eq!(
            settings(&[("UPLOAD_STORE", "local")]).unwrap().upload_store,
            UploadStore::Local
        );
    }

    const S3_VARS: [(&str, &str); 4] = [
        ("UPLOAD_STORE", "s3"),
        ("S3_BUCKET", "photos"),
        ("S3_ACCESS_KEY_ID", "key"),
        ("S3_SECRET_ACCESS_KEY", "secret"),
    ];

    #[test]
    fn s3_store_reads_its_variables_with_a_default_region() {
        let mut vars = S3_VARS.to_vec();
        vars.push(("S3_ENDPOINT", "http://127.0.0.1:9000"));

        let store = settings(&vars).unwrap().upload_store;

        assert_eq!(
            store,
            UploadStore::S3(S3Settings {
                bucket: "photos".into(),
                endpoint: Some("http://127.0.0.1:9000".into()),
                region: "us-east-1".into(),
                access_key_id: "key".into(),
                secret_access_key: "secret".into(),
            })
        );
        assert!(!format!("{store:?}").contains("secret\""), "secret shown");
    }

    #[test]
    fn s3_store_without_a_required_variable_names_it() {
        for missing in ["S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"] {
            let vars: Vec<_> = S3_VARS.into_iter().filter(|(k, _)| *k != missing).collect();
            assert_eq!(settings(&vars).unwrap_err().variable, missing);
        }
    }

    #[test]
    fn bad_upload_store_values_name_their_variable() {
        assert_eq!(
            settings(&[("UPLOAD_STORE", "ftp")]).unwrap_err().variable,
            "UPLOAD_STORE"
        );
        let mut vars = S3_VARS.to_vec();
        vars.push(("S3_ENDPOINT", "minio:9000"));
        assert_eq!(settings(&vars).unwrap_err().variable, "S3_ENDPOINT");
    }

    #[test]
    fn postgres_without_id_number_key_is_refused() {
        let err = settings(&[
            ("DATABASE_URL", "postgres://u@localhost/db"),
            ("JWT_SECRET", "a-secret-that-is-at-least-32-bytes-long"),
        ])
        .unwrap_err();
        assert_eq!(err.variable, "ID_NUMBER_KEY");
    }

    #[test]
    fn id_number_key_must_be_64_hex_digits() {
        for bad_key in ["short", &"zz".repeat(32), &"ab".repeat(31)] {
            let err = settings(&[("ID_NUMBER_KEY", bad_key)]).unwrap_err();
            assert_eq!(err.variable, "ID_NUMBER_KEY");
        }
        let err = settings(&[("ID_NUMBER_KEY_PREVIOUS", "abcd")]).unwrap_err();
        assert_eq!(err.variable, "ID_NUMBER_KEY_PREVIOUS");
        let key = random_hex(ID_NUMBER_KEY_BYTES);
        let good = settings(&[("ID_NUMBER_KEY", &key)]).unwrap();
        assert_eq!(good.id_number_key, hex::decode(key).unwrap());
    }

    #[test]
    fn sqlite_without_id_number_key_keeps_one_in_data_dir() {
        let dir = std::env::temp_dir().join(format!("xianfeng-key-{}", uuid::Uuid::now_v7()));
        let data_dir = dir.display().to_string();
        let mut first = settings(&[("DATA_DIR", &data_dir)]).unwrap();
        first.ensure_local_secret().unwrap();
        let mut again = settings(&[("DATA_DIR", &data_dir)]).unwrap();
        again.ensure_local_secret().unwrap();

        assert_eq!(first.id_number_key.len(), ID_NUMBER_KEY_BYTES);
        assert_eq!(first.id_number_key, again.id_number_key);
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn cors_origins_default_to_none_and_bad_ones_are_named() {
        assert!(settings(&[]).unwrap().cors_allowed_origins.is_empty());
        let allowed = settings(&[(
            "CORS_ALLOWED_ORIGINS",
            "https://Dash.example.cn, http://127.0.0.1:3000",
        )])
        .unwrap();
        assert_eq!(
            allowed.cors_allowed_origins,
            ["https://dash.example.cn", "http://127.0.0.1:3000"]
        );
        for bad_origin in ["*", "dash.example.cn", "https://x.cn/path", "ftp://x.cn"] {
            let err = settings(&[("CORS_ALLOWED_ORIGINS", bad_origin)]).unwrap_err();
            assert_eq!(err.variable, "CORS_ALLOWED_ORIGINS", "{bad_origin}");
        }
    }

    #[test]
    fn hsts_only_when_configured() {
        assert_eq!(settings(&[]).unwrap().hsts_max_age, None);
        let tls = settings(&[("HSTS_MAX_AGE_SECS", "31536000")]).unwrap();
        assert_eq!(tls.hsts_max_age, Some(31_536_000));
        assert_eq!(
            settings(&[("HSTS_MAX_AGE_SECS", "a year")])
                .unwrap_err()
                .variable,
            "HSTS_MAX_AGE_SECS"
        );
    }

    /// `openssl rand -hex <bytes>`, without openssl.
    fn random_hex(bytes: usize) -> String {
        let mut raw = vec![0u8; bytes];
        rand::rng().fill_bytes(&mut raw);
        hex::encode(raw)
    }

    #[test]
    fn published_placeholder_secrets_are_refused_saying_how_to_make_one() {
        let placeholders = [
            "change-me-change-me-change-me-change-me-0123456789",
            "CHANGEME-to-something-random-and-long-0123456789",
            "replace-me-with-a-random-string-of-32-bytes",
            "your-secret-goes-here-it-must-be-long-enough",
        ];
        for placeholder in placeholders {
            let err = settings(&[("JWT_SECRET", placeholder)]).unwrap_err();
            assert_eq!(err.variable, "JWT_SECRET", "{placeholder}");
            assert!(err.problem.contains("placeholder"), "{}", err.problem);
            assert!(
                err.problem.contains("openssl rand -base64 48"),
                "{}",
                err.problem
            );
        }
        let compose_key = format!("{}ff", "0".repeat(62));
        let err = settings(&[("ID_NUMBER_KEY", &compose_key)]).unwrap_err();
        assert_eq!(err.variable, "ID_NUMBER_KEY");
        assert!(
            err.problem.contains("openssl rand -hex 32"),
            "{}",
            err.problem
        );
    }

    #[test]
    fn low_entropy_secrets_are_refused() {
        let weak_secrets = [
            "a".repeat(48),
            "ab".repeat(24),
            "0123456701234567012345670123456701234567".to_owned(),
            "bench-secret-bench-secret-bench-secret".to_owned(),
        ];
        for weak in &weak_secrets {
            let err = settings(&[("JWT_SECRET", weak)]).unwrap_err();
            assert_eq!(err.variable, "JWT_SECRET", "{weak}");
            assert!(
                err.problem.contains("openssl rand -base64 48"),
                "{}",
                err.problem
            );
        }
        let weak_keys = [
            "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff".to_owned(),
            "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0".to_owned(),
            "ab".repeat(32),
        ];
        for weak in &weak_keys {
            let err = settings(&[("ID_NUMBER_KEY", weak)]).unwrap_err();
            assert_eq!(err.variable, "ID_NUMBER_KEY", "{weak}");
        }
    }

    #[test]
    fn random_secrets_are_accepted() {
        for _ in 0..200 {
            let jwt = random_hex(16);
            let key = random_hex(ID_NUMBER_KEY_BYTES);
            let good = settings(&[("JWT_SECRET", &jwt), ("ID_NUMBER_KEY", &key)]).unwrap();
            assert_eq!(good.jwt_secret, jwt.as_bytes());
        }
        let base64 = "q4Z0Yx8mJ2vN7cRkLw5pTgHs1aUe3bFd9iOoXyMzQnV6rWjKtG+/lPhSuCE=";
        assert!(settings(&[("JWT_SECRET", base64)]).is_ok());
    }

    #[test]
    fn the_key_being_replaced_may_be_a_placeholder() {
        let compose_key = format!("{}ff", "0".repeat(62));
        let rotating = settings(&[
            ("ID_NUMBER_KEY", &random_hex(ID_NUMBER_KEY_BYTES)),
            ("ID_NUMBER_KEY_PREVIOUS", &compose_key),
        ]);
        assert!(rotating.is_ok());
    }

    #[cfg(unix)]
    fn mode_of(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[cfg(unix)]
    #[test]
    fn key_files_are_made_readable_by_their_owner_only() {
        let dir = std::env::temp_dir().join(format!("xianfeng-mode-{}", uuid::Uuid::now_v7()));
        let mut made = settings(&[("DATA_DIR", &dir.display().to_string())]).unwrap();

        made.ensure_local_secret().unwrap();

        assert_eq!(mode_of(&dir.join("jwt_secret")), 0o600);
        assert_eq!(mode_of(&dir.join("id_number_key")), 0o600);
        std::fs::remove_dir_all(dir).ok();
    }

    #[cfg(unix)]
    #[test]
    fn key_files_left_readable_by_others_are_made_private_at_start() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("xianfeng-mode-{}", uuid::Uuid::now_v7()));
        let data_dir = dir.display().to_string();
        settings(&[("DATA_DIR", &data_dir)])
            .unwrap()
            .ensure_local_secret()
            .unwrap();
        for file in ["jwt_secret", "id_number_key"] {
            std::fs::set_permissions(dir.join(file), std::fs::Permissions::from_mode(0o644))
                .unwrap();
        }

        let mut again = settings(&[("DATA_DIR", &data_dir)]).unwrap();
        again.ensure_local_secret().unwrap();

        assert_eq!(mode_of(&dir.join("jwt_secret")), 0o600);
        assert_eq!(mode_of(&dir.join("id_number_key")), 0o600);
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn audit_retention_defaults_to_three_years_and_refuses_less_than_half_a_year() {
        let day = Duration::from_secs(24 * 3600);
        assert_eq!(settings(&[]).unwrap().audit_retention, day * 1095);
        let kept = settings(&[("AUDIT_RETENTION_DAYS", "180")]).unwrap();
        assert_eq!(kept.audit_retention, day * 180);
        for short in ["179", "0", "forever"] {
            let err = settings(&[("AUDIT_RETENTION_DAYS", short)]).unwrap_err();
            assert_eq!(err.variable, "AUDIT_RETENTION_DAYS", "{short}");
        }
    }

    #[test]
    fn upload_quota_and_orphan_age_have_defaults_and_name_bad_values() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.upload_quota.files, 200);
        assert_eq!(s.upload_quota.bytes, 500 * 1024 * 1024);
        assert_eq!(s.upload_orphan_after, Duration::from_secs(48 * 3600));
        let s = settings(&[
            ("UPLOAD_DAILY_MAX_FILES", "3"),
            ("UPLOAD_DAILY_MAX_MIB", "1"),
            ("UPLOAD_ORPHAN_HOURS", "1"),
        ])
        .unwrap();
        assert_eq!(s.upload_quota.files, 3);
        assert_eq!(s.upload_quota.bytes, 1024 * 1024);
        assert_eq!(s.upload_orphan_after, Duration::from_secs(3600));
        for variable in [
            "UPLOAD_DAILY_MAX_FILES",
            "UPLOAD_DAILY_MAX_MIB",
            "UPLOAD_ORPHAN_HOURS",
        ] {
            assert_eq!(
                settings(&[(variable, "many")]).unwrap_err().variable,
                variable
            );
        }
    }

    #[test]
    fn redacts_passwords_in_urls() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://***@h/db");
    }

    #[test]
    fn trusted_proxy_hops_default_to_none_and_the_old_switch_means_one() {
        assert_eq!(settings(&[]).unwrap().trusted_proxy_hops, None);
        let hops = |vars: &[(&str, &str)]| settings(vars).unwrap().trusted_proxy_hops;
        assert_eq!(hops(&[("TRUSTED_PROXY_HOPS", "2")]), Some(2));
        assert_eq!(hops(&[("TRUSTED_PROXY_HOPS", "0")]), None);
        assert_eq!(hops(&[("TRUST_PROXY_HEADERS", "true")]), Some(1));
        assert_eq!(
            hops(&[("TRUST_PROXY_HEADERS", "true"), ("TRUSTED_PROXY_HOPS", "2")]),
            Some(2)
        );
        let err = settings(&[("TRUSTED_PROXY_HOPS", "yes")]).unwrap_err();
        assert_eq!(err.variable, "TRUSTED_PROXY_HOPS");
    }
}
