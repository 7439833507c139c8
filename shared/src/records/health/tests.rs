use super::*;

#[test]
fn every_pick_is_a_valid_coded_name() {
    for section in HealthSection::ALL {
        for (name, system, code) in picks(section) {
            let coded = coded_from_text(section, &name.to_uppercase());
            assert_eq!(
                coded.code.as_ref().map(|c| (c.system, c.code.as_str())),
                Some((*system, *code))
            );
            assert_eq!(validate_coded(&coded, "item"), Ok(()));
        }
    }
    assert_eq!(
        coded_from_text(HealthSection::Allergies, " Kiwi ").code,
        None
    );
}

#[test]
fn items_keep_their_history_and_the_newest_state_counts() {
    let fact = |t: &str| HealthFact::Immunization {
        vaccine: Coded::text(t),
        date: "2024-01-02".into(),
    };
    let e = |item: &str, at: i64, t: &str| HealthEntry {
        item: item.repeat(32),
        revision: at as u32,
        recorded_at: 7,
        removed: false,
        fact: fact(t),
    };
    let items = group_items(
        vec![e("b", 5, "B2"), e("a", 1, "A1"), e("b", 2, "B1")],
        |x| x,
    );
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].current.fact, fact("A1"));
    assert_eq!(items[1].current.fact, fact("B2"));
    assert_eq!(items[1].history.len(), 2);
    assert!(e("g", 0, "x").validate().is_err());
    assert!(HealthFact::Allergy {
        substance: Coded::text("Kiwi"),
        reaction: String::new(),
        severity: Some(Severity::Mild)
    }
    .validate()
    .is_err());
}
