//! The built-in dashboard page served at `/` when no `--static-dir` is given: one
//! self-contained HTML page (`dashboard.html` and the chart's `dashboard_timeline.js`,
//! compiled in; no build step, no CDN, no external font) that polls `status`, `api/upstreams`, `api/history`, `metrics`,
//! `api/timeline` (only after a round completed: `last_updated_ms` moved) and the
//! selected upstream's `api/upstreams/{name}/fork_choice` every 2 s with relative URLs,
//! so it also works behind a proxy path prefix. The finality chart (slots over time, one
//! line per upstream and the agreed line) is inline SVG built by the page's own script;
//! lagging and minority upstreams are highlighted in the chart and in the upstreams
//! table. Upstream-provided strings (names, errors, URLs) are only ever written with
//! `textContent`/`setAttribute`.

/// The page, served as `text/html; charset=utf-8`: `dashboard.html` (markup, style and
/// the main script), then the finality chart's script, `dashboard_timeline.js`.
pub const PAGE: &str = concat!(
    include_str!("dashboard.html"),
    "<script>\n\"use strict\";\n",
    include_str!("dashboard_timeline.js"),
    "</script>\n</body>\n</html>\n"
);

#[cfg(test)]
mod tests {
    use super::PAGE;

    #[test]
    fn page_is_a_self_contained_html_document() {
        assert!(PAGE.starts_with("<!doctype html>"));
        assert!(PAGE.trim_end().ends_with("</html>"));
        // Nothing is loaded from elsewhere: no absolute URL, no import, no external script.
        for needle in [
            "http://",
            "https://",
            "@import",
            "<script src",
            "<link",
            "url(",
        ] {
            assert!(!PAGE.contains(needle), "page contains {needle}");
        }
        assert!(PAGE.len() < 48 * 1024, "page is {} bytes", PAGE.len());
    }

    #[test]
    fn page_fetches_every_endpoint_with_relative_urls() {
        for path in [
            "getJson(\"status\")",
            "getJson(\"api/upstreams\")",
            "getJson(\"api/history\")",
            "getText(\"metrics\")",
            "getJson(\"api/timeline\")",
            "\"api/upstreams/\" + encodeURIComponent(name) + \"/fork_choice\"",
        ] {
            assert!(PAGE.contains(path), "page does not fetch {path}");
        }
        assert!(
            !PAGE.contains("fetch(\"/"),
            "absolute fetch breaks a proxy prefix"
        );
        assert!(
            !PAGE.contains("href=\"/"),
            "absolute link breaks a proxy prefix"
        );
    }

    #[test]
    fn the_chart_script_comes_after_the_main_script() {
        let main = PAGE.find("async function refresh()").expect("main script");
        let chart = PAGE
            .find("function renderTimeline(tl)")
            .expect("chart script");
        assert!(main < chart);
        assert_eq!(PAGE.matches("<script>").count(), 2);
        assert_eq!(PAGE.matches("</body>").count(), 1);
        // The first refresh waits for both scripts.
        assert!(PAGE.contains("addEventListener(\"DOMContentLoaded\""));
    }

    #[test]
    fn page_never_parses_strings_as_html() {
        for needle in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
        ] {
            assert!(!PAGE.contains(needle), "page uses {needle}");
        }
    }

    #[test]
    fn page_reads_the_metrics_it_shows() {
        for name in [
            "leanpoint_open_fds",
            "leanpoint_fd_limit",
            "leanpoint_fd_budget",
            "leanpoint_inbound_connections",
        ] {
            assert!(PAGE.contains(name), "page does not read {name}");
        }
    }

    #[test]
    fn page_has_the_ids_the_browser_test_reads() {
        for id in [
            "id=\"finalized-slot\"",
            "id=\"justified-slot\"",
            "id=\"stale-badge\"",
            "id=\"upstreams\"",
            "id=\"history\"",
            "id=\"fc-svg\"",
            "id=\"fd-open\"",
            "id=\"timeline-svg\"",
            "id=\"timeline-legend\"",
        ] {
            assert!(PAGE.contains(id), "page lacks {id}");
        }
        assert!(PAGE.contains("\"data-upstream\""));
        // The chart's series and the agreed line carry what tests/browser.rs reads.
        for attr in ["\"data-last\"", "\"data-standing\"", "\"data-now\""] {
            assert!(PAGE.contains(attr), "page lacks {attr}");
        }
        assert!(PAGE.contains("\"data-upstream\": \"agreed\""));
        for class in [
            "tr.lagging",
            "tr.minority",
            ".series.lagging",
            ".series.minority",
        ] {
            assert!(PAGE.contains(class), "page does not style {class}");
        }
        assert!(PAGE.contains("prefers-color-scheme:dark"));
    }
}
