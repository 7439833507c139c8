//! Reusable pieces, each named for what the user sees.

pub mod action;
pub mod badges;
pub mod details_fields;
pub mod dialog;
pub mod export_button;
pub mod file_browser;
pub mod form;
pub mod format;
pub mod health_form;
pub mod health_view;
pub mod idle_lock;
pub mod layout;
pub mod notices_link;
pub mod page;
pub mod print;
pub mod recovery_code;
pub mod safety_number;
pub mod search;
pub mod server_status;
pub mod vital_form;
pub mod vitals_chart;
pub mod vitals_view;
