//! The settings that make messaging kind to families: a school's quiet hours (set by its
//! administrators, the server's `KONGJIAN_QUIET_HOURS` otherwise) and a person's choice of a
//! daily digest instead of live delivery.

use sea_orm::sea_query::OnConflict;
use sea_orm::{DbErr, EntityTrait};
use serde::Serialize;

use super::entity::{message_prefs, school_messaging};
use super::quiet::QuietHours;
use crate::audit::service as audit;
use crate::error::{AppError, ErrorCode};
use crate::people::relations;
use crate::roster::entity::{org, person};
use crate::state::AppState;

/// A school's quiet hours (cached per node for a few seconds).
pub async fn quiet_hours(state: &AppState, school: &str) -> Result<QuietHours, DbErr> {
    if let Some(found) = state.messaging.quiet.get(school) {
        return Ok(found);
    }
    let stored = school_messaging::Entity::find_by_id(school.to_owned())
        .one(&state.db)
        .await?;
    let hours = stored
        .and_then(|s| s.quiet_hours.parse().ok())
        .unwrap_or(state.config.quiet_hours);
    state.messaging.quiet.insert(school.to_owned(), hours);
    Ok(hours)
}

/// A school's messaging settings.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SchoolSettings {
    /// The school's sourcedId.
    pub school: String,
    /// `HH:MM-HH:MM` (e.g. `21:30-07:00`) or `off`: messages to families wait until the end.
    pub quiet_hours: String,
    /// Whether the school chose its own, or follows the server's default.
    pub own: bool,
    /// The time zone the hours are read in (IANA name).
    pub time_zone: String,
}

async fn school_for_admin(
    state: &AppState,
    caller: &person::Model,
    sourced_id: &str,
) -> Result<org::Model, AppError> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let school = org::Entity::find()
        .filter(org::Column::SourcedId.eq(sourced_id))
        .one(&state.db)
        .await?
        .ok_or_else(AppError::not_found)?;
    if !relations::administers_org(&state.db, caller, &school.id).await? {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    Ok(school)
}

pub async fn school(
    state: &AppState,
    caller: &person::Model,
    sourced_id: &str,
) -> Result<SchoolSettings, AppError> {
    let school = school_for_admin(state, caller, sourced_id).await?;
    let own = school_messaging::Entity::find_by_id(school.id.clone())
        .one(&state.db)
        .await?
        .is_some();
    Ok(SchoolSettings {
        quiet_hours: quiet_hours(state, &school.id).await?.to_string(),
        school: school.sourced_id,
        own,
        time_zone: state.config.time_zone.name().to_owned(),
    })
}

/// An administrator of the school sets its quiet hours (`21:30-07:00`, `off`, or `default`
/// to follow the server's setting again). Audited.
pub async fn set_quiet_hours(
    state: &AppState,
    caller: &person::Model,
    client: &crate::auth::client::ClientInfo,
    sourced_id: &str,
    value: &str,
) -> Result<SchoolSettings, AppError> {
    let school = school_for_admin(state, caller, sourced_id).await?;
    let now = state.clock.now();
    if value.trim().eq_ignore_ascii_case("default") {
        school_messaging::Entity::delete_by_id(school.id.clone())
            .exec(&state.db)
            .await?;
    } else {
        let hours: QuietHours = value.parse().map_err(|_| {
            AppError::new(ErrorCode::InvalidField)
                .with_arg("field", "quiet_hours")
                .with_arg("hint", "HH:MM-HH:MM（例如 21:30-07:00）、off 或 default / HH:MM-HH:MM (e.g. 21:30-07:00), off or default")
        })?;
        school_messaging::Entity::insert(school_messaging::ActiveModel::from(
            school_messaging::Model {
                org_id: school.id.clone(),
                quiet_hours: hours.to_string(),
                updated_by: caller.id.clone(),
                updated_at: now,
            },
        ))
        .on_conflict(
            OnConflict::column(school_messaging::Column::OrgId)
                .update_columns([
                    school_messaging::Column::QuietHours,
                    school_messaging::Column::UpdatedBy,
                    school_messaging::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&state.db)
        .await?;
    }
    state.messaging.quiet.invalidate(&school.id);
    audit::record(
        &state.db,
        audit::Event::new(audit::Action::SettingChanged, audit::Outcome::Ok, client)
            .actor(&caller.id)
            .org(Some(school.id.clone()))
            .detail(serde_json::json!({"quiet_hours": value.trim()})),
    )
    .await?;
    self::school(state, caller, sourced_id).await
}

/// Everyone who chose a daily digest instead of live delivery. Every delivery asks, so the
/// answer is the set of them all (few), read in one query and kept per node for a few seconds;
/// a notice asks once for all its recipients.
pub async fn digest_choosers(
    state: &AppState,
) -> Result<std::sync::Arc<std::collections::HashSet<String>>, DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
    if let Some(set) = state.messaging.digest.get(&()) {
        return Ok(set);
    }
    let set: std::collections::HashSet<String> = message_prefs::Entity::find()
        .filter(message_prefs::Column::Digest.eq(true))
        .select_only()
        .column(message_prefs::Column::PersonId)
        .into_tuple::<String>()
        .all(&state.db)
        .await?
        .into_iter()
        .collect();
    let set = std::sync::Arc::new(set);
    state.messaging.digest.insert((), set.clone());
    Ok(set)
}

/// The local time the daily digest goes out.
pub const DIGEST_AT: (u32, u32) = (19, 0);

/// Send the day's digest to everyone who chose one and has not had today's (once per person
/// across nodes: the row is claimed by a conditional update).
pub async fn send_digests(state: &AppState) -> Result<(), DbErr> {
    use chrono::TimeZone;
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, Condition, QueryFilter, TransactionTrait};
    let now = state.clock.now();
    let zone = state.config.time_zone;
    let local = now.with_timezone(&zone);
    let Some(due) = local
        .date_naive()
        .and_hms_opt(DIGEST_AT.0, DIGEST_AT.1, 0)
        .and_then(|t| zone.from_local_datetime(&t).earliest())
        .map(|t| t.with_timezone(&chrono::Utc))
    else {
        return Ok(());
    };
    if now < due {
        return Ok(());
    }
    let waiting = message_prefs::Entity::find()
        .filter(message_prefs::Column::Digest.eq(true))
        .filter(
            Condition::any()
                .add(message_prefs::Column::LastDigestAt.is_null())
                .add(message_prefs::Column::LastDigestAt.lt(due)),
        )
        .all(&state.db)
        .await?;
    for prefs in waiting {
        let txn = state.db.begin().await?;
        let mut claim = message_prefs::Entity::update_many()
            .col_expr(message_prefs::Column::LastDigestAt, Expr::value(now))
            .filter(message_prefs::Column::PersonId.eq(prefs.person_id.as_str()));
        claim = match prefs.last_digest_at {
            Some(at) => claim.filter(message_prefs::Column::LastDigestAt.eq(at)),
            None => claim.filter(message_prefs::Column::LastDigestAt.is_null()),
        };
        if claim.exec(&txn).await?.rows_affected == 0 {
            continue;
        }
        let delivery = super::deliver::Delivery::Digest(prefs.person_id);
        super::deliver::notify_other_nodes(state, &txn, std::slice::from_ref(&delivery)).await?;
        txn.commit().await?;
        super::deliver::publish(state, vec![delivery]);
    }
    Ok(())
}

/// How the caller receives messages.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Prefs {
    /// `live` or `digest`.
    pub delivery: &'static str,
}

pub async fn prefs(state: &AppState, person: &person::Model) -> Result<Prefs, DbErr> {
    let digest = message_prefs::Entity::find_by_id(person.id.clone())
        .one(&state.db)
        .await?
        .is_some_and(|p| p.digest);
    Ok(Prefs {
        delivery: if digest { "digest" } else { "live" },
    })
}

pub async fn set_prefs(
    state: &AppState,
    person: &person::Model,
    delivery: &str,
) -> Result<Prefs, AppError> {
    let digest = match delivery {
        "live" => false,
        "digest" => true,
        _ => {
            return Err(AppError::new(ErrorCode::InvalidField)
                .with_arg("field", "delivery")
                .with_arg("hint", "live 或 digest / live or digest"));
        }
    };
    message_prefs::Entity::insert(message_prefs::ActiveModel::from(message_prefs::Model {
        person_id: person.id.clone(),
        digest,
        last_digest_at: None,
        updated_at: state.clock.now(),
    }))
    .on_conflict(
        OnConflict::column(message_prefs::Column::PersonId)
            .update_columns([
                message_prefs::Column::Digest,
                message_prefs::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(&state.db)
    .await?;
    state.messaging.digest.invalidate_all();
    Ok(prefs(state, person).await?)
}
