//! The username rules: what is accepted and how it is normalised, what is
//! refused and with which sentence.

use super::super::*;
use super::name;

#[test]
fn usernames_accepted_and_normalised() {
    assert_eq!(name("alice").as_deref(), Ok("alice"));
    assert_eq!(name("Alice.Smith-2").as_deref(), Ok("alice.smith-2"));
    assert_eq!(name("ALICE").as_deref(), Ok("alice"));
    assert_eq!(name("a_b").as_deref(), Ok("a_b"));
    assert_eq!(name("007").as_deref(), Ok("007"));
    assert_eq!(name("Dr.Müller").as_deref(), Ok("dr.müller"));
    assert_eq!(name("Ελένη").as_deref(), Ok("ελένη"));
    assert_eq!(name("山田太郎").as_deref(), Ok("山田太郎"));
    // Exactly 3 and exactly 32 characters (counted after normalisation).
    assert!(name("abc").is_ok());
    assert!(name(&"a".repeat(32)).is_ok());
    assert!(name(&"é".repeat(32)).is_ok());
}

#[test]
fn usernames_fullwidth_normalise_to_ascii() {
    // Fullwidth ＡＬＩＣＥ (U+FF21…) is NFKC-equal to ALICE, then lowercased.
    assert_eq!(
        name("\u{FF21}\u{FF2C}\u{FF29}\u{FF23}\u{FF25}").as_deref(),
        Ok("alice")
    );
    assert_eq!(name("ｂｏｂ＿１").as_deref(), Ok("bob_1"));
    // A ligature and a superscript digit are compatibility characters too.
    assert_eq!(name("\u{FB01}sh²").as_deref(), Ok("fish2"));
}

#[test]
fn usernames_case_insensitive() {
    assert_eq!(Username::parse("MiXeD.Case"), Username::parse("mixed.case"));
    assert_eq!(Username::parse("ÉLODIE"), Username::parse("élodie"));
}

#[test]
fn usernames_combining_characters_compose() {
    // e + COMBINING ACUTE composes to é: one name whichever way it was typed.
    let decomposed = "jose\u{0301}";
    let precomposed = "jos\u{00E9}";
    assert_eq!(name(decomposed).as_deref(), Ok(precomposed));
    assert_eq!(Username::parse(decomposed), Username::parse(precomposed));
    // Length counts the composed characters: "ab" + e + acute is 3, not 4.
    assert_eq!(name("abe\u{0301}").as_deref(), Ok("ab\u{00E9}"));
    // W + ring above only has a precomposed lowercase form: the second NFKC finds it.
    assert_eq!(name("abW\u{030A}").as_deref(), Ok("ab\u{1E98}"));
}

#[test]
fn fail_username_combining_mark_that_does_not_compose() {
    assert_eq!(
        name("abq\u{0301}"),
        Err(UsernameError::InvalidCharacter('\u{0301}'))
    );
}

#[test]
fn usernames_of_one_script_accepted() {
    for input in [
        "dr.jones",
        "иван.петров",
        "ελένη-2",
        "μαρία_7",
        "мария",
        "محمد",
        "山田太郎",
        // Japanese (Han with kana) and Korean with Latin are the mixes UTS #39 allows.
        "やまだ太郎",
        "dr.山田",
        "김민준.kim",
    ] {
        assert!(Username::parse_new(input).is_ok(), "{input}");
    }
}

#[test]
fn fail_username_mixing_scripts() {
    for input in [
        // A Cyrillic о (U+043E) in a Latin name.
        "dr.j\u{043E}nes",
        // A Cyrillic а (U+0430) among Latin letters.
        "\u{0430}lice",
        // A Greek ο (U+03BF) and a Greek α (U+03B1) in Latin names.
        "dr.j\u{03BF}nes",
        "m\u{03B1}ria",
        // Cyrillic with a Latin letter, and Greek with Cyrillic.
        "ивaн",
        "ελενα\u{0430}",
        // Separators do not make two scripts one.
        "alice.иван",
        // Hangul with kana is not one of the allowed mixes.
        "김やまだ",
    ] {
        assert_eq!(
            Username::parse_new(input),
            Err(UsernameError::MixedScripts),
            "{input}"
        );
        // Existing accounts keep signing in: the lookup form does not apply it.
        assert!(name(input).is_ok(), "{input}");
    }
}

#[test]
fn fail_username_emoji() {
    assert_eq!(name("alice😀"), Err(UsernameError::InvalidCharacter('😀')));
    assert_eq!(
        name("a\u{200D}bc"),
        Err(UsernameError::InvalidCharacter('\u{200D}'))
    );
}

#[test]
fn fail_username_punctuation() {
    for (input, c) in [("al@ce", '@'), ("a+b", '+'), ("a/b", '/'), ("bob!", '!')] {
        assert_eq!(
            name(input),
            Err(UsernameError::InvalidCharacter(c)),
            "{input}"
        );
    }
}

#[test]
fn fail_username_surrounding_whitespace() {
    for input in [
        " alice",
        "alice ",
        "\talice",
        "alice\n",
        "\u{00A0}alice",
        "alice\u{3000}",
    ] {
        assert_eq!(
            name(input),
            Err(UsernameError::SurroundingWhitespace),
            "{input:?}"
        );
    }
}

#[test]
fn fail_username_inner_whitespace() {
    assert_eq!(name("alice smith"), Err(UsernameError::Whitespace));
    assert_eq!(name("alice\u{3000}smith"), Err(UsernameError::Whitespace));
}

#[test]
fn fail_username_too_short() {
    assert_eq!(name(""), Err(UsernameError::TooShort));
    assert_eq!(name("ab"), Err(UsernameError::TooShort));
    assert_eq!(name("é"), Err(UsernameError::TooShort));
}

#[test]
fn fail_username_too_long() {
    assert_eq!(name(&"a".repeat(33)), Err(UsernameError::TooLong));
    // Refused before normalising.
    assert_eq!(name(&"a".repeat(100_000)), Err(UsernameError::TooLong));
    // U+FDFA expands to 18 characters under NFKC, but it is not alphanumeric anyway;
    // the ligature ﬃ (3 letters) shows that length counts after normalisation.
    assert_eq!(name(&"\u{FB03}".repeat(11)), Err(UsernameError::TooLong));
    assert!(name(&"\u{FB03}".repeat(10)).is_ok());
}

#[test]
fn fail_username_separator_at_start_or_end() {
    for input in [".alice", "_alice", "-alice"] {
        assert_eq!(name(input), Err(UsernameError::BadStart), "{input}");
    }
    for input in ["alice.", "alice_", "alice-"] {
        assert_eq!(name(input), Err(UsernameError::BadEnd), "{input}");
    }
}

#[test]
fn fail_username_consecutive_separators() {
    for input in ["a..b", "a._b", "a-_-b", "a__b"] {
        assert_eq!(
            name(input),
            Err(UsernameError::ConsecutiveSeparators),
            "{input}"
        );
    }
    assert!(name("a.b_c-d").is_ok());
}

#[test]
fn username_errors_tell_the_user_what_to_do() {
    assert_eq!(
        UsernameError::TooShort.to_string(),
        "The username is too short: use 3 to 32 characters"
    );
    assert_eq!(
        UsernameError::InvalidCharacter('😀').to_string(),
        "The character '😀' is not allowed: use letters, digits, '.', '_' and '-'"
    );
}

#[test]
fn username_serde_round_trip() {
    let parsed: Username = serde_json::from_str("\"Alice\"").unwrap();
    assert_eq!(parsed.as_str(), "alice");
    assert_eq!(serde_json::to_string(&parsed).unwrap(), "\"alice\"");
    assert_eq!(parsed.to_string(), "alice");
    let s: &str = parsed.as_ref();
    assert_eq!(s, "alice");
    assert_eq!("Alice".parse::<Username>(), Ok(parsed));
}

#[test]
fn fail_username_deserialize_invalid() {
    let err = serde_json::from_str::<Username>("\"a\"").unwrap_err();
    assert!(err.to_string().contains("too short"), "{err}");
    assert!(serde_json::from_str::<Username>("\" alice\"").is_err());
    assert!(serde_json::from_str::<Username>("\"al ice\"").is_err());
}
