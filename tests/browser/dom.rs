//! Reading Chromium's `--dump-dom` output: the text of an element by id, start tags by
//! name and attribute, attribute values, and an upstream's table row.

/// The text directly inside the element with `id` (up to its first child tag).
pub fn text_of_id<'a>(dom: &'a str, id: &str) -> Option<&'a str> {
    let at = dom.find(&format!("id=\"{id}\""))?;
    let rest = dom.get(at..)?;
    let open_end = rest.find('>')?;
    let inner = rest.get(open_end + 1..)?;
    Some(inner.get(..inner.find('<')?)?.trim())
}

/// Every `<tag …>` start tag (up to its `>`) carrying `attr="value"`.
pub fn start_tags<'a>(dom: &'a str, tag: &str, attr: &str, value: &str) -> Vec<&'a str> {
    let open = format!("<{tag} ");
    let wanted = format!(" {attr}=\"{value}\"");
    let mut found = Vec::new();
    let mut rest = dom;
    while let Some(at) = rest.find(&open) {
        let from = rest.get(at..).unwrap_or_default();
        let end = from.find('>').map_or(from.len(), |e| e + 1);
        let start_tag = from.get(..end).unwrap_or_default();
        if start_tag.contains(&wanted) {
            found.push(start_tag);
        }
        rest = from.get(end..).unwrap_or_default();
    }
    found
}

/// The value of `name` in a start tag.
pub fn attr<'a>(start_tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let at = start_tag.find(&key)? + key.len();
    let rest = start_tag.get(at..)?;
    rest.get(..rest.find('"')?)
}

/// The `<tr …>…</tr>` of the upstream row named `name` (the chart's series carry the same
/// `data-upstream` on a `<polyline>`, not a `<tr>`).
pub fn upstream_row<'a>(dom: &'a str, name: &str) -> Option<&'a str> {
    let tag = *start_tags(dom, "tr", "data-upstream", name).first()?;
    let at = dom.find(tag)?;
    let rest = dom.get(at..)?;
    rest.get(..rest.find("</tr>")?)
}
