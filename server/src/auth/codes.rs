//! Activation codes (激活码): how families without single sign-on get in.
//!
//! A code is 8 characters from an alphabet without 0/O/1/I (32 symbols, 40 bits), printed as
//! `ABCD-EFGH`. It is stored as a SHA-256 hash (random codes need no slow hash; guessing is
//! throttled per address), is single-use, expires after `KONGJIAN_CODE_DAYS` days, and issuing
//! a new one for a person voids the old.

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use serde::Serialize;

use super::entity::activation_code;
use crate::people::{relations, store};
use crate::roster::entity::{class, person};
use crate::roster::snapshot::ACTIVE;

/// No 0/O or 1/I: what is printed can be typed without guessing.
pub const ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
pub const LEN: usize = 8;

/// A fresh random code, formatted `XXXX-XXXX`.
pub fn generate() -> String {
    let mut rng = rand::rng();
    let chars: String = (0..LEN)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("{}-{}", &chars[..LEN / 2], &chars[LEN / 2..])
}

/// A code as typed, reduced to its symbols: case, spaces and dashes do not matter.
pub fn normalize(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

pub fn hash(typed: &str) -> String {
    super::tokens::hash(&normalize(typed))
}

/// One issued code, as the CLI prints it and the sheet shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IssuedCode {
    pub sourced_id: String,
    pub name: String,
    /// `student`, or the family role from the roster (`parent`, `guardian`, `relative`).
    pub role: String,
    /// The activation code to type at first sign-in.
    pub code: String,
    /// For a parent: the children in this class the slip is for (absent when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<String>,
    pub expires_at: DateTime<Utc>,
}

/// Issue a code for one person, voiding any unused earlier code.
pub async fn issue(
    db: &impl ConnectionTrait,
    person: &person::Model,
    issued_by: Option<&str>,
    days: u32,
    now: DateTime<Utc>,
) -> Result<(String, DateTime<Utc>), DbErr> {
    activation_code::Entity::update_many()
        .col_expr(activation_code::Column::VoidedAt, Expr::value(now))
        .filter(activation_code::Column::PersonId.eq(person.id.clone()))
        .filter(activation_code::Column::UsedAt.is_null())
        .filter(activation_code::Column::VoidedAt.is_null())
        .exec(db)
        .await?;
    let expires_at = now + Duration::days(i64::from(days));
    // A collision with a live code would fail the unique index; draw again.
    for _ in 0..5 {
        let code = generate();
        let inserted = activation_code::ActiveModel {
            id: Set(uuid::Uuid::now_v7().to_string()),
            person_id: Set(person.id.clone()),
            code_hash: Set(hash(&code)),
            issued_by: Set(issued_by.map(str::to_owned)),
            issued_at: Set(now),
            expires_at: Set(expires_at),
            used_at: Set(None),
            voided_at: Set(None),
        }
        .insert(db)
        .await;
        match inserted {
            Ok(_) => return Ok((code, expires_at)),
            Err(e) if is_unique_violation(&e) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(DbErr::Custom(
        "could not draw a unique activation code".into(),
    ))
}

fn is_unique_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// Codes for every active pupil of a class and every active guardian of those pupils, pupils
/// first, each sorted by name. A parent of two children in the class gets one slip.
pub async fn issue_for_class(
    db: &impl ConnectionTrait,
    class: &class::Model,
    issued_by: Option<&str>,
    days: u32,
    now: DateTime<Utc>,
) -> Result<Vec<IssuedCode>, DbErr> {
    let class_ids = [class.id.clone()].into_iter().collect();
    let student_ids = relations::students_of(db, &class_ids).await?;
    let students = store::people_by_id(db, student_ids.iter().cloned().collect()).await?;
    let mut students: Vec<person::Model> = students
        .into_values()
        .filter(|p| p.status == ACTIVE)
        .collect();
    students
        .sort_by(|a, b| (&a.display_name, &a.sourced_id).cmp(&(&b.display_name, &b.sourced_id)));

    let mut out = Vec::new();
    for student in &students {
        let (code, expires_at) = issue(db, student, issued_by, days, now).await?;
        out.push(IssuedCode {
            sourced_id: student.sourced_id.clone(),
            name: student.display_name.clone(),
            role: "student".into(),
            code,
            children: Vec::new(),
            expires_at,
        });
    }

    // Guardians, each with the children of this class they are linked to.
    let mut guardians: std::collections::BTreeMap<String, (person::Model, Vec<String>)> =
        Default::default();
    for student in &students {
        for (_, guardian) in store::linked(db, &student.id, false).await? {
            if guardian.status != ACTIVE {
                continue;
            }
            guardians
                .entry(guardian.id.clone())
                .or_insert_with(|| (guardian, Vec::new()))
                .1
                .push(student.display_name.clone());
        }
    }
    let mut guardians: Vec<_> = guardians.into_values().collect();
    guardians.sort_by(|a, b| (&a.1, &a.0.display_name).cmp(&(&b.1, &b.0.display_name)));
    for (guardian, children) in guardians {
        let role = store::active_roles(db, &guardian.id)
            .await?
            .into_iter()
            .map(|r| r.role)
            .find(|r| relations::FAMILY_ROLES.contains(&r.as_str()))
            .unwrap_or_else(|| "parent".into());
        let (code, expires_at) = issue(db, &guardian, issued_by, days, now).await?;
        out.push(IssuedCode {
            sourced_id: guardian.sourced_id.clone(),
            name: guardian.display_name.clone(),
            role,
            code,
            children,
            expires_at,
        });
    }
    Ok(out)
}

/// The valid, unused code `typed` names, with its person, if both are still good.
pub async fn find_valid(
    db: &impl ConnectionTrait,
    typed: &str,
    now: DateTime<Utc>,
) -> Result<Option<(activation_code::Model, person::Model)>, DbErr> {
    let normalized = normalize(typed);
    if normalized.len() != LEN || !normalized.bytes().all(|b| ALPHABET.contains(&b)) {
        return Ok(None);
    }
    let Some(code) = activation_code::Entity::find()
        .filter(activation_code::Column::CodeHash.eq(hash(&normalized)))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if code.used_at.is_some() || code.voided_at.is_some() || code.expires_at <= now {
        return Ok(None);
    }
    let Some(person) = person::Entity::find_by_id(code.person_id.clone())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if person.status != ACTIVE || !person.enabled {
        return Ok(None);
    }
    Ok(Some((code, person)))
}

/// Mark a code used. False if someone else used it first (two tabs, a retry): the loser
/// must not get a session.
pub async fn consume(
    db: &impl ConnectionTrait,
    code: &activation_code::Model,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = activation_code::Entity::update_many()
        .col_expr(activation_code::Column::UsedAt, Expr::value(now))
        .filter(activation_code::Column::Id.eq(code.id.clone()))
        .filter(activation_code::Column::UsedAt.is_null())
        .filter(activation_code::Column::VoidedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_avoid_ambiguous_characters_and_normalize() {
        for _ in 0..200 {
            let code = generate();
            assert_eq!(code.len(), LEN + 1);
            assert!(!code.contains(['0', 'O', '1', 'I']), "{code}");
            assert_eq!(
                normalize(&code.to_lowercase().replace('-', " ")),
                code.replace('-', "")
            );
            assert_eq!(hash(&code), hash(&code.to_lowercase()));
        }
    }
}
