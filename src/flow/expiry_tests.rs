//! The expiry queue finishes exactly the flows a scan of the whole table would: checked on
//! the lab fixtures read as one capture, with short timeouts so flows expire all along.

use super::*;
use crate::capture::FileSet;
use crate::session::Connection;

fn lab_captures() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/lab");
    let mut paths: Vec<String> = std::fs::read_dir(dir)
        .expect("fixtures/lab")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        .map(|p| p.display().to_string())
        .collect();
    paths.sort();
    paths
}

/// Whether a scan at `now_ns` would finish this flow (the rule `sweep` applies).
fn quiet<H>(f: &Flow<H>, cfg: &FlowConfig, now_ns: i64) -> bool {
    let idle = now_ns.saturating_sub(f.meta.last.ts_ns);
    idle > cfg.idle_timeout_ns || (f.closed() && idle > cfg.closed_linger_ns)
}

#[test]
fn every_sweep_leaves_no_quiet_flow_and_finishes_only_quiet_ones_on_the_lab_fixtures() {
    let config = FlowConfig {
        idle_timeout_ns: 400_000_000,
        closed_linger_ns: 20_000_000,
    };
    let mut table: FlowTable<Connection> = FlowTable::new(config.clone(), Limits::default());
    let mut files = FileSet::open(&lab_captures(), None).expect("open the lab fixtures");
    let (mut sweeps, mut expired, mut packets) = (0u32, 0usize, 0u64);
    files
        .for_each(|raw| {
            packets += 1;
            let before = table.next_sweep_ns;
            // Flows a scan at this packet's time would finish, judged before the packet.
            let due = before.is_none_or(|t| raw.ts_ns >= t);
            let quiet_before: Vec<u64> = table
                .flows
                .values()
                .filter(|f| f.handler.is_some() && quiet(f, &config, raw.ts_ns))
                .map(|f| f.meta.id)
                .collect();
            let mut done = Vec::new();
            table.process(raw, &mut done);
            if !due {
                return;
            }
            sweeps += 1;
            for f in table.flows.values() {
                assert!(
                    !quiet(f, &config, raw.ts_ns),
                    "frame {}: flow {} is quiet but still open after the sweep",
                    raw.frame,
                    f.meta.id
                );
            }
            let finished: Vec<u64> = done.iter().map(|f| f.meta.id).collect();
            for id in &quiet_before {
                // The packet itself may have woken the flow up before the sweep.
                let woken = table.flows.values().any(|f| {
                    f.meta.id == *id
                        && f.meta.last.frame == raw.frame
                        && f.meta.last.file == raw.file
                });
                assert!(
                    woken || finished.contains(id),
                    "flow {id} was quiet and not finished"
                );
            }
            expired += quiet_before.len();
        })
        .expect("read the lab fixtures");
    assert!(packets > 1000, "{packets} packets read");
    assert!(
        sweeps > 10 && expired > 10,
        "{sweeps} sweeps, {expired} flows expired"
    );
}

/// The ids of the followed flows in the order they finish, and whether each was evicted.
fn finish_order(limits: Limits) -> Vec<(u64, bool)> {
    let mut table: FlowTable<Connection> = FlowTable::new(FlowConfig::default(), limits);
    let mut files = FileSet::open(&lab_captures(), None).expect("open the lab fixtures");
    let mut done = Vec::new();
    files
        .for_each(|raw| table.process(raw, &mut done))
        .expect("read the lab fixtures");
    for flow in table.open_flows() {
        table.finish_one(flow, &mut done);
    }
    done.iter().map(|f| (f.meta.id, f.evicted)).collect()
}

#[test]
fn a_full_table_evicts_the_same_flows_in_the_same_order_whatever_the_hash_seed() {
    let limits = Limits {
        max_flows: 6,
        ..Limits::default()
    };
    let first = finish_order(limits);
    assert!(
        first.iter().filter(|(_, evicted)| *evicted).count() > 5,
        "the lab fixtures overflow a table of 6: {first:?}"
    );
    // Every table has its own hash seed: eight more runs, eight more iteration orders.
    for _ in 0..8 {
        assert_eq!(finish_order(limits), first);
    }
}
