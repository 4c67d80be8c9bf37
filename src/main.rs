//! The `xianfeng` binary: parse the command line, load settings, run.

use clap::{Parser, Subcommand};
use xianfeng::app::Application;
use xianfeng::platform::config::Settings;

#[derive(Parser)]
#[command(
    name = "xianfeng",
    version,
    about = "先锋 — backend of the 创先争优 campaign mini-program"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and its docs (the default).
    Serve {
        /// Load the demo township into an empty database (the default on SQLite only).
        #[arg(long, conflicts_with = "no_demo")]
        demo: bool,
        /// Do not load the demo township into an empty database.
        #[arg(long)]
        no_demo: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create a township admin (and the township, if it does not exist).
    CreateAdmin {
        #[arg(long)]
        township: String,
        #[arg(long)]
        phone: String,
        #[arg(long)]
        password: String,
        #[arg(long, default_value = "管理员")]
        name: String,
    },
    /// Load the demo township.
    Demo,
    /// Count the dashboard's figures afresh from the raw rows (after rows
    /// were restored or changed outside the server).
    RebuildStats,
    /// Write a consistent copy of the SQLite database to PATH while the server
    /// runs (on PostgreSQL: prints how to use pg_dump).
    Backup { path: std::path::PathBuf },
    /// Replace the SQLite database with the backup at PATH; stop the server first.
    Restore { path: std::path::PathBuf },
    /// After a new ID_NUMBER_KEY, with the old one in ID_NUMBER_KEY_PREVIOUS:
    /// seal every ID number under the old key again under the new one (the
    /// server can run meanwhile; afterwards unset ID_NUMBER_KEY_PREVIOUS).
    ResealIdNumbers,
    /// Remove now what is kept past its retention: deleted rows
    /// (DELETED_RETENTION_DAYS), audit rows (AUDIT_RETENTION_DAYS) and uploads
    /// attached to nothing (UPLOAD_ORPHAN_HOURS). The server also does it hourly.
    Purge,
    /// Print the OpenAPI document.
    Openapi,
}

#[tokio::main]
async fn main() {
    if let Err(err) = run().await {
        eprintln!("xianfeng: {err:#}");
        std::process::exit(1);
    }
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve {
        demo: false,
        no_demo: false,
    });
    if let Command::Openapi = command {
        let json = xianfeng::app::routes::document_json()?;
        // A closed pipe (`| head`) is the reader's choice, not an error.
        if let Err(err) = std::io::Write::write_all(&mut std::io::stdout(), json.as_bytes())
            && err.kind() != std::io::ErrorKind::BrokenPipe
        {
            return Err(err.into());
        }
        return Ok(());
    }
    let settings = Settings::from_env()?;
    xianfeng::platform::telemetry::init("info,sqlx=warn,sea_orm=warn", settings.log_format);
    match command {
        Command::Serve { demo, no_demo } => {
            let db = connect_migrated(&settings).await?;
            if xianfeng::app::demo::loads_on_start(&settings, demo, no_demo)
                && !xianfeng::features::townships::repo::any_exists(&db).await?
            {
                let logins = xianfeng::app::demo::load(&db).await?;
                println!("{}", xianfeng::app::demo::describe(&logins));
            }
            let host = settings.bind_addr.ip();
            let app = Application::build_with(settings, db).await?;
            let address = format!("http://{host}:{}", app.port());
            tracing::info!("xianfeng listening on {address}; Swagger UI at {address}/docs");
            app.run_until_stopped().await?;
        }
        Command::Migrate => {
            connect_migrated(&settings).await?;
            println!("migrations applied");
        }
        Command::CreateAdmin {
            township,
            phone,
            password,
            name,
        } => {
            let db = connect_migrated(&settings).await?;
            let admin =
                xianfeng::features::users::admin::create(&db, &township, &phone, &password, &name)
                    .await?;
            println!(
                "township admin {} ({}) created in {}",
                admin.name, admin.phone, township
            );
        }
        Command::Demo => {
            let db = connect_migrated(&settings).await?;
            let logins = xianfeng::app::demo::load(&db).await?;
            if logins.is_empty() {
                println!("the demo township already exists");
            } else {
                println!("{}", xianfeng::app::demo::describe(&logins));
            }
        }
        Command::RebuildStats => {
            let db = connect_migrated(&settings).await?;
            xianfeng::features::stats::rollup::rebuild(&db).await?;
            println!("dashboard figures recounted");
        }
        Command::ResealIdNumbers => {
            let mut settings = settings;
            settings.ensure_local_secret()?;
            anyhow::ensure!(
                settings.id_number_key_previous.is_some(),
                "ID_NUMBER_KEY_PREVIOUS: set it to the key being replaced"
            );
            let cipher = xianfeng::platform::sealed::IdNumberCipher::of(&settings)?;
            let db = connect_migrated(&settings).await?;
            let resealed = xianfeng::platform::sealed::reseal_id_numbers(&db, &cipher).await?;
            println!(
                "{resealed} ID numbers sealed again under ID_NUMBER_KEY; unset ID_NUMBER_KEY_PREVIOUS now"
            );
        }
        Command::Backup { path } => {
            let db = xianfeng::platform::db::connect(&settings).await?;
            xianfeng::platform::backup::backup(&settings, &db, &path).await?;
            println!("backup written to {}", path.display());
        }
        Command::Restore { path } => {
            xianfeng::platform::backup::restore(&settings, &path).await?;
            println!(
                "restored from {}; start the server to apply any newer migrations",
                path.display()
            );
        }
        Command::Purge => {
            let db = connect_migrated(&settings).await?;
            let storage = xianfeng::platform::storage::Storage::of(&settings)?;
            let retention = xianfeng::core::retention::Retention::of(&settings);
            let purged = xianfeng::core::retention::purge_all(&db, &storage, retention).await?;
            println!(
                "{} deleted rows, {} audit rows and {} orphan uploads purged",
                purged.deleted_rows, purged.audit_rows, purged.orphan_uploads
            );
        }
        Command::Openapi => {}
    }
    Ok(())
}

async fn connect_migrated(settings: &Settings) -> anyhow::Result<sea_orm::DatabaseConnection> {
    let db = xianfeng::platform::db::connect(settings).await?;
    xianfeng::platform::db::migrate(&db).await?;
    Ok(db)
}
