//! The terminal summary: one row per connection.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};

use super::time_fmt::{ms_between, rfc3339_us};
use crate::diagnose::Diagnosed;
use crate::flow::{Side, TransportKind};

fn ended(d: &Diagnosed) -> String {
    let Some(t) = &d.tcp else {
        return "-".into();
    };
    match (t.reset_by(), t.closed_by()) {
        (Some(s), _) => format!("RST by {}", s.name()),
        (None, Some(s)) => format!("FIN by {}", s.name()),
        (None, None) => "still open".into(),
    }
}

pub fn summary_table(conns: &[Diagnosed]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(vec![
            "#",
            "start (UTC)",
            "client",
            "server",
            "proto",
            "duration",
            "pkts",
            "bytes",
            "ended",
            "RTT",
            "retrans c/s",
        ]);
    for d in conns {
        let m = &d.meta;
        let start = rfc3339_us(m.first.ts_ns);
        let (rtt, retrans) = match &d.tcp {
            Some(t) => (
                t.handshake_rtt_ns()
                    .map(|ns| format!("{:.1} ms", ms_between(0, ns)))
                    .unwrap_or_else(|| "-".into()),
                format!(
                    "{}/{}",
                    t.retransmissions[Side::Client.index()],
                    t.retransmissions[Side::Server.index()]
                ),
            ),
            None => ("-".into(), "-".into()),
        };
        table.add_row(vec![
            m.id.to_string(),
            start.get(11..23).unwrap_or(&start).to_string(),
            m.client.to_string(),
            m.server.to_string(),
            match m.transport {
                TransportKind::Tcp => "tcp".to_string(),
                TransportKind::Udp => "udp".to_string(),
            },
            format!("{:.1} ms", ms_between(m.first.ts_ns, m.last.ts_ns)),
            m.packets.to_string(),
            m.bytes.to_string(),
            ended(d),
            rtt,
            retrans,
        ]);
    }
    table
}
