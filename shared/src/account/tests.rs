//! The credential rules: accepted and refused usernames and passwords, the
//! meter's scores and hints, and property tests that nothing panics.

use super::common::{common_list, common_rank};
use super::strength::{
    make_strength, HINT_COMMON, HINT_COMMON_PART, HINT_LONG, HINT_PATTERN, HINT_SHORT, HINT_STRONG,
    HINT_USERNAME, LABELS,
};
use super::*;

/// The list as the app fetches it (`/common-passwords.txt` is this file).
const COMMON_PASSWORDS: &str = include_str!("../../data/common-passwords.txt");

fn name(input: &str) -> Result<String, UsernameError> {
    Username::parse(input).map(String::from)
}

mod usernames;

// --- passwords -------------------------------------------------------------------

const PASSPHRASE: &str = "Correct horse battery staple on the hill";

#[test]
fn common_list_has_10000_entries() {
    let header = COMMON_PASSWORDS.lines().next().unwrap_or("");
    assert!(header.starts_with("# source: npm package @zxcvbn-ts/language-common 4.1.3"));
    let entries: Vec<&str> = COMMON_PASSWORDS
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect();
    assert_eq!(entries.len(), COMMON_PASSWORD_COUNT);
    assert_eq!(common_list().unwrap().sorted.len(), COMMON_PASSWORD_COUNT);
    // Lowercase, no blanks, no duplicates.
    assert!(entries
        .iter()
        .all(|e| !e.is_empty() && *e == e.to_lowercase()));
    let mut unique = entries.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), COMMON_PASSWORD_COUNT);
    // Rank order: the most common first.
    assert_eq!(entries.first().copied(), Some("123456"));
    assert_eq!(common_rank("123456"), Some(0));
    assert_eq!(common_rank("password"), Some(1));
    assert_eq!(common_list().unwrap().max_chars, 16);
}

#[test]
fn the_pinned_hash_is_the_files() {
    assert_eq!(
        medvault_crypto::hash::sha256(COMMON_PASSWORDS.as_bytes()),
        COMMON_PASSWORDS_SHA256
    );
    assert_eq!(
        install_common_passwords(COMMON_PASSWORDS.as_bytes()),
        Ok(())
    );
    assert!(common_passwords_installed());
}

#[test]
fn fail_a_list_that_is_not_the_built_one() {
    // A lying server: a shorter list (the top entry dropped), an extra entry, an
    // empty file, a list padded past the limit. Each is refused whole.
    let bytes = COMMON_PASSWORDS.as_bytes();
    let without_top = COMMON_PASSWORDS.replacen("\n123456\n", "\n", 1);
    let with_extra = format!("{COMMON_PASSWORDS}correct horse battery staple\n");
    let padded = [bytes, &vec![b'\n'; COMMON_PASSWORDS_MAX_BYTES]].concat();
    for bad in [
        without_top.as_bytes(),
        with_extra.as_bytes(),
        b"",
        &padded[..],
    ] {
        let refused = install_common_passwords(bad).unwrap_err();
        assert_eq!(refused, CommonListError::NotTheBuiltList);
        assert!(refused
            .to_string()
            .contains("not the one this app was built with"));
    }
    // The installed list is still the real one.
    assert_eq!(common_rank("123456"), Some(0));
}

#[test]
fn common_lookup_is_case_insensitive() {
    assert!(is_common_password("password"));
    assert!(is_common_password("PassWord"));
    assert!(is_common_password("QWERTY123456"));
    // NFKC first: fullwidth letters are the same password.
    assert!(is_common_password("ｐａｓｓｗｏｒｄ"));
    assert!(!is_common_password(PASSPHRASE));
    assert!(!is_common_password(""));
}

#[test]
fn password_accepts_a_long_passphrase() {
    assert_eq!(check_password(PASSPHRASE, "alice", false), Ok(()));
    assert_eq!(check_password(PASSPHRASE, "alice", true), Ok(()));
    // Any characters are fine: no composition rules, spaces and other scripts too.
    assert_eq!(
        check_password("сонце світить над морем", "alice", false),
        Ok(())
    );
    assert_eq!(check_password(&"é".repeat(256), "alice", false), Ok(()));
}

#[test]
fn password_minimum_depends_on_second_factor() {
    let twelve = "kettle mosai";
    assert_eq!(twelve.chars().count(), 12);
    assert_eq!(check_password(twelve, "alice", true), Ok(()));
    assert_eq!(
        check_password(twelve, "alice", false),
        Err(PasswordError::TooShort { min: 15 })
    );
    let fifteen = "kettle mosaic w";
    assert_eq!(check_password(fifteen, "alice", false), Ok(()));
}

#[test]
fn fail_password_11_chars_with_second_factor() {
    let eleven = "kettle mosa";
    assert_eq!(eleven.chars().count(), 11);
    assert_eq!(
        check_password(eleven, "alice", true),
        Err(PasswordError::TooShort { min: 12 })
    );
}

#[test]
fn fail_password_14_chars_without_second_factor() {
    let fourteen = "kettle mosaic ";
    assert_eq!(fourteen.chars().count(), 14);
    assert_eq!(
        check_password(fourteen, "alice", false),
        Err(PasswordError::TooShort { min: 15 })
    );
}

#[test]
fn fail_password_length_counts_normalised_characters() {
    // 12 bytes-worth of decomposed accents is 6 characters after NFKC.
    let decomposed = "e\u{0301}".repeat(6);
    assert_eq!(decomposed.chars().count(), 12);
    assert_eq!(
        check_password(&decomposed, "alice", true),
        Err(PasswordError::TooShort { min: 12 })
    );
}

#[test]
fn fail_password_too_long() {
    assert_eq!(
        check_password(&"a".repeat(257), "alice", false),
        Err(PasswordError::TooLong)
    );
    assert_eq!(
        check_password(&"ab".repeat(100_000), "alice", false),
        Err(PasswordError::TooLong)
    );
}

#[test]
fn fail_password_common_in_any_case() {
    // Ranks 2690, 1371 and 2207 of the list; 12, 12 and 15 characters.
    for common in ["Qwerty123456", "1QAZ2WSX3EDC", "qwerty123456"] {
        assert_eq!(
            check_password(common, "alice", true),
            Err(PasswordError::Common),
            "{common}"
        );
    }
    assert_eq!(
        check_password("MailCreated5240", "alice", false),
        Err(PasswordError::Common)
    );
}

#[test]
fn fail_password_contains_username() {
    let cases = [
        ("alice", "alice-in-wonderland-42"),
        ("Alice", "my name is ALICE and I like tea"),
        ("john.smith", "John.Smith-was-here-1987"),
        ("john.smith", "johnsmith was here in 1987"),
        ("ＢＯＢ", "bobby tables drops tables"),
    ];
    for (username, password) in cases {
        assert_eq!(
            check_password(password, username, false),
            Err(PasswordError::ContainsUsername),
            "{username} / {password}"
        );
    }
    // Equal to the username.
    let long_name = "correcthorsebattery";
    assert_eq!(
        check_password(long_name, long_name, false),
        Err(PasswordError::ContainsUsername)
    );
}

#[test]
fn password_may_contain_a_short_username() {
    // Names under 3 characters are not compared (every password would contain "a").
    assert_eq!(check_password(PASSPHRASE, "al", false), Ok(()));
    assert_eq!(check_password(PASSPHRASE, "", false), Ok(()));
}

#[test]
fn password_errors_tell_the_user_what_to_do() {
    assert_eq!(
        PasswordError::TooShort { min: 15 }.to_string(),
        "Use at least 15 characters: a few unrelated words in a row are easy to remember"
    );
    assert_eq!(
        PasswordError::TooLong.to_string(),
        "Use at most 256 characters"
    );
}

#[test]
fn normalize_password_examples() {
    // Decomposed and precomposed accents give the same bytes.
    assert_eq!(
        normalize_password("cafe\u{0301}").as_str(),
        normalize_password("caf\u{00E9}").as_str()
    );
    assert_eq!(
        normalize_password("cafe\u{0301}").as_bytes(),
        b"caf\xC3\xA9"
    );
    // Fullwidth forms, ligatures and the ideographic space become plain ones.
    assert_eq!(normalize_password("ｐａｓｓ１").as_str(), "pass1");
    assert_eq!(normalize_password("\u{FB01}ne").as_str(), "fine");
    assert_eq!(normalize_password("a\u{3000}b").as_str(), "a b");
    // Case and ordinary spaces are kept.
    assert_eq!(normalize_password(" Pass Word ").as_str(), " Pass Word ");
    // Hangul jamo compose.
    assert_eq!(normalize_password("\u{1100}\u{1161}").as_str(), "\u{AC00}");
}

// --- strength meter ----------------------------------------------------------------

#[test]
fn strength_labels_match_scores() {
    for (score, label) in LABELS.iter().enumerate() {
        let s = make_strength(score as u8, "");
        assert_eq!(s.label, *label);
    }
}

#[test]
fn strength_too_short() {
    let s = strength("Zq9!xv", "alice");
    assert_eq!((s.score, s.label, s.hint), (0, "Too short", HINT_SHORT));
    assert_eq!(strength("", "").score, 0);
}

#[test]
fn strength_scores_rise_on_sample_passwords() {
    let samples = [
        "abc",                                       // too short
        "aaaaaaaaaaaa",                              // a repeat
        "password1234",                              // common word + sequence
        "sunshinesunshine",                          // common word twice
        "mydoglikescheese",                          // words, lowercase
        "my dog likes cheese",                       // words with spaces
        "my dog likes cheese on toast",              // more words
        "My dog, Rex, likes cheese on toast at 7pm", // a sentence
    ];
    let scores: Vec<u8> = samples.iter().map(|p| strength(p, "alice").score).collect();
    assert!(
        scores.windows(2).all(|w| w[0] <= w[1]),
        "not monotonic: {scores:?}"
    );
    assert_eq!(scores.first(), Some(&0));
    assert_eq!(scores.last(), Some(&4));
}

#[test]
fn strength_more_words_never_lower() {
    let mut phrase = String::from("kettle");
    let mut last = 0;
    for word in ["mosaic", "harbour", "violet", "gravel", "tundra", "pepper"] {
        phrase.push(' ');
        phrase.push_str(word);
        let s = strength(&phrase, "alice").score;
        assert!(s >= last, "{phrase}: {s} < {last}");
        last = s;
    }
    assert_eq!(last, 4);
}

#[test]
fn strength_penalises_patterns() {
    let repeat = strength("abcabcabcabc", "alice");
    assert_eq!(repeat.score, 1);
    assert_eq!(repeat.hint, HINT_PATTERN);
    let sequence = strength("abcdefghijklmnop", "alice");
    assert_eq!(sequence.score, 1);
    assert_eq!(sequence.hint, HINT_PATTERN);
    let digits = strength("987654321098", "alice");
    assert_eq!(digits.score, 1);
}

#[test]
fn strength_penalises_common_passwords() {
    let whole = strength("Qwerty123456", "alice");
    assert_eq!((whole.score, whole.hint), (1, HINT_COMMON));
    let parts = strength("dragonmonkeysunshine", "alice");
    assert!(parts.score <= 2, "{parts:?}");
    assert_eq!(parts.hint, HINT_COMMON_PART);
}

#[test]
fn strength_penalises_username() {
    let s = strength("alice wonderland rabbit hole 1865!", "Alice");
    assert_eq!((s.score, s.hint), (1, HINT_USERNAME));
    // The same password without a username in it is strong.
    assert_eq!(
        strength("alice wonderland rabbit hole 1865!", "bob").score,
        4
    );
}

#[test]
fn strength_random_mixed_password_is_strong() {
    let s = strength("q8#Lm2!vZ9@xR4&p", "alice");
    assert_eq!((s.score, s.label, s.hint), (4, "Strong", HINT_STRONG));
}

#[test]
fn strength_too_long_says_so() {
    let s = strength(&"kettle mosaic ".repeat(20), "alice");
    assert_eq!(s.hint, HINT_LONG);
    assert_eq!(strength(&"x".repeat(100_000), "alice").hint, HINT_LONG);
}

// --- never panics ------------------------------------------------------------------

#[cfg(not(target_arch = "wasm32"))]
mod prop {
    use super::super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn validation_never_panics(input in any::<String>(), other in any::<String>(), second in any::<bool>()) {
            let _ = Username::parse(&input);
            let _ = check_password(&input, &other, second);
            let s = strength(&input, &other);
            prop_assert!(s.score <= 4);
            let _ = is_common_password(&input);
        }

        #[test]
        fn valid_usernames_are_fixed_points(input in "\\PC{0,40}") {
            if let Ok(name) = Username::parse(&input) {
                prop_assert_eq!(Username::parse(name.as_str()), Ok(name.clone()));
            }
        }

        #[test]
        fn username_like_inputs_never_panic(input in "[a-zA-Z0-9._\\- \u{0301}\u{FF21}-\u{FF3A}😀]{0,40}") {
            if let Ok(name) = Username::parse(&input) {
                let count = name.as_str().chars().count();
                prop_assert!((USERNAME_MIN_CHARS..=USERNAME_MAX_CHARS).contains(&count));
                prop_assert_eq!(Username::parse(name.as_str()), Ok(name.clone()));
            }
        }

        #[test]
        fn long_inputs_stay_fast_and_bounded(chars in proptest::collection::vec(any::<char>(), 200..300)) {
            let input: String = chars.into_iter().collect();
            let s = strength(&input, "alice");
            prop_assert!(s.score <= 4);
        }
    }
}

/// NFKC samples, checked natively here (the `unicode-normalization` crate) and in
/// the browser by `app/tests/account_rules.rs` (`String.prototype.normalize`).
#[test]
fn nfkc_samples_normalise_as_expected() {
    for (input, expected) in NFKC_SAMPLES {
        assert_eq!(normalize_password(input).as_str(), expected, "{input}");
    }
    assert_eq!(name("\u{ff21}lice").as_deref(), Ok("alice"));
}
