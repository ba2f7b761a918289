//! Sign-in throttling with growing delays, counted from the audit log.
//!
//! Each failed attempt is an audit event; before checking a password or a code we count recent
//! failures. Up to a free allowance nothing happens; past it, each further attempt must wait
//! twice as long after the last failure as the one before (1 s, 2 s, 4 s, …) up to a cap. The
//! windows slide, so a delay always ends: there is no lockout a stranger could impose on a
//! parent. Three counters:
//!
//! - the account from this address: strict (a guesser at one account);
//! - the address over all accounts: looser (a school's NAT puts many families behind one address);
//! - the account over all addresses: loosest and capped short (a distributed guesser), so that
//!   strangers elsewhere can at worst slow a parent down by minutes, never keep them out.
//!
//! Activation codes are random and belong to no account the guesser can name, so code attempts
//! are counted per address only. Counting from the database means every node of a cluster
//! agrees on the counts.

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

use crate::audit::Action;
use crate::audit::entity::audit_event;

#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Failures within the window that cost nothing.
    pub free: u64,
    pub window: Duration,
    /// The longest single delay.
    pub cap: Duration,
}

pub const ACCOUNT_FROM_ADDRESS: Rule = Rule {
    free: 5,
    window: Duration::from_secs(15 * 60),
    cap: Duration::from_secs(15 * 60),
};
pub const ADDRESS: Rule = Rule {
    free: 30,
    window: Duration::from_secs(15 * 60),
    cap: Duration::from_secs(15 * 60),
};
pub const ACCOUNT: Rule = Rule {
    free: 50,
    window: Duration::from_secs(60 * 60),
    cap: Duration::from_secs(5 * 60),
};

/// How long the caller must still wait after `failures` failures, the last at `last`.
pub fn wait(
    rule: Rule,
    failures: u64,
    last: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Duration {
    let (Some(last), true) = (last, failures >= rule.free) else {
        return Duration::ZERO;
    };
    let excess = u32::try_from(failures - rule.free)
        .unwrap_or(u32::MAX)
        .min(30);
    let delay = Duration::from_secs(1u64 << excess).min(rule.cap);
    let since = (now - last).to_std().unwrap_or(Duration::ZERO);
    delay.saturating_sub(since)
}

async fn count(
    db: &impl ConnectionTrait,
    action: Action,
    login_key: Option<&str>,
    ip: Option<IpAddr>,
    rule: Rule,
    now: DateTime<Utc>,
) -> Result<Duration, DbErr> {
    let since = now - chrono::Duration::from_std(rule.window).unwrap_or_default();
    let mut query = audit_event::Entity::find()
        .select_only()
        .column_as(audit_event::Column::Id.count(), "failures")
        .column_as(audit_event::Column::At.max(), "last")
        .filter(audit_event::Column::Action.eq(action.as_str()))
        .filter(audit_event::Column::At.gt(since));
    if let Some(key) = login_key {
        query = query.filter(audit_event::Column::LoginKey.eq(key));
    }
    if let Some(ip) = ip {
        query = query.filter(audit_event::Column::Ip.eq(ip.to_string()));
    }
    let (failures, last): (i64, Option<DateTime<Utc>>) =
        query.into_tuple().one(db).await?.unwrap_or((0, None));
    Ok(wait(rule, u64::try_from(failures).unwrap_or(0), last, now))
}

/// The wait before a password sign-in for `login_key` from `ip` may be tried; zero to go on.
pub async fn before_password(
    db: &impl ConnectionTrait,
    login_key: &str,
    ip: Option<IpAddr>,
    now: DateTime<Utc>,
) -> Result<Duration, DbErr> {
    let action = Action::SignInFailed;
    let mut longest = count(db, action, Some(login_key), None, ACCOUNT, now).await?;
    if ip.is_some() {
        longest =
            longest.max(count(db, action, Some(login_key), ip, ACCOUNT_FROM_ADDRESS, now).await?);
        longest = longest.max(count(db, action, None, ip, ADDRESS, now).await?);
    }
    Ok(longest)
}

/// The wait before an activation code from `ip` may be tried.
pub async fn before_code(
    db: &impl ConnectionTrait,
    ip: Option<IpAddr>,
    now: DateTime<Utc>,
) -> Result<Duration, DbErr> {
    if ip.is_none() {
        return Ok(Duration::ZERO);
    }
    count(
        db,
        Action::ActivationFailed,
        None,
        ip,
        ACCOUNT_FROM_ADDRESS,
        now,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_then_stop_at_the_cap_and_always_end() {
        let now = Utc::now();
        let rule = ACCOUNT_FROM_ADDRESS;
        assert_eq!(wait(rule, 4, Some(now), now), Duration::ZERO);
        assert_eq!(wait(rule, 5, Some(now), now), Duration::from_secs(1));
        assert_eq!(wait(rule, 8, Some(now), now), Duration::from_secs(8));
        assert_eq!(wait(rule, 500, Some(now), now), rule.cap);
        let later = now + chrono::Duration::seconds(3);
        assert_eq!(wait(rule, 8, Some(now), later), Duration::from_secs(5));
        let much_later = now + chrono::Duration::hours(1);
        assert_eq!(wait(rule, 500, Some(now), much_later), Duration::ZERO);
    }
}
