//! School life for the demo county (`assets/demo-spaces/spaces.json`): lessons published to its
//! classes, assignments with a few hand-ins (some marked and returned), a spring outing that
//! asks parents' permission, a parents' open day, two school announcements and a few growth
//! record entries (a piece of work picked by its teacher, an award, a comment) — so that the
//! first visit to a demo space shows a space in use. Everything goes through the same services
//! as the API, with their checks; times are set relative to the day the demo is loaded.

use chrono::{DateTime, NaiveTime, TimeDelta, TimeZone, Utc};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde::Deserialize;
use serde_json::Value;

use crate::activities::announcements::{self, NewAnnouncement};
use crate::activities::create::{self as activities, NewActivity};
use crate::assignments::service::{self as assignments, NewAssignment};
use crate::assignments::submissions::{self, HandIn, Mark};
use crate::error::AppError;
use crate::growth::service::{self as growth, NewEntry};
use crate::lessons::entity::lesson;
use crate::lessons::publishing::{self, Publish};
use crate::lessons::service::{self as lessons, NewLesson};
use crate::people::store;
use crate::roster::entity::person;
use crate::state::AppState;

const SPACES: &str = include_str!("../../../assets/demo-spaces/spaces.json");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Demo {
    lessons: Vec<DemoLesson>,
    assignments: Vec<DemoAssignment>,
    activities: Vec<DemoActivity>,
    announcements: Vec<DemoAnnouncement>,
    growth: Vec<DemoGrowth>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoLesson {
    owner: String,
    classes: Vec<String>,
    title: String,
    body: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoAssignment {
    owner: String,
    class: String,
    /// Index into `lessons`.
    lesson: Option<usize>,
    title: String,
    instructions: String,
    due_in_days: i64,
    due_hour: u32,
    scale: String,
    accept_late: bool,
    hand_ins: Vec<DemoHandIn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoHandIn {
    student: String,
    text: String,
    mark: Option<DemoMark>,
    /// The teacher's note when they pick the hand-in for the pupil's growth record.
    growth: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoMark {
    comment: String,
    score: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoActivity {
    organiser: String,
    class: Option<String>,
    school: Option<String>,
    title: String,
    description: String,
    place: String,
    starts_in_days: i64,
    starts_hour: u32,
    ask: String,
    question: String,
    deadline_in_days: Option<i64>,
    capacity: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoAnnouncement {
    author: String,
    school: String,
    title: String,
    body: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoGrowth {
    author: String,
    student: String,
    kind: String,
    title: String,
    body: String,
}

/// What was loaded, for the log line.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Loaded {
    pub lessons: usize,
    pub assignments: usize,
    pub hand_ins: usize,
    pub activities: usize,
    pub announcements: usize,
    pub growth: usize,
}

/// `days` days from today at `hour` o'clock in the district's time zone, as RFC 3339.
fn local_at(state: &AppState, now: DateTime<Utc>, days: i64, hour: u32) -> String {
    let zone = state.config.time_zone;
    let day = now.with_timezone(&zone).date_naive() + TimeDelta::days(days);
    let time = NaiveTime::from_hms_opt(hour.min(23), 0, 0).unwrap_or_default();
    zone.from_local_datetime(&day.and_time(time))
        .earliest()
        .map(|at| at.to_rfc3339())
        .unwrap_or_else(|| (now + TimeDelta::days(days)).to_rfc3339())
}

async fn someone(state: &AppState, sourced_id: &str) -> Result<Option<person::Model>, AppError> {
    Ok(store::find_by_sourced_id(&state.db, sourced_id).await?)
}

/// Load the demo school life when no lesson exists yet and the demo county's people are there.
pub async fn load_if_empty(state: &AppState) -> Result<Loaded, AppError> {
    let mut loaded = Loaded::default();
    if lesson::Entity::find().count(&state.db).await? > 0 {
        return Ok(loaded);
    }
    let demo: Demo = serde_json::from_str(SPACES).map_err(AppError::internal)?;
    let now = state.clock.now();

    let mut lesson_ids = Vec::new();
    for l in demo.lessons {
        let Some(owner) = someone(state, &l.owner).await? else {
            // Not the demo county: nothing to show it with.
            return Ok(loaded);
        };
        let made = lessons::create(
            state,
            &owner,
            NewLesson {
                title: l.title,
                body: l.body,
            },
        )
        .await?;
        publishing::publish(
            state,
            &owner,
            &made.id,
            Publish {
                classes: l.classes,
                at: None,
            },
        )
        .await?;
        lesson_ids.push(made.id);
        loaded.lessons += 1;
    }

    for a in demo.assignments {
        let Some(owner) = someone(state, &a.owner).await? else {
            return Ok(loaded);
        };
        let made = assignments::create(
            state,
            &owner,
            NewAssignment {
                class: a.class,
                lesson: a.lesson.and_then(|i| lesson_ids.get(i).cloned()),
                title: a.title,
                instructions: a.instructions,
                due_at: local_at(state, now, a.due_in_days, a.due_hour),
                scale: a.scale,
                accept_late: a.accept_late,
            },
        )
        .await?;
        loaded.assignments += 1;
        for h in a.hand_ins {
            let Some(pupil) = someone(state, &h.student).await? else {
                continue;
            };
            let assignment = submissions::may_hand_in(state, &pupil, &made.id, now).await?;
            let (handed_in, _) = submissions::hand_in(
                state,
                &pupil,
                &assignment,
                HandIn {
                    text: h.text,
                    files: Vec::new(),
                },
                now,
            )
            .await?;
            loaded.hand_ins += 1;
            if let Some(mark) = h.mark {
                submissions::mark(
                    state,
                    &owner,
                    &handed_in.id,
                    Mark {
                        comment: mark.comment,
                        score: Some(mark.score),
                    },
                )
                .await?;
            }
            if let Some(note) = h.growth {
                growth::add(
                    state,
                    &owner,
                    &pupil.sourced_id,
                    &NewEntry {
                        kind: "work".to_owned(),
                        body: note,
                        submission: Some(handed_in.id.clone()),
                        ..NewEntry::default()
                    },
                )
                .await?;
                loaded.growth += 1;
            }
        }
    }

    for a in demo.activities {
        let Some(organiser) = someone(state, &a.organiser).await? else {
            return Ok(loaded);
        };
        activities::create(
            state,
            &organiser,
            NewActivity {
                class: a.class,
                school: a.school,
                title: a.title,
                description: a.description,
                place: a.place,
                starts_at: local_at(state, now, a.starts_in_days, a.starts_hour),
                ends_at: None,
                capacity: a.capacity.map(activities::Count::Number),
                ask: a.ask,
                question: a.question,
                deadline: a
                    .deadline_in_days
                    .map(|d| local_at(state, now, d, a.starts_hour)),
            },
        )
        .await?;
        loaded.activities += 1;
    }

    for a in demo.announcements {
        let Some(author) = someone(state, &a.author).await? else {
            return Ok(loaded);
        };
        announcements::post(
            state,
            &author,
            &a.school,
            &NewAnnouncement {
                title: a.title,
                body: a.body,
            },
        )
        .await?;
        loaded.announcements += 1;
    }
    for g in demo.growth {
        let Some(author) = someone(state, &g.author).await? else {
            return Ok(loaded);
        };
        growth::add(
            state,
            &author,
            &g.student,
            &NewEntry {
                kind: g.kind,
                title: g.title,
                body: g.body,
                ..NewEntry::default()
            },
        )
        .await?;
        loaded.growth += 1;
    }
    tracing::info!(
        lessons = loaded.lessons,
        assignments = loaded.assignments,
        hand_ins = loaded.hand_ins,
        activities = loaded.activities,
        announcements = loaded.announcements,
        growth = loaded.growth,
        "loaded the demo school life"
    );
    Ok(loaded)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_school_life_parses() {
        let demo: Demo = serde_json::from_str(SPACES).unwrap();
        assert!(demo.lessons.len() >= 5);
        for a in &demo.assignments {
            assert!(
                a.due_in_days > 0,
                "{}: the API refuses past due times",
                a.title
            );
            if let Some(i) = a.lesson {
                assert!(i < demo.lessons.len(), "{}: no lesson {i}", a.title);
            }
        }
    }
}
