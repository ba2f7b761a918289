//! Demo resources for the demo county (`assets/demo-resources/`): a dozen lessons, exercises and
//! materials, brought in through the real lifecycle (created by their teachers, submitted with
//! the pledge, machine-checked, approved by the principal or the district), so that search has
//! something to find after `cargo run`.

use sea_orm::{EntityTrait, PaginatorTrait};
use serde::Deserialize;

use super::entity::resource;
use super::lifecycle::{self, Verdict};
use super::service::{self, Input, Keywords};
use crate::error::AppError;
use crate::people::store;
use crate::state::AppState;

const RESOURCES: &str = include_str!("../../../assets/demo-resources/resources.json");

#[derive(Deserialize)]
struct Demo {
    owner: String,
    reviewer: String,
    scope: String,
    subject: String,
    grade: String,
    #[serde(rename = "type")]
    kind: String,
    edition: String,
    chapter: String,
    title: String,
    description: String,
    keywords: Vec<String>,
    text: String,
}

/// Load the demo resources when the library is empty and the demo county's people are there.
/// Returns how many were published.
pub async fn load_if_empty(state: &AppState) -> Result<usize, AppError> {
    if resource::Entity::find().count(&state.db).await? > 0 {
        return Ok(0);
    }
    let demos: Vec<Demo> = serde_json::from_str(RESOURCES).map_err(AppError::internal)?;
    let mut published = 0;
    for demo in demos {
        let owner = store::find_by_sourced_id(&state.db, &demo.owner).await?;
        let reviewer = store::find_by_sourced_id(&state.db, &demo.reviewer).await?;
        let (Some(owner), Some(reviewer)) = (owner, reviewer) else {
            // Not the demo county: nothing to show it with.
            return Ok(published);
        };
        let input = Input {
            title: Some(demo.title),
            description: Some(demo.description),
            subject: Some(demo.subject),
            grade: Some(demo.grade),
            edition: Some(demo.edition),
            chapter: Some(demo.chapter),
            kind: Some(demo.kind),
            keywords: Some(Keywords::List(demo.keywords)),
            scope: Some(demo.scope),
            text: Some(demo.text),
            ..Input::default()
        };
        let (r, _) = service::create(state, &owner, input, None).await?;
        lifecycle::submit(state, &owner, &r.id, true).await?;
        lifecycle::review(
            state,
            &reviewer,
            &r.id,
            Verdict {
                decision: "approve".to_owned(),
                political: "pass".to_owned(),
                scientific: "pass".to_owned(),
                safety: "pass".to_owned(),
                comment: "示例资源 / demo resource".to_owned(),
                scope: None,
            },
        )
        .await?;
        published += 1;
    }
    tracing::info!(resources = published, "loaded the demo resources");
    Ok(published)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_resources_use_the_vocabulary() {
        let demos: Vec<Demo> = serde_json::from_str(RESOURCES).unwrap();
        assert!(demos.len() >= 10);
        for d in demos {
            service::parse_subject(&d.subject).unwrap();
            service::parse_grade(&d.grade).unwrap();
            service::parse_kind(&d.kind).unwrap();
        }
    }
}
