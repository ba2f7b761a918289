//! An assignment's scoring scale and the scores it allows: points out of a maximum (whole
//! numbers or one decimal), a grade band (优/良/中/待提高), or comments only.

use serde_json::Value;

use crate::error::{AppError, ErrorCode};

/// The grade bands, best first.
pub const BANDS: [&str; 4] = ["优", "良", "中", "待提高"];

/// The largest maximum a points scale may have.
pub const MAX_POINTS: u32 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Points from 0 to this maximum.
    Points(u32),
    Bands,
    Comments,
}

fn invalid(field: &str, hint: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::InvalidField)
        .with_arg("field", field.to_owned())
        .with_arg("hint", hint)
}

impl Scale {
    /// `points:<max>` (1–1000), `bands` or `comments`, as the API takes it.
    pub fn parse(value: &str) -> Result<Scale, AppError> {
        let v = value.trim();
        match v {
            "bands" => return Ok(Scale::Bands),
            "comments" => return Ok(Scale::Comments),
            _ => {}
        }
        let Some(max) = v.strip_prefix("points:") else {
            return Err(invalid(
                "scale",
                format!(
                    "“{value}”不是评分方式，应为 points:<满分>、bands（优/良/中/待提高）或 comments（只写评语）/ \"{value}\" is not a scale: use points:<max>, bands (优/良/中/待提高) or comments"
                ),
            ));
        };
        match max.trim().parse::<u32>() {
            Ok(n) if (1..=MAX_POINTS).contains(&n) => Ok(Scale::Points(n)),
            _ => Err(invalid(
                "scale",
                format!(
                    "满分“{max}”应为 1 到 {MAX_POINTS} 的整数 / the maximum \"{max}\" must be a whole number from 1 to {MAX_POINTS}"
                ),
            )),
        }
    }

    /// The scale of a stored assignment.
    pub fn from_row(scale: &str, max_points: Option<i32>) -> Scale {
        match scale {
            "points" => Scale::Points(max_points.and_then(|m| u32::try_from(m).ok()).unwrap_or(0)),
            "bands" => Scale::Bands,
            _ => Scale::Comments,
        }
    }

    /// The `scale` column: `points`, `bands` or `comments`.
    pub fn kind(self) -> &'static str {
        match self {
            Scale::Points(_) => "points",
            Scale::Bands => "bands",
            Scale::Comments => "comments",
        }
    }

    pub fn max_points(self) -> Option<i32> {
        match self {
            Scale::Points(max) => i32::try_from(max).ok(),
            _ => None,
        }
    }

    /// The scale as the API spells it: `points:10`, `bands`, `comments`.
    pub fn spelled(self) -> String {
        match self {
            Scale::Points(max) => format!("points:{max}"),
            other => other.kind().to_owned(),
        }
    }

    /// The range a score must be in, for error messages.
    fn allowed(self) -> String {
        match self {
            Scale::Points(max) => format!(
                "应为 0 到 {max} 之间的数（整数或一位小数）/ a number from 0 to {max} (whole, or with one decimal)"
            ),
            Scale::Bands => format!(
                "应为 {} 之一 / one of {}",
                BANDS.join("、"),
                BANDS.join(", ")
            ),
            Scale::Comments => {
                "此作业只写评语，不打分 / this assignment takes a comment only, no score".to_owned()
            }
        }
    }

    /// Check a teacher's mark against the scale: the score to store (points in their shortest
    /// form, a band as written) or none for comments. A comment is required on the comments
    /// scale; a score on the others.
    pub fn check(self, score: Option<&Value>, comment: &str) -> Result<Option<String>, AppError> {
        let given = match score {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => Some(s.trim().to_owned()),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(other) => {
                return Err(invalid(
                    "score",
                    format!("“{other}”不是分数，{}", self.allowed()),
                ));
            }
        };
        match (self, given) {
            (Scale::Comments, Some(s)) => Err(invalid(
                "score",
                format!("收到分数“{s}”，但{}", self.allowed()),
            )),
            (Scale::Comments, None) if comment.trim().is_empty() => Err(invalid(
                "comment",
                "请写评语 / write a comment: this assignment is marked with comments only",
            )),
            (Scale::Comments, None) => Ok(None),
            (_, None) => Err(invalid("score", format!("请给出分数：{}", self.allowed()))),
            (Scale::Points(max), Some(s)) => match points(&s, max) {
                Some(canonical) => Ok(Some(canonical)),
                None => Err(invalid(
                    "score",
                    format!("“{s}”不在评分范围内：{}", self.allowed()),
                )),
            },
            (Scale::Bands, Some(s)) if BANDS.contains(&s.as_str()) => Ok(Some(s)),
            (Scale::Bands, Some(s)) => Err(invalid(
                "score",
                format!("“{s}”不是等级：{}", self.allowed()),
            )),
        }
    }

    /// A stored score as the API shows it: points as a number, a band as text, else null.
    pub fn score_json(self, stored: Option<&str>) -> Value {
        let Some(s) = stored else {
            return Value::Null;
        };
        match self {
            Scale::Points(_) => match s.parse::<i64>() {
                Ok(n) => Value::from(n),
                Err(_) => s.parse::<f64>().map_or(Value::Null, Value::from),
            },
            _ => Value::String(s.to_owned()),
        }
    }
}

/// `text` as points from 0 to `max` with at most one decimal, in its shortest form ("8.50"
/// is refused, "08" is "8", "7.0" is "7"); none when it is not such a number.
fn points(text: &str, max: u32) -> Option<String> {
    let (whole, tenth) = match text.split_once('.') {
        Some((w, t)) => (w, Some(t)),
        None => (text, None),
    };
    if whole.is_empty() || whole.len() > 6 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let tenth = match tenth {
        None => 0,
        Some(t) if t.len() == 1 && t.as_bytes()[0].is_ascii_digit() => {
            u32::from(t.as_bytes()[0] - b'0')
        }
        Some(_) => return None,
    };
    let whole: u32 = whole.parse().ok()?;
    let tenths = whole.checked_mul(10)?.checked_add(tenth)?;
    if tenths > max.checked_mul(10)? {
        return None;
    }
    Some(if tenth == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{tenth}")
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field_of(err: &AppError) -> String {
        err.args()
            .iter()
            .find(|(k, _)| *k == "field")
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    #[test]
    fn scales_are_parsed_with_their_bounds() {
        assert_eq!(Scale::parse("points:10").unwrap(), Scale::Points(10));
        assert_eq!(Scale::parse(" points:1000 ").unwrap(), Scale::Points(1000));
        assert_eq!(Scale::parse("bands").unwrap(), Scale::Bands);
        assert_eq!(Scale::parse("comments").unwrap(), Scale::Comments);
        for bad in [
            "points:0",
            "points:1001",
            "points:",
            "points:ten",
            "grades",
            "",
        ] {
            let err = Scale::parse(bad).unwrap_err();
            assert_eq!(field_of(&err), "scale", "{bad}");
        }
        assert_eq!(Scale::Points(10).spelled(), "points:10");
        assert_eq!(Scale::from_row("points", Some(10)), Scale::Points(10));
        assert_eq!(Scale::from_row("bands", None), Scale::Bands);
    }

    #[test]
    fn points_are_whole_or_one_decimal_within_the_maximum() {
        let s = Scale::Points(10);
        assert_eq!(s.check(Some(&json!(8)), "").unwrap().as_deref(), Some("8"));
        assert_eq!(
            s.check(Some(&json!(8.5)), "").unwrap().as_deref(),
            Some("8.5")
        );
        assert_eq!(
            s.check(Some(&json!("7.0")), "").unwrap().as_deref(),
            Some("7")
        );
        assert_eq!(
            s.check(Some(&json!("0")), "").unwrap().as_deref(),
            Some("0")
        );
        assert_eq!(
            s.check(Some(&json!(10)), "").unwrap().as_deref(),
            Some("10")
        );
        for bad in [
            json!(10.1),
            json!(11),
            json!(-1),
            json!(8.55),
            json!("8,5"),
            json!("优"),
            json!(true),
        ] {
            let err = s.check(Some(&bad), "好").unwrap_err();
            assert_eq!(field_of(&err), "score", "{bad}");
        }
        assert_eq!(field_of(&s.check(None, "好").unwrap_err()), "score");
        assert_eq!(s.score_json(Some("8.5")), json!(8.5));
        assert_eq!(s.score_json(Some("8")), json!(8));
    }

    #[test]
    fn bands_and_comments_take_what_they_say() {
        assert_eq!(
            Scale::Bands
                .check(Some(&json!("良")), "")
                .unwrap()
                .as_deref(),
            Some("良")
        );
        assert_eq!(
            field_of(&Scale::Bands.check(Some(&json!("甲")), "").unwrap_err()),
            "score"
        );
        assert_eq!(
            field_of(&Scale::Bands.check(Some(&json!(90)), "").unwrap_err()),
            "score"
        );
        assert_eq!(Scale::Comments.check(None, "写得好").unwrap(), None);
        assert_eq!(
            Scale::Comments.check(Some(&json!("")), "写得好").unwrap(),
            None
        );
        assert_eq!(
            field_of(
                &Scale::Comments
                    .check(Some(&json!(5)), "写得好")
                    .unwrap_err()
            ),
            "score"
        );
        assert_eq!(
            field_of(&Scale::Comments.check(None, " ").unwrap_err()),
            "comment"
        );
        assert_eq!(Scale::Bands.score_json(Some("优")), json!("优"));
        assert_eq!(Scale::Comments.score_json(None), Value::Null);
    }
}
