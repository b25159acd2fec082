//! Live capture from a network interface through libpcap, in immediate mode, optionally
//! saving every packet to a pcap file as it goes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pcap::{Active, Capture, Device, Savefile};

use super::prefetch::{read_ahead_ticking, Producer};
use super::source::{linktype_supported, CaptureError, RawPacket};

/// Everything RDP uses: the session host (TCP/UDP 3389) and RD Gateway (TCP 443, UDP 3391).
pub use crate::ports::DEFAULT_FILTER;

#[derive(Debug, Clone)]
pub struct LiveOptions {
    pub interface: String,
    pub filter: Option<String>,
    pub promiscuous: bool,
    pub snaplen: i32,
    pub save_to: Option<String>,
    /// Kernel ring size. In immediate mode libpcap gives every packet a slot as large as
    /// the snaplen or the largest possible frame, whichever is smaller (64 KiB where offloads
    /// are on, as on most NICs and veth): with the default snaplen 9216, 64 MiB holds about
    /// 7000 packets (70 ms at 100k packets/s), with 262144 about 1000.
    pub buffer_mb: i32,
}

/// Pauses of the reader while the ring is empty, doubling from the first to the last: a
/// quiet link costs 200 cheap wake-ups a second, and after a pause at most 5 ms of traffic
/// (500 packets at 100k packets/s) waits in the ring.
const QUIET_MIN: Duration = Duration::from_millis(1);
const QUIET_MAX: Duration = Duration::from_millis(5);

pub struct LiveCapture {
    cap: Capture<Active>,
    savefile: Option<Savefile>,
    linktype: i32,
    frame: u64,
    interface: String,
}

/// Kernel counters: packets received and dropped while we were too slow.
#[derive(Debug, Clone, Copy, Default)]
pub struct LiveStats {
    pub received: u32,
    pub dropped: u32,
    pub if_dropped: u32,
}

pub fn interface_names() -> Vec<String> {
    Device::list()
        .map(|l| l.into_iter().map(|d| d.name).collect())
        .unwrap_or_default()
}

/// (name, description) of every interface libpcap can capture on, as `tcpdump -D`.
pub fn list_interfaces() -> Result<Vec<(String, String)>, CaptureError> {
    let devices = Device::list().map_err(|e| CaptureError::Open {
        path: "interfaces".into(),
        reason: e.to_string(),
    })?;
    Ok(devices
        .into_iter()
        .map(|d| {
            let mut desc = d.desc.unwrap_or_default();
            if d.flags.is_loopback() {
                desc = format!("{desc} [loopback]").trim().to_string();
            }
            if d.flags.is_up() {
                desc = format!("{desc} [up]").trim().to_string();
            }
            (d.name, desc)
        })
        .collect())
}

fn describe_error(iface: &str, e: &pcap::Error) -> CaptureError {
    let text = e.to_string();
    let lower = text.to_lowercase();
    let reason = if lower.contains("permission") || lower.contains("not permitted") {
        format!(
            "permission denied: capturing needs root, or grant the capability once with \
             `sudo setcap cap_net_raw,cap_net_admin=eip {}` ({text})",
            std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| "$(command -v rdpscope)".into())
        )
    } else if lower.contains("no such device") || lower.contains("doesn't exist") {
        let names = interface_names();
        format!(
            "no such interface; available: {}",
            if names.is_empty() {
                "(none visible)".to_string()
            } else {
                names.join(", ")
            }
        )
    } else {
        text
    };
    CaptureError::Open {
        path: iface.to_string(),
        reason,
    }
}

impl LiveCapture {
    pub fn open(opts: &LiveOptions) -> Result<LiveCapture, CaptureError> {
        let iface = opts.interface.as_str();
        let inactive = Capture::from_device(iface).map_err(|e| describe_error(iface, &e))?;
        let cap = inactive
            .immediate_mode(true)
            .promisc(opts.promiscuous)
            .snaplen(opts.snaplen)
            .timeout(50)
            .buffer_size(opts.buffer_mb.saturating_mul(1 << 20))
            .open()
            .map_err(|e| describe_error(iface, &e))?;
        // Non-blocking: in immediate mode libpcap's blocking read ignores the timeout on a
        // quiet link, and the reader must notice Ctrl-C and the end of the analysis.
        let mut cap = cap.setnonblock().map_err(|e| describe_error(iface, &e))?;
        let filter = opts.filter.as_deref().unwrap_or(DEFAULT_FILTER);
        cap.filter(filter, true).map_err(|e| CaptureError::Filter {
            filter: filter.to_string(),
            reason: e.to_string(),
        })?;
        let linktype = cap.get_datalink().0;
        if !linktype_supported(linktype) {
            return Err(CaptureError::UnsupportedLinkType {
                path: iface.to_string(),
                linktype,
                name: cap
                    .get_datalink()
                    .get_name()
                    .unwrap_or_else(|_| linktype.to_string()),
            });
        }
        let savefile = match &opts.save_to {
            Some(path) => Some(cap.savefile(path).map_err(|e| CaptureError::Open {
                path: path.clone(),
                reason: e.to_string(),
            })?),
            None => None,
        };
        Ok(LiveCapture {
            cap,
            savefile,
            linktype,
            frame: 0,
            interface: iface.to_string(),
        })
    }

    /// Captures until `running` goes false or `tick` returns false. Packets are taken off the
    /// kernel's ring (and saved with `-w`) on a second thread that does nothing else, so
    /// the ring drains at full speed while `f` analyses them here; `tick` runs about every
    /// `every`, also while the link is quiet.
    pub fn run(
        &mut self,
        running: &AtomicBool,
        every: Duration,
        f: impl FnMut(&RawPacket),
        tick: impl FnMut() -> bool,
    ) -> Result<(), CaptureError> {
        read_ahead_ticking(
            |producer: &mut Producer| self.read_into(producer, running),
            f,
            every,
            tick,
        )
    }

    fn read_into(
        &mut self,
        producer: &mut Producer,
        running: &AtomicBool,
    ) -> Result<(), CaptureError> {
        let mut idle = QUIET_MIN;
        let result = loop {
            if !running.load(Ordering::Relaxed) || producer.is_closed() {
                break Ok(());
            }
            match self.cap.next_packet() {
                Ok(p) => {
                    self.frame += 1;
                    if let Some(s) = self.savefile.as_mut() {
                        s.write(&p);
                    }
                    let ts = p.header.ts;
                    idle = QUIET_MIN;
                    producer.push(&RawPacket {
                        file: 0,
                        frame: self.frame,
                        ts_ns: ts
                            .tv_sec
                            .saturating_mul(1_000_000_000)
                            .saturating_add(ts.tv_usec.saturating_mul(1000)),
                        orig_len: p.header.len,
                        linktype: self.linktype,
                        data: p.data,
                    });
                }
                // The link is quiet: pass on what was gathered and make the saved file whole.
                Err(pcap::Error::TimeoutExpired | pcap::Error::NoMorePackets) => {
                    producer.flush();
                    self.flush_savefile();
                    std::thread::sleep(idle);
                    idle = (idle * 2).min(QUIET_MAX);
                }
                Err(e) => {
                    break Err(CaptureError::Read {
                        path: self.interface.clone(),
                        frame: self.frame + 1,
                        reason: e.to_string(),
                    })
                }
            }
        };
        // Stopped (Ctrl-C, -c, --duration, an error): every packet read so far is on disk.
        self.flush_savefile();
        result
    }

    fn flush_savefile(&mut self) {
        if let Some(s) = self.savefile.as_mut() {
            let _ = s.flush();
        }
    }

    pub fn stats(&mut self) -> LiveStats {
        self.cap
            .stats()
            .map(|s| LiveStats {
                received: s.received,
                dropped: s.dropped,
                if_dropped: s.if_dropped,
            })
            .unwrap_or_default()
    }
}
