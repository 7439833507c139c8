//! The dialogs of the records and trash pages, in one modal: each form does
//! its work through [`crate::tasks::nodes`] or the upload, then closes and
//! says what it did in the page's status line.

mod details;
mod empty_trash;
mod move_to;
mod name;
mod note;
mod versions;

use leptos::prelude::*;
use shared::model::Id;

use super::state::{Ctx, Dialog};
use crate::components::{dialog::Modal, file_browser::preview::PreviewView};
use details::DetailsForm;
use empty_trash::EmptyTrashForm;
use move_to::MoveForm;
use name::{NameForm, NameMode};
use note::NoteForm;
use versions::VersionsList;

/// The open dialog, if any, with its title.
#[component]
pub fn RecordDialog(ctx: Ctx, folder: Signal<Option<Id>>) -> impl IntoView {
    let open = Signal::derive(move || ctx.dialog.with(Option::is_some));
    let title = Signal::derive(move || {
        let name_of = |id: &Id| ctx.node(id).map(|n| n.metadata.name).unwrap_or_default();
        match ctx.dialog.get() {
            None => String::new(),
            Some(Dialog::NewFolder) => "New folder".to_owned(),
            Some(Dialog::NewNote) => "New note".to_owned(),
            Some(Dialog::Rename(id)) => format!("Rename “{}”", name_of(&id)),
            Some(Dialog::Details(id)) => format!("Details of “{}”", name_of(&id)),
            Some(Dialog::Move(id)) => format!("Move “{}”", name_of(&id)),
            Some(Dialog::Versions(id)) => format!("Versions of “{}”", name_of(&id)),
            Some(Dialog::EditNote(id, _)) => format!("Edit “{}”", name_of(&id)),
            Some(Dialog::Preview(p)) => p.name,
            Some(Dialog::EmptyTrash) => "Empty the trash?".to_owned(),
        }
    });
    let wide = Signal::derive(move || {
        ctx.dialog.with(|d| {
            matches!(
                d,
                Some(Dialog::Preview(_) | Dialog::Versions(_) | Dialog::EditNote(..))
            )
        })
    });
    let on_close = Callback::new(move |_| ctx.close());
    view! {
        <Modal open=open title=title on_close=on_close return_to=ctx.return_to.into() wide=wide>
            {move || match ctx.dialog.get() {
                Some(Dialog::NewFolder) => view! { <NameForm ctx=ctx folder=folder mode=NameMode::NewFolder/> }.into_any(),
                Some(Dialog::Rename(id)) => view! { <NameForm ctx=ctx folder=folder mode=NameMode::Rename(id)/> }.into_any(),
                Some(Dialog::NewNote) => view! { <NoteForm ctx=ctx folder=folder editing=None initial=String::new()/> }.into_any(),
                Some(Dialog::EditNote(id, text)) => view! { <NoteForm ctx=ctx folder=folder editing=Some(id) initial=text/> }.into_any(),
                Some(Dialog::Move(id)) => view! { <MoveForm ctx=ctx node=id/> }.into_any(),
                Some(Dialog::Details(id)) => view! { <DetailsForm ctx=ctx node=id/> }.into_any(),
                Some(Dialog::Versions(id)) => view! { <VersionsList ctx=ctx node=id/> }.into_any(),
                Some(Dialog::Preview(p)) => view! { <PreviewView preview=p/> }.into_any(),
                Some(Dialog::EmptyTrash) => view! { <EmptyTrashForm ctx=ctx/> }.into_any(),
                None => ().into_any(),
            }}
        </Modal>
    }
}
