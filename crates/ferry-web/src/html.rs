//! HTML building blocks: escaping and the page frame every page shares.
//! Pages are rendered on the server as plain HTML; the one script (assets/
//! app.js) only adds live updates, search and the action buttons.

use std::fmt::Write;

/// Escapes text for HTML element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The navigation entries: (path, label).
const NAV: [(&str, &str); 5] = [
    ("/", "Runs"),
    ("/plan", "Plan"),
    ("/mapping", "Mapping"),
    ("/verify", "Verify"),
    ("/apply", "Apply"),
];

/// A whole page. `page` names the page for the script (`data-page`), `body`
/// is already-escaped HTML, `attrs` are extra `data-*` attributes of <body>.
pub fn page(
    title: &str,
    page: &str,
    context: &str,
    attrs: &[(&str, String)],
    body: &str,
) -> String {
    let mut nav = String::new();
    for (href, label) in NAV {
        let current = if href == "/" {
            page == "runs" || page == "run"
        } else {
            href[1..] == *page
        };
        let _ = write!(
            nav,
            "<a href=\"{href}\"{}>{label}</a>",
            if current { " class=\"current\"" } else { "" }
        );
    }
    let mut data = String::new();
    for (k, v) in attrs {
        let _ = write!(data, " data-{k}=\"{}\"", esc(v));
    }
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{} · ferry</title><link rel=\"stylesheet\" href=\"/assets/style.css\"></head>\
<body data-page=\"{page}\"{data}><header><span class=\"brand\">ferry</span><nav>{nav}</nav>\
<span class=\"context\">{}</span><span id=\"job\" class=\"job\"></span>\
<span class=\"actions\"><button data-action=\"plan\" title=\"Discover both sides and show what an apply would do\">Plan</button>\
<button data-action=\"apply\" title=\"Plan, show the plan, and apply it once you confirm\">Apply…</button>\
<button data-action=\"verify\" title=\"Compare the destination with the source\">Verify</button></span></header>\
<main>\n{body}\n</main><script src=\"/assets/app.js\"></script></body></html>\n",
        esc(title),
        esc(context),
    )
}

/// A status badge.
pub fn badge(status: &str) -> String {
    format!("<span class=\"badge st-{0}\">{0}</span>", esc(status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn the_frame_escapes_its_title_and_marks_the_current_page() {
        let html = page(
            "<x>",
            "mapping",
            "a -> b",
            &[("run", "3".into())],
            "<p>hi</p>",
        );
        assert!(html.contains("<title>&lt;x&gt; · ferry</title>"));
        assert!(html.contains("<a href=\"/mapping\" class=\"current\">Mapping</a>"));
        assert!(html.contains("data-page=\"mapping\" data-run=\"3\""));
        assert!(html.contains("a -&gt; b"));
        assert!(html.contains("<p>hi</p>"));
    }
}
