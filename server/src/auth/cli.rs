//! `kongjian codes issue`: activation codes for a class, or for one person (a teacher, an
//! administrator: the first people in, before anyone can issue codes in the browser).

use chrono::Utc;
use sea_orm::DatabaseConnection;
use serde::Serialize;

use super::client::ClientInfo;
use super::service;
use crate::people::relations;

/// One line of `--json` output: exactly the fields the contract names.
#[derive(Serialize)]
struct CodeLine<'a> {
    sourced_id: &'a str,
    name: &'a str,
    role: &'a str,
    code: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum CodesError {
    #[error("没有找到标识为“{0}”的在用班级 / no active class has the sourcedId \"{0}\"")]
    UnknownClass(String),
    #[error("没有找到标识为“{0}”的在用人员 / no active person has the sourcedId \"{0}\"")]
    UnknownPerson(String),
    #[error(transparent)]
    App(#[from] crate::error::AppError),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

/// Whom codes are issued for.
pub enum Who {
    Class(String),
    Person(String),
}

/// Issue codes for every pupil and parent of a class, or for one person; print them as JSON
/// or a table.
pub async fn issue(
    db: &DatabaseConnection,
    who: &Who,
    days: u32,
    json: bool,
    base_url: &str,
) -> Result<(), CodesError> {
    let (title, issued) = match who {
        Who::Class(sourced_id) => {
            let class = relations::class_by_sourced_id(db, sourced_id)
                .await?
                .ok_or_else(|| CodesError::UnknownClass(sourced_id.clone()))?;
            let issued = service::issue_class_codes(
                db,
                None,
                &class,
                days,
                &ClientInfo::default(),
                Utc::now(),
            )
            .await?;
            (format!("{}（{}）", class.title, class.sourced_id), issued)
        }
        Who::Person(sourced_id) => {
            let issued = service::issue_person_code(db, sourced_id, days, Utc::now())
                .await?
                .ok_or_else(|| CodesError::UnknownPerson(sourced_id.clone()))?;
            (issued.name.clone(), vec![issued])
        }
    };
    if json {
        let lines: Vec<CodeLine> = issued
            .iter()
            .map(|c| CodeLine {
                sourced_id: &c.sourced_id,
                name: &c.name,
                role: &c.role,
                code: &c.code,
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&lines).unwrap_or_else(|_| "[]".into())
        );
        return Ok(());
    }
    println!("{title}");
    println!(
        "{:<12}  {:<10}  {:<9}  姓名 / name",
        "sourcedId", "role", "code"
    );
    for c in &issued {
        let children = if c.children.is_empty() {
            String::new()
        } else {
            format!(
                "（{} 的家长 / parent of {}）",
                c.children.join("、"),
                c.children.join(", ")
            )
        };
        println!(
            "{:<12}  {:<10}  {:<9}  {}{children}",
            c.sourced_id, c.role, c.code, c.name
        );
    }
    let expires = issued
        .first()
        .map(|c| c.expires_at.format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    eprintln!(
        "已发放 {} 个激活码，有效期至 {expires}，旧激活码已作废。登录地址：{base_url}/activate / Issued {} codes, valid until {expires}; earlier codes are void. Sign-in address: {base_url}/activate",
        issued.len(),
        issued.len()
    );
    Ok(())
}
