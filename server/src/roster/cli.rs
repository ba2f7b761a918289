//! `kongjian roster import`: progress on a terminal, a summary table at the end, or one JSON
//! object with `--json`.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use sea_orm::DatabaseConnection;

use super::service::{ImportOptions, ImportReport, Origin, Progress, Quiet, import_path};
use crate::i18n::Lang;

/// A spinner with the current stage, on standard error, only when it is a terminal.
struct Spinner(ProgressBar);

impl Progress for Spinner {
    fn stage(&self, zh: &str, en: &str) {
        self.0.set_message(format!("{zh} / {en}"));
    }
}

pub struct ImportArgs<'a> {
    pub path: &'a Path,
    pub dry_run: bool,
    pub allow_mass_retire: bool,
    pub recheck: bool,
    pub json: bool,
}

/// Run the import; returns whether it succeeded (imported, or a clean dry run).
pub async fn import(db: &DatabaseConnection, args: ImportArgs<'_>) -> Result<bool, sea_orm::DbErr> {
    let options = ImportOptions {
        dry_run: args.dry_run,
        allow_mass_retire: args.allow_mass_retire,
        origin: Origin::Cli,
        actor: None,
        client: Default::default(),
        recheck: args.recheck,
    };
    let report = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        let spinner = Spinner(bar);
        let report = import_path(db, args.path, &options, &spinner).await;
        spinner.0.finish_and_clear();
        report?
    } else {
        import_path(db, args.path, &options, &Quiet).await?
    };
    if args.json {
        println!("{}", report.to_json(Lang::Zh));
    } else {
        print_summary(&report);
    }
    Ok(report.outcome.succeeded())
}

const SHOWN_DIAGNOSTICS: usize = 30;

fn print_summary(report: &ImportReport) {
    let outcome = match report.outcome.as_str() {
        "imported" => "已导入 / imported",
        "dry_run" => "试运行，未写入 / dry run, nothing written",
        "rejected" => "已拒绝，数据库未改动 / rejected, nothing changed",
        _ => {
            "已拒绝（停用人数过多），数据库未改动 / refused (too many retirements), nothing changed"
        }
    };
    println!("结果 / outcome: {outcome}");
    if let Some(since) = &report.unchanged_since {
        println!(
            "与导入 {since} 的文件完全相同，未比对也未写入（用 --recheck 逐行比对）/ the same files as import {since}: nothing compared or written (--recheck compares every row)"
        );
    }
    if !report.counts.is_empty() {
        println!(
            "{:<16} {:>10} {:>10} {:>10} {:>10} {:>10}",
            "entity", "新建 new", "更新 upd", "停用 ret", "恢复 back", "未变 same"
        );
        for (entity, c) in &report.counts {
            println!(
                "{entity:<16} {:>10} {:>10} {:>10} {:>10} {:>10}",
                c.created, c.updated, c.retired, c.restored, c.unchanged
            );
        }
    }
    for m in &report.merges {
        println!(
            "合并 / merged: {} → {}（同一手机号 / same phone {}）",
            m.sourced_id, m.into, m.phone
        );
    }
    for (label, list) in [
        ("警告 / warning", &report.diagnostics.warnings),
        ("错误 / error", &report.diagnostics.errors),
    ] {
        if list.is_empty() {
            continue;
        }
        println!("{label}: {}", list.len());
        for d in list.iter().take(SHOWN_DIAGNOSTICS) {
            let line = d.line.map(|l| format!(":{l}")).unwrap_or_default();
            let field = d
                .field
                .as_deref()
                .map(|f| format!(" [{f}]"))
                .unwrap_or_default();
            println!(
                "  {}{line}{field} {} / {}",
                d.file, d.message.zh, d.message.en
            );
        }
        if list.len() > SHOWN_DIAGNOSTICS {
            println!(
                "  …（另有 {} 条，用 --json 查看全部 / {} more, see --json）",
                list.len() - SHOWN_DIAGNOSTICS,
                list.len() - SHOWN_DIAGNOSTICS
            );
        }
    }
}
