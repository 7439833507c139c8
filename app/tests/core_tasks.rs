//! The view-free tasks of the account, admin, directory, history, audit and
//! vital-signs pages in real Chromium: their pure decisions with the failure
//! cases, and the directory lookup against a stand-in server that serves
//! someone else's keys.
#![cfg(target_arch = "wasm32")]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;

use app::tasks::{account, admin, audit, directory, history, vitals};
use shared::{
    api::{directory::DirectoryEntry, records::NodeKind},
    audit::{AuditEvent, BreakReason, ChainBreak, EventKind},
    client::key_entry,
    crypto::keyring::Keyring,
    model::Role,
    records::{RecordType, VitalKind, VitalReading},
};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod common;
use common::{
    record::{meta, TestRecord},
    server::{answer, asked, serve},
};

mod account_rules {
    use super::*;

    #[wasm_bindgen_test]
    fn a_code_is_six_digits_and_spaces_do_not_matter() {
        assert_eq!(account::parse_code(" 123 456 ").unwrap(), "123456");
        for bad in ["", "12345", "1234567", "12345a", "１２３４５６"] {
            assert_eq!(
                account::parse_code(bad).unwrap_err(),
                "Type the six digits your authenticator app shows."
            );
        }
    }

    #[wasm_bindgen_test]
    fn a_new_password_must_be_typed_twice_alike() {
        shared::account::install_common_passwords(include_bytes!(
            "../../shared/data/common-passwords.txt"
        ))
        .unwrap();
        let good = "correct horse battery staple";
        assert!(account::check_new_password(good, good, "ada", false).is_ok());
        assert!(
            account::check_new_password(good, "correct horse battery stapl", "ada", false)
                .unwrap_err()
                .starts_with("The two passwords are not the same.")
        );
        // Too short without a second factor.
        assert!(account::check_new_password("short pass 1", "short pass 1", "ada", false).is_err());
    }

    #[wasm_bindgen_test]
    fn the_sentences_count_sessions() {
        assert_eq!(account::ended_text(1), "1 other session was signed out.");
        assert_eq!(account::ended_text(0), "0 other sessions were signed out.");
        assert_eq!(account::ended_text(3), "3 other sessions were signed out.");
        assert_eq!(
            account::recovered_note(0, false),
            "Your password was changed with your recovery code. No other sessions were signed out."
        );
        let note = account::recovered_note(2, true);
        assert!(note.contains("2 other sessions were signed out."));
        assert!(note.contains("Your second factor (authenticator app) was switched off"));
    }

    #[wasm_bindgen_test]
    fn a_new_second_factor_has_a_qr_code_and_a_key_in_groups() {
        assert_eq!(account::group_secret("ABCDEFGHIJ"), "ABCD EFGH IJ");
        let setup = account::new_second_factor("ada").unwrap();
        assert!(setup.qr_svg.starts_with("<svg") || setup.qr_svg.contains("<svg"));
        let groups: Vec<&str> = setup.manual.split(' ').collect();
        assert!(groups.len() > 1);
        assert!(groups[..groups.len() - 1].iter().all(|g| g.len() == 4));
        // Each setup is a fresh secret.
        assert_ne!(
            account::new_second_factor("ada").unwrap().manual,
            setup.manual
        );
    }
}

mod admin_rules {
    use super::*;

    #[wasm_bindgen_test]
    fn an_invite_choice_maps_to_a_role_and_a_link() {
        assert_eq!(admin::invite_role("patient"), Role::Patient);
        assert_eq!(admin::invite_role("admin"), Role::Admin);
        assert_eq!(admin::invite_role("auditor"), Role::Auditor);
        assert_eq!(admin::invite_role("doctor"), Role::Doctor);
        // Anything else is the form's first choice.
        assert_eq!(admin::invite_role("root"), Role::Doctor);
        assert_eq!(
            admin::invite_link("https://mv.example", "abc"),
            "https://mv.example/signup?invite=abc"
        );
    }

    #[wasm_bindgen_test]
    fn events_name_known_accounts_and_shorten_unknown_ones() {
        let known = [1u8; 16];
        let unknown = [0xffu8; 16];
        let events = admin::SystemEvents {
            events: Vec::new(),
            names: HashMap::from([(known, "ada".to_owned())]),
        };
        assert_eq!(events.name(Some(known)), "ada");
        assert_eq!(events.name(Some(unknown)), "Account ________");
        assert_eq!(events.name(None), "");
    }
}

mod directory_checks {
    use super::*;

    fn served(name: &str, keyring: &Keyring) -> DirectoryEntry {
        DirectoryEntry {
            entry: key_entry(keyring, [3u8; 16], name, Role::Doctor, 1),
            certificate: None,
            certifier: None,
            certifier_certificate: None,
            disabled: false,
        }
    }

    #[wasm_bindgen_test]
    async fn a_chained_doctor_is_not_verified_by_an_app_built_without_a_fingerprint() {
        use app::tasks::anchor;
        use shared::{
            client::{certify_admin, certify_doctor},
            crypto::sign::SigningKey,
        };
        let org = SigningKey::generate().unwrap();
        let admin_keys = Keyring::generate().unwrap();
        let admin = key_entry(&admin_keys, [4u8; 16], "root.admin", Role::Admin, 1);
        let doctor_keys = Keyring::generate().unwrap();
        let mut entry = served("dr.who", &doctor_keys);
        entry.certificate = Some(certify_doctor(
            &admin_keys,
            [4u8; 16],
            &entry.entry.value,
            "GMC 1",
            2,
        ));
        entry.certifier = Some(admin.clone());
        entry.certifier_certificate = Some(certify_admin(&org, &admin.value, 3));
        if app::platform::org::fingerprint().is_none() {
            // Built without MEDVAULT_ORG_FINGERPRINT (as scripts/test.sh runs
            // these): nobody is verified, and the pages say why.
            let checked = anchor::check("dr.who", &entry).unwrap();
            assert_eq!(checked.verified_doctor, None);
            assert_eq!(anchor::unverified_doctor_text(), anchor::NOT_SET_UP);
        } else {
            // Built with one: this test's org key is not it.
            assert_eq!(
                anchor::check("dr.who", &entry),
                Err(shared::client::DirectoryError::NotThisInstallation)
            );
            assert_eq!(anchor::unverified_doctor_text(), anchor::NOT_VERIFIED_YET);
        }
        // A broken doctor certificate is still a lying server.
        entry.certificate.as_mut().unwrap().value.licence_id = "OTHER".into();
        assert!(anchor::check("dr.who", &entry).is_err());
        // The refusal of a chain to another installation says what happened.
        let said = anchor::explain(
            shared::client::DirectoryError::NotThisInstallation,
            anchor::Use::Share,
        );
        assert!(said.starts_with(
            "This doctor's certificate was not made by your installation. Nothing was shared."
        ));
    }

    #[wasm_bindgen_test]
    async fn an_entry_is_checked_and_someone_elses_is_refused() {
        let keyring = Keyring::generate().unwrap();
        let server = serve(0);
        let path = "/api/directory/lookup";
        let explain = |e: &shared::api::ApiError| e.message.clone();

        answer(
            &server,
            path,
            200,
            serde_json::to_string(&served("dr.who", &keyring)).unwrap(),
        );
        let entry = directory::look_up("dr.who", explain).await.unwrap();
        assert_eq!(entry.entry.username, "dr.who");
        assert_eq!(asked(&server, path), 1);

        // Asked for one name, served another's entry: refused.
        let refused = directory::look_up("dr.house", explain).await;
        assert!(refused.is_err());

        // An unknown name is the server's 404, worded by the caller.
        answer(
            &server,
            path,
            404,
            r#"{"code":"not_found","message":"No such user."}"#.to_owned(),
        );
        assert_eq!(
            directory::look_up("dr.who", explain).await.unwrap_err(),
            "No such user."
        );
    }

    // Pins (first sight, a change shown until trusted): tests/key_pins.rs.
}

mod history_rows {
    use super::*;

    fn event(
        seq: u64,
        at: i64,
        actor: Option<[u8; 16]>,
        kind: EventKind,
        item: Option<[u8; 16]>,
    ) -> AuditEvent {
        AuditEvent {
            seq,
            at,
            actor,
            session: None,
            kind,
            subject: None,
            item,
        }
    }

    #[wasm_bindgen_test]
    fn rows_name_people_and_items_and_filters_apply() {
        let mut record = TestRecord::new();
        let labs = record.folder("Lab results");
        let (file, _) = record.add(
            &labs,
            NodeKind::File,
            &meta("blood.pdf", RecordType::LabResult, ""),
        );
        let tree = record.open();
        let me = [7u8; 16];
        let doctor = [9u8; 16];
        let stranger = [0xffu8; 16];
        let names = HashMap::from([(doctor, ("dr.who".to_owned(), Role::Doctor))]);
        let events = vec![
            event(1, 100, Some(me), EventKind::RecordCreated, None),
            event(2, 200, Some(doctor), EventKind::FileRead, Some(file)),
            event(3, 300, Some(doctor), EventKind::RecordViewed, None),
            event(4, 400, Some(stranger), EventKind::FileRead, Some([5u8; 16])),
            event(5, 500, None, EventKind::SignInFailed, None),
        ];
        let loaded = history::rows_of(events.clone(), me, &names, Some(&tree));
        let who: Vec<&str> = loaded.rows.iter().map(|r| r.who.as_str()).collect();
        assert_eq!(
            who,
            [
                "Unknown (not signed in)",
                "Account ________",
                "dr.who (doctor)",
                "dr.who (doctor)",
                "You"
            ]
        );
        assert_eq!(loaded.rows[1].item, "A deleted item");
        assert_eq!(loaded.rows[3].item, "blood.pdf");
        assert!(loaded.rows[2].list_view);
        assert_eq!(loaded.people.len(), 3);

        // Without the record, items are shown by id.
        let bare = history::rows_of(events, me, &names, None);
        assert!(bare.rows[3].item.starts_with("Item "));

        // List views are hidden unless asked for.
        let all = history::filter_rows(&loaded.rows, &history::Filter::default());
        assert_eq!(all.len(), 4);
        let with_lists = history::Filter {
            list_views: true,
            ..Default::default()
        };
        assert_eq!(history::filter_rows(&loaded.rows, &with_lists).len(), 5);
        let by_doctor = history::Filter {
            who: shared::crypto::b64::encode(&doctor),
            list_views: true,
            ..Default::default()
        };
        assert_eq!(history::filter_rows(&loaded.rows, &by_doctor).len(), 2);
        let window = history::Filter {
            from: Some(200),
            to: Some(400),
            ..Default::default()
        };
        let kept: Vec<i64> = history::filter_rows(&loaded.rows, &window)
            .iter()
            .map(|r| r.at)
            .collect();
        assert_eq!(kept, [200]);

        let csv = history::history_csv(&kept_rows(&loaded.rows));
        assert!(csv.starts_with("time (UTC),person,action,item"));
        assert!(csv.contains("blood.pdf"));
    }

    fn kept_rows(rows: &[history::HistoryRow]) -> Vec<history::HistoryRow> {
        rows.iter()
            .filter(|r| r.item == "blood.pdf")
            .cloned()
            .collect()
    }
}

mod audit_words {
    use super::*;

    #[wasm_bindgen_test]
    fn a_break_says_where_and_what() {
        let b = ChainBreak {
            seq: 42,
            reason: BreakReason::HashMismatch,
        };
        assert_eq!(
            audit::describe_break(&b),
            "The chain breaks at event 42: the event or one before it was changed after it was written."
        );
        let t = ChainBreak {
            seq: 7,
            reason: BreakReason::Truncated,
        };
        assert!(audit::describe_break(&t).contains("missing from the end"));
    }

    #[wasm_bindgen_test]
    fn refusals_against_memory_say_what_happened() {
        let rolled = ChainBreak {
            seq: 30,
            reason: BreakReason::RolledBack,
        };
        assert!(audit::describe_break(&rolled)
            .starts_with("The log now ends before event 30, which this browser verified earlier"));
        let forked = ChainBreak {
            seq: 12,
            reason: BreakReason::Forked,
        };
        assert!(audit::describe_break(&forked).contains("rewritten (a fork)"));
        let key = ChainBreak {
            seq: 3,
            reason: BreakReason::KeyChanged,
        };
        assert!(audit::describe_break(&key)
            .starts_with("The audit log is now signed by a different key"));
    }

    #[wasm_bindgen_test]
    fn trusting_a_key_pins_it_for_this_auditor_only() {
        use shared::crypto::sign::SigningKey;
        let ann = [0xa1; 16];
        let bob = [0xb2; 16];
        let key = SigningKey::generate().unwrap().verifying_key();
        assert_eq!(audit::key_view(&ann, key).pinned, None);
        audit::trust_new_key(&ann, key).unwrap();
        let view = audit::key_view(&ann, key);
        assert_eq!(view.pinned.as_deref(), Some(view.fingerprint.as_str()));
        assert_eq!(audit::remembered(&ann).unwrap().seq, 0);
        assert_eq!(audit::remembered(&bob), None);
        // Another key is not the pinned one; trusting it retires the first.
        let next = SigningKey::generate().unwrap().verifying_key();
        assert_ne!(
            audit::key_view(&ann, next).pinned.unwrap(),
            audit::key_view(&ann, next).fingerprint
        );
        audit::trust_new_key(&ann, next).unwrap();
        let memory = audit::remembered(&ann).unwrap();
        assert_eq!((memory.key, memory.retired), (next, vec![key]));
    }

    #[wasm_bindgen_test]
    fn percent_is_whole_and_safe() {
        assert_eq!(audit::percent(0, 0), 0);
        assert_eq!(audit::percent(5, 0), 0);
        assert_eq!(audit::percent(1, 3), 33);
        assert_eq!(audit::percent(9, 3), 100);
        assert_eq!(audit::percent(u64::MAX, 2), 100);
    }
}

mod vital_rows {
    use super::*;

    fn reading(kind: VitalKind, taken_at: i64, value: f64, second: Option<f64>) -> VitalReading {
        VitalReading {
            kind,
            taken_at,
            value,
            second,
        }
    }

    #[wasm_bindgen_test]
    fn rows_are_newest_first_and_the_chart_follows_the_latest() {
        let mut record = TestRecord::new();
        let folder = record.folder("Vital signs");
        for r in [
            reading(VitalKind::Temperature, 1_795_000_000, 37.2, None),
            reading(VitalKind::Pulse, 1_795_000_600, 64.0, None),
        ] {
            let metadata = vitals::reading_metadata(&r, 1_795_000_700).unwrap();
            record.add(&folder, NodeKind::Entry, &metadata);
        }
        let tree = record.open();
        let rows = vitals::rows_of(&tree);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].reading.kind, VitalKind::Pulse);
        assert!(rows[0].name.starts_with("Pulse "));
        assert_eq!(vitals::chart_kind(None, Some(&rows)), VitalKind::Pulse);
        assert_eq!(
            vitals::chart_kind(Some(VitalKind::Weight), Some(&rows)),
            VitalKind::Weight
        );
        assert_eq!(vitals::chart_kind(None, None), VitalKind::Temperature);
        assert_eq!(
            vitals::kind_option(VitalKind::Pulse, Some(&rows)),
            "Pulse (1)"
        );
        assert_eq!(
            vitals::kind_option(VitalKind::Weight, Some(&rows)),
            VitalKind::Weight.label()
        );
    }

    #[wasm_bindgen_test]
    fn an_impossible_reading_is_refused_before_it_is_sealed() {
        let bad = reading(VitalKind::Temperature, 1_795_000_000, 120.0, None);
        assert!(vitals::reading_metadata(&bad, 1_795_000_100).is_err());
        let good = reading(VitalKind::BloodPressure, 1_795_000_000, 120.0, Some(80.0));
        let metadata = vitals::reading_metadata(&good, 1_795_000_100).unwrap();
        assert_eq!(metadata.record_type, RecordType::VitalSigns);
        assert_eq!(metadata.vital, Some(good));
    }
}
