//! The terminal lines about the capture as a whole, under the connection table: connections
//! evicted from a full flow table, truncated timelines, and the servers with a capture-level
//! finding (a connection flood).

use std::fmt::Write as _;

use super::table::{finding_text, wrap};
use crate::diagnose::run::RunSummary;
use crate::limits::Limits;

/// Empty when there is nothing to say.
pub fn capture_notes(s: &RunSummary, limits: &Limits, width: usize) -> String {
    let mut out = String::new();
    if let Some(f) = &s.filter {
        out.push('\n');
        out.push_str(&wrap(
            &format!(
                "The filter {:?} kept {} of the {} packets read.",
                f.expression, f.kept, f.read
            ),
            width,
            "",
        ));
    }
    if s.evicted > 0 {
        out.push('\n');
        out.push_str(&wrap(
            &format!(
                "{} connection{} finished early: the flow table was full (--max-flows {}); \
                 their verdicts may be premature.",
                s.evicted,
                if s.evicted == 1 { " was" } else { "s were" },
                limits.max_flows
            ),
            width,
            "",
        ));
    }
    if s.timelines_truncated > 0 {
        out.push('\n');
        out.push_str(&wrap(
            &format!(
                "{} connection timeline{} cut at {} events (--max-timeline-events).",
                s.timelines_truncated,
                if s.timelines_truncated == 1 {
                    " was"
                } else {
                    "s were"
                },
                limits.max_timeline_events
            ),
            width,
            "",
        ));
    }
    for server in &s.servers {
        let clients = if server.distinct_clients_estimated {
            format!("about {}", server.distinct_clients)
        } else {
            server.distinct_clients.to_string()
        };
        let transport = match server.transport {
            crate::flow::TransportKind::Tcp => "tcp",
            crate::flow::TransportKind::Udp => "udp",
        };
        if server.connections == 0 {
            // Kerberos or DNS that served no RDP connection (a name that never resolved).
            let _ = writeln!(
                out,
                "\n{} ({transport}), before or without any RDP connection:",
                server.server
            );
            for f in &server.findings {
                out.push_str(&finding_text(f, &server.server, width, true));
            }
            continue;
        }
        let _ = writeln!(
            out,
            "\nserver {} ({}): {} connections from {clients} distinct clients",
            server.server,
            match server.transport {
                crate::flow::TransportKind::Tcp => "tcp",
                crate::flow::TransportKind::Udp => "udp",
            },
            server.connections,
        );
        for f in &server.findings {
            out.push_str(&finding_text(f, &server.server, width, true));
        }
    }
    if !s.attempts.is_empty() {
        out.push_str("\nRetries (connections of one attempt):\n");
        for a in &s.attempts {
            out.push_str(&wrap(
                &format!("attempt {}: {}", a.id, super::side::attempt_story(a)),
                width,
                "  ",
            ));
            out.push('\n');
        }
    }
    out
}
