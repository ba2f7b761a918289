//! `/resources`: the search page. A GET form (so it works without JavaScript, and a search is
//! a link one can share), results with their highlighted snippets, facets with counts that
//! filter when clicked, the chosen filters as removable chips, three orders, and "more" by the
//! API's cursor. The results are exactly the API's: [`routes::run_search`] for this person.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use serde::Deserialize;

use super::{Frame, Page, Words, flash, given, layout, query_value, signed_in, with_status};
use crate::error::{AppError, ErrorCode};
use crate::http::layout::{Layout, PageContext, render};
use crate::resources::routes::{self, SearchParams};
use crate::roster::entity::person;
use crate::search::MAX_QUERY_CHARS;
use crate::state::AppState;

/// Values shown per facet (the most frequent first).
const FACET_VALUES: usize = 20;

#[derive(Template)]
#[template(path = "resources/search.html")]
struct SearchPage<'a> {
    page: Layout<'a>,
    w: Words<'a>,
    frame: Frame,
    q: String,
    max_query: usize,
    /// The filters and the order, kept as hidden fields when the text changes.
    kept: Vec<(&'static str, String)>,
    sorts: Vec<Link>,
    chips: Vec<Link>,
    clear: Option<String>,
    facets: Vec<FacetView>,
    hits: Vec<HitView>,
    total: Option<String>,
    more: Option<String>,
    first: Option<String>,
    error: Option<String>,
}

/// A link that changes the search: a sort order, a facet value, a chip's remove link.
struct Link {
    label: String,
    href: String,
    /// This order is the current one / this value is chosen.
    current: bool,
    /// How the link reads to a screen reader ("Remove filter: Mathematics").
    aria: String,
    count: u64,
}

struct FacetView {
    label: String,
    values: Vec<Link>,
}

struct HitView {
    id: String,
    title: String,
    /// HTML from the search module: the text escaped, the matches in `<mark>`.
    snippet: String,
    meta: String,
}

/// `run_search`'s answer, as the API sends it.
#[derive(Deserialize)]
struct Found {
    hits: Vec<FoundHit>,
    facets: BTreeMap<String, BTreeMap<String, u64>>,
    total: usize,
    next_cursor: Option<String>,
}

#[derive(Deserialize)]
struct FoundHit {
    id: String,
    title: String,
    snippet: String,
    subject: String,
    grade: String,
    #[serde(rename = "type")]
    kind: String,
    edition: String,
}

/// The search as the page's links carry it (everything but the cursor).
#[derive(Clone, Default)]
struct Current {
    q: String,
    /// Facet name (`subject`, `grade`, `type`, `edition`) → the chosen value.
    filters: BTreeMap<&'static str, String>,
    sort: String,
    /// A page size other than the API's default, when the address asks for one.
    limit: Option<String>,
}

const FACETS: [(&str, &str); 4] = [
    ("subject", "resources.facet.subject"),
    ("grade", "resources.facet.grade"),
    ("type", "resources.facet.type"),
    ("edition", "resources.facet.edition"),
];

impl Current {
    fn from_params(p: &SearchParams) -> Current {
        let mut filters = BTreeMap::new();
        for (name, value) in [
            ("subject", &p.subject),
            ("grade", &p.grade),
            ("type", &p.kind),
            ("edition", &p.edition),
        ] {
            if let Some(v) = given(value) {
                filters.insert(name, v.to_owned());
            }
        }
        Current {
            q: p.q.clone(),
            filters,
            sort: given(&p.sort).unwrap_or("").to_owned(),
            limit: p.limit.map(|l| l.to_string()),
        }
    }

    fn href(&self, cursor: Option<&str>) -> String {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        if !self.q.trim().is_empty() {
            pairs.push(("q", &self.q));
        }
        for (name, value) in &self.filters {
            pairs.push((name, value));
        }
        if !self.sort.is_empty() {
            pairs.push(("sort", &self.sort));
        }
        if let Some(limit) = &self.limit {
            pairs.push(("limit", limit));
        }
        if let Some(c) = cursor {
            pairs.push(("cursor", c));
        }
        let query: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", query_value(v)))
            .collect();
        if query.is_empty() {
            "/resources".to_owned()
        } else {
            format!("/resources?{}", query.join("&"))
        }
    }

    fn with(&self, change: impl FnOnce(&mut Current)) -> String {
        let mut next = self.clone();
        change(&mut next);
        next.href(None)
    }
}

/// A facet value as people read it.
fn value_label(w: Words<'_>, facet: &str, value: &str) -> String {
    match facet {
        "subject" => w.term("subject", value),
        "type" => w.term("type", value),
        "grade" => format!("{value} {}", w.grade(value)),
        _ => value.to_owned(),
    }
}

pub(super) async fn page(State(state): State<AppState>, ctx: PageContext, uri: Uri) -> Page {
    let me = &signed_in(&ctx, &ctx.here)?.person;
    let w = Words::new(ctx.tr(&state.i18n));
    let (params, answer) = run(&state, me, &uri).await?;
    let (found, problem) = match answer {
        Ok(found) => (Some(found), None),
        Err(err) => (None, Some(flash(w, err)?)),
    };
    let current = Current::from_params(&params);
    let status = problem.as_ref().map_or(StatusCode::OK, |f| f.status);
    let template = SearchPage {
        page: layout(&ctx, &state, "resources.search.title"),
        w,
        frame: Frame::new(&state, me, "search").await?,
        q: params.q.clone(),
        max_query: MAX_QUERY_CHARS,
        kept: kept(&current),
        sorts: sorts(w, &current),
        chips: chips(w, &current),
        clear: (!current.filters.is_empty()).then(|| {
            current.with(|c| {
                c.filters.clear();
            })
        }),
        facets: found
            .as_ref()
            .map(|f| facets(w, &current, &f.facets))
            .unwrap_or_default(),
        total: found
            .as_ref()
            .map(|f| w.format("resources.search.total", &[("n", f.total.to_string())])),
        more: found
            .as_ref()
            .and_then(|f| f.next_cursor.as_deref())
            .map(|c| current.href(Some(c))),
        first: given(&params.cursor).map(|_| current.href(None)),
        hits: found
            .map(|f| f.hits.into_iter().map(|h| hit_view(w, h)).collect())
            .unwrap_or_default(),
        error: problem.map(|f| f.text),
    };
    Ok(with_status(status, render(&template, ctx.lang)))
}

/// The search the address asks for, and its results or the problem with its parameters (a
/// malformed query string is one more, said on the page like the others).
async fn run(
    state: &AppState,
    me: &person::Model,
    uri: &Uri,
) -> Result<(SearchParams, Result<Found, AppError>), AppError> {
    let params = match Query::<SearchParams>::try_from_uri(uri) {
        Ok(Query(params)) => params,
        Err(rejection) => {
            let err = AppError::new(ErrorCode::InvalidField)
                .with_arg("field", "query")
                .with_arg("hint", rejection.body_text());
            return Ok((SearchParams::default(), Err(err)));
        }
    };
    let found = match routes::run_search(state, me, &params).await {
        Ok(value) => Ok(serde_json::from_value::<Found>(value).map_err(AppError::internal)?),
        Err(err) => Err(err),
    };
    Ok((params, found))
}

fn kept(current: &Current) -> Vec<(&'static str, String)> {
    let mut kept: Vec<(&'static str, String)> = current
        .filters
        .iter()
        .map(|(name, value)| (*name, value.clone()))
        .collect();
    if !current.sort.is_empty() {
        kept.push(("sort", current.sort.clone()));
    }
    kept
}

fn sorts(w: Words<'_>, current: &Current) -> Vec<Link> {
    [
        ("", "resources.search.sort_relevance"),
        ("newest", "resources.search.sort_newest"),
        ("used", "resources.search.sort_used"),
    ]
    .into_iter()
    .map(|(value, key)| Link {
        label: w.say(key).to_owned(),
        href: current.with(|c| c.sort = value.to_owned()),
        current: current.sort == value
            || (value.is_empty() && current.sort == "relevance")
            || (value == "used" && current.sort == "most_used"),
        aria: String::new(),
        count: 0,
    })
    .collect()
}

fn chips(w: Words<'_>, current: &Current) -> Vec<Link> {
    current
        .filters
        .iter()
        .map(|(name, value)| {
            let key = FACETS
                .iter()
                .find(|(n, _)| n == name)
                .map_or("", |(_, key)| *key);
            let label = format!("{}：{}", w.say(key), value_label(w, name, value));
            Link {
                aria: w.format("resources.search.remove", &[("what", label.clone())]),
                href: current.with(|c| {
                    c.filters.remove(name);
                }),
                label,
                current: true,
                count: 0,
            }
        })
        .collect()
}

fn facets(
    w: Words<'_>,
    current: &Current,
    counts: &BTreeMap<String, BTreeMap<String, u64>>,
) -> Vec<FacetView> {
    FACETS
        .iter()
        .filter_map(|(name, key)| {
            let values = counts.get(*name).filter(|v| !v.is_empty())?;
            let mut sorted: Vec<(&String, &u64)> = values.iter().collect();
            if *name == "grade" {
                sorted.sort_by(|a, b| a.0.cmp(b.0));
            } else {
                sorted.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
            }
            sorted.truncate(FACET_VALUES);
            let chosen = current.filters.get(name);
            let values = sorted
                .into_iter()
                .map(|(value, count)| {
                    let selected = chosen == Some(value);
                    Link {
                        label: value_label(w, name, value),
                        href: current.with(|c| {
                            if selected {
                                c.filters.remove(name);
                            } else {
                                c.filters.insert(name, value.clone());
                            }
                        }),
                        current: selected,
                        aria: String::new(),
                        count: *count,
                    }
                })
                .collect();
            Some(FacetView {
                label: w.say(key).to_owned(),
                values,
            })
        })
        .collect()
}

fn hit_view(w: Words<'_>, h: FoundHit) -> HitView {
    let meta: Vec<String> = [
        (!h.subject.is_empty()).then(|| w.term("subject", &h.subject)),
        (!h.grade.is_empty()).then(|| w.grade(&h.grade)),
        (!h.kind.is_empty()).then(|| w.term("type", &h.kind)),
        (!h.edition.is_empty()).then(|| h.edition.clone()),
    ]
    .into_iter()
    .flatten()
    .collect();
    HitView {
        id: h.id,
        title: h.title,
        snippet: h.snippet,
        meta: meta.join(" · "),
    }
}
