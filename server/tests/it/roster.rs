//! Roster import end to end through the service, on SQLite and PostgreSQL: the public samples,
//! the Chinese example (UTF-8 and GBK), bulk → re-import → delta → mass-retire guard → bad
//! bundle leaves the database unchanged.

use std::path::{Path, PathBuf};

use kongjian::roster::entity::{guardian_link, person, roster_import, space};
use kongjian::roster::service::{ImportOptions, ImportReport, Origin, Outcome, Quiet, import_path};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::fixtures::Package;
use crate::on_both_databases;
use crate::support::TestApp;

fn samples(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/roster-samples")
        .join(rel)
}

fn cn_example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/cn-roster-example")
}

fn options() -> ImportOptions {
    ImportOptions {
        dry_run: false,
        allow_mass_retire: false,
        origin: Origin::Cli,
        actor: None,
        client: Default::default(),
        recheck: false,
    }
}

async fn import(app: &TestApp, path: &Path, options: ImportOptions) -> ImportReport {
    import_path(&app.state.db, path, &options, &Quiet)
        .await
        .expect("import ran")
}

fn created(report: &ImportReport, entity: &str) -> u64 {
    report.counts.get(entity).map(|c| c.created).unwrap_or(0)
}

/// Row counts of every roster table, to prove a rejected import changed nothing.
async fn table_counts(app: &TestApp) -> Vec<u64> {
    use kongjian::roster::entity::*;
    let db = &app.state.db;
    vec![
        org::Entity::find().count(db).await.unwrap(),
        session::Entity::find().count(db).await.unwrap(),
        course::Entity::find().count(db).await.unwrap(),
        class::Entity::find().count(db).await.unwrap(),
        person::Entity::find().count(db).await.unwrap(),
        role::Entity::find().count(db).await.unwrap(),
        enrollment::Entity::find().count(db).await.unwrap(),
        guardian_link::Entity::find().count(db).await.unwrap(),
        space::Entity::find().count(db).await.unwrap(),
        person::Entity::find()
            .filter(person::Column::Status.eq("retired"))
            .count(db)
            .await
            .unwrap(),
    ]
}

on_both_databases! {
    async fn the_moodle_delta_sample_imports(app) {
        let report = import(&app, &samples("moodle-enrol_oneroster/oneroster_test_data"), options()).await;
        assert_eq!(report.outcome, Outcome::Imported, "{:#?}", report.diagnostics.errors);
        assert_eq!(created(&report, "users"), 1);
        assert_eq!(created(&report, "classes"), 1);
        assert!(!report.diagnostics.warnings.is_empty(), "TRUE and CRLF quirks are reported");
    }
}

on_both_databases! {
    async fn the_defective_bulk_sample_is_rejected_with_its_defects_and_changes_nothing(app) {
        let before = table_counts(&app).await;
        let report = import(&app, &samples("moodle-enrol_oneroster/v1p2_full_dataset"), options()).await;
        assert_eq!(report.outcome, Outcome::Rejected);
        assert!(report.diagnostics.errors.len() >= 3, "{:#?}", report.diagnostics.errors);
        for e in &report.diagnostics.errors {
            assert!(!e.file.is_empty() && !e.message.zh.is_empty() && !e.message.en.is_empty(), "{e:?}");
        }
        assert_eq!(table_counts(&app).await, before);
        let logged = roster_import::Entity::find().all(&app.state.db).await.unwrap();
        assert_eq!(logged.len(), 1);
        assert_eq!(logged[0].outcome, "rejected");
    }
}

on_both_databases! {
    async fn the_oneroster_11_sample_imports(app) {
        let report = import(&app, &samples("LMS-Toolkit"), options()).await;
        assert_eq!(report.outcome, Outcome::Imported, "{:#?}", report.diagnostics.errors);
        assert!(created(&report, "users") > 0);
        assert!(created(&report, "enrollments") > 0);
    }
}

on_both_databases! {
    async fn every_person_class_and_school_gets_a_space_and_an_unchanged_reimport_writes_nothing(app) {
        let package = Package::new(&[1, 2, 3]);
        let first = import(&app, package.path(), options()).await;
        assert_eq!(first.outcome, Outcome::Imported, "{:#?}", first.diagnostics.errors);
        assert_eq!(created(&first, "users"), 7);
        assert_eq!(created(&first, "guardian_links"), 3);
        // 7 people, 1 class, 1 school (the district has none).
        assert_eq!(created(&first, "spaces"), 9);
        let before = table_counts(&app).await;

        let again = import(&app, package.path(), options()).await;
        assert_eq!(again.outcome, Outcome::Imported);
        for (entity, c) in &again.counts {
            assert_eq!((c.created, c.updated, c.retired), (0, 0, 0), "{entity}");
        }
        assert_eq!(table_counts(&app).await, before);
        assert_eq!(roster_import::Entity::find().count(&app.state.db).await.unwrap(), 1, "nothing logged either");
    }
}

on_both_databases! {
    async fn a_person_missing_from_bulk_is_retired_and_restored_when_they_return(app) {
        let all: Vec<u32> = (1..=10).collect();
        assert_eq!(import(&app, Package::new(&all).path(), options()).await.outcome, Outcome::Imported);

        // Student 10 and their parent leave: 2 of 22 people, under the guard's 15 %.
        let report = import(&app, Package::new(&all[..9]).path(), options()).await;
        assert_eq!(report.outcome, Outcome::Imported, "{:#?}", report.diagnostics.errors);
        assert_eq!(report.counts["users"].retired, 2);
        let gone = person::Entity::find().filter(person::Column::SourcedId.eq("st10")).one(&app.state.db).await.unwrap().unwrap();
        assert_eq!(gone.status, "retired");
        assert!(gone.retired_at.is_some());
        let their_space = space::Entity::find().filter(space::Column::PersonId.eq(gone.id.clone())).one(&app.state.db).await.unwrap().unwrap();
        assert_eq!(their_space.status, "frozen", "the space is kept, frozen");

        let back = import(&app, Package::new(&all).path(), options()).await;
        assert_eq!(back.counts["users"].restored, 2);
        let restored = person::Entity::find_by_id(gone.id.clone()).one(&app.state.db).await.unwrap().unwrap();
        assert_eq!(restored.status, "active");
        let thawed = space::Entity::find_by_id(their_space.id).one(&app.state.db).await.unwrap().unwrap();
        assert_eq!(thawed.status, "active");
    }
}

on_both_databases! {
    async fn a_bulk_import_that_retires_too_many_is_refused_unless_allowed(app) {
        let all: Vec<u32> = (1..=10).collect();
        import(&app, Package::new(&all).path(), options()).await;
        let before = table_counts(&app).await;

        let half = Package::new(&all[..5]);
        let refused = import(&app, half.path(), options()).await;
        assert_eq!(refused.outcome, Outcome::Refused);
        assert!(refused.diagnostics.errors[0].message.en.contains("more than 15 %"));
        assert_eq!(table_counts(&app).await, before, "a refused import changes nothing");

        let dry = import(&app, half.path(), ImportOptions { dry_run: true, allow_mass_retire: true, ..options() }).await;
        assert_eq!(dry.outcome, Outcome::DryRun);
        assert_eq!(dry.counts["users"].retired, 10);
        assert_eq!(table_counts(&app).await, before, "a dry run changes nothing");

        let allowed = import(&app, half.path(), ImportOptions { allow_mass_retire: true, ..options() }).await;
        assert_eq!(allowed.outcome, Outcome::Imported);
        assert_eq!(allowed.counts["users"].retired, 10);
    }
}

on_both_databases! {
    async fn a_bad_bundle_after_a_good_one_leaves_the_database_unchanged(app) {
        let package = Package::new(&[1, 2]);
        import(&app, package.path(), options()).await;
        let before = table_counts(&app).await;

        let users = package.path().join("users.csv");
        let mut text = std::fs::read_to_string(&users).unwrap();
        text.push_str("st9,,,maybe,st9,,九,李,,,,,,,03,,,,,,s1,\n");
        std::fs::write(&users, text).unwrap();
        let enrollments = package.path().join("enrollments.csv");
        let mut text = std::fs::read_to_string(&enrollments).unwrap();
        text.push_str("e-x,,,no-such-class,s1,st1,student,,,\n");
        std::fs::write(&enrollments, text).unwrap();

        let report = import(&app, package.path(), options()).await;
        assert_eq!(report.outcome, Outcome::Rejected);
        let fields: Vec<_> = report.diagnostics.errors.iter().map(|e| (e.file.as_str(), e.field.as_deref())).collect();
        assert!(fields.contains(&("users.csv", Some("enabledUser"))), "{fields:?}");
        assert_eq!(table_counts(&app).await, before);
    }
}

on_both_databases! {
    async fn a_delta_retires_and_updates_only_what_it_names(app) {
        let package = Package::new(&[1, 2, 3]);
        import(&app, package.path(), options()).await;
        let delta = tempfile::tempdir().unwrap();
        let w = |name: &str, text: &str| std::fs::write(delta.path().join(name), text).unwrap();
        w("manifest.csv", "propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\nfile.users,delta\nfile.orgs,absent\nfile.academicSessions,absent\nfile.courses,absent\nfile.classes,absent\nfile.roles,absent\nfile.enrollments,absent\nfile.demographics,absent\nfile.userProfiles,absent\nfile.categories,absent\nfile.classResources,absent\nfile.courseResources,absent\nfile.lineItems,absent\nfile.resources,absent\nfile.results,absent\nfile.scoreScales,absent\nfile.userResources,absent\nfile.lineItemLearningObjectiveIds,absent\nfile.lineItemScoreScales,absent\nfile.resultLearningObjectiveIds,absent\nfile.resultScoreScales,absent\n");
        w("users.csv", "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,preferredGivenName,preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns\nst1,tobedeleted,2026-07-01T00:00:00.000Z,true,st1,,小1,李,,,,,,p1,03,,,,,,s1,\nst2,active,2026-07-01T00:00:00.000Z,true,st2,,小二,李,,,,,,p2,03,,,,,,s1,\n");
        let report = import(&app, delta.path(), options()).await;
        assert_eq!(report.outcome, Outcome::Imported, "{:#?}", report.diagnostics.errors);
        assert_eq!(report.counts["users"].retired, 1);
        assert_eq!(report.counts["users"].updated, 1);
        let st3 = person::Entity::find().filter(person::Column::SourcedId.eq("st3")).one(&app.state.db).await.unwrap().unwrap();
        assert_eq!(st3.status, "active", "a delta leaves what it does not name");
        let st2 = person::Entity::find().filter(person::Column::SourcedId.eq("st2")).one(&app.state.db).await.unwrap().unwrap();
        assert_eq!(st2.display_name, "李小二");
    }
}

on_both_databases! {
    async fn the_chinese_roster_imports_in_utf8_and_gbk_alike_and_merges_a_shared_parent(app) {
        let report = import(&app, &cn_example(), options()).await;
        assert_eq!(report.outcome, Outcome::Imported, "{:#?}", report.diagnostics.errors);
        assert!(created(&report, "users") > 0);
        assert!(created(&report, "guardian_links") > 0);
        // A parent with children in two schools: one person linked to both children.
        let links = guardian_link::Entity::find().all(&app.state.db).await.unwrap();
        let mut per_guardian = std::collections::HashMap::<String, usize>::new();
        for l in &links {
            *per_guardian.entry(l.guardian_id.clone()).or_default() += 1;
        }
        assert!(per_guardian.values().any(|n| *n >= 2), "some parent has two children");

        // The same roster saved by Excel as GBK imports to the same state: nothing changes.
        let gbk = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir(cn_example()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "csv") {
                let text = std::fs::read_to_string(&path).unwrap();
                let (bytes, _, _) = encoding_rs::GBK.encode(&text);
                std::fs::write(gbk.path().join(path.file_name().unwrap()), bytes).unwrap();
            }
        }
        let again = import(&app, gbk.path(), options()).await;
        assert_eq!(again.outcome, Outcome::Imported, "{:#?}", again.diagnostics.errors);
        for (entity, c) in &again.counts {
            assert_eq!((c.created, c.updated, c.retired), (0, 0, 0), "{entity}");
        }
        assert!(again.diagnostics.warnings.iter().any(|w| w.message.en.contains("GBK")));
    }
}

on_both_databases! {
    async fn a_bundle_with_every_tolerable_quirk_imports_with_a_warning_for_each(app) {
        let package = Package::new(&[1, 2, 3]);
        let path = package.path();
        let edit = |name: &str, f: &dyn Fn(String) -> String| {
            let file = path.join(name);
            let text = std::fs::read_to_string(&file).unwrap();
            std::fs::write(&file, f(text)).unwrap();
        };
        // CRLF line endings and a UTF-8 BOM.
        edit("orgs.csv", &|t| format!("\u{feff}{}", t.replace('\n', "\r\n")));
        // Excel's TRUE, a literal NULL, a trailing comma.
        edit("users.csv", &|t| {
            t.replace("st1,,,true,", "st1,,,TRUE,")
                .replace("st2,,,true,st2,,小2,李,,,", "st2,,,true,st2,,小2,李,NULL,,")
                .replace(",s1,\nst3", ",s1,,\nst3")
        });
        // A metadata.* extension column.
        edit("classes.csv", &|t| t.replace("periods\n", "periods,metadata.cn.gradeLabel\n").replace("homeroom,,s1,y2026,,,\n", "homeroom,,s1,y2026,,,,三年级\n"));
        // Filled status in a bulk file, with the legacy `inactive`.
        edit("enrollments.csv", &|t| t.replace("e-st3,,,", "e-st3,inactive,2026-07-01,"));
        // A file name in the wrong case.
        std::fs::rename(path.join("roles.csv"), path.join("Roles.csv")).unwrap();

        let report = import(&app, path, options()).await;
        assert_eq!(report.outcome, Outcome::Imported, "{:#?}", report.diagnostics.errors);
        let warned = |file: &str, needle: &str| {
            report.diagnostics.warnings.iter().any(|w| w.file.eq_ignore_ascii_case(file) && w.message.en.to_lowercase().contains(needle))
        };
        assert!(warned("orgs.csv", "bom"), "{:#?}", report.diagnostics.warnings);
        assert!(warned("users.csv", "true"), "{:#?}", report.diagnostics.warnings);
        assert!(warned("users.csv", "null"), "{:#?}", report.diagnostics.warnings);
        assert!(warned("users.csv", "trailing") || warned("users.csv", "extra"), "{:#?}", report.diagnostics.warnings);
        assert!(warned("enrollments.csv", "inactive"), "{:#?}", report.diagnostics.warnings);
        assert!(warned("enrollments.csv", "status"), "{:#?}", report.diagnostics.warnings);
        assert!(warned("Roles.csv", "case") || warned("roles.csv", "case"), "{:#?}", report.diagnostics.warnings);
        assert_eq!(created(&report, "users"), 7);
        assert_eq!(created(&report, "enrollments"), 3, "the inactive enrollment is not created");
    }
}

/// Import the files at `path` again twice: as the same files as the last import that wrote
/// anything (answered from the import log), and compared row by row (`recheck`). Both must say
/// exactly the same, and neither may write anything.
async fn reimport_both_ways(app: &TestApp, path: &Path) {
    let before = table_counts(app).await;
    let logged = roster_import::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap();
    let quick = import(app, path, options()).await;
    let full = import(
        app,
        path,
        ImportOptions {
            recheck: true,
            ..options()
        },
    )
    .await;
    assert!(
        quick.unchanged_since.is_some(),
        "{}: answered from the log",
        path.display()
    );
    assert!(full.unchanged_since.is_none());
    for report in [&quick, &full] {
        assert_eq!(
            report.outcome,
            Outcome::Imported,
            "{:#?}",
            report.diagnostics.errors
        );
        assert_eq!(report.id, None, "nothing logged");
        assert!(report.merges.is_empty());
    }
    assert_eq!(quick.counts, full.counts, "{}", path.display());
    assert_eq!(quick.diagnostics, full.diagnostics, "{}", path.display());
    assert_eq!(quick.format, full.format);
    for (entity, c) in &quick.counts {
        assert_eq!(
            (c.created, c.updated, c.retired, c.restored),
            (0, 0, 0, 0),
            "{entity}"
        );
    }
    assert_eq!(table_counts(app).await, before);
    assert_eq!(
        roster_import::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap(),
        logged
    );

    let dry = import(
        app,
        path,
        ImportOptions {
            dry_run: true,
            ..options()
        },
    )
    .await;
    assert_eq!(dry.outcome, Outcome::DryRun);
    assert_eq!(dry.counts, full.counts);
}

on_both_databases! {
    async fn the_same_files_again_are_answered_from_the_log_exactly_as_a_full_comparison(app) {
        // Created, and every kind of entity the samples carry (delta, 1.1, the Chinese set
        // with a merged parent).
        let package = Package::new(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        import(&app, package.path(), options()).await;
        reimport_both_ways(&app, package.path()).await;
        // Retired for being absent from a bulk file, with their links and spaces.
        let fewer = Package::new(&[1, 2, 3, 4, 5, 6, 7, 8, 9]);
        let report = import(&app, fewer.path(), options()).await;
        assert_eq!(report.counts["users"].retired, 2);
        reimport_both_ways(&app, fewer.path()).await;
        // The earlier files are not the last written: compared, and the two come back.
        let back = import(&app, package.path(), options()).await;
        assert!(back.unchanged_since.is_none());
        assert_eq!(back.counts["users"].restored, 2);
        reimport_both_ways(&app, package.path()).await;

        for path in [
            samples("moodle-enrol_oneroster/oneroster_test_data"),
            samples("LMS-Toolkit"),
            cn_example(),
        ] {
            let first = import(&app, &path, options()).await;
            assert_eq!(first.outcome, Outcome::Imported, "{:#?}", first.diagnostics.errors);
            reimport_both_ways(&app, &path).await;
        }
    }
}

/// Every index of the database with its definition, sorted.
async fn indexes(app: &TestApp) -> Vec<String> {
    described(
        app,
        "SELECT name || ': ' || COALESCE(sql, '') AS d FROM sqlite_master WHERE type = 'index' ORDER BY name",
        "SELECT indexname || ': ' || indexdef AS d FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname",
    )
    .await
}

/// Every foreign key of the database: `table: definition`.
async fn foreign_keys(app: &TestApp) -> Vec<String> {
    described(
        app,
        "SELECT m.name || ': ' || f.\"from\" || ' -> ' || f.\"table\" || '(' || f.\"to\" || ')' AS d \
         FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table' ORDER BY d",
        "SELECT conrelid::regclass::text || ': ' || pg_get_constraintdef(oid) AS d FROM pg_constraint \
         WHERE contype = 'f' AND connamespace = current_schema()::regnamespace ORDER BY d",
    )
    .await
}

/// The column `d` of the query for the app's database.
async fn described(app: &TestApp, sqlite: &str, postgres: &str) -> Vec<String> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let sql = match app.backend() {
        crate::support::Backend::Sqlite => sqlite,
        crate::support::Backend::Postgres => postgres,
    };
    let backend = app.state.db.get_database_backend();
    assert_eq!(
        backend == DbBackend::Sqlite,
        app.backend() == crate::support::Backend::Sqlite
    );
    let rows = app
        .state
        .db
        .query_all_raw(Statement::from_string(backend, sql))
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.try_get::<String>("", "d").unwrap())
        .collect()
}

on_both_databases! {
    async fn a_first_import_leaves_every_index_and_reference_in_place(app) {
        // A first import drops the indexes of the empty roster tables (and on PostgreSQL their
        // foreign keys), writes the rows (on SQLite through a connection without foreign-key
        // checks), and makes them again.
        use sea_orm::{ConnectionTrait, Statement};
        assert_eq!(table_counts(&app).await.iter().sum::<u64>(), 0, "a first import");
        let before = indexes(&app).await;
        assert!(before.iter().any(|i| i.starts_with("enrollments_person")), "{before:?}");
        let references = foreign_keys(&app).await;
        assert!(references.iter().any(|r| r.starts_with("enrollments")), "{references:?}");
        let report = import(&app, &cn_example(), options()).await;
        assert_eq!(report.outcome, Outcome::Imported, "{:#?}", report.diagnostics.errors);
        assert_eq!(indexes(&app).await, before, "the same indexes, defined the same way");
        assert_eq!(foreign_keys(&app).await, references, "the same references");
        if app.backend() == crate::support::Backend::Sqlite {
            let broken = app
                .state
                .db
                .query_all_raw(Statement::from_string(
                    sea_orm::DbBackend::Sqlite,
                    "PRAGMA foreign_key_check",
                ))
                .await
                .unwrap();
            assert!(broken.is_empty(), "{} rows break a foreign key", broken.len());
        }
        // The indexes work: a second import into the filled tables finds what is there.
        let again = import(&app, &cn_example(), ImportOptions { recheck: true, ..options() }).await;
        assert_eq!(again.outcome, Outcome::Imported, "{:#?}", again.diagnostics.errors);
        assert_eq!(created(&again, "users"), 0);
        assert_eq!(indexes(&app).await, before);
    }
}

on_both_databases! {
    async fn postgres_has_statistics_of_the_tables_an_import_wrote(app) {
        // Without statistics PostgreSQL plans every lookup in a fresh district as if its tables
        // were empty, until autovacuum comes by; the import gathers them itself.
        use sea_orm::{ConnectionTrait, Statement};
        let report = import(&app, &cn_example(), options()).await;
        assert_eq!(report.outcome, Outcome::Imported, "{:#?}", report.diagnostics.errors);
        if app.backend() != crate::support::Backend::Postgres {
            return;
        }
        let rows = app
            .state
            .db
            .query_all_raw(Statement::from_string(
                sea_orm::DbBackend::Postgres,
                "SELECT relname FROM pg_stat_user_tables \
                 WHERE relname IN ('people', 'enrollments', 'guardian_links', 'spaces') \
                 AND last_analyze IS NOT NULL ORDER BY relname",
            ))
            .await
            .unwrap();
        let analyzed: Vec<String> = rows
            .iter()
            .map(|r| r.try_get::<String>("", "relname").unwrap())
            .collect();
        assert_eq!(analyzed, ["enrollments", "guardian_links", "people", "spaces"]);
    }
}
