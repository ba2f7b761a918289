//! Families' answers, one per child (a sign-up or a permission slip), and what the organisers
//! see of them: every answer with who gave it, who has not answered, the counts, and the same
//! as a CSV file that Excel opens in Chinese.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::access::{self, Pupil};
use super::entity::{activity, answer};
use super::service::{
    self, Ask, Counts, PersonRef, Summary, cancelled, invalid, local, person_ref, text,
};
use crate::error::{AppError, ErrorCode};
use crate::people::{relations, store};
use crate::roster::entity::person;
use crate::state::AppState;

pub const MAX_NOTE: usize = 500;

/// `POST /api/v1/activities/{id}/answers`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AnswerInput {
    /// The child's sourcedId.
    pub student: String,
    /// `yes` or `no`.
    #[schema(example = "yes")]
    pub answer: String,
    pub note: String,
}

/// A child's answer as it now stands.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Answered {
    pub student: PersonRef,
    pub answer: String,
    pub note: String,
    pub answered_by: PersonRef,
    /// When the child was first answered for.
    pub answered_at: DateTime<Utc>,
    /// When the answer last changed.
    pub updated_at: DateTime<Utc>,
}

/// One answered child, for the organisers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AnswerRow {
    /// The child's sourcedId.
    pub student: String,
    pub name: String,
    pub class: String,
    pub answer: String,
    pub answered_by: PersonRef,
    /// The answering guardian's phone.
    pub phone: String,
    pub answered_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub note: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Contact {
    pub name: String,
    pub phone: String,
}

/// A child no one has answered for yet, with their guardians to call.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Waiting {
    pub student: String,
    pub name: String,
    pub class: String,
    pub guardians: Vec<Contact>,
}

/// `GET /api/v1/activities/{id}/answers`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Answers {
    pub activity: Summary,
    pub counts: Counts,
    pub answers: Vec<AnswerRow>,
    pub unanswered: Vec<Waiting>,
}

/// A guardian answers for one of their children the activity is for, until the deadline
/// (or the start). A changed answer replaces the child's one row. A `yes` to a full sign-up
/// is refused. True when this was the child's first answer.
pub async fn answer(
    state: &AppState,
    caller: &person::Model,
    id: &str,
    input: &AnswerInput,
) -> Result<(Answered, bool), AppError> {
    let (a, st) = service::visible(state, caller, id).await?;
    let sid = input.student.trim();
    if sid.is_empty() {
        return Err(invalid(
            "student",
            "请指明为哪个孩子回复 / name the child (student)",
        ));
    }
    let Some(child) = st.children.iter().find(|c| c.sourced_id == sid).cloned() else {
        // A child of theirs this activity is not for is named as such; anyone else's child
        // (or no child at all) is not found.
        let theirs = match store::find_by_sourced_id(&state.db, sid).await? {
            Some(p) => relations::is_guardian_of(&state.db, caller, &p.id).await?,
            None => false,
        };
        return Err(if theirs {
            invalid(
                "student",
                format!("本活动不面向 {sid} 所在的班级或学校 / this activity is not for {sid}"),
            )
        } else {
            AppError::not_found()
        });
    };
    let choice = match input.answer.trim() {
        "yes" => "yes",
        "no" => "no",
        other => {
            return Err(invalid(
                "answer",
                format!("应为 yes 或 no，而不是“{other}” / use yes or no, not \"{other}\""),
            ));
        }
    };
    let note = text("note", &input.note, MAX_NOTE, false)?;
    if a.ask == Ask::None.as_str() {
        return Err(invalid(
            "answer",
            "本活动无需回复 / this activity asks nothing",
        ));
    }
    if let Some(at) = a.cancelled_at {
        return Err(cancelled(state, at, a.cancel_reason.as_deref()));
    }
    let now = state.clock.now();
    if now > service::answers_close_at(&a) {
        return Err(AppError::new(ErrorCode::AnswersClosed)
            .with_arg("deadline", local(state, service::answers_close_at(&a))));
    }
    let txn = state.db.begin().await?;
    service::lock(&txn, &a.id).await?;
    let existing = answer::Entity::find()
        .filter(answer::Column::ActivityId.eq(a.id.as_str()))
        .filter(answer::Column::StudentId.eq(child.id.as_str()))
        .one(&txn)
        .await?;
    let created = existing.is_none();
    let row = match existing {
        Some(row) => answer::Model {
            answered_by: caller.id.clone(),
            answer: choice.to_owned(),
            note,
            updated_at: now,
            ..row
        },
        None => answer::Model {
            id: uuid::Uuid::now_v7().to_string(),
            activity_id: a.id.clone(),
            student_id: child.id.clone(),
            answered_by: caller.id.clone(),
            answer: choice.to_owned(),
            note,
            answered_at: now,
            updated_at: now,
        },
    };
    if created {
        answer::Entity::insert(answer::ActiveModel::from(row.clone()))
            .exec_without_returning(&txn)
            .await?;
    } else {
        answer::Entity::update(answer::ActiveModel::from(row.clone()).reset_all())
            .exec(&txn)
            .await?;
    }
    // Places are counted after the write, under the lock: the answer that would pass the
    // capacity is rolled back.
    if let (Some(capacity), "yes") = (a.capacity, choice)
        && a.ask == Ask::Signup.as_str()
    {
        let taken = yes_count(&txn, &a.id).await?;
        if taken > capacity as u64 {
            txn.rollback().await?;
            return Err(
                AppError::new(ErrorCode::ActivityFull).with_arg("capacity", capacity.to_string())
            );
        }
    }
    txn.commit().await?;
    let answered = Answered {
        student: person_ref(Some(&child)),
        answer: row.answer,
        note: row.note,
        answered_by: person_ref(Some(caller)),
        answered_at: row.answered_at,
        updated_at: row.updated_at,
    };
    Ok((answered, created))
}

async fn yes_count(db: &impl ConnectionTrait, activity_id: &str) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    answer::Entity::find()
        .filter(answer::Column::ActivityId.eq(activity_id))
        .filter(answer::Column::Answer.eq("yes"))
        .count(db)
        .await
}

/// Every answer of an activity, and the pupils it is for (with those who answered and then
/// left the class).
async fn gather(
    db: &impl ConnectionTrait,
    a: &activity::Model,
) -> Result<(Vec<answer::Model>, Vec<Pupil>), DbErr> {
    let rows = answer::Entity::find()
        .filter(answer::Column::ActivityId.eq(a.id.as_str()))
        .all(db)
        .await?;
    let answered: BTreeSet<String> = rows.iter().map(|r| r.student_id.clone()).collect();
    let pupils = access::pupils(db, a, &answered).await?;
    Ok((rows, pupils))
}

fn tally(rows: &[answer::Model], pupils: &[Pupil]) -> Counts {
    let answered: BTreeSet<&str> = rows.iter().map(|r| r.student_id.as_str()).collect();
    let audience = pupils.iter().filter(|p| p.in_audience);
    Counts {
        yes: rows.iter().filter(|r| r.answer == "yes").count() as u64,
        no: rows.iter().filter(|r| r.answer == "no").count() as u64,
        unanswered: audience
            .clone()
            .filter(|p| !answered.contains(p.person.id.as_str()))
            .count() as u64,
        pupils: audience.count() as u64,
    }
}

/// The counts of an activity, for its organisers.
pub async fn counts(db: &impl ConnectionTrait, a: &activity::Model) -> Result<Counts, DbErr> {
    let (rows, pupils) = gather(db, a).await?;
    Ok(tally(&rows, &pupils))
}

/// `GET /api/v1/activities/{id}/answers`: for the organiser, the class's teachers (a class
/// activity) and the school's administrators; hidden from those the activity is not for.
pub async fn list(state: &AppState, caller: &person::Model, id: &str) -> Result<Answers, AppError> {
    let (a, st) = service::visible(state, caller, id).await?;
    if !st.manages() {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    let db = &state.db;
    let (rows, pupils) = gather(db, &a).await?;
    let counts = tally(&rows, &pupils);
    let by = store::people_by_id(db, rows.iter().map(|r| r.answered_by.clone()).collect()).await?;
    let rows: HashMap<&str, &answer::Model> =
        rows.iter().map(|r| (r.student_id.as_str(), r)).collect();
    let mut answers = Vec::new();
    let mut unanswered = Vec::new();
    for p in &pupils {
        match rows.get(p.person.id.as_str()) {
            Some(r) => {
                let guardian = by.get(&r.answered_by);
                answers.push(AnswerRow {
                    student: p.person.sourced_id.clone(),
                    name: p.person.display_name.clone(),
                    class: p.class.clone(),
                    answer: r.answer.clone(),
                    answered_by: person_ref(guardian),
                    phone: guardian.and_then(|g| g.phone.clone()).unwrap_or_default(),
                    answered_at: r.answered_at,
                    updated_at: r.updated_at,
                    note: r.note.clone(),
                });
            }
            None => unanswered.push(Waiting {
                student: p.person.sourced_id.clone(),
                name: p.person.display_name.clone(),
                class: p.class.clone(),
                guardians: p
                    .guardians
                    .iter()
                    .map(|g| Contact {
                        name: g.display_name.clone(),
                        phone: g.phone.clone().unwrap_or_default(),
                    })
                    .collect(),
            }),
        }
    }
    let activity = service::summaries(db, std::slice::from_ref(&a))
        .await?
        .remove(0);
    Ok(Answers {
        activity,
        counts,
        answers,
        unanswered,
    })
}

/// An answer as the CSV says it.
fn label(ask: &str, answer: &str) -> &'static str {
    match (ask, answer) {
        ("permission", "yes") => "同意",
        ("permission", "no") => "不同意",
        ("signup", "yes") => "参加",
        ("signup", "no") => "不参加",
        _ => "",
    }
}

/// A number Excel must keep as text (sourcedIds, phone numbers): a leading tab stops it
/// reading `13800000001` as a number or dropping a leading zero.
fn as_text(value: &str) -> String {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        format!("\t{value}")
    } else {
        cell(value)
    }
}

/// Text typed by people: a cell starting like a formula is quoted so a spreadsheet shows it
/// instead of running it.
fn cell(value: &str) -> String {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_owned(),
    }
}

/// The answers as CSV: UTF-8 with a byte-order mark (so Excel reads Chinese), a Chinese
/// header, one row per child, answered first then those waiting.
pub fn csv(state: &AppState, view: &Answers) -> Result<Vec<u8>, AppError> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record([
            "学号",
            "学生",
            "班级",
            "回复",
            "回复人",
            "联系电话",
            "回复时间",
            "备注",
        ])
        .map_err(AppError::internal)?;
        let ask = view.activity.ask.as_str();
        for r in &view.answers {
            w.write_record([
                as_text(&r.student),
                cell(&r.name),
                cell(&r.class),
                label(ask, &r.answer).to_owned(),
                cell(&r.answered_by.name),
                as_text(&r.phone),
                local(state, r.updated_at),
                cell(&r.note),
            ])
            .map_err(AppError::internal)?;
        }
        for r in &view.unanswered {
            let phones: Vec<&str> = r
                .guardians
                .iter()
                .map(|g| g.phone.as_str())
                .filter(|p| !p.is_empty())
                .collect();
            let phones = if phones.len() == 1 {
                as_text(phones[0])
            } else {
                cell(&phones.join("、"))
            };
            w.write_record([
                as_text(&r.student),
                cell(&r.name),
                cell(&r.class),
                "未回复".to_owned(),
                String::new(),
                phones,
                String::new(),
                String::new(),
            ])
            .map_err(AppError::internal)?;
        }
        w.flush().map_err(AppError::internal)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_stay_text_and_formulas_do_not_run() {
        assert_eq!(as_text("13800000001"), "\t13800000001");
        assert_eq!(as_text("0012"), "\t0012");
        assert_eq!(as_text("st1"), "st1");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("好的"), "好的");
        assert_eq!(label("permission", "yes"), "同意");
        assert_eq!(label("signup", "no"), "不参加");
    }
}
