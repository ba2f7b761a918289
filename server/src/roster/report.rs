//! The warning budget shared by the roster parsers (`oneroster`, `cn`): warnings of one kind in
//! one file are kept up to [`WARNING_CAP`], the rest are counted and summarised in one closing
//! warning — a class of 2 000 students with the same quirk gets 20 warnings and a count, not
//! 2 000 lines. Errors are never capped.

use std::collections::BTreeMap;

use crate::roster::diagnostics::{Diagnostics, Message};

/// How many warnings of one kind one file may produce before they are only counted.
pub(crate) const WARNING_CAP: usize = 20;

/// [`Diagnostics`] behind the per-(file, kind) warning cap.
pub(crate) struct Report<'d> {
    diags: &'d mut Diagnostics,
    /// (file, kind) → (warnings seen so far, shown or not; the field the first one named).
    seen: BTreeMap<(String, &'static str), (usize, Option<String>)>,
}

impl<'d> Report<'d> {
    pub(crate) fn new(diags: &'d mut Diagnostics) -> Report<'d> {
        Report {
            diags,
            seen: BTreeMap::new(),
        }
    }

    /// The uncapped diagnostics, for helpers that report on their own (e.g. `Source::file`).
    pub(crate) fn diags(&mut self) -> &mut Diagnostics {
        self.diags
    }

    /// A tolerated quirk, shown unless this file already had [`WARNING_CAP`] warnings of `kind`
    /// (a stable key such as `"unknown-column"` that groups identical quirks for the cap).
    pub(crate) fn warn(
        &mut self,
        kind: &'static str,
        file: &str,
        line: Option<u64>,
        field: Option<&str>,
        message: Message,
    ) {
        let entry = self
            .seen
            .entry((file.to_owned(), kind))
            .or_insert_with(|| (0, field.map(str::to_owned)));
        entry.0 += 1;
        if entry.0 <= WARNING_CAP {
            self.diags.warn(file, line, field, message);
        }
    }

    /// An error: never capped.
    pub(crate) fn error(
        &mut self,
        file: &str,
        line: Option<u64>,
        field: Option<&str>,
        message: Message,
    ) {
        self.diags.error(file, line, field, message);
    }

    /// Add one summary warning for every (file, kind) that went over the cap, naming the field
    /// of that kind's first warning.
    pub(crate) fn finish(&mut self) {
        for ((file, _), (count, field)) in std::mem::take(&mut self.seen) {
            if count > WARNING_CAP {
                let more = count - WARNING_CAP;
                self.diags.warn(
                    &file,
                    None,
                    field.as_deref(),
                    Message::new(
                        format!("…还有 {more} 条同类警告"),
                        format!("… and {more} more warnings like this"),
                    ),
                );
            }
        }
    }
}
