//! An item's details besides its name: its type, the clinical date it is
//! about and a description, all inside the sealed metadata. Set when files
//! are uploaded (one or a whole batch), edited later, shown in the lists and
//! searched in the browser, since the server never sees them.

use super::model::{is_iso_date, NodeMetadata, RecordType, MAX_DESCRIPTION_CHARS};

/// The details a person sets on an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemDetails {
    /// Lab result, prescription, imaging, note, vital signs or other.
    pub record_type: RecordType,
    /// The date the item is about (a sample's or a visit's), `YYYY-MM-DD`.
    pub record_date: Option<String>,
    /// Free text, up to [`MAX_DESCRIPTION_CHARS`] characters.
    pub description: String,
}

impl ItemDetails {
    /// Details of a given type and nothing else: what an upload gets when
    /// the person set none.
    pub fn of_type(record_type: RecordType) -> Self {
        ItemDetails {
            record_type,
            record_date: None,
            description: String::new(),
        }
    }

    /// Details from what a person typed: the date as a date field gives it
    /// (empty for none), the description trimmed. Answers the sentence to
    /// show when either is not acceptable.
    pub fn from_form(
        record_type: RecordType,
        date: &str,
        description: &str,
    ) -> Result<Self, String> {
        let date = date.trim();
        let record_date = if date.is_empty() {
            None
        } else if is_iso_date(date) {
            Some(date.to_owned())
        } else {
            return Err(
                "The clinical date must be a real date between 1900 and 2999, for example 2026-03-14."
                    .into(),
            );
        };
        let description = description.trim().to_owned();
        if description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(format!(
                "The description is too long: at most {MAX_DESCRIPTION_CHARS} characters."
            ));
        }
        Ok(ItemDetails {
            record_type,
            record_date,
            description,
        })
    }

    /// The details an item has now.
    pub fn of(metadata: &NodeMetadata) -> Self {
        ItemDetails {
            record_type: metadata.record_type,
            record_date: metadata.record_date.clone(),
            description: metadata.description.clone(),
        }
    }

    /// Writes these details into `metadata`, leaving everything else.
    pub fn apply(&self, metadata: &mut NodeMetadata) {
        metadata.record_type = self.record_type;
        metadata.record_date = self.record_date.clone();
        metadata.description = self.description.clone();
    }
}

/// What a search asks for; every part is optional and all parts must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchFilter {
    /// Words in the name or description (case ignored).
    pub query: String,
    /// Only items of this type.
    pub record_type: Option<RecordType>,
    /// Only items whose clinical date is on or after this `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Only items whose clinical date is on or before this `YYYY-MM-DD`.
    pub to: Option<String>,
}

impl SearchFilter {
    /// Whether the person asked for anything at all.
    pub fn is_empty(&self) -> bool {
        self.query.trim().is_empty()
            && self.record_type.is_none()
            && self.from.is_none()
            && self.to.is_none()
    }

    /// Whether `metadata` matches. With a date range, an item without a
    /// clinical date does not match: nothing says when it is from.
    pub fn matches(&self, metadata: &NodeMetadata) -> bool {
        let needle = self.query.trim().to_lowercase();
        let words = needle.is_empty()
            || metadata.name.to_lowercase().contains(&needle)
            || metadata.description.to_lowercase().contains(&needle);
        let of_type = self.record_type.is_none_or(|t| metadata.record_type == t);
        // ISO dates of the same length order as text.
        let dated = match (&self.from, &self.to) {
            (None, None) => true,
            (from, to) => metadata.record_date.as_deref().is_some_and(|d| {
                from.as_deref().is_none_or(|f| d >= f) && to.as_deref().is_none_or(|t| d <= t)
            }),
        };
        words && of_type && dated
    }
}
