use super::*;

#[test]
fn reasons_are_checked() {
    assert!(validate_reason("  ").is_err());
    assert_eq!(validate_reason(" follow-up visit "), Ok("follow-up visit"));
    assert!(validate_reason(&"x".repeat(MAX_REASON_CHARS)).is_ok());
    assert!(validate_reason(&"x".repeat(MAX_REASON_CHARS + 1)).is_err());
    assert!(validate_reason("a\u{7}b").is_err());
    assert!(validate_reason("line one\nline two").is_ok());
}
