//! A connection flood at one server in words: the burst, its rate and how the connections
//! fared.

use crate::diagnose::FloodFacts;
use crate::flow::TransportKind;

pub(super) fn flood_words(f: &FloodFacts) -> (String, String) {
    let server = f.server;
    let clients = if f.clients_estimated {
        format!("about {}", f.clients)
    } else {
        f.clients.to_string()
    };
    let v = &f.verdicts;
    let finished = v.total();
    let unsuccessful = if finished == 0 {
        "none of them had finished".to_string()
    } else {
        format!(
            "{:.1}% of the {finished} finished ones did not reach a session \
             ({} failed, {} stalled, {} incomplete; {} ok, {} slow)",
            100.0 * v.unsuccessful() as f64 / finished as f64,
            v.failed,
            v.stalled,
            v.incomplete,
            v.ok,
            v.slow
        )
    };
    let transport = match f.transport {
        TransportKind::Tcp => "TCP",
        TransportKind::Udp => "UDP",
    };
    (
        format!(
            "Connection flood: {} connection attempts to {server} in {}, up to {} per second",
            f.burst_connections,
            span_text(f.burst_span_ms),
            f.peak_per_s
        ),
        format!(
            "{server} ({transport}) received {} connections from {clients} distinct client \
             addresses; {} of them came in a burst of {} (frames {} to {}), {:.0} per \
             second on average and {} in the busiest second, over the flood threshold of {} \
             within {} s. {unsuccessful}. Many distinct clients point to a SYN flood or a \
             scan; few clients opening connection after connection point to password \
             guessing or a client stuck in a retry loop.",
            f.connections,
            f.burst_connections,
            span_text(f.burst_span_ms),
            f.burst_first_frame,
            f.burst_last_frame,
            f.mean_per_s,
            f.peak_per_s,
            f.min_connections,
            f.window_s
        ),
    )
}

fn span_text(ms: f64) -> String {
    if ms >= 999.5 {
        format!("{:.1} s", ms / 1000.0)
    } else {
        format!("{ms:.0} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::flood::VerdictCounts;
    use crate::diagnose::{catalog, Facts, Finding, FindingCode};
    use crate::flow::Endpoint;
    use crate::report::findings::words;
    use std::net::{IpAddr, Ipv4Addr};

    fn server() -> Endpoint {
        Endpoint {
            ip: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            port: 3389,
        }
    }

    #[test]
    fn synthetic_flood_facts_read_as_the_burst_and_its_outcome() {
        let facts = FloodFacts {
            transport: TransportKind::Tcp,
            server: server(),
            connections: 20,
            clients: 4,
            clients_estimated: false,
            burst_connections: 20,
            burst_span_ms: 950.0,
            burst_first_frame: 6,
            burst_last_frame: 25,
            peak_per_s: 20,
            mean_per_s: 20.0,
            min_connections: 10,
            window_s: 2,
            verdicts: VerdictCounts {
                ok: 10,
                failed: 10,
                ..VerdictCounts::default()
            },
        };
        let f = Finding::new(
            FindingCode::ConnectionFlood,
            Facts::ConnectionFlood(Box::new(facts)),
            Vec::new(),
        );
        let w = words(&f, &server());
        assert_eq!(
            w.title,
            "Connection flood: 20 connection attempts to 192.0.2.1:3389 in 950 ms, up to 20 per second"
        );
        assert!(
            w.explanation.contains("from 4 distinct client"),
            "{}",
            w.explanation
        );
        assert!(
            w.explanation
                .contains("50.0% of the 20 finished ones did not reach a session (10 failed"),
            "{}",
            w.explanation
        );
        assert_eq!(w.fix, catalog::info(FindingCode::ConnectionFlood).fix);
    }
}
