//! The health summary's plaintext: allergies, medications, conditions and
//! immunizations, each kept as a history of signed entries in the record.
//!
//! An item never changes in place. Every addition, edit and removal is a new
//! entry node carrying the item's id, so the record keeps who wrote what and
//! when (each entry is signed by its author like any node), and the summary
//! shows the newest state of each item. A removal is an entry with
//! `removed: true`; the item's history stays readable.

use serde::{Deserialize, Serialize};

use super::model::is_iso_date;

/// Longest free text of a name, dose or reaction, in characters.
pub const MAX_HEALTH_TEXT: usize = 200;

/// A code system an item's code may come from. Codes are picked from the
/// app's short built-in lists or typed by the person; nothing asks a
/// terminology service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeSystem {
    /// SNOMED CT (allergy substances, conditions).
    Snomed,
    /// RxNorm (medications).
    Rxnorm,
    /// LOINC (observations).
    Loinc,
    /// CDC CVX (vaccines).
    Cvx,
}

impl CodeSystem {
    /// Every system, for lookups by URI.
    pub const ALL: [CodeSystem; 4] = [
        CodeSystem::Snomed,
        CodeSystem::Rxnorm,
        CodeSystem::Loinc,
        CodeSystem::Cvx,
    ];

    /// The system's canonical URI, as FHIR names it.
    pub fn uri(self) -> &'static str {
        match self {
            CodeSystem::Snomed => "http://snomed.info/sct",
            CodeSystem::Rxnorm => "http://www.nlm.nih.gov/research/umls/rxnorm",
            CodeSystem::Loinc => "http://loinc.org",
            CodeSystem::Cvx => "http://hl7.org/fhir/sid/cvx",
        }
    }

    /// The system with this URI.
    pub fn from_uri(uri: &str) -> Option<CodeSystem> {
        CodeSystem::ALL.into_iter().find(|s| s.uri() == uri)
    }

    /// The short name people read ("SNOMED CT").
    pub fn label(self) -> &'static str {
        match self {
            CodeSystem::Snomed => "SNOMED CT",
            CodeSystem::Rxnorm => "RxNorm",
            CodeSystem::Loinc => "LOINC",
            CodeSystem::Cvx => "CVX",
        }
    }
}

/// A code from a [`CodeSystem`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Code {
    /// Where the code comes from.
    pub system: CodeSystem,
    /// The code itself: letters, digits, `.` and `-`, 1 to 32 characters.
    pub code: String,
}

/// A name people read, with an optional code for other systems.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Coded {
    /// The name as written ("Penicillin").
    pub text: String,
    /// Its code, when one was picked.
    #[serde(default)]
    pub code: Option<Code>,
}

impl Coded {
    /// A name without a code.
    pub fn text(text: &str) -> Self {
        Coded {
            text: text.to_owned(),
            code: None,
        }
    }
}

/// How bad an allergic reaction was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Mild.
    Mild,
    /// Moderate.
    Moderate,
    /// Severe (for example anaphylaxis).
    Severe,
}

impl Severity {
    /// Every severity, mildest first.
    pub const ALL: [Severity; 3] = [Severity::Mild, Severity::Moderate, Severity::Severe];

    /// The word people read, and FHIR's code.
    pub fn code(self) -> &'static str {
        match self {
            Severity::Mild => "mild",
            Severity::Moderate => "moderate",
            Severity::Severe => "severe",
        }
    }

    /// The severity with this code.
    pub fn from_code(code: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// Where a condition stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConditionStatus {
    /// Current.
    Active,
    /// Not current, may come back.
    Inactive,
    /// Over.
    Resolved,
}

impl ConditionStatus {
    /// Every status.
    pub const ALL: [ConditionStatus; 3] = [
        ConditionStatus::Active,
        ConditionStatus::Inactive,
        ConditionStatus::Resolved,
    ];

    /// FHIR's code (condition-clinical), also the form value.
    pub fn code(self) -> &'static str {
        match self {
            ConditionStatus::Active => "active",
            ConditionStatus::Inactive => "inactive",
            ConditionStatus::Resolved => "resolved",
        }
    }

    /// The status with this code.
    pub fn from_code(code: &str) -> Option<ConditionStatus> {
        ConditionStatus::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The word people read.
    pub fn label(self) -> &'static str {
        match self {
            ConditionStatus::Active => "Active",
            ConditionStatus::Inactive => "Inactive",
            ConditionStatus::Resolved => "Resolved",
        }
    }
}

/// What one item of the summary says.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HealthFact {
    /// An allergy or intolerance.
    Allergy {
        /// What the person reacts to.
        substance: Coded,
        /// What happens ("hives"); may be empty.
        #[serde(default)]
        reaction: String,
        /// How bad it was.
        #[serde(default)]
        severity: Option<Severity>,
    },
    /// A medication taken now or before.
    Medication {
        /// The medicine.
        medication: Coded,
        /// Dose and how often ("10 mg once a day"); may be empty.
        #[serde(default)]
        dose: String,
        /// First day, `YYYY-MM-DD`.
        #[serde(default)]
        since: Option<String>,
        /// Last day, `YYYY-MM-DD`; `None` while it is taken.
        #[serde(default)]
        until: Option<String>,
    },
    /// A problem on the problem list.
    Condition {
        /// The problem.
        condition: Coded,
        /// When it began, `YYYY-MM-DD`.
        #[serde(default)]
        onset: Option<String>,
        /// Where it stands.
        status: ConditionStatus,
    },
    /// A vaccination.
    Immunization {
        /// The vaccine.
        vaccine: Coded,
        /// The day it was given, `YYYY-MM-DD`.
        date: String,
    },
}

/// The four sections of the summary, in the order the page shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HealthSection {
    /// Allergies and intolerances.
    Allergies,
    /// Medications.
    Medications,
    /// Conditions.
    Conditions,
    /// Immunizations.
    Immunizations,
}

impl HealthSection {
    /// Every section, in page order.
    pub const ALL: [HealthSection; 4] = [
        HealthSection::Allergies,
        HealthSection::Medications,
        HealthSection::Conditions,
        HealthSection::Immunizations,
    ];

    /// The heading people read.
    pub fn title(self) -> &'static str {
        match self {
            HealthSection::Allergies => "Allergies and intolerances",
            HealthSection::Medications => "Medications",
            HealthSection::Conditions => "Conditions",
            HealthSection::Immunizations => "Immunizations",
        }
    }

    /// One item of the section, as a noun in a sentence ("an allergy").
    pub fn noun(self) -> &'static str {
        match self {
            HealthSection::Allergies => "allergy",
            HealthSection::Medications => "medication",
            HealthSection::Conditions => "condition",
            HealthSection::Immunizations => "immunization",
        }
    }
}

impl HealthFact {
    /// The section the fact belongs in.
    pub fn section(&self) -> HealthSection {
        match self {
            HealthFact::Allergy { .. } => HealthSection::Allergies,
            HealthFact::Medication { .. } => HealthSection::Medications,
            HealthFact::Condition { .. } => HealthSection::Conditions,
            HealthFact::Immunization { .. } => HealthSection::Immunizations,
        }
    }

    /// The name the fact is about.
    pub fn subject(&self) -> &Coded {
        match self {
            HealthFact::Allergy { substance, .. } => substance,
            HealthFact::Medication { medication, .. } => medication,
            HealthFact::Condition { condition, .. } => condition,
            HealthFact::Immunization { vaccine, .. } => vaccine,
        }
    }

    /// Checks every field, with a sentence for the person.
    pub fn validate(&self) -> Result<(), String> {
        let noun = self.section().noun();
        validate_coded(self.subject(), noun)?;
        let date = |d: &Option<String>, what: &str| match d {
            Some(d) if !is_iso_date(d) => Err(format!(
                "The {what} must be a real date (YYYY-MM-DD), or left empty."
            )),
            _ => Ok(()),
        };
        match self {
            HealthFact::Allergy {
                reaction, severity, ..
            } => {
                short_text(reaction, "reaction")?;
                if severity.is_some() && reaction.trim().is_empty() {
                    return Err("Describe the reaction to give its severity.".into());
                }
                Ok(())
            }
            HealthFact::Medication {
                dose, since, until, ..
            } => {
                short_text(dose, "dose")?;
                date(since, "start date")?;
                date(until, "end date")?;
                if let (Some(s), Some(u)) = (since, until) {
                    if u < s {
                        return Err("The end date is before the start date.".into());
                    }
                }
                Ok(())
            }
            HealthFact::Condition { onset, .. } => date(onset, "onset date"),
            HealthFact::Immunization { date: day, .. } => {
                if is_iso_date(day) {
                    Ok(())
                } else {
                    Err("Enter the day the vaccine was given (YYYY-MM-DD).".into())
                }
            }
        }
    }
}

fn short_text(text: &str, what: &str) -> Result<(), String> {
    if text.chars().count() > MAX_HEALTH_TEXT {
        return Err(format!(
            "The {what} is too long: at most {MAX_HEALTH_TEXT} characters."
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(format!(
            "The {what} cannot contain invisible control characters."
        ));
    }
    Ok(())
}

fn validate_coded(coded: &Coded, noun: &str) -> Result<(), String> {
    if coded.text.trim().is_empty() {
        return Err(format!("Enter the name of the {noun}."));
    }
    short_text(&coded.text, "name")?;
    if let Some(code) = &coded.code {
        let fits = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '-';
        if code.code.is_empty() || code.code.len() > 32 || !code.code.chars().all(fits) {
            return Err(format!(
                "The {} code must be 1 to 32 letters, digits, dots or dashes.",
                code.system.label()
            ));
        }
    }
    Ok(())
}

/// One state of one summary item: what an entry node's metadata carries.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HealthEntry {
    /// The item this state belongs to: 32 lowercase hex digits (16 random
    /// bytes), the same in every state of the item.
    pub item: String,
    /// 1 for the item's first state, one more than the state it follows for
    /// each edit or removal: the history's order (clocks may agree or lie).
    pub revision: u32,
    /// When this state was written, Unix seconds; among states of the same
    /// revision (two writers at once), the later counts.
    pub recorded_at: i64,
    /// Whether this state removes the item from the summary.
    #[serde(default)]
    pub removed: bool,
    /// What the item says (a removal repeats the last state's fact).
    pub fact: HealthFact,
}

impl HealthEntry {
    /// Checks the item id and the fact.
    pub fn validate(&self) -> Result<(), String> {
        if !is_item_id(&self.item) || self.revision == 0 {
            return Err("The item's id or revision is malformed.".into());
        }
        self.fact.validate()
    }

    /// A node name for the entry ("Allergy: Penicillin"), within name rules.
    pub fn node_name(&self) -> String {
        let noun = self.fact.section().noun();
        let mut head: String = noun[..1].to_uppercase();
        head.push_str(&noun[1..]);
        let text: String = self
            .fact
            .subject()
            .text
            .chars()
            .map(|c| if c == '/' { '-' } else { c })
            .take(200)
            .collect();
        let verb = if self.removed { " (removed)" } else { "" };
        format!("{head}: {}{verb}", text.trim())
    }
}

/// Whether `id` is 32 lowercase hex digits.
pub fn is_item_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A fresh item id from 16 random bytes.
pub fn new_item_id() -> Result<String, crate::crypto::CryptoError> {
    let bytes = crate::crypto::rng::id()?;
    Ok(hex_id(&bytes))
}

/// An id as 32 lowercase hex digits: an item's id, and the resource ids and
/// `urn:uuid:` of a FHIR export (FHIR ids take no base64).
pub fn hex_id(id: &crate::model::Id) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

/// One item as the summary shows it: its newest state and every state before.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthItem<T> {
    /// The newest state.
    pub current: T,
    /// Every state, oldest first (the newest included).
    pub history: Vec<T>,
}

/// Groups entries by item: each item's states in revision order, items in
/// the order of their first state. `entry_of` reads the entry out of whatever the caller
/// keeps (a node with its author). Ties in time keep the given order.
pub fn group_items<T: Clone>(
    entries: impl IntoIterator<Item = T>,
    entry_of: impl Fn(&T) -> &HealthEntry,
) -> Vec<HealthItem<T>> {
    let mut items: Vec<HealthItem<T>> = Vec::new();
    let mut all: Vec<T> = entries.into_iter().collect();
    all.sort_by_key(|e| (entry_of(e).revision, entry_of(e).recorded_at));
    for e in all {
        let id = entry_of(&e).item.clone();
        match items.iter_mut().find(|i| entry_of(&i.current).item == id) {
            Some(item) => {
                item.history.push(e.clone());
                item.current = e;
            }
            None => items.push(HealthItem {
                current: e.clone(),
                history: vec![e],
            }),
        }
    }
    items
}

mod picks;
pub use picks::*;

#[cfg(test)]
mod tests;
