//! `spawn_app()`: a server on a free port over a fresh database (SQLite, or
//! PostgreSQL when `TEST_DATABASE_URL` is set), Redis-backed when
//! `TEST_REDIS_URL` is set, with a small world of two townships to act in.

use std::collections::HashMap;
use std::sync::OnceLock;

use reqwest::{Client, Method, RequestBuilder, Response};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};
use uuid::Uuid;
use xianfeng::app::Application;
use xianfeng::domain::{BranchKind, Role};
use xianfeng::entities::{branch, household, township, user};
use xianfeng::features::households::dto::HouseholdFields;
use xianfeng::features::users::dto::NewUser;
use xianfeng::platform::config::Settings;
use xianfeng::platform::tokens::{AccessClaims, TokenKeys, TokenType, now_secs};

pub const PASSWORD: &str = "correct-horse-battery";
pub const JWT_SECRET: &str = "test-secret-that-is-at-least-32-bytes-long";
/// The key of ID numbers at rest in tests (64 hex digits).
pub const ID_NUMBER_KEY: &str = "2c7755d5d5a8f15f3efe6fe5dada58793cbd56547059ffa45fa9791f44468d8a";

pub struct TestApp {
    pub address: String,
    pub client: Client,
    pub db: DatabaseConnection,
    pub keys: TokenKeys,
    pub world: World,
    /// The server's `DATA_DIR` (its uploads, when stored locally).
    pub data_dir: std::path::PathBuf,
    /// Last, so that it is dropped after the rest.
    _leftovers: Leftovers,
}

/// What a test made outside its process: its PostgreSQL database, its
/// `DATA_DIR`, its Redis keys. Removed when the test ends, passed or failed.
struct Leftovers {
    database: Option<TestDatabase>,
    data_dir: std::path::PathBuf,
    redis: Option<(String, String)>,
}

struct TestDatabase {
    admin_url: String,
    name: String,
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.data_dir).ok();
        let database = self.database.take();
        let redis = self.redis.take();
        // The test's runtime may be shutting down: a thread with a runtime of
        // its own does the work, and the test waits for it.
        let cleaner = std::thread::spawn(move || {
            if let Some((url, prefix)) = redis
                && let Ok(mut connection) =
                    redis::Client::open(url).and_then(|client| client.get_connection())
            {
                let keys: Vec<String> = redis::cmd("KEYS")
                    .arg(format!("{prefix}*"))
                    .query(&mut connection)
                    .unwrap_or_default();
                if !keys.is_empty() {
                    redis::cmd("DEL").arg(keys).exec(&mut connection).ok();
                }
            }
            if let Some(database) = database {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(async {
                    if let Ok(admin) = Database::connect(&database.admin_url).await {
                        // FORCE: the test's server still holds connections.
                        admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                                database.name
                            ))
                            .await
                            .ok();
                        admin.close().await.ok();
                    }
                });
            }
        });
        cleaner.join().ok();
    }
}

/// Two townships. In `a`: two branches, each with a secretary, two members and
/// two households (the first assigned to the first member); an admin. In `b`:
/// one branch with the same cast.
pub struct World {
    pub a: Town,
    pub b: Town,
}

pub struct Town {
    pub township: township::Model,
    pub admin: user::Model,
    pub branches: Vec<Branch>,
}

pub struct Branch {
    pub branch: branch::Model,
    pub secretary: user::Model,
    pub members: Vec<user::Model>,
    pub households: Vec<household::Model>,
}

/// Options for `spawn_app_with`.
#[derive(Default)]
pub struct Options {
    /// Extra environment, e.g. `WECHAT_APPID`.
    pub env: Vec<(&'static str, String)>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    xianfeng::platform::telemetry::init("error", xianfeng::platform::config::LogFormat::Text);
    let data_dir = std::env::temp_dir().join(format!("xianfeng-test-{}", Uuid::now_v7()));
    let (database_url, database) = fresh_database(&data_dir).await;
    let mut env: HashMap<&str, String> = HashMap::from([
        ("BIND_ADDR", "127.0.0.1:0".to_owned()),
        ("DATA_DIR", data_dir.display().to_string()),
        ("DATABASE_URL", database_url),
        ("JWT_SECRET", JWT_SECRET.to_owned()),
        ("ID_NUMBER_KEY", ID_NUMBER_KEY.to_owned()),
        ("WORKERS", "2".to_owned()),
    ]);
    let redis = std::env::var("TEST_REDIS_URL")
        .ok()
        .map(|url| (url, format!("xftest:{}", Uuid::now_v7())));
    if let Some((url, prefix)) = &redis {
        env.insert("REDIS_URL", url.clone());
        env.insert("REDIS_PREFIX", prefix.clone());
    }
    for (k, v) in options.env {
        env.insert(k, v);
    }
    let settings = Settings::from_lookup(|name| env.get(name).cloned()).expect("test settings");
    let db = xianfeng::platform::db::connect(&settings)
        .await
        .expect("connect");
    xianfeng::platform::db::migrate(&db).await.expect("migrate");
    let app = Application::build(settings).await.expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let world = seed(&db).await;
    TestApp {
        address,
        client: Client::builder().build().expect("client"),
        db,
        keys: TokenKeys::new(JWT_SECRET.as_bytes()),
        world,
        data_dir: data_dir.clone(),
        _leftovers: Leftovers {
            database,
            data_dir,
            redis,
        },
    }
}

/// A database of its own for one test: its URL, and on PostgreSQL what to drop.
async fn fresh_database(data_dir: &std::path::Path) -> (String, Option<TestDatabase>) {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) => {
            let name = format!("xf_{}", Uuid::now_v7().simple());
            let admin = Database::connect(&admin_url)
                .await
                .expect("connect to TEST_DATABASE_URL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("create test database");
            admin.close().await.ok();
            let base = admin_url
                .rsplit_once('/')
                .map(|(base, _)| base)
                .unwrap_or(&admin_url);
            let url = format!("{base}/{name}");
            (url, Some(TestDatabase { admin_url, name }))
        }
        Err(_) => (xianfeng::platform::config::sqlite_url(data_dir), None),
    }
}

/// One argon2 hash of `PASSWORD`, shared by every seeded user.
async fn password_hash() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    if let Some(hash) = HASH.get() {
        return hash.clone();
    }
    let hash = xianfeng::platform::password::hash(PASSWORD.to_owned())
        .await
        .expect("hash");
    HASH.get_or_init(|| hash).clone()
}

static PHONES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A phone number unique in this test process (phones are unique across townships).
pub fn unique_phone() -> String {
    let n = PHONES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let salt = (std::process::id() as u64 % 1000) * 100_000;
    format!("13{:09}", (salt + n) % 1_000_000_000)
}

async fn seed(db: &DatabaseConnection) -> World {
    World {
        a: seed_town(db, "甲乡", 2).await,
        b: seed_town(db, "乙乡", 1).await,
    }
}

async fn seed_town(db: &DatabaseConnection, name: &str, branches: usize) -> Town {
    let hash = password_hash().await;
    let township =
        xianfeng::features::townships::repo::create(db, &format!("{name}-{}", Uuid::now_v7()))
            .await
            .expect("township");
    let admin = create_user(db, &township, "管理员", Role::TownshipAdmin, None, &hash).await;
    let mut made = Vec::new();
    for i in 0..branches {
        let branch = xianfeng::features::branches::repo::create(
            db,
            township.id,
            format!("{name}第{i}支部"),
            BranchKind::Village,
        )
        .await
        .expect("branch");
        let secretary = create_user(
            db,
            &township,
            "书记",
            Role::Secretary,
            Some(branch.id),
            &hash,
        )
        .await;
        let mut members = Vec::new();
        for m in 0..2 {
            members.push(
                create_user(
                    db,
                    &township,
                    &format!("党员{m}"),
                    Role::Member,
                    Some(branch.id),
                    &hash,
                )
                .await,
            );
        }
        let mut households = Vec::new();
        for h in 0..2 {
            let fields = HouseholdFields {
                head_name: Some(format!("户主{h}")),
                address: Some(format!("{i}组{h}号")),
                group: Some(Some("第一村民小组".into())),
                phone: Some(Some(unique_phone())),
                id_number: Some(None),
                location: Some(None),
                tags: Some(vec!["低保户".into()]),
            };
            households.push(
                xianfeng::features::households::repo::create(db, township.id, branch.id, fields)
                    .await
                    .expect("household"),
            );
        }
        xianfeng::features::households::repo::assign(db, &households[0], members[0].id)
            .await
            .expect("assign");
        made.push(Branch {
            branch,
            secretary,
            members,
            households,
        });
    }
    Town {
        township,
        admin,
        branches: made,
    }
}

async fn create_user(
    db: &DatabaseConnection,
    township: &township::Model,
    name: &str,
    role: Role,
    branch_id: Option<Uuid>,
    hash: &str,
) -> user::Model {
    let new = NewUser {
        name: name.into(),
        phone: unique_phone(),
        role,
        branch_id,
        password: None,
        id_number: Some("11010519491231002X".into()),
    };
    xianfeng::features::users::repo::create(db, township.id, new, Some(hash.to_owned()))
        .await
        .expect("user")
}

impl TestApp {
    /// A valid access token for `user`, as login would sign it.
    pub fn token_for(&self, user: &user::Model) -> String {
        let claims = AccessClaims {
            sub: user.id,
            twp: user.township_id,
            br: user.branch_id,
            role: Role::parse(&user.role).expect("role"),
            ver: user.token_version,
            typ: TokenType::Access,
            iat: now_secs(),
            exp: now_secs() + 900,
        };
        self.keys.sign(&claims).expect("sign")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn request(
        &self,
        method: Method,
        path: &str,
        as_user: Option<&user::Model>,
    ) -> RequestBuilder {
        let request = self.client.request(method, self.url(path));
        match as_user {
            Some(user) => request.bearer_auth(self.token_for(user)),
            None => request,
        }
    }

    pub async fn get(&self, path: &str, as_user: &user::Model) -> Response {
        self.request(Method::GET, path, Some(as_user))
            .send()
            .await
            .expect("GET")
    }

    pub async fn post(&self, path: &str, as_user: &user::Model, body: Value) -> Response {
        self.request(Method::POST, path, Some(as_user))
            .json(&body)
            .send()
            .await
            .expect("POST")
    }

    pub async fn patch(&self, path: &str, as_user: &user::Model, body: Value) -> Response {
        self.request(Method::PATCH, path, Some(as_user))
            .json(&body)
            .send()
            .await
            .expect("PATCH")
    }

    pub async fn delete(&self, path: &str, as_user: &user::Model) -> Response {
        self.request(Method::DELETE, path, Some(as_user))
            .send()
            .await
            .expect("DELETE")
    }

    pub async fn login(&self, phone: &str, password: &str) -> Response {
        self.client
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({ "phone": phone, "password": password }))
            .send()
            .await
            .expect("login")
    }
}

/// The body as JSON, with the status for assertion messages.
pub async fn json_of(response: Response) -> Value {
    let status = response.status();
    let text = response.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("status {status}, body not JSON: {text}"))
}

/// The `error.code` of an error answer.
pub async fn error_code(response: Response) -> String {
    json_of(response).await["error"]["code"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}
