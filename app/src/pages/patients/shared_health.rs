//! The health summary in a shared record, shown to the doctor as the patient
//! sees it: every item with its author and history. Under a read-and-write
//! grant of the summary folder (or of the whole record) the doctor adds,
//! edits and removes items too, each change a new entry signed as theirs.
//! The entries were checked with the rest of the shared tree
//! (`tasks::sharing::open_shared`) before they get here.

use leptos::prelude::*;

use crate::{
    components::{health_form::Save, health_view::HealthSections},
    session::{now_unix, use_session},
    tasks::{
        health::{items_of, name_authors, new_entry, save_entry, shared_summary_folder},
        sharing::Opened,
    },
};

/// The four sections, or nothing when the shared part holds no summary and
/// no place for one. `changed` reloads the record with the saved sentence.
#[component]
pub fn SharedHealth(
    opened: StoredValue<Opened, LocalStorage>,
    changed: Callback<String>,
) -> impl IntoView {
    let session = use_session();
    let (items, folder, owner, me) = opened.with_value(|o| {
        let folder = shared_summary_folder(&o.tree).filter(|_| o.can_write());
        (items_of(&o.tree), folder, o.patient.user_id, o.me)
    });
    if items.is_empty() && folder.is_none() {
        return None;
    }
    let named = LocalResource::new(move || name_authors(session, items.clone(), owner, Some(me)));
    let items = Memo::new(move |_| named.get());
    let can_write = folder.is_some();
    let folder = StoredValue::new_local(folder);
    let save = Action::new_local(move |(item, fact, removed): &Save| {
        let (item, fact, removed) = (item.clone(), fact.clone(), *removed);
        async move {
            let folder = folder
                .get_value()
                .ok_or_else(|| "Reload the page and try again.".to_owned())?;
            let writer = opened.with_value(|o| o.writer(session));
            let now = now_unix();
            let entry = new_entry(item, fact, removed, now)?;
            let done = save_entry(&writer, &folder, &entry, now).await?;
            changed.run(format!("{done} Signed by you; the patient sees it."));
            Ok(done)
        }
    });
    Some(view! {
        <div class="health-shared" role="region" aria-labelledby="shared-health-heading">
            <h2 id="shared-health-heading">"Health summary"</h2>
            <div class="health-grid">
                <HealthSections items=items save=can_write.then_some(save) owner_label="Patient"/>
            </div>
        </div>
    })
}
