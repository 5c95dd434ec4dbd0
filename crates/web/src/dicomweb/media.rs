//! Media types in `Content-Type` and `Accept` (RFC 9110 §8.3.1, §12.5.1).
//!
//! DICOMweb leans on parameters (`type`, `transfer-syntax`, `boundary`) whose
//! values may be quoted or not depending on the client, so a small parser that
//! handles both is needed; the `mime` crate rejects some real-world forms.

#[derive(Debug, Clone, PartialEq)]
pub struct MediaType {
    /// `type/subtype`, lower-cased.
    pub essence: String,
    /// Parameter names lower-cased, values unquoted (case kept: boundaries are case-sensitive).
    pub params: Vec<(String, String)>,
    /// Quality from an Accept header (`q=`), 1.0 otherwise.
    pub q: f32,
}

impl MediaType {
    pub fn parse(s: &str) -> Option<MediaType> {
        let mut pieces = split_outside_quotes(s, ';').into_iter();
        let essence = pieces.next()?.trim().to_ascii_lowercase();
        let (ty, sub) = essence.split_once('/')?;
        if ty.is_empty() || sub.is_empty() || essence.contains(char::is_whitespace) {
            return None;
        }
        let mut params = Vec::new();
        let mut q = 1.0;
        for p in pieces {
            let Some((name, value)) = p.split_once('=') else { continue };
            let name = name.trim().to_ascii_lowercase();
            let value = unquote(value.trim());
            if name == "q" {
                q = value.parse().unwrap_or(1.0);
            } else {
                params.push((name, value));
            }
        }
        Some(MediaType { essence, params, q })
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// The media ranges of an Accept header, best first; `q=0` ranges are dropped.
/// A missing or empty header means `*/*`.
pub fn parse_accept(header: Option<&str>) -> Vec<MediaType> {
    let header = header.unwrap_or("").trim();
    if header.is_empty() {
        return vec![MediaType { essence: "*/*".into(), params: vec![], q: 1.0 }];
    }
    let mut ranges: Vec<MediaType> = split_outside_quotes(header, ',')
        .iter()
        .filter_map(|r| MediaType::parse(r))
        .filter(|m| m.q > 0.0)
        .collect();
    // Stable sort keeps the client's order among equal qualities.
    ranges.sort_by(|a, b| b.q.partial_cmp(&a.q).unwrap_or(std::cmp::Ordering::Equal));
    ranges
}

fn unquote(v: &str) -> String {
    if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
        let mut out = String::with_capacity(v.len());
        let mut chars = v[1..v.len() - 1].chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            } else {
                out.push(c);
            }
        }
        out
    } else {
        v.to_string()
    }
}

fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut in_quotes, mut escaped) = (0, false, false);
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if in_quotes && c == '\\' {
            escaped = true;
        } else if c == '"' {
            in_quotes = !in_quotes;
        } else if c == sep && !in_quotes {
            out.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    out.push(&s[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quoted_and_unquoted_params() {
        let m = MediaType::parse(r#"Multipart/Related; type="application/dicom"; boundary=AbC"#).unwrap();
        assert_eq!(m.essence, "multipart/related");
        assert_eq!(m.param("type"), Some("application/dicom"));
        assert_eq!(m.param("boundary"), Some("AbC"));
        let m = MediaType::parse("multipart/related; type=application/dicom; boundary=\"a;b\"").unwrap();
        assert_eq!(m.param("type"), Some("application/dicom"));
        assert_eq!(m.param("boundary"), Some("a;b"));
        assert!(MediaType::parse("nonsense").is_none());
    }

    #[test]
    fn accept_is_sorted_by_quality() {
        let a = parse_accept(Some(r#"application/json;q=0.5, multipart/related; type="application/dicom"; transfer-syntax=*, text/html;q=0"#));
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].essence, "multipart/related");
        assert_eq!(a[0].param("transfer-syntax"), Some("*"));
        assert_eq!(a[1].essence, "application/json");
        assert_eq!(parse_accept(None)[0].essence, "*/*");
    }
}
