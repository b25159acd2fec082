//! Words for the time a slow phase lost to resending lost segments
//! (`session::facts::LossTime`): how much, how many resends, whose segments.

use crate::session::facts::LossTime;

fn count_word(n: u32) -> String {
    match n {
        1 => "one".into(),
        2 => "two".into(),
        3 => "three".into(),
        n => n.to_string(),
    }
}

/// Whose segments were lost: "(server segment lost)", "(client and server segments lost)".
fn whose(l: &LossTime) -> String {
    let [c, s] = l.resends;
    let plural = if c + s > 1 { "segments" } else { "segment" };
    let who = match (c > 0, s > 0) {
        (true, true) => "client and server",
        (true, false) => "client",
        _ => "server",
    };
    format!("({who} {plural} lost)")
}

/// ", of which 3.0 s were two retransmission timeouts (server segment lost)"; empty when
/// no lost segment was resent in the phase.
pub(super) fn title_part(l: &LossTime) -> String {
    let n = l.total_resends();
    if n == 0 {
        return String::new();
    }
    format!(
        ", of which {:.1} s {} {} retransmission timeout{} {}",
        l.lost_ns as f64 / 1e9,
        if n == 1 { "was" } else { "were" },
        count_word(n),
        if n == 1 { "" } else { "s" },
        whose(l)
    )
}

/// The counts behind it, as a sentence for the explanation (empty when there is nothing).
pub(super) fn explanation_part(l: &LossTime) -> String {
    let mut parts = Vec::new();
    let n = l.total_resends();
    if n > 0 {
        let [c, s] = l.resends;
        parts.push(format!(
            "{:.1} s of that phase went to waiting for {n} lost segment(s) to be sent again \
             ({c} of the client's, {s} of the server's{})",
            l.lost_ns as f64 / 1e9,
            if l.upstream > 0 {
                format!(
                    "; {} lost before the capture point, seen as holes filled late",
                    l.upstream
                )
            } else {
                String::new()
            }
        ));
    }
    if l.dup_acks > 0 {
        parts.push(format!(
            "{} duplicate ACK(s) asked for missing bytes",
            l.dup_acks
        ));
    }
    if l.spurious > 0 {
        parts.push(format!(
            "{} spurious retransmission(s) resent bytes already acknowledged (no loss)",
            l.spurious
        ));
    }
    if parts.is_empty() {
        return String::new();
    }
    let mut s = parts.join("; ");
    s.insert(0, ' ');
    s.push('.');
    if n > 0 {
        s.push_str(" The loss, not the phase's own work, made it slow: see packet-loss.");
    }
    s
}
