//! The built-in dashboard page served at `/` when no `--static-dir` is given: one
//! self-contained HTML page (no build step, no CDN) that polls `/status` and
//! `/api/upstreams`. A placeholder; the full dashboard replaces `PAGE`.

/// The page, served as `text/html; charset=utf-8`.
pub const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>leanpoint</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse}td,th{padding:.25rem .75rem;text-align:left;border-bottom:1px solid #ddd}
.bad{color:#b00}.ok{color:#070}
</style>
</head>
<body>
<h1>leanpoint</h1>
<p id="status">loading…</p>
<table><thead><tr><th>upstream</th><th>healthy</th><th>justified</th><th>finalized</th><th>last error</th></tr></thead>
<tbody id="upstreams"></tbody></table>
<p><a href="/metrics">metrics</a> · <a href="/api/history">history</a> · <a href="/healthz">healthz</a></p>
<script>
"use strict";
function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  row.appendChild(td);
}
async function refresh() {
  try {
    const s = await (await fetch("/status")).json();
    const el = document.getElementById("status");
    el.textContent = "justified " + s.justified_slot + " · finalized " + s.finalized_slot +
      (s.stale ? " · STALE" : "") + (s.last_error ? " · " + s.last_error : "");
    el.className = s.stale ? "bad" : "ok";
    const u = await (await fetch("/api/upstreams")).json();
    const body = document.getElementById("upstreams");
    body.replaceChildren();
    for (const up of u.upstreams) {
      const row = document.createElement("tr");
      cell(row, up.name);
      cell(row, up.healthy ? "yes" : "no", up.healthy ? "ok" : "bad");
      cell(row, up.last_justified_slot ?? "-");
      cell(row, up.last_finalized_slot ?? "-");
      cell(row, up.last_error ?? "");
      body.appendChild(row);
    }
  } catch (e) {
    document.getElementById("status").textContent = "unreachable: " + e;
  }
}
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>
"#;

#[cfg(test)]
mod tests {
    use super::PAGE;

    #[test]
    fn page_is_a_self_contained_html_document() {
        assert!(PAGE.starts_with("<!doctype html>"));
        assert!(PAGE.trim_end().ends_with("</html>"));
        assert!(PAGE.contains("fetch(\"/status\")"));
        assert!(!PAGE.contains("http://") && !PAGE.contains("https://"));
    }
}
