//! Seeds for the authentication parsers: decrypted CredSSP TSRequests from the public
//! Windows captures (kept here as hex because decrypting them needs tshark; the messages
//! that carry password-derived material, NTLM AUTHENTICATE and TSCredentials, are left
//! out), Kerberos messages read from TCP/UDP port 88 of the captures at run time, and
//! a synthetic NTLM AUTHENTICATE.

use std::path::Path;

use etherparse::{LaxSlicedPacket, TransportSlice};

/// Decrypted TLS application data (one TSRequest each), from `tshark -d tcp.port==3389,tls -x`.
const TS_REQUESTS: &[&str] = &[
    // rdp-nla-ntlm-rejected1.pcapng frame 12
    "3037a003020106a130302e302ca02a04284e544c4d5353500001000000b78208e20000000000000000000000\
     00000000000a005d580000000f",
    // rdp-nla-ntlm-rejected1.pcapng frame 13
    "30820123a003020106a182011a3082011630820112a082010e0482010a4e544c4d53535000020000000e000e\
     0038000000358289e24c7699a0e3800fdc0000000000000000c400c400460000000a007c4f0000000f490054\
     002d00480045004c00500002000e00490054002d00480045004c00500001001800490054002d00480045004c\
     0050002d00540045005300540004002000610064002e00690074002d00680065006c0070002e006e0069006e\
     006a00610003003a00490054002d00480045004c0050002d0054004500530054002e00610064002e00690074\
     002d00680065006c0070002e006e0069006e006a00610005002000610064002e00690074002d00680065006c\
     0070002e006e0069006e006a00610007000800ace7c367f19fda0100000000",
    // rdp-nla-ntlm-rejected1.pcapng frame 15
    "300da003020106a406020480090302",
    // rdp-nla-kerberos-auth2.pcapng frame 18
    "3081aca003020106a181a43081a130819ea0819b04819860819506062b0601050502a0818a308187a030302e\
     06092a864882f71201020206092a864886f712010202060a2b06010401823702021e060a2b06010401823702\
     020aa2530451604f060a2a864886f712010202030400303fa003020105a103020110a2333031a003020102a1\
     2a30281b075445524d5352561b1d49542d48454c502d544553542e61642e69742d68656c702e6e696e6a61",
    // rdp-nla-kerberos-auth2.pcapng frame 24
    "3081e0a003020106a181d83081d53081d2a081cf0481cca181c93081c6a0030a0101a2819e04819b60819806\
     0a2a864886f7120102020302006f8187308184a003020105a10302010fa2783076a003020112a26f046df09c\
     e27307f9269b0db181e5b33001e77d44b2f41c49e74d9c5df1654614d0b4ca499ff41691b4d51af63a2f085c\
     d9f254f9893f54d89fb360a7673c49c4feb492301f9c386aa1874d0a60681de23229311e3791518fbe4e7fb6\
     9b576a1ad7648ace01de3be29d3da936676c05a31e041c040405ffffffffff000000000c3de1d0ad86bdc940\
     497d88477c44bb",
    // rdp-nla-kerberos-auth2.pcapng frame 25
    "3081bca003020106a131302f302da02b0429a1273025a0030a0100a31e041c040404ffffffffff0000000008\
     27ff02615b60ce0512d30619a8d704a35e045c050406ff0000001c000000000827ff03b4faab0cb69a2adfd2\
     cfd14d21f491165dd4744caaa6f31a8034cbcef2d361890870bb3df9b0e56dc4467fc213ef54e09ca9c1e0eb\
     ac81b470c0ba2119f8f3a1de644ed455c8c1d5689e48dba52204208c6a49bb8ec39a552af2e8c47fa5f2f4e3\
     9afe63149232998f7ba4a1644e5071",
    // rdp-nla-kerberos-auth2.pcapng frame 26
    "3065a003020106a35e045c050407ff0000001c000000000c3de1d133bd6fc6a0d34883958ecf6e2547a704ef\
     49d476fb5ce693340a64f1ec225c7e8c944580b955a6c690c7ea49b2bd89eeb5aa3627f39de77cea62a6d392\
     b3c2235f5c9357cf271092155229d1",
];

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(char::is_ascii_hexdigit).collect();
    (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok())
        .collect()
}

pub fn ts_requests() -> Vec<Vec<u8>> {
    TS_REQUESTS.iter().map(|h| unhex(h)).collect()
}

/// The DER values nested in the TSRequests: every constructed element's contents and every
/// OCTET STRING (the SPNEGO / NTLM / Kerberos tokens), cut by a naive TLV walk.
pub fn nested_tokens(msgs: &[Vec<u8>]) -> Vec<Vec<u8>> {
    fn walk(b: &[u8], depth: usize, out: &mut Vec<Vec<u8>>) {
        let mut i = 0;
        while i + 2 <= b.len() && depth < 24 {
            let tag = b[i];
            let (len, hdr) = match b[i + 1] {
                n if n < 0x80 => (usize::from(n), 2),
                0x81 if i + 3 <= b.len() => (usize::from(b[i + 2]), 3),
                0x82 if i + 4 <= b.len() => (usize::from(b[i + 2]) << 8 | usize::from(b[i + 3]), 4),
                _ => return,
            };
            let Some(v) = b.get(i + hdr..i + hdr + len) else {
                return;
            };
            out.push(b[i..i + hdr + len].to_vec());
            if tag & 0x20 != 0 || tag == 0x04 {
                walk(v, depth + 1, out);
            }
            i += hdr + len;
        }
    }
    let mut out = Vec::new();
    for m in msgs {
        walk(m, 0, &mut out);
    }
    out
}

/// An AUTHENTICATE message shaped like Windows' (NTLMv2 response with AV pairs), with
/// zeros where the password-derived proof would be.
pub fn synthetic_ntlm_authenticate() -> Vec<u8> {
    let utf16 = |s: &str| {
        s.encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect::<Vec<u8>>()
    };
    let mut nt = vec![0u8; 16]; // NTProofStr
    nt.extend_from_slice(&[1, 1, 0, 0, 0, 0, 0, 0]);
    nt.extend_from_slice(&[0; 8]); // timestamp
    nt.extend_from_slice(&[0; 8]); // client challenge
    nt.extend_from_slice(&[0; 4]);
    for (id, v) in [
        (2u16, utf16("IT-HELP")),
        (6, 2u32.to_le_bytes().to_vec()),
        (9, utf16("TERMSRV/10.10.0.10")),
        (0, Vec::new()),
    ] {
        nt.extend_from_slice(&id.to_le_bytes());
        nt.extend_from_slice(&(v.len() as u16).to_le_bytes());
        nt.extend_from_slice(&v);
    }
    let fields: [Vec<u8>; 6] = [
        vec![0; 24],
        nt,
        utf16("IT-HELP"),
        utf16("Administrator"),
        utf16("IT-HELP-CLIENT"),
        vec![0; 16],
    ];
    let mut msg = b"NTLMSSP\0".to_vec();
    msg.extend_from_slice(&3u32.to_le_bytes());
    let mut offset = 88u32;
    for f in &fields {
        let n = f.len() as u16;
        msg.extend_from_slice(&n.to_le_bytes());
        msg.extend_from_slice(&n.to_le_bytes());
        msg.extend_from_slice(&offset.to_le_bytes());
        offset += u32::from(n);
    }
    msg.extend_from_slice(&0xe288_8235u32.to_le_bytes());
    msg.extend_from_slice(&[10, 0, 0x5d, 0x58, 0, 0, 0, 15]);
    msg.extend_from_slice(&[0; 16]); // MIC
    for f in fields {
        msg.extend(f);
    }
    msg
}

/// Payloads of TCP and UDP packets on port 88 (one Kerberos record or datagram each in the
/// public captures), at most `max` per file.
pub fn kerberos_payloads(files: &[&Path], max: usize) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let (mut tcp, mut udp) = (Vec::new(), Vec::new());
    for path in files {
        let Ok(mut cap) = pcap::Capture::from_file(path) else {
            continue;
        };
        let linktype = cap.get_datalink().0;
        let mut n = 0;
        while let Ok(p) = cap.next_packet() {
            if n >= max {
                break;
            }
            let sliced = match linktype {
                1 => LaxSlicedPacket::from_ethernet(p.data).ok(),
                101 | 228 | 229 => LaxSlicedPacket::from_ip(p.data).ok(),
                _ => None,
            };
            match sliced.and_then(|s| s.transport) {
                Some(TransportSlice::Tcp(t))
                    if (t.source_port() == 88 || t.destination_port() == 88)
                        && !t.payload().is_empty() =>
                {
                    tcp.push(t.payload().to_vec());
                    n += 1;
                }
                Some(TransportSlice::Udp(u))
                    if u.source_port() == 88 || u.destination_port() == 88 =>
                {
                    udp.push(u.payload().to_vec());
                    n += 1;
                }
                _ => {}
            }
        }
    }
    (tcp, udp)
}
