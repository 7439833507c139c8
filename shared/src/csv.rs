//! CSV as RFC 4180 describes it, for the files people download (access
//! history, vital signs) and open in a spreadsheet.

/// One CSV line (ending in CRLF) from its fields.
///
/// A field is quoted when it holds a comma, a quote or a line break, with
/// quotes doubled. A field that a spreadsheet would run as a formula (starting
/// with `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed with `'`,
/// so a name typed into medvault can never become a formula on someone's
/// computer; plain numbers like `-3.5` are left alone.
pub fn row<S: AsRef<str>>(fields: &[S]) -> String {
    let mut line = String::new();
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        let field = field.as_ref();
        let risky =
            field.starts_with(['=', '+', '-', '@', '\t', '\r']) && field.parse::<f64>().is_err();
        let text = if risky {
            format!("'{field}")
        } else {
            field.to_owned()
        };
        if text.contains([',', '"', '\r', '\n']) {
            line.push('"');
            line.push_str(&text.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(&text);
        }
    }
    line.push_str("\r\n");
    line
}

#[cfg(test)]
mod tests {
    use super::row;

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(row(&["a", "b c", "1.5"]), "a,b c,1.5\r\n");
        assert_eq!(
            row(&["a,b", "say \"hi\"", "two\nlines"]),
            "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n"
        );
        assert_eq!(row::<&str>(&[]), "\r\n");
    }

    #[test]
    fn formulas_are_defused_but_numbers_are_not() {
        assert_eq!(
            row(&["=HYPERLINK(\"x\")"]),
            "\"'=HYPERLINK(\"\"x\"\")\"\r\n"
        );
        assert_eq!(
            row(&["@SUM(A1)", "+1+2", "-3.5"]),
            "'@SUM(A1),'+1+2,-3.5\r\n"
        );
    }
}
