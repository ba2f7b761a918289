//! Signing in and the administration around it: decisions, authorization and audit, with the
//! HTTP handlers kept thin.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    TransactionTrait,
};
use serde::Serialize;
use serde_json::json;

use super::client::ClientInfo;
use super::codes::{self, IssuedCode};
use super::entity::credential;
use super::{password, session_store, throttle, tokens};
use crate::audit::service::descendants;
use crate::audit::{self, Action, Event, Outcome};
use crate::error::{AppError, ErrorCode};
use crate::people::{relations, service as people, store};
use crate::roster::entity::{class, org, person};
use crate::roster::plan::normalise_phone;
use crate::roster::snapshot::ACTIVE;

fn too_many(wait: std::time::Duration) -> AppError {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    AppError::new(ErrorCode::TooManyAttempts).with_arg("seconds", seconds.max(1).to_string())
}

/// What a login is compared with: a username as typed (trimmed), or a normalised phone number.
pub fn login_key(login: &str) -> String {
    login.trim().to_lowercase()
}

/// Sign in with phone number or username and password. Every failure, whoever it concerns,
/// is the same `sign_in_failed`.
pub async fn password_sign_in(
    db: &DatabaseConnection,
    client: &ClientInfo,
    login: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<person::Model, AppError> {
    let key = login_key(login);
    let wait = throttle::before_password(db, &key, client.ip, now).await?;
    if !wait.is_zero() {
        audit::record(
            db,
            Event::new(Action::SignInThrottled, Outcome::Denied, client).login_key(&key),
        )
        .await?;
        return Err(too_many(wait));
    }
    let candidates = candidates(db, login).await?;
    let ids: Vec<String> = candidates.iter().map(|p| p.id.clone()).collect();
    let credentials = credential::Entity::find()
        .filter(credential::Column::PersonId.is_in(ids))
        .all(db)
        .await?;
    let mut matched = None;
    if credentials.is_empty() || password.is_empty() {
        password::verify(password.to_owned(), None).await?;
    }
    // Several people may share a phone (two guardians): the password decides which one.
    for cred in credentials.iter().take(3) {
        if !password.is_empty()
            && password::verify(password.to_owned(), Some(cred.password_hash.clone())).await?
        {
            matched = candidates.iter().find(|p| p.id == cred.person_id).cloned();
            break;
        }
    }
    match matched {
        Some(person) => {
            audit::record(
                db,
                Event::new(Action::SignIn, Outcome::Ok, client)
                    .actor(&person.id)
                    .login_key(&key)
                    .detail(json!({"method": "password"})),
            )
            .await?;
            Ok(person)
        }
        None => {
            let mut event =
                Event::new(Action::SignInFailed, Outcome::Failed, client).login_key(&key);
            if let [only] = candidates.as_slice() {
                event = event.subject(&only.id);
            }
            audit::record(db, event).await?;
            Err(AppError::new(ErrorCode::SignInFailed))
        }
    }
}

/// Active people a login names: by username, else by phone number.
async fn candidates(db: &DatabaseConnection, login: &str) -> Result<Vec<person::Model>, AppError> {
    let login = login.trim();
    if login.is_empty() {
        return Ok(Vec::new());
    }
    let by_username = person::Entity::find()
        .filter(person::Column::Username.eq(login))
        .filter(person::Column::Status.eq(ACTIVE))
        .filter(person::Column::Enabled.eq(true))
        .all(db)
        .await?;
    if !by_username.is_empty() {
        return Ok(by_username);
    }
    let phone = normalise_phone(login);
    Ok(person::Entity::find()
        .filter(person::Column::Phone.eq(phone))
        .filter(person::Column::Status.eq(ACTIVE))
        .filter(person::Column::Enabled.eq(true))
        .all(db)
        .await?)
}

/// Whether an activation code is good, without using it (the first-visit page checks the
/// code before asking for a password). Throttled and audited like a sign-in.
pub async fn check_code(
    db: &DatabaseConnection,
    client: &ClientInfo,
    code: &str,
    now: DateTime<Utc>,
) -> Result<person::Model, AppError> {
    let wait = throttle::before_code(db, client.ip, now).await?;
    if !wait.is_zero() {
        return Err(too_many(wait));
    }
    match codes::find_valid(db, code, now).await? {
        Some((_, person)) => Ok(person),
        None => {
            audit::record(
                db,
                Event::new(Action::ActivationFailed, Outcome::Failed, client),
            )
            .await?;
            Err(AppError::new(ErrorCode::SignInFailed))
        }
    }
}

/// First sign-in with a code: set the password, use up the code.
pub async fn activate(
    db: &DatabaseConnection,
    client: &ClientInfo,
    code: &str,
    new_password: &str,
    now: DateTime<Utc>,
) -> Result<person::Model, AppError> {
    // The password rules are checked before the code, so that a weak-password answer says
    // nothing about whether the code was good.
    password::check_policy(new_password)?;
    let wait = throttle::before_code(db, client.ip, now).await?;
    if !wait.is_zero() {
        return Err(too_many(wait));
    }
    let Some((found, person)) = codes::find_valid(db, code, now).await? else {
        audit::record(
            db,
            Event::new(Action::ActivationFailed, Outcome::Failed, client),
        )
        .await?;
        return Err(AppError::new(ErrorCode::SignInFailed));
    };
    let phc = password::hash(new_password.to_owned()).await?;
    let txn = db.begin().await?;
    if !codes::consume(&txn, &found, now).await? {
        txn.rollback().await?;
        audit::record(
            db,
            Event::new(Action::ActivationFailed, Outcome::Failed, client),
        )
        .await?;
        return Err(AppError::new(ErrorCode::SignInFailed));
    }
    credential::Entity::insert(credential::ActiveModel {
        person_id: Set(person.id.clone()),
        password_hash: Set(phc),
        set_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(credential::Column::PersonId)
            .update_columns([credential::Column::PasswordHash, credential::Column::SetAt])
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    audit::record_at(
        &txn,
        Event::new(Action::Activation, Outcome::Ok, client)
            .actor(&person.id)
            .detail(json!({"code_id": found.id})),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(person)
}

/// What ending someone's sessions did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SignedOut {
    pub sessions_ended: u64,
    pub tokens_revoked: u64,
}

/// End every session and revoke every API token of `target`, by `actor` (themselves or an
/// administrator of their school or district).
pub async fn sign_out_everywhere(
    db: &DatabaseConnection,
    caches: &crate::cache::Caches,
    actor: &person::Model,
    target: &person::Model,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<SignedOut, AppError> {
    if actor.id != target.id && !people::administers(db, actor, target).await? {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    let txn = db.begin().await?;
    let ids = [target.id.clone()];
    let sessions_ended = session_store::delete_for_people(&txn, &ids).await?;
    let tokens_revoked = tokens::revoke_all_for(&txn, &ids, now).await?;
    crate::cache::bump(&txn).await?;
    audit::record_at(
        &txn,
        Event::new(Action::SignOutEverywhere, Outcome::Ok, client)
            .actor(&actor.id)
            .subject(&target.id)
            .detail(json!({"sessions_ended": sessions_ended, "tokens_revoked": tokens_revoked})),
        now,
    )
    .await?;
    txn.commit().await?;
    caches.clear();
    Ok(SignedOut {
        sessions_ended,
        tokens_revoked,
    })
}

/// The person a sourcedId names, for an actor who may manage them; others learn nothing.
pub async fn managed_person(
    db: &DatabaseConnection,
    actor: &person::Model,
    sourced_id: &str,
) -> Result<person::Model, AppError> {
    let target = store::find_by_sourced_id(db, sourced_id).await?;
    match target {
        Some(t) if t.id == actor.id || people::administers(db, actor, &t).await? => Ok(t),
        _ => Err(AppError::new(ErrorCode::Forbidden)),
    }
}

/// A class by sourcedId, for someone who manages it (its head teacher, an administrator of
/// its school or district); others get `forbidden` whether or not it exists.
pub async fn managed_class(
    db: &DatabaseConnection,
    actor: &person::Model,
    sourced_id: &str,
) -> Result<class::Model, AppError> {
    match relations::class_by_sourced_id(db, sourced_id).await? {
        Some(c) if relations::manages_class(db, actor, &c).await? => Ok(c),
        _ => Err(AppError::new(ErrorCode::Forbidden)),
    }
}

/// Issue codes for a class's pupils and parents. `actor` is `None` for the operator's CLI.
pub async fn issue_class_codes(
    db: &DatabaseConnection,
    actor: Option<&person::Model>,
    class: &class::Model,
    days: u32,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<Vec<IssuedCode>, AppError> {
    let txn = db.begin().await?;
    let issued =
        codes::issue_for_class(&txn, class, actor.map(|a| a.id.as_str()), days, now).await?;
    let mut event = Event::new(Action::CodesIssued, Outcome::Ok, client)
        .org(Some(class.school_id.clone()))
        .detail(json!({
            "class": class.sourced_id,
            "count": issued.len(),
            "by": if actor.is_some() { "web" } else { "cli" },
        }));
    if let Some(actor) = actor {
        event = event.actor(&actor.id);
    }
    audit::record_at(&txn, event, now).await?;
    txn.commit().await?;
    Ok(issued)
}

/// Reissue one person's code (a lost slip, a forgotten password): the old code stops working.
/// Allowed to administrators of the person's school and to head teachers of a class the
/// person (or their child) is in.
pub async fn reissue_code(
    db: &DatabaseConnection,
    actor: &person::Model,
    sourced_id: &str,
    days: u32,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<IssuedCode, AppError> {
    let Some(target) = store::find_by_sourced_id(db, sourced_id).await? else {
        return Err(AppError::new(ErrorCode::Forbidden));
    };
    let allowed = people::administers(db, actor, &target).await? || {
        let headed = relations::taught_classes(db, actor, true).await?;
        let students = relations::students_of(db, &headed).await?;
        students.contains(&target.id)
            || relations::guardians_of(db, &students)
                .await?
                .contains(&target.id)
    };
    if !allowed || target.id == actor.id {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    if target.status != ACTIVE {
        return Err(AppError::new(ErrorCode::Conflict));
    }
    issue_one(db, Some(actor), &target, days, client, now).await
}

/// Issue, audit and describe one person's code; `actor` is `None` for the operator's CLI.
async fn issue_one(
    db: &DatabaseConnection,
    actor: Option<&person::Model>,
    target: &person::Model,
    days: u32,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<IssuedCode, AppError> {
    let txn = db.begin().await?;
    let issued_by = actor.map(|a| a.id.as_str());
    let (code, expires_at) = codes::issue(&txn, target, issued_by, days, now).await?;
    let mut event = Event::new(Action::CodesIssued, Outcome::Ok, client)
        .subject(&target.id)
        .detail(json!({"count": 1, "by": if actor.is_some() { "web" } else { "cli" }}));
    if let Some(actor) = actor {
        event = event.actor(&actor.id);
    }
    audit::record_at(&txn, event, now).await?;
    txn.commit().await?;
    Ok(IssuedCode {
        sourced_id: target.sourced_id.clone(),
        name: target.display_name.clone(),
        role: primary_role(db, &target.id).await?,
        code,
        children: Vec::new(),
        expires_at,
    })
}

/// A code for one active person, issued by the operator's CLI (audited); `None` when the
/// sourcedId names no active person.
pub async fn issue_person_code(
    db: &DatabaseConnection,
    sourced_id: &str,
    days: u32,
    now: DateTime<Utc>,
) -> Result<Option<IssuedCode>, AppError> {
    let Some(target) = store::find_by_sourced_id(db, sourced_id).await? else {
        return Ok(None);
    };
    if target.status != ACTIVE {
        return Ok(None);
    }
    let issued = issue_one(db, None, &target, days, &ClientInfo::default(), now).await?;
    Ok(Some(issued))
}

/// The role to print on a person's slip: student or family role first, else the first role.
async fn primary_role(db: &DatabaseConnection, person_id: &str) -> Result<String, AppError> {
    let roles = store::active_roles(db, person_id).await?;
    Ok(roles
        .iter()
        .map(|r| r.role.clone())
        .find(|r| r == "student" || relations::FAMILY_ROLES.contains(&r.as_str()))
        .or_else(|| roles.first().map(|r| r.role.clone()))
        .unwrap_or_default())
}

/// The classes of one school that someone may issue codes for.
pub struct SchoolClasses {
    pub school: String,
    pub classes: Vec<class::Model>,
}

/// Classes `viewer` manages: those they head, and every class of the schools they administer
/// (or that lie below an org they administer), grouped by school.
pub async fn manageable_classes(
    db: &impl ConnectionTrait,
    viewer: &person::Model,
) -> Result<Vec<SchoolClasses>, DbErr> {
    let headed = relations::taught_classes(db, viewer, true).await?;
    let admin_orgs = people::administered_orgs(db, viewer).await?;
    if headed.is_empty() && admin_orgs.is_empty() {
        return Ok(Vec::new());
    }
    let mut which = Condition::any();
    if !headed.is_empty() {
        which = which.add(class::Column::Id.is_in(headed));
    }
    if !admin_orgs.is_empty() {
        let orgs = org::Entity::find().all(db).await?;
        which = which.add(class::Column::SchoolId.is_in(descendants(&orgs, &admin_orgs)));
    }
    let classes = class::Entity::find()
        .filter(which)
        .filter(class::Column::Status.eq(ACTIVE))
        .all(db)
        .await?;
    let school_ids = classes.iter().map(|c| c.school_id.clone()).collect();
    let schools = store::orgs_by_id(db, school_ids).await?;
    let mut grouped: BTreeMap<(String, String), Vec<class::Model>> = BTreeMap::new();
    for class in classes {
        let name = schools
            .get(&class.school_id)
            .map_or_else(|| class.school_id.clone(), |o| o.name.clone());
        grouped
            .entry((name, class.school_id.clone()))
            .or_default()
            .push(class);
    }
    Ok(grouped
        .into_iter()
        .map(|((school, _), mut classes)| {
            classes.sort_by(|a, b| (&a.grades, &a.title).cmp(&(&b.grades, &b.title)));
            SchoolClasses { school, classes }
        })
        .collect())
}

/// Whether the person has set a password (at their first visit with a code).
pub async fn has_password(db: &impl ConnectionTrait, person_id: &str) -> Result<bool, DbErr> {
    Ok(credential::Entity::find_by_id(person_id.to_owned())
        .one(db)
        .await?
        .is_some())
}

/// Audit a token created by the operator's CLI.
pub async fn audit_token_created(
    db: &impl ConnectionTrait,
    person_id: &str,
    token_id: &str,
) -> Result<(), AppError> {
    audit::record(
        db,
        Event::new(Action::TokenCreated, Outcome::Ok, &ClientInfo::default())
            .subject(person_id)
            .detail(json!({"token": token_id, "by": "cli"})),
    )
    .await?;
    Ok(())
}
