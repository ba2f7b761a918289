//! `ws-bench tokens`: an API token for every active parent and teacher of the imported roster,
//! made by the server's own `kongjian::auth::tokens::create` in one transaction, written as
//! `role,sourced_id,class_sourced_id,token` lines (one per person and class: a parent under each
//! class of their children, a teacher under each class they teach).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::Write;

use anyhow::{Context, Result};
use kongjian::roster::entity::{class, enrollment, guardian_link, person, role};
use kongjian::roster::snapshot::ACTIVE;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};

const PARENT_ROLES: [&str; 3] = ["parent", "guardian", "relative"];

pub struct Written {
    pub parents: usize,
    pub teachers: usize,
    pub lines: usize,
}

pub async fn create(database_url: &str, out: &str) -> Result<Written> {
    let db = kongjian::db::connect(database_url)
        .await
        .with_context(|| format!("connecting to {database_url}"))?;
    let people: HashMap<String, String> = person::Entity::find()
        .filter(person::Column::Status.eq(ACTIVE))
        .all(&db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.sourced_id))
        .collect();
    let classes: HashMap<String, String> = class::Entity::find()
        .filter(class::Column::Status.eq(ACTIVE))
        .all(&db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.sourced_id))
        .collect();
    let mut parents: HashSet<String> = HashSet::new();
    for r in role::Entity::find()
        .filter(role::Column::Status.eq(ACTIVE))
        .all(&db)
        .await?
    {
        if PARENT_ROLES.contains(&r.role.as_str()) {
            parents.insert(r.person_id);
        }
    }
    // person id → classes (sourcedIds), for students and teachers.
    let mut student_classes: HashMap<String, Vec<String>> = HashMap::new();
    let mut teacher_classes: HashMap<String, BTreeSet<String>> = HashMap::new();
    for e in enrollment::Entity::find()
        .filter(enrollment::Column::Status.eq(ACTIVE))
        .all(&db)
        .await?
    {
        let Some(class) = classes.get(&e.class_id) else {
            continue;
        };
        match e.role.as_str() {
            "student" => student_classes
                .entry(e.person_id)
                .or_default()
                .push(class.clone()),
            "teacher" => {
                teacher_classes
                    .entry(e.person_id)
                    .or_default()
                    .insert(class.clone());
            }
            _ => {}
        }
    }
    let mut parent_classes: HashMap<String, BTreeSet<String>> = HashMap::new();
    for link in guardian_link::Entity::find()
        .filter(guardian_link::Column::Status.eq(ACTIVE))
        .all(&db)
        .await?
    {
        if !parents.contains(&link.guardian_id) {
            continue;
        }
        if let Some(classes) = student_classes.get(&link.student_id) {
            parent_classes
                .entry(link.guardian_id)
                .or_default()
                .extend(classes.iter().cloned());
        }
    }

    // (role, class, sourced_id, person id), sorted so the file is stable.
    let mut rows: Vec<(&str, &String, &String, &String)> = Vec::new();
    for (role, map) in [("parent", &parent_classes), ("teacher", &teacher_classes)] {
        for (person_id, classes) in map {
            let Some(sourced_id) = people.get(person_id) else {
                continue; // retired
            };
            for class in classes {
                rows.push((role, class, sourced_id, person_id));
            }
        }
    }
    rows.sort();

    let now = chrono::Utc::now();
    let txn = db.begin().await?;
    let mut tokens: HashMap<&String, String> = HashMap::new();
    for (_, _, sourced_id, person_id) in &rows {
        if tokens.contains_key(person_id) {
            continue;
        }
        let token = kongjian::auth::tokens::create(&txn, sourced_id, "ws-bench", None, now)
            .await
            .with_context(|| format!("creating a token for {sourced_id}"))?;
        tokens.insert(person_id, token.secret);
    }
    txn.commit().await?;

    let file = std::fs::File::create(out).with_context(|| format!("creating {out}"))?;
    let mut w = std::io::BufWriter::new(file);
    writeln!(w, "role,sourced_id,class_sourced_id,token")?;
    for (role, class, sourced_id, person_id) in &rows {
        let token = tokens.get(person_id).context("token missing")?;
        writeln!(w, "{role},{sourced_id},{class},{token}")?;
    }
    w.flush()?;
    Ok(Written {
        parents: parent_classes
            .keys()
            .filter(|id| people.contains_key(*id))
            .count(),
        teachers: teacher_classes
            .keys()
            .filter(|id| people.contains_key(*id))
            .count(),
        lines: rows.len(),
    })
}
