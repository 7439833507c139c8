//! The signed-in person's access history, without views: every page of their
//! events, the people in it named from the directory, and the items named
//! from the record decrypted here (the server sends ids only).

use std::collections::HashMap;

use shared::{
    api::{audit::MAX_PAGE, directory::MAX_NAMES, ErrorCode},
    audit::{AuditEvent, EventKind},
    crypto::b64,
    model::{Id, Role},
    records::OpenTree,
};

use crate::{
    api::{audit::my_history, directory, records},
    platform::browser::iso_time,
    session::{role_label, Session, Unlocked},
};

/// One event with everything resolved for display.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryRow {
    /// When, Unix seconds.
    pub at: i64,
    /// Who, if anyone was signed in.
    pub actor: Option<Id>,
    /// Someone only looked at a list (the items of the record, a file's
    /// versions): shown on request, as there are many.
    pub list_view: bool,
    /// Who, in words ("You", "dr.house (doctor)").
    pub who: String,
    /// What happened.
    pub what: &'static str,
    /// Which item, by its decrypted name.
    pub item: String,
}

/// Everything the page shows, loaded once.
#[derive(Clone, Debug, PartialEq)]
pub struct History {
    /// Newest first.
    pub rows: Vec<HistoryRow>,
    /// The people in the history, by name, for the filter.
    pub people: Vec<(Id, String)>,
}

/// What the person filters by: an actor's id in base64 (empty for everyone),
/// a day range (Unix seconds; `to` excluded) and whether list views count.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    /// The actor's id in base64, or empty.
    pub who: String,
    /// From this time on.
    pub from: Option<i64>,
    /// Before this time.
    pub to: Option<i64>,
    /// Include views of lists.
    pub list_views: bool,
}

/// The rows `filter` lets through, in order.
pub fn filter_rows(rows: &[HistoryRow], filter: &Filter) -> Vec<HistoryRow> {
    rows.iter()
        .filter(|r| {
            filter.who.is_empty() || r.actor.map(|a| b64::encode(&a)) == Some(filter.who.clone())
        })
        .filter(|r| filter.from.is_none_or(|f| r.at >= f))
        .filter(|r| filter.to.is_none_or(|t| r.at < t))
        .filter(|r| filter.list_views || !r.list_view)
        .cloned()
        .collect()
}

/// The rows as CSV, with a header, for the download.
pub fn history_csv(rows: &[HistoryRow]) -> String {
    let mut csv = shared::csv::row(&["time (UTC)", "person", "action", "item"]);
    for r in rows {
        csv.push_str(&shared::csv::row(&[
            iso_time(r.at),
            r.who.clone(),
            r.what.to_owned(),
            r.item.clone(),
        ]));
    }
    csv
}

/// Turns events (oldest first) into rows (newest first): `me` reads "You",
/// `names` names the others, `tree` (if any) names the items.
pub fn rows_of(
    mut events: Vec<AuditEvent>,
    me: Id,
    names: &HashMap<Id, (String, Role)>,
    tree: Option<&OpenTree>,
) -> History {
    events.reverse();
    let who = |actor: Option<Id>| match actor {
        None => "Unknown (not signed in)".to_owned(),
        Some(id) if id == me => "You".to_owned(),
        Some(id) => match names.get(&id) {
            Some((name, role)) => format!("{name} ({})", role_label(*role).to_lowercase()),
            None => format!("Account {}", &b64::encode(&id)[..8]),
        },
    };
    let item = |item: Option<Id>| match (item, tree) {
        (None, _) => String::new(),
        (Some(id), Some(tree)) => tree
            .node(&id)
            .map(|n| n.metadata.name.clone())
            .unwrap_or_else(|| "A deleted item".to_owned()),
        (Some(id), None) => format!("Item {}", &b64::encode(&id)[..8]),
    };
    let rows = events
        .iter()
        .map(|e| HistoryRow {
            at: e.at,
            actor: e.actor,
            list_view: matches!(e.kind, EventKind::RecordViewed | EventKind::VersionsViewed),
            who: who(e.actor),
            what: e.kind.label(),
            item: item(e.item),
        })
        .collect();
    let mut ids: Vec<Id> = events.iter().filter_map(|e| e.actor).collect();
    shared::sort::sort(&mut ids);
    ids.dedup();
    let mut people: Vec<(Id, String)> = ids.iter().map(|id| (*id, who(Some(*id)))).collect();
    shared::sort::sort_by(&mut people, |a, b| a.1.cmp(&b.1));
    History { rows, people }
}

/// Fetches, for a patient, the record to name the items, then every page of
/// the history (newest first on screen) and the names of the people in it.
pub async fn load(session: Session, unlocked: Unlocked) -> Result<History, String> {
    // The newest record, fetched first, so that items made on another device
    // are named too and this look at the list of items is in the history it
    // shows (viewing the history does not create a record).
    let tree: Option<OpenTree> = match records::get_record().await {
        Ok(Some(tree)) => OpenTree::open(tree, unlocked.keyring.encryption()).ok(),
        _ => None,
    };
    let mut events: Vec<AuditEvent> = Vec::new();
    let mut after = 0;
    loop {
        let page = my_history(after, MAX_PAGE)
            .await
            .map_err(|e| session.explain(&e))?;
        events.extend(page.events);
        match page.next {
            Some(next) if next > after => after = next,
            _ => break,
        }
    }

    let mut ids: Vec<Id> = events.iter().filter_map(|e| e.actor).collect();
    shared::sort::sort(&mut ids);
    ids.dedup();
    let mut names: HashMap<Id, (String, Role)> = HashMap::new();
    for batch in ids.chunks(MAX_NAMES) {
        let request = shared::api::directory::NamesRequest {
            ids: batch.to_vec(),
        };
        match directory::user_names(request).await {
            Ok(list) => names.extend(list.into_iter().map(|n| (n.user_id, (n.username, n.role)))),
            Err(e) if e.code == ErrorCode::Unauthorized => return Err(session.explain(&e)),
            // Without names the history is still worth showing, with ids.
            Err(_) => {}
        }
    }

    let me = unlocked.key_entry.value.user_id;
    Ok(rows_of(events, me, &names, tree.as_ref()))
}
