//! `kongjian codes issue`: activation codes for a class, from the operator's shell.

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
    #[error(transparent)]
    App(#[from] crate::error::AppError),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

/// Issue codes for every pupil and parent of the class; print them as JSON or a table.
pub async fn issue(
    db: &DatabaseConnection,
    class_sourced_id: &str,
    days: u32,
    json: bool,
    base_url: &str,
) -> Result<(), CodesError> {
    let class = relations::class_by_sourced_id(db, class_sourced_id)
        .await?
        .ok_or_else(|| CodesError::UnknownClass(class_sourced_id.to_owned()))?;
    let issued =
        service::issue_class_codes(db, None, &class, days, &ClientInfo::default(), Utc::now())
            .await?;
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
    println!("{}（{}）", class.title, class.sourced_id);
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
