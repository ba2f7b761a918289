//! Diagnostics for one Chinese roster import, with warnings capped per file and kind: a class
//! of 2 000 students with the same quirk gets 20 warnings and a count, not 2 000 lines.

use std::collections::BTreeMap;

use crate::roster::diagnostics::{Diagnostics, Message};

/// Warnings of one kind shown per file before they are summarised.
pub(super) const WARNING_CAP: usize = 20;

pub(super) struct Report<'d> {
    diags: &'d mut Diagnostics,
    /// (file, kind) → warnings seen so far, shown or not.
    seen: BTreeMap<(String, &'static str), usize>,
}

impl<'d> Report<'d> {
    pub(super) fn new(diags: &'d mut Diagnostics) -> Report<'d> {
        Report {
            diags,
            seen: BTreeMap::new(),
        }
    }

    /// The underlying diagnostics, for helpers that report on their own (`Source::file`).
    pub(super) fn diags(&mut self) -> &mut Diagnostics {
        self.diags
    }

    /// A warning of `kind` (a stable key such as `"unknown_column"`), shown unless this file
    /// already had [`WARNING_CAP`] of that kind.
    pub(super) fn warn(
        &mut self,
        file: &str,
        line: Option<u64>,
        field: Option<&str>,
        kind: &'static str,
        message: Message,
    ) {
        let seen = self.seen.entry((file.to_owned(), kind)).or_insert(0);
        *seen += 1;
        if *seen <= WARNING_CAP {
            self.diags.warn(file, line, field, message);
        }
    }

    pub(super) fn error(
        &mut self,
        file: &str,
        line: Option<u64>,
        field: Option<&str>,
        message: Message,
    ) {
        self.diags.error(file, line, field, message);
    }

    /// Add one summary warning per (file, kind) that went over the cap.
    pub(super) fn finish(self) {
        for ((file, _), seen) in self.seen {
            if seen > WARNING_CAP {
                let more = seen - WARNING_CAP;
                self.diags.warn(
                    &file,
                    None,
                    None,
                    Message::new(
                        format!("…还有 {more} 条同类警告"),
                        format!("… and {more} more warnings like this"),
                    ),
                );
            }
        }
    }
}
