//! The demo district (`assets/demo/`, a fictional county in OneRoster 1.2), embedded in the
//! binary and imported when the server starts on a database with nobody in it, so a first
//! `cargo run` shows a living system. `KONGJIAN_DEMO=off` turns it off.

use rust_embed::Embed;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};

use super::diagnostics::Diagnostics;
use super::entity::person;
use super::service::{ImportOptions, ImportReport, Origin, Quiet, import_source};
use super::source::Source;

#[derive(Embed)]
#[folder = "../assets/demo"]
struct DemoRoster;

/// The demo files, decoded.
pub fn source(diags: &mut Diagnostics) -> Source {
    let raw = DemoRoster::iter()
        .filter(|name| name.ends_with(".csv"))
        .filter_map(|name| DemoRoster::get(&name).map(|f| (name.into_owned(), f.data.into_owned())))
        .collect();
    Source::from_files(raw, diags)
}

/// Import the demo district (also `kongjian demo`).
pub async fn load(db: &DatabaseConnection, origin: Origin) -> Result<ImportReport, sea_orm::DbErr> {
    let mut diags = Diagnostics::default();
    let source = source(&mut diags);
    let options = ImportOptions {
        dry_run: false,
        allow_mass_retire: false,
        recheck: false,
        origin,
        actor: None,
        client: Default::default(),
    };
    import_source(
        db,
        "assets/demo",
        Some(source),
        diags,
        &options,
        &Quiet,
        chrono::Utc::now(),
    )
    .await
}

/// Import the demo when nobody is in the database yet.
pub async fn load_if_empty(db: &DatabaseConnection) -> Result<(), crate::StartupError> {
    let people = person::Entity::find()
        .count(db)
        .await
        .map_err(anyhow::Error::from)?;
    if people > 0 {
        return Ok(());
    }
    let report = load(db, Origin::Demo).await.map_err(anyhow::Error::from)?;
    if !report.outcome.succeeded() {
        let errors: Vec<String> = report
            .diagnostics
            .errors
            .iter()
            .map(|e| format!("{}:{:?} {}", e.file, e.line, e.message.en))
            .collect();
        return Err(anyhow::anyhow!(
            "the built-in demo district did not import: {}",
            errors.join("; ")
        )
        .into());
    }
    let users = report.counts.get("users").map(|c| c.created).unwrap_or(0);
    tracing::info!(
        users,
        "loaded the demo district (set KONGJIAN_DEMO=off to start empty)"
    );
    Ok(())
}
