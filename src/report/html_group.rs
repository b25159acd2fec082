//! The HTML report's row and section for a group of connections that repeat (see `group`):
//! one row in the summary, one section naming the connections, servers and frames, the
//! first connection's waterfall, and each finding code once with its fix.

use std::fmt::Write as _;

use super::group::{self, CodeInGroup, Group};
use super::html::{badge, escape, severity_class, waterfall_svg};
use super::phase_reached;
use crate::timefmt::clock;

/// Connections a group's section names before "and N more".
const IDS_NAMED: usize = 40;
/// Servers a group's section names.
const SERVERS_NAMED: usize = 20;
/// Connections whose evidence a group's finding lists.
const EVIDENCE_NAMED: usize = 10;

/// The group's row of the summary table, linking to its section.
pub(super) fn push_row(out: &mut String, g: &Group) {
    let d = g.first();
    let _ = writeln!(
        out,
        "<tr id=\"row-{id}\" class=\"group\"><td class=\"num\"><a href=\"#conn-{id}\">{label}</a></td>\
         <td class=\"mono\">{start}</td><td class=\"mono\">{client}</td>\
         <td class=\"mono\">{server}</td><td class=\"verdict\">{badge}</td>\
         <td class=\"mono\">{phase}</td><td class=\"num\">{took}</td><td>{finding}</td></tr>",
        id = d.meta.id,
        label = escape(&group::id_text(g)),
        start = clock(d.meta.first.ts_ns, false),
        client = escape(&group::client_text(g, false)),
        server = escape(&group::server_text(g)),
        badge = badge(d.verdict),
        phase = phase_reached(d),
        took = escape(&group::took_text(g)),
        finding = escape(&group::finding_text(g)),
    );
}

/// The group's section; `collapsed` (healthy repeats) folds it like a healthy connection.
pub(super) fn push_section(out: &mut String, g: &Group, collapsed: bool) {
    let d = g.first();
    let heading = format!(
        "<h3><span>#{}</span><span class=\"mono\">{} → {}</span>{}<span class=\"meta\">{} connections</span></h3>",
        escape(&group::id_text(g)),
        escape(&d.meta.client.ip.to_string()),
        escape(&group::server_text(g)),
        badge(d.verdict),
        g.count(),
    );
    if collapsed {
        let _ = writeln!(
            out,
            "<details class=\"conn\" id=\"conn-{}\">\n<summary>{heading}</summary>",
            d.meta.id
        );
    } else {
        let _ = writeln!(
            out,
            "<section class=\"conn\" id=\"conn-{}\">\n{heading}",
            d.meta.id
        );
    }
    let _ = writeln!(
        out,
        "<p class=\"meta\">Connections {}; {}. Each one: <code>rdpscope analyze --connection N</code>.</p>",
        escape(&group::id_list(g.members().iter().copied(), IDS_NAMED)),
        escape(&group::span_text(g)),
    );
    if g.servers().len() > 1 {
        let _ = writeln!(
            out,
            "<p class=\"meta\">Servers: <span class=\"mono\">{}</span></p>",
            escape(&group::server_list(g, SERVERS_NAMED))
        );
    }
    if let Some(e) = g.client_error() {
        let _ = writeln!(
            out,
            "<p>The client would show error {}{}.</p>",
            escape(&super::codes::client_error::label(&e)),
            if e.inferred { " (inferred)" } else { "" }
        );
    }
    let _ = writeln!(
        out,
        "<p class=\"meta\">Phases of #{}, the first of the group:</p>",
        d.meta.id
    );
    out.push_str(&waterfall_svg(d));
    for c in g.codes(crate::diagnose::Severity::Info) {
        push_code(out, g, &c);
    }
    out.push_str(if collapsed {
        "</details>\n"
    } else {
        "</section>\n"
    });
}

/// One finding code of the group, its fix once.
fn push_code(out: &mut String, g: &Group, c: &CodeInGroup) {
    let sev = severity_class(c.severity);
    let words = super::findings::words(c.example, &c.example_in.meta.server);
    let who = if c.instances.len() == g.count() {
        format!("in all {}", g.count())
    } else {
        format!(
            "in {} of {}: {}",
            c.instances.len(),
            g.count(),
            group::id_list(c.instances.iter().map(|(d, _)| *d), IDS_NAMED)
        )
    };
    let _ = writeln!(
        out,
        "<div class=\"finding e-{sev}\"><h4><span class=\"s-{sev}\">[{sev}]</span> {} \
         <code>{}</code> <span class=\"meta\">{}</span></h4>\n<p>#{}: {}</p>",
        escape(&c.title()),
        escape(c.code.as_str()),
        escape(&who),
        c.example_in.meta.id,
        escape(&words.explanation),
    );
    let with_evidence: Vec<_> = c
        .instances
        .iter()
        .filter(|(_, f)| !f.evidence.is_empty())
        .collect();
    if !with_evidence.is_empty() {
        // One line, not a list: ten bullets per code would bury the fix.
        let mut named: Vec<String> = with_evidence
            .iter()
            .take(EVIDENCE_NAMED)
            .map(|(d, f)| {
                format!(
                    "#{}: frames {}",
                    d.meta.id,
                    super::table::frame_list(f.evidence.iter().map(|e| e.frame))
                )
            })
            .collect();
        let more = with_evidence.len().saturating_sub(EVIDENCE_NAMED);
        if more > 0 {
            named.push(format!("and {more} more"));
        }
        let _ = writeln!(
            out,
            "<p class=\"meta\">Evidence: {}</p>",
            escape(&named.join("; "))
        );
    }
    let _ = writeln!(
        out,
        "<p class=\"fix\"><strong>Fix:</strong> {}</p></div>",
        escape(words.fix)
    );
}
