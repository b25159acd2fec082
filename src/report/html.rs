//! `rdpscope report`: one self-contained HTML file (inline CSS and SVG, no script, nothing
//! fetched) with the summary table, verdict counts, and per connection its phase waterfall and
//! findings. Every string that comes from the capture is escaped: it is untrusted input.

use std::fmt::Write as _;

use super::group::{self, Group};
use super::html_group;
use super::{
    connection_label, duration_text, headline, ms_text, phase_reached, phase_spans, PhaseSpan,
    Stop, VERDICTS_WORST_FIRST,
};
use crate::diagnose::{Diagnosed, Finding, Severity, Verdict};
use crate::session::PhaseName;
use crate::timefmt::{clock, rfc3339_us};

/// What the report is made of.
pub struct ReportInput<'a> {
    /// The capture files, as given on the command line.
    pub files: &'a [String],
    /// The connections, in table order.
    pub connections: &'a [Diagnosed],
    pub packets: u64,
    /// Said under the table when it shows only some of the connections.
    pub omitted: Option<String>,
    /// What the run says about the capture as a whole (connection floods, evictions), as
    /// the terminal prints it under the table; empty when there is nothing.
    pub notes: &'a str,
    /// Warnings about the input (a truncated file, time going backwards).
    pub warnings: &'a [String],
    /// Connections that repeat share a row and a section (`report` without `--all`).
    pub grouped: bool,
}

/// Escapes text for HTML element content and attribute values alike.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
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

pub(super) const STYLE: &str = r#"
:root { --ok:#1a7f37; --failed:#cf222e; --stalled:#8250df; --slow:#9a6700; --incomplete:#6e7781;
  --line:#d0d7de; --muted:#57606a; --bg-soft:#f6f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color:#1f2328; margin:0; padding:28px 36px; max-width:1200px; }
h1 { font-size:24px; margin:0 0 4px; }
h2 { font-size:18px; margin:28px 0 10px; padding-bottom:6px; border-bottom:1px solid var(--line); }
h3 { font-size:15px; margin:0; display:flex; gap:10px; align-items:center; flex-wrap:wrap; }
.meta { color:var(--muted); margin:0 0 2px; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size:12.5px; }
.counts { display:flex; gap:8px; margin:14px 0 4px; flex-wrap:wrap; }
.count { border:1px solid var(--line); border-radius:8px; padding:6px 12px; background:var(--bg-soft); }
.count b { font-size:18px; margin-right:6px; }
.badge { display:inline-block; min-width:64px; text-align:center; padding:1px 8px; border-radius:10px;
  color:#fff; font-weight:600; font-size:12px; }
.v-ok { background:var(--ok); } .v-failed { background:var(--failed); } .v-stalled { background:var(--stalled); }
.v-slow { background:var(--slow); } .v-incomplete { background:var(--incomplete); }
.s-error { color:var(--failed); } .s-warning { color:var(--slow); } .s-info { color:var(--muted); }
table.summary { border-collapse:collapse; width:100%; margin-top:8px; }
table.summary { font-size:13px; }
table.summary th, table.summary td { text-align:left; padding:4px 10px; border-bottom:1px solid var(--line);
  vertical-align:top; }
table.summary th { background:var(--bg-soft); font-weight:600; }
table.summary td.num { white-space:nowrap; }
a { color:#0969da; text-decoration:none; } a:hover { text-decoration:underline; }
section.conn, details.conn { border:1px solid var(--line); border-radius:8px; padding:14px 18px; margin:14px 0; }
details.conn > summary { cursor:pointer; list-style-position:outside; }
details.conn > summary h3 { display:inline-flex; }
.finding { border-left:4px solid var(--line); padding:4px 0 4px 12px; margin:12px 0; }
.finding.e-error { border-color:var(--failed); } .finding.e-warning { border-color:var(--slow); }
.finding h4 { margin:0 0 4px; font-size:14px; }
.finding p { margin:4px 0; }
.finding ul { margin:4px 0; padding-left:20px; color:var(--muted); }
.fix { background:var(--bg-soft); border-radius:6px; padding:6px 10px; }
svg.waterfall { display:block; margin:10px 0 4px; max-width:100%; height:auto; }
svg text { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size:12px; fill:#1f2328; }
svg .axis { stroke:#8c959f; stroke-width:1; } svg .grid { stroke:#eaeef2; stroke-width:1; }
svg .tick { fill:var(--muted); font-size:11px; }
.warnings { color:var(--slow); }
.notes { white-space:pre-wrap; font-size:13px; background:#f6f8fa; padding:8px 12px; border-radius:6px; }
details.files { display:inline; } details.files summary { display:inline; cursor:pointer; }
"#;

/// The whole report as one HTML document.
pub fn render(input: &ReportInput) -> String {
    let mut out = String::with_capacity(16 * 1024 + input.connections.len() * 4096);
    let files = input
        .files
        .iter()
        .map(|f| escape(f))
        .collect::<Vec<_>>()
        .join(", ");
    // A long list of files would push the summary off the first screen: it folds.
    let capture = if input.files.len() <= 3 {
        format!("<span class=\"mono\">{files}</span>")
    } else {
        format!(
            "<details class=\"files\"><summary>{} files</summary><span class=\"mono\">{files}</span></details>",
            input.files.len()
        )
    };
    let title = match input.files {
        [one] => escape(one),
        many => format!("{} files", many.len()),
    };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>rdpscope report: {title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>RDP connection report</h1>\n<div class=\"meta\">Capture: {capture}</div>\n"
    );
    let first = input.connections.iter().map(|d| d.meta.first.ts_ns).min();
    let _ = writeln!(
        out,
        "<p class=\"meta\">{} packets read, {} connection{}{}; made by rdpscope {}.</p>",
        input.packets,
        input.connections.len(),
        if input.connections.len() == 1 {
            ""
        } else {
            "s"
        },
        first
            .map(|t| format!(", the first at {}", rfc3339_us(t)))
            .unwrap_or_default(),
        env!("CARGO_PKG_VERSION"),
    );
    for w in input.warnings {
        let _ = writeln!(out, "<p class=\"warnings\">Warning: {}</p>", escape(w));
    }
    let groups = if input.grouped {
        group::group(input.connections)
    } else {
        group::each(input.connections)
    };
    push_counts(&mut out, input.connections);
    push_summary(&mut out, input, &groups);
    push_connections(&mut out, &groups);
    out.push_str("</body>\n</html>\n");
    out
}

pub(super) fn badge(v: Verdict) -> String {
    format!("<span class=\"badge v-{0}\">{0}</span>", v.name())
}

fn push_counts(out: &mut String, conns: &[Diagnosed]) {
    out.push_str("<div class=\"counts\">");
    for v in VERDICTS_WORST_FIRST {
        let n = conns.iter().filter(|d| d.verdict == v).count();
        if n > 0 {
            let _ = write!(out, "<div class=\"count\"><b>{n}</b>{}</div>", badge(v));
        }
    }
    out.push_str("</div>\n");
}

fn push_summary(out: &mut String, input: &ReportInput, groups: &[Group]) {
    out.push_str(
        "<h2>Summary</h2>\n<table class=\"summary\">\n<thead><tr><th>#</th><th>start</th>\
         <th>client</th><th>server</th><th>verdict</th><th>phase</th><th>took</th>\
         <th>finding</th></tr></thead>\n<tbody>\n",
    );
    for g in groups {
        if !g.is_single() {
            html_group::push_row(out, g);
            continue;
        }
        let d = g.first();
        let m = &d.meta;
        let _ = writeln!(
            out,
            "<tr id=\"row-{id}\"><td class=\"num\"><a href=\"#conn-{id}\">{label}</a></td>\
             <td class=\"mono\">{start}</td><td class=\"mono\">{client}</td>\
             <td class=\"mono\">{server}</td><td class=\"verdict\">{badge}</td>\
             <td class=\"mono\">{phase}</td><td class=\"num\">{took}</td><td>{finding}</td></tr>",
            id = m.id,
            label = escape(connection_label(d).trim()),
            start = clock(m.first.ts_ns, false),
            client = escape(&m.client.to_string()),
            server = escape(&m.server.to_string()),
            badge = badge(d.verdict),
            phase = phase_reached(d),
            took = duration_text(m.last.ts_ns - m.first.ts_ns),
            finding = {
                let title = headline(d).map(|f| super::findings::title(f, &m.server));
                let text = match (super::gateway::gateway_label(d), title) {
                    (Some(gw), Some(t)) => format!("{gw}: {t}"),
                    (gw, t) => gw.or(t).unwrap_or_default(),
                };
                escape(&text)
            },
        );
    }
    out.push_str("</tbody>\n</table>\n");
    if let Some(note) = group::merged_note(groups) {
        let _ = writeln!(out, "<p class=\"meta\">{}</p>", escape(&note));
    }
    if let Some(note) = &input.omitted {
        let _ = writeln!(out, "<p class=\"meta\">{}</p>", escape(note));
    }
    let notes = input.notes.trim();
    if !notes.is_empty() {
        let _ = writeln!(out, "<pre class=\"notes\">{}</pre>", escape(notes));
    }
}

/// Connections that went wrong first, open; healthy ones after, collapsed. A group of
/// repeats is one section.
fn push_connections(out: &mut String, groups: &[Group]) {
    out.push_str("<h2>Connections</h2>\n");
    let (healthy, troubled): (Vec<&Group>, Vec<&Group>) = groups
        .iter()
        .partition(|g| g.first().verdict == Verdict::Ok);
    for g in troubled {
        if !g.is_single() {
            html_group::push_section(out, g, false);
            continue;
        }
        let d = g.first();
        let _ = writeln!(
            out,
            "<section class=\"conn\" id=\"conn-{}\">\n{}",
            d.meta.id,
            conn_heading(d)
        );
        push_details(out, d);
        out.push_str("</section>\n");
    }
    for g in healthy {
        if !g.is_single() {
            html_group::push_section(out, g, true);
            continue;
        }
        let d = g.first();
        let _ = writeln!(
            out,
            "<details class=\"conn\" id=\"conn-{}\">\n<summary>{}</summary>",
            d.meta.id,
            conn_heading(d)
        );
        push_details(out, d);
        out.push_str("</details>\n");
    }
}

fn conn_heading(d: &Diagnosed) -> String {
    let gateway = super::gateway::gateway_label(d)
        .map(|l| format!("<span class=\"meta\">{}</span>", escape(&l)))
        .unwrap_or_default();
    format!(
        "<h3><span>#{}</span><span class=\"mono\">{} → {}</span>{}{}<span class=\"meta\">{}, {} packets</span></h3>",
        escape(connection_label(d).trim()),
        escape(&d.meta.client.to_string()),
        escape(&d.meta.server.to_string()),
        gateway,
        badge(d.verdict),
        duration_text(d.meta.last.ts_ns - d.meta.first.ts_ns),
        d.meta.packets,
    )
}

fn push_details(out: &mut String, d: &Diagnosed) {
    out.push_str(&waterfall_svg(d));
    for f in &d.findings {
        push_finding(out, f, &d.meta.server);
    }
}

pub(super) fn severity_class(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

fn push_finding(out: &mut String, f: &Finding, server: &crate::flow::Endpoint) {
    let sev = severity_class(f.severity);
    let words = super::findings::words(f, server);
    let _ = writeln!(
        out,
        "<div class=\"finding e-{sev}\"><h4><span class=\"s-{sev}\">[{sev}]</span> {} \
         <code>{}</code></h4>\n<p>{}</p>",
        escape(&words.title),
        escape(f.code.as_str()),
        escape(&words.explanation),
    );
    if !f.evidence.is_empty() {
        out.push_str("<ul class=\"evidence\">");
        for (frame, t_ms, notes) in super::table::evidence_by_frame(&f.evidence) {
            let _ = write!(
                out,
                "<li>frame {frame} at {t_ms:.1} ms: {}</li>",
                escape(&notes.join("; "))
            );
        }
        out.push_str("</ul>\n");
    }
    let _ = writeln!(
        out,
        "<p class=\"fix\"><strong>Fix:</strong> {}</p></div>",
        escape(words.fix)
    );
}

fn phase_fill(name: PhaseName) -> &'static str {
    match name {
        PhaseName::TcpConnect => "#4f7cff",
        PhaseName::X224Negotiation => "#1b9aaa",
        PhaseName::TlsHandshake => "#2da44e",
        PhaseName::Credssp => "#8250df",
        PhaseName::McsConnect => "#bf8700",
        PhaseName::GatewayAuth => "#8250df",
        PhaseName::GatewayTunnel => "#bf8700",
        PhaseName::RdpData | PhaseName::GatewayData | PhaseName::Closed => "#8c959f",
    }
}

fn stop_fill(stop: Stop) -> &'static str {
    match stop {
        Stop::Failed => "#cf222e",
        Stop::Pending => "#d4a72c",
    }
}

/// An axis tick: "0", "50 ms", "0.5 ms", "10 s", "1.5 s" (as many decimals as the step needs).
fn tick_text(t_ms: f64, step_ms: f64) -> String {
    let decimals = |step: f64| {
        if step >= 1.0 {
            0
        } else if step >= 0.1 {
            1
        } else {
            2
        }
    };
    if t_ms == 0.0 {
        "0".to_string()
    } else if step_ms >= 100.0 && t_ms >= 1000.0 {
        format!("{:.*} s", decimals(step_ms / 1000.0), t_ms / 1000.0)
    } else {
        format!("{:.*} ms", decimals(step_ms), t_ms)
    }
}

/// A round step for about four axis ticks: 1, 2 or 5 times a power of ten.
fn tick_step(total_ms: f64) -> f64 {
    let rough = (total_ms / 4.0).max(1e-3);
    let magnitude = 10f64.powf(rough.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|step| *step >= rough)
        .unwrap_or(10.0 * magnitude)
}

const SVG_WIDTH: f64 = 1000.0;
const LABEL_WIDTH: f64 = 150.0;
/// Room right of the axis for the last bar's length and stop note (monospace, ~7.3 px a
/// character: "1.7 ms ✗ failed: waiting on the server").
const NOTE_ROOM: f64 = 300.0;
const ROW: f64 = 24.0;
const AXIS: f64 = 26.0;

/// The phases as bars on the connection's time axis, with labels, lengths and the stop mark.
pub(super) fn waterfall_svg(d: &Diagnosed) -> String {
    let (spans, total_ms) = phase_spans(d);
    if spans.is_empty() {
        return "<p class=\"meta\">No phase seen (no handshake packet).</p>\n".to_string();
    }
    let bar_width = SVG_WIDTH - LABEL_WIDTH - NOTE_ROOM;
    let x_of = |ms: f64| {
        if total_ms > 0.0 {
            LABEL_WIDTH + ms / total_ms * bar_width
        } else {
            LABEL_WIDTH
        }
    };
    let height = AXIS + ROW * spans.len() as f64 + 6.0;
    let mut svg = format!(
        "<svg class=\"waterfall\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{SVG_WIDTH}\" \
         height=\"{height}\" viewBox=\"0 0 {SVG_WIDTH} {height}\" role=\"img\" \
         aria-label=\"phases of connection {}\">\n",
        d.meta.id
    );
    let step = tick_step(total_ms);
    let mut t = 0.0;
    while t <= total_ms * 1.0001 || t == 0.0 {
        let x = x_of(t);
        let _ = writeln!(
            svg,
            "<line class=\"grid\" x1=\"{x:.1}\" y1=\"{AXIS}\" x2=\"{x:.1}\" y2=\"{height}\"/>\
             <text class=\"tick\" x=\"{x:.1}\" y=\"14\" text-anchor=\"middle\">{}</text>",
            tick_text(t, step)
        );
        t += step;
        if total_ms <= 0.0 {
            break;
        }
    }
    let _ = writeln!(
        svg,
        "<line class=\"axis\" x1=\"{LABEL_WIDTH}\" y1=\"{y}\" x2=\"{end:.1}\" y2=\"{y}\"/>",
        y = AXIS - 4.0,
        end = LABEL_WIDTH + bar_width,
    );
    let _ = writeln!(
        svg,
        "<text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\">{} in all</text>",
        LABEL_WIDTH + bar_width + 6.0,
        AXIS,
        ms_text(total_ms)
    );
    for (i, s) in spans.iter().enumerate() {
        push_phase_bar(&mut svg, s, AXIS + ROW * i as f64, x_of);
    }
    svg.push_str("</svg>\n");
    svg
}

fn push_phase_bar(svg: &mut String, s: &PhaseSpan, top: f64, x_of: impl Fn(f64) -> f64) {
    let x = x_of(s.start_ms);
    let width = (x_of(s.end_ms()) - x).max(3.0);
    let fill = s.stop.map_or(phase_fill(s.name), stop_fill);
    let mid = top + ROW / 2.0 + 4.0;
    let _ = write!(
        svg,
        "<text x=\"0\" y=\"{mid:.1}\">{name}</text>\
         <rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{width:.1}\" height=\"{h:.1}\" rx=\"2\" fill=\"{fill}\">\
         <title>{name}: starts at {start}, lasts {took}</title></rect>",
        name = s.name.name(),
        y = top + 4.0,
        h = ROW - 8.0,
        start = ms_text(s.start_ms),
        took = ms_text(s.duration_ms),
    );
    let mut label = ms_text(s.duration_ms);
    if let Some(stop) = s.stop {
        label = format!(
            "{label} {} {}",
            stop.mark(),
            s.stop_note().unwrap_or_default()
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{:.1}\" y=\"{mid:.1}\"{}>{}</text>",
        x + width + 6.0,
        if s.stop == Some(Stop::Failed) {
            " fill=\"#cf222e\" font-weight=\"bold\""
        } else {
            ""
        },
        escape(&label)
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::*;

    fn report_of(conns: &[Diagnosed]) -> String {
        render(&ReportInput {
            files: &["<lab>.pcap".to_string()],
            connections: conns,
            packets: 42,
            omitted: None,
            notes: "",
            warnings: &[],
            grouped: true,
        })
    }

    #[test]
    fn capture_strings_are_escaped() {
        let mut d = nla_failure();
        d.findings = vec![certificate_finding(
            "<script>alert(1)</script>",
            "CN=\"evil\" & 'co'",
        )];
        let html = report_of(&[d]);
        assert!(!html.contains("<script"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("CN=&quot;evil&quot; &amp; &#39;co&#39;"));
        assert!(html.contains("&lt;lab&gt;.pcap"));
    }

    #[test]
    fn has_table_counts_waterfall_and_findings_without_fetching() {
        let mut ok = nla_failure();
        ok.meta.id = 1;
        ok.verdict = Verdict::Ok;
        ok.findings.clear();
        let failed = nla_failure();
        let html = report_of(&[ok, failed]);
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<tr id=\"row-7\">") && html.contains(">failed</span>"));
        assert!(html.contains("<div class=\"count\"><b>1</b><span class=\"badge v-failed\">"));
        // The failing connection is open and listed before the healthy one, which is collapsed.
        let open = html.find("<section class=\"conn\" id=\"conn-7\">").unwrap();
        let collapsed = html.find("<details class=\"conn\" id=\"conn-1\">").unwrap();
        assert!(open < collapsed);
        assert_eq!(html.matches("<svg class=\"waterfall\"").count(), 2);
        assert!(
            html.contains(">credssp</text>") && html.contains("✗ failed: waiting on the server")
        );
        assert!(html.contains("frame 92 at 96.5 ms: server closes (FIN)"));
        assert!(html.contains("<strong>Fix:</strong> Check the user name"));
        for fetch in ["src=\"http", "href=\"http", "url(", "<script", "@import"] {
            assert!(!html.contains(fetch), "{fetch}");
        }
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(tick_step(98.0), 50.0);
        assert_eq!(tick_step(1244.0), 500.0);
        assert_eq!(tick_step(7.6), 2.0);
        assert_eq!(tick_step(30_000.0), 10_000.0);
        assert_eq!(tick_text(0.0, 50.0), "0");
        assert_eq!(tick_text(50.0, 50.0), "50 ms");
        assert_eq!(tick_text(1500.0, 500.0), "1.5 s");
        assert_eq!(tick_text(20_000.0, 10_000.0), "20 s");
        assert_eq!(tick_text(0.4, 0.2), "0.4 ms");
    }
}
