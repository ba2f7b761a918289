//! The import as a whole: read, parse, check, plan, guard, write — in that order, so a file
//! with defects changes nothing, and a good one is written in one transaction.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryTrait, Statement,
    TransactionTrait,
};
use serde_json::{Value, json};

use super::diagnostics::{Diagnostic, Diagnostics, Message};
use super::entity::roster_import;
use super::model::{Bundle, Format};
use super::plan::{COUNTED, Counts, MassRetirement, Merge, Planner};
use super::snapshot::Snapshot;
use super::source::Source;
use super::{apply, bulk_sqlite, cn, oneroster, validate};
use crate::i18n::Lang;

/// Who started the import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Cli,
    Api,
    /// The admin page (`/roster/imports`).
    Page,
    Demo,
}

impl Origin {
    fn as_str(self) -> &'static str {
        match self {
            Origin::Cli => "cli",
            Origin::Api => "api",
            Origin::Page => "page",
            Origin::Demo => "demo",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Check and count everything, write nothing.
    pub dry_run: bool,
    /// Let a bulk import retire more than 15 % of a school's people (the new school year).
    pub allow_mass_retire: bool,
    pub origin: Origin,
    /// The person who imports, when known (API, page).
    pub actor: Option<String>,
    /// Where the import came from, for the audit log (empty for the CLI).
    pub client: crate::auth::client::ClientInfo,
    /// Compare every row even when the files are the very ones the last import that wrote
    /// anything was made of (otherwise that import's answer is given without reading the
    /// database: nothing can have changed, as only imports write the roster).
    pub recheck: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[schema(as = ImportOutcome, rename_all = "snake_case")]
pub enum Outcome {
    Imported,
    DryRun,
    /// Defects in the input: nothing written.
    Rejected,
    /// The mass-retirement guard stopped it: nothing written.
    Refused,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Imported => "imported",
            Outcome::DryRun => "dry_run",
            Outcome::Rejected => "rejected",
            Outcome::Refused => "refused",
        }
    }

    pub fn succeeded(self) -> bool {
        matches!(self, Outcome::Imported | Outcome::DryRun)
    }
}

/// What an import did or would do.
#[derive(Debug, Clone)]
pub struct ImportReport {
    /// The import log entry, when one was written.
    pub id: Option<String>,
    /// The files are those of this earlier import, the last that wrote anything: nothing was
    /// compared or written, and the counts are what that import left.
    pub unchanged_since: Option<String>,
    pub outcome: Outcome,
    pub format: Option<Format>,
    pub counts: BTreeMap<&'static str, Counts>,
    pub merges: Vec<Merge>,
    /// The schools that stopped a refused import, with their numbers.
    pub mass_retirements: Vec<MassRetirement>,
    pub diagnostics: Diagnostics,
}

fn format_name(format: Format) -> &'static str {
    match format {
        Format::OneRoster11 => "oneroster-1.1",
        Format::OneRoster12 => "oneroster-1.2",
        Format::CnRoster => "cn-roster",
    }
}

fn format_named(name: &str) -> Option<Format> {
    [Format::OneRoster11, Format::OneRoster12, Format::CnRoster]
        .into_iter()
        .find(|f| format_name(*f) == name)
}

/// Progress as an import moves through its stages (a terminal bar, a log line, nothing).
pub trait Progress: Send + Sync {
    fn stage(&self, zh: &str, en: &str);
}

/// Logs each stage with the time the previous one took, for operators and profiling.
struct Stages<'p> {
    progress: &'p dyn Progress,
    current: Option<(&'static str, std::time::Instant)>,
}

impl<'p> Stages<'p> {
    fn new(progress: &'p dyn Progress) -> Self {
        Stages {
            progress,
            current: None,
        }
    }

    fn next(&mut self, zh: &str, en: &'static str) {
        self.finish();
        self.progress.stage(zh, en);
        self.current = Some((en, std::time::Instant::now()));
    }

    fn finish(&mut self) {
        if let Some((stage, began)) = self.current.take() {
            tracing::info!(
                stage,
                ms = began.elapsed().as_millis() as u64,
                "roster import stage done"
            );
        }
    }
}

impl Drop for Stages<'_> {
    /// Early returns (rejected, refused, dry run, unchanged) still log the last stage.
    fn drop(&mut self) {
        self.finish();
    }
}

/// Progress that goes nowhere.
pub struct Quiet;

impl Progress for Quiet {
    fn stage(&self, _: &str, _: &str) {}
}

impl ImportReport {
    /// `{"outcome", "counts": {ENTITY: {created, updated, retired, restored, unchanged}},
    /// "merges", "mass_retirements": [{school, name, active, retiring}],
    /// "warnings": [{file, line, field, message}], "errors": [...]}`.
    pub fn to_json(&self, lang: Lang) -> Value {
        json!({
            "id": self.id,
            "unchanged_since": self.unchanged_since,
            "outcome": self.outcome.as_str(),
            "format": self.format.map(format_name),
            "counts": self.counts,
            "merges": self.merges,
            "mass_retirements": self.mass_retirements,
            "warnings": self.diagnostics.warnings.iter().map(|d| d.to_json(lang)).collect::<Vec<_>>(),
            "errors": self.diagnostics.errors.iter().map(|d| d.to_json(lang)).collect::<Vec<_>>(),
        })
    }

    /// The import log's copy: [`Self::to_json`] in Chinese with each diagnostic's English
    /// beside it as `message_en`, so the admin page can show a past import in either language.
    pub fn to_stored_json(&self) -> Value {
        let both = |list: &[Diagnostic]| {
            list.iter()
                .map(|d| {
                    let mut value = json!(d.to_json(Lang::Zh));
                    value["message_en"] = json!(d.message.en);
                    value
                })
                .collect::<Vec<_>>()
        };
        let mut value = self.to_json(Lang::Zh);
        // A logged import was never answered from an earlier one.
        if let Some(fields) = value.as_object_mut() {
            fields.remove("unchanged_since");
        }
        value["warnings"] = json!(both(&self.diagnostics.warnings));
        value["errors"] = json!(both(&self.diagnostics.errors));
        value
    }
}

/// Parse whichever format the files are in.
pub fn parse(source: &Source, shown: &str, diags: &mut Diagnostics) -> Option<Bundle> {
    if cn::looks_like(source) {
        cn::parse(source, diags)
    } else if oneroster::looks_like(source) {
        oneroster::parse(source, diags)
    } else {
        diags.error(
            shown,
            None,
            None,
            Message::new(
                "既不是 OneRoster CSV 文件包，也不是中文学籍名单（缺少 manifest.csv / users.csv 或 students.csv）",
                "is neither a OneRoster CSV package nor a Chinese school roster (no manifest.csv / users.csv or students.csv)",
            ),
        );
        None
    }
}

/// Import a zip file or a directory.
pub async fn import_path(
    db: &DatabaseConnection,
    path: &Path,
    options: &ImportOptions,
    progress: &dyn Progress,
) -> Result<ImportReport, DbErr> {
    progress.stage("读取文件", "reading files");
    let mut diags = Diagnostics::default();
    let shown = path.display().to_string();
    let source = Source::read(path, &mut diags);
    import_source(db, &shown, source, diags, options, progress, Utc::now()).await
}

/// Import an uploaded zip (the API and the admin page). `shown` names it in the report.
pub async fn import_upload(
    db: &DatabaseConnection,
    zip: &[u8],
    shown: &str,
    options: &ImportOptions,
    now: DateTime<Utc>,
) -> Result<ImportReport, DbErr> {
    let mut diags = Diagnostics::default();
    let source = Source::from_zip(zip, shown, &mut diags);
    import_source(db, shown, source, diags, options, &Quiet, now).await
}

/// Import files already read (an upload). `diags` carries what reading found.
pub async fn import_source(
    db: &DatabaseConnection,
    shown: &str,
    source: Option<Source>,
    mut diags: Diagnostics,
    options: &ImportOptions,
    progress: &dyn Progress,
    now: DateTime<Utc>,
) -> Result<ImportReport, DbErr> {
    let mut stages = Stages::new(progress);
    let digest = source.as_ref().map(|s| s.digest(&diags));
    if let Some(digest) = &digest
        && !options.recheck
        && !diags.has_errors()
    {
        stages.next("与上次导入比对", "comparing with the last import");
        if let Some(report) = unchanged_since(db, digest, options).await? {
            return Ok(report);
        }
    }
    stages.next("解析名单", "parsing the roster");
    let bundle = source.as_ref().and_then(|s| parse(s, shown, &mut diags));
    // The raw text is no longer needed; a county's CSV is tens of megabytes.
    drop(source);
    let mut report = ImportReport {
        id: None,
        unchanged_since: None,
        outcome: Outcome::Rejected,
        format: bundle.as_ref().map(|b| b.format),
        counts: BTreeMap::new(),
        merges: Vec::new(),
        mass_retirements: Vec::new(),
        diagnostics: Diagnostics::default(),
    };
    let Some(mut bundle) = bundle.filter(|_| !diags.has_errors()) else {
        report.diagnostics = diags;
        return finish(db, shown, report, options, now).await;
    };

    stages.next("读取现有数据", "loading what the database holds");
    let snapshot = Snapshot::load(db).await?;
    stages.next("核对引用", "checking references");
    validate::check_references(&bundle, &snapshot, &mut diags);
    if diags.has_errors() {
        report.diagnostics = diags;
        return finish(db, shown, report, options, now).await;
    }

    stages.next("计算变更", "working out the changes");
    // The planner consumes the enrollments (the largest file) as it plans them, so their
    // records are freed while the plan's rows are made.
    let enrollments = std::mem::take(&mut bundle.enrollments);
    let plan = Planner::new(&bundle, enrollments, &snapshot, now).plan();
    let reimport_counts =
        serde_json::to_string(&plan.reimport_counts()).map_err(|e| DbErr::Custom(e.to_string()))?;
    // The plan owns everything it writes: free the parsed records and the snapshot first,
    // so peak memory is one copy of the district, not three.
    drop(snapshot);
    drop(bundle);
    report.counts = plan.counts();
    report.merges = plan.merges.clone();
    if !plan.mass_retirements.is_empty() && !options.allow_mass_retire {
        for m in &plan.mass_retirements {
            diags.error(
                shown,
                None,
                None,
                Message::new(
                    format!(
                        "将停用学校“{}”（{}）{} 名在用人员中的 {} 名，超过 15%。如确为新学年调整，请加 --allow-mass-retire（或在页面勾选）后重新导入",
                        m.name, m.school, m.active, m.retiring
                    ),
                    format!(
                        "would retire {} of the {} active people of school \"{}\" ({}), more than 15 %. If this is the new school year, import again with --allow-mass-retire (or tick the box on the page)",
                        m.retiring, m.active, m.name, m.school
                    ),
                ),
            );
        }
        report.outcome = Outcome::Refused;
        report.mass_retirements = plan.mass_retirements;
        report.diagnostics = diags;
        return finish(db, shown, report, options, now).await;
    }
    report.diagnostics = diags;
    if options.dry_run {
        report.outcome = Outcome::DryRun;
        return Ok(report);
    }
    if plan.writes_nothing() {
        // An unchanged roster writes nothing, not even a log entry.
        report.outcome = Outcome::Imported;
        return Ok(report);
    }

    stages.next("写入数据库", "writing to the database");
    report.outcome = Outcome::Imported;
    let backend = db.get_database_backend();
    let written = Written {
        digest: digest.as_deref(),
        reimport_counts,
    };
    let log = log_entry(db, shown, &report, options, now, Some(written)).await?;
    let id = log.id.clone();
    // Written after the roster, in the same transaction: a retired person's sessions and
    // tokens end with them, every node drops its cached people, sessions and `/me` answers,
    // and the import is logged (finished now).
    let retired_people = plan.people.retire.clone();
    let then = move || {
        let mut then = crate::auth::tokens::revoke_all_statements(backend, &retired_people, now);
        then.extend(crate::auth::session_store::delete_for_people_statements(
            backend,
            &retired_people,
        ));
        then.push(crate::cache::bump_statement(backend));
        then.extend(log.statements(backend));
        then
    };
    match crate::db::sqlite_file(db) {
        Some(file) => bulk_sqlite::write(file, plan, now, then).await?,
        None => {
            let txn = db.begin().await?;
            apply::apply(&txn, plan, now).await?;
            for statement in then() {
                txn.execute_raw(statement).await?;
            }
            txn.commit().await?;
        }
    }
    report.id = Some(id);
    if backend == sea_orm::DatabaseBackend::Postgres {
        // PostgreSQL plans queries from table statistics, which autovacuum gathers only some
        // time after a bulk load: until then every lookup in a freshly imported district was
        // planned as if its tables were empty (messages between its people ran at a tenth of
        // their speed for the first minutes). The import is committed: a failure here is
        // only logged.
        let tables = apply::tables().map(|t| format!("\"{t}\"")).join(", ");
        if let Err(err) = db.execute_unprepared(&format!("ANALYZE {tables}")).await {
            tracing::warn!(error = %err, "gathering statistics after the import failed");
        }
    }
    Ok(report)
}

/// Record a rejected or refused import in the log (nothing else is written).
async fn finish(
    db: &DatabaseConnection,
    shown: &str,
    mut report: ImportReport,
    options: &ImportOptions,
    now: DateTime<Utc>,
) -> Result<ImportReport, DbErr> {
    if !options.dry_run {
        let entry = log_entry(db, shown, &report, options, now, None).await?;
        report.id = Some(entry.id.clone());
        for statement in entry.statements(db.get_database_backend()) {
            db.execute_raw(statement).await?;
        }
    }
    Ok(report)
}

/// The answer for files that are the very ones of the last import that wrote anything, made
/// from that import's log entry: `None` when they are not.
async fn unchanged_since(
    db: &DatabaseConnection,
    digest: &str,
    options: &ImportOptions,
) -> Result<Option<ImportReport>, DbErr> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let Some(last) = roster_import::Entity::find()
        .filter(roster_import::Column::Outcome.eq(Outcome::Imported.as_str()))
        .order_by_desc(roster_import::Column::StartedAt)
        .order_by_desc(roster_import::Column::Id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if last.digest.as_deref() != Some(digest) {
        return Ok(None);
    }
    let Some(counts) = last
        .reimport_counts
        .as_deref()
        .and_then(|c| serde_json::from_str::<BTreeMap<String, Counts>>(c).ok())
    else {
        return Ok(None);
    };
    let Ok(stored) = serde_json::from_str::<Value>(&last.report) else {
        return Ok(None);
    };
    let counts = COUNTED
        .iter()
        .map(|entity| (*entity, counts.get(*entity).copied().unwrap_or_default()))
        .collect();
    Ok(Some(ImportReport {
        id: None,
        unchanged_since: Some(last.id),
        outcome: if options.dry_run {
            Outcome::DryRun
        } else {
            Outcome::Imported
        },
        format: last.format.as_deref().and_then(format_named),
        counts,
        merges: Vec::new(),
        mass_retirements: Vec::new(),
        diagnostics: Diagnostics {
            // The same files say the same things: the warnings as that import stored them.
            warnings: stored_diagnostics(&stored["warnings"]),
            errors: Vec::new(),
        },
    }))
}

/// Diagnostics back from the log's copy (`ImportReport::to_stored_json`).
fn stored_diagnostics(list: &Value) -> Vec<Diagnostic> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    list.as_array()
        .map(|list| {
            list.iter()
                .map(|d| Diagnostic {
                    file: text(&d["file"]),
                    line: d["line"].as_u64(),
                    field: d["field"].as_str().map(str::to_owned),
                    message: Message::new(text(&d["message"]), text(&d["message_en"])),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// What a log entry of an import that wrote something keeps of it.
struct Written<'a> {
    digest: Option<&'a str>,
    reimport_counts: String,
}

/// An import's log entry and its audit event, ready to be written by the caller (inside the
/// import's transaction when it wrote anything).
struct LogEntry {
    id: String,
    row: roster_import::ActiveModel,
    audit: Statement,
}

impl LogEntry {
    /// The two `INSERT`s; the entry's `finished_at` is now.
    fn statements(mut self, backend: sea_orm::DbBackend) -> [Statement; 2] {
        self.row.finished_at = Set(Utc::now());
        [
            roster_import::Entity::insert(self.row).build(backend),
            self.audit,
        ]
    }
}

async fn log_entry(
    db: &impl sea_orm::ConnectionTrait,
    shown: &str,
    report: &ImportReport,
    options: &ImportOptions,
    started: DateTime<Utc>,
    written: Option<Written<'_>>,
) -> Result<LogEntry, DbErr> {
    let id = uuid::Uuid::now_v7().to_string();
    let (digest, reimport_counts) = match written {
        Some(w) => (w.digest.map(str::to_owned), Some(w.reimport_counts)),
        None => (None, None),
    };
    let row = roster_import::ActiveModel {
        id: Set(id.clone()),
        origin: Set(options.origin.as_str().to_owned()),
        source_name: Set(shown.to_owned()),
        format: Set(report.format.map(|f| format_name(f).to_owned())),
        outcome: Set(report.outcome.as_str().to_owned()),
        actor_id: Set(options.actor.clone()),
        report: Set(report.to_stored_json().to_string()),
        started_at: Set(started),
        finished_at: Set(started),
        digest: Set(digest),
        reimport_counts: Set(reimport_counts),
    };
    let mut event = crate::audit::Event::new(
        crate::audit::Action::RosterImport,
        if report.outcome.succeeded() {
            crate::audit::Outcome::Ok
        } else {
            crate::audit::Outcome::Failed
        },
        &options.client,
    )
    .detail(json!({
        "import": id,
        "origin": options.origin.as_str(),
        "outcome": report.outcome.as_str(),
        "source": shown,
    }));
    if let Some(actor) = &options.actor {
        event = event.actor(actor);
    }
    let audit = crate::audit::record_statement(db, event, started).await?;
    Ok(LogEntry { id, row, audit })
}
