//! Every finding code with its long explanation and fix: what `rdpscope explain` prints and
//! where the findings take their severity and fix text from. The match is exhaustive: a new
//! `FindingCode` does not compile until it has its words here.

use super::{FindingCode, Severity};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeInfo {
    pub code: FindingCode,
    pub severity: Severity,
    pub summary: &'static str,
    pub explanation: &'static str,
    pub fix: &'static str,
}

/// The severity and words of `code`.
pub fn info(code: FindingCode) -> CodeInfo {
    match code {
        FindingCode::PortFiltered => CodeInfo {
            code,
            severity: Severity::Error,
            summary: "The client's TCP SYNs were never answered",
            explanation: "The client sent SYNs (and retries) to the RDP port and nothing came back: no SYN/ACK, no RST, no ICMP. A firewall drops the packets on the way, the host is down or unreachable, or the address is wrong. mstsc reports 0x204 after about 21 s.",
            fix: "Check that the server is up and that TCP 3389 (443 for an RD Gateway) is allowed end to end: Windows Defender Firewall rule 'Remote Desktop - User Mode (TCP-In)' enabled on the server (Enable-NetFirewallRule -DisplayGroup 'Remote Desktop'), network firewalls/NSGs/security groups allowing the client's address, and the right address and port in the client. Test with Test-NetConnection SERVER -Port 3389.",
        },
        FindingCode::ConnectionRefused => CodeInfo {
            code,
            severity: Severity::Error,
            summary: "The connection attempt was refused",
            explanation: "The answer to the client's SYN was a TCP RST (nothing listens on that port) or an ICMP unreachable/prohibited message (a firewall rejects it).",
            fix: "Make sure Remote Desktop is enabled and listening: System Properties > Remote > 'Allow remote connections', service TermService running, and the listener port (HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\WinStations\\RDP-Tcp\\PortNumber) is the one the client uses. If an ICMP reject came back, a firewall rule rejects the port: allow TCP 3389 from the client.",
        },
        FindingCode::NegotiationFailure => CodeInfo {
            code,
            severity: Severity::Error,
            summary: "The server refused the client's security protocols (RDP_NEG_FAILURE)",
            explanation: "The server answered the X.224 Connection Request with RDP_NEG_FAILURE: none of the security protocols the client offered is acceptable to it. The failure code says which side must change.",
            fix: "Align the security layer: on the server, the RDP-Tcp listener's SecurityLayer (0 RDP, 1 Negotiate, 2 TLS) and UserAuthentication (NLA) settings, or the GPO 'Require use of specific security layer for remote (RDP) connections' and 'Require user authentication for remote connections by using Network Level Authentication'; on the client, allow NLA/TLS (mstsc: 'authentication level', FreeRDP: /sec:nla or /sec:tls).",
        },
        FindingCode::SecurityDowngrade => CodeInfo {
            code,
            severity: Severity::Warning,
            summary: "The server chose a weaker security protocol than the client asked for",
            explanation: "The server selected Standard RDP Security (RC4, no server authentication) although the client offered TLS or NLA, or it selected a protocol the client never offered. This happens when the server has no usable TLS certificate or is configured for the RDP security layer, and is also what a man-in-the-middle does.",
            fix: "Give the server a valid certificate and set SecurityLayer to 2 (TLS) or 1 (Negotiate) with NLA required (GPO 'Require use of specific security layer' = SSL, 'Require NLA'). On xrdp: security_layer=tls or negotiate with a readable certificate= and key_file=.",
        },
        FindingCode::TlsVersionMismatch => CodeInfo {
            code,
            severity: Severity::Error,
            summary: "Client and server share no TLS version",
            explanation: "The TLS handshake failed because the versions the client offers and the ones the server accepts do not overlap (a protocol_version alert, or a ServerHello with a version the client never offered).",
            fix: "Enable a common TLS version on both sides: on Windows, the SCHANNEL protocol keys (HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.2\\Server and \\Client, Enabled=1, DisabledByDefault=0), or IIS Crypto; on xrdp, ssl_protocols=TLSv1.2, TLSv1.3; on the client, do not force an old version (FreeRDP: +enforce-tlsv1_2 / /tls-seclevel).",
        },
        FindingCode::TlsCipherMismatch => CodeInfo {
            code,
            severity: Severity::Error,
            summary: "Client and server share no TLS cipher suite",
            explanation: "The server refused the ClientHello with a handshake_failure or insufficient_security alert: none of the cipher suites (or groups/signature algorithms) the client offered is enabled on the server.",
            fix: "Enable at least one suite both sides support, e.g. TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 / TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: Windows GPO 'SSL Cipher Suite Order' (Computer Configuration > Administrative Templates > Network > SSL Configuration Settings) or Enable-TlsCipherSuite; FIPS policy restricts suites too. On xrdp: tls_ciphers=HIGH; on FreeRDP: remove /tls-ciphers restrictions.",
        },
        FindingCode::ServerResetAfterClientHello => CodeInfo {
            code,
            severity: Severity::Error,
            summary: "The server dropped the connection right after the TLS ClientHello",
            explanation: "The server closed or reset the connection in answer to the ClientHello with no ServerHello and no alert. Windows' Schannel does this when the RDP certificate's private key cannot be used (corrupt or inaccessible MachineKeys, deleted or mismatched key) and often when no cipher suite or version is shared; xrdp does it (after an MCS Disconnect Provider Ultimatum) when its certificate or key file is broken.",
            fix: "On the server: check the System event log for Schannel events 36870/36871/36874/36888; make sure the certificate in HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\WinStations\\RDP-Tcp (SSLCertificateSHA1Hash) exists in the machine store with its private key, and that NETWORK SERVICE can read C:\\ProgramData\\Microsoft\\Crypto\\RSA\\MachineKeys; or delete the self-signed 'Remote Desktop' certificate and restart the TermService service to regenerate it. Also compare TLS versions and suites on both sides. On xrdp: check certificate= and key_file= in xrdp.ini (readable PEM, key matching the certificate).",
        },
        FindingCode::ServerCertificateProblem => CodeInfo {
            code,
            severity: Severity::Warning,
            summary: "The server's TLS certificate has a problem",
            explanation: "The certificate the server presented is expired or not yet valid, self-signed, issued for another name than the one the client connected to, or uses a weak key. Clients warn about it, and a client or policy that refuses untrusted certificates drops the connection.",
            fix: "Issue the RDP listener a certificate from a CA the clients trust, with the server's FQDN in the subject/SAN and at least a 2048-bit RSA key (GPO 'Server authentication certificate template', or set SSLCertificateSHA1Hash on the RDP-Tcp listener), and renew it before it expires. On xrdp: certificate= and key_file= in xrdp.ini.",
        },
        FindingCode::ClientRejectedCertificate => CodeInfo {
            code,
            severity: Severity::Error,
            summary: "The client refused the server's certificate",
            explanation: "The TLS handshake reached the server's certificate and the client then closed the connection (or sent a certificate alert) without sending any data: the user or a policy refused the certificate.",
            fix: "Give the server a certificate the client trusts (CA-issued, right name, valid dates), or import the server's certificate into the client's Trusted Root / Remote Desktop store. For mstsc check 'Server authentication' settings (authentication level), for FreeRDP /cert:tofu or a known_hosts entry.",
        },
        FindingCode::NlaFailed => CodeInfo {
            code,
            severity: Severity::Error,
            summary: "Network Level Authentication (CredSSP) failed",
            explanation: "NLA was selected and TLS completed, then the server closed the connection during or right after the CredSSP exchange: the credentials were refused (wrong password, unknown user, expired or locked account) or the account may not log on remotely.",
            fix: "Check the user name, domain and password; on the server look at Security event 4625 for the reason; make sure the account is in 'Remote Desktop Users' and has the 'Allow log on through Remote Desktop Services' right, that it is not locked or expired, and that the server can reach a domain controller. CredSSP 'Encryption Oracle Remediation' must be compatible on both sides.",
        },
        FindingCode::HandshakeStalled => CodeInfo {
            code,
            severity: Severity::Error,
            summary: "The handshake stopped making progress",
            explanation: "No progress toward the session for longer than the stall threshold: one side was waiting for a message that never came (only keepalives or retransmissions went by). Clients give up after about 20-25 s and report 0x904 or a timeout.",
            fix: "Look at which side owed the next message: if the server, check that the RDP service is responsive (TermService, CPU, disk) and that its answers are not dropped on the way back (firewall, IPS, MTU); if the client, a prompt may have waited for the user. Compare with a capture on the other side to find where packets disappear.",
        },
        FindingCode::HandshakeSlow => CodeInfo {
            code,
            severity: Severity::Warning,
            summary: "The handshake succeeded but took long",
            explanation: "The connection reached the session, but the handshake took longer than the soft threshold; the phase that took longest is named.",
            fix: "Look at the slow phase: TCP connect or TLS (network latency or loss), CredSSP (domain controller reachability, DNS, Kerberos timeouts, CRL checks), MCS/licensing (licensing server reachability).",
        },
        FindingCode::PacketLoss => CodeInfo {
            code,
            severity: Severity::Warning,
            summary: "Packets were lost during the handshake",
            explanation: "TCP retransmissions during the handshake show packet loss on the path; loss stretches the handshake and can push it past the client's timeout. Counted as Wireshark's TCP analysis does: retransmissions of bytes not yet acknowledged (spurious ones excluded), SYN retries once answered, and segments lost before the capture point and resent later (a client-side capture sees the server's lost segments only so, with duplicate ACKs). Frames captured twice are not retransmissions. Reported when more than --loss-retransmissions (default 2) segments were lost; a warning, raised to an error only when the client gave up while segments were being lost.",
            fix: "Find the lossy link: compare captures on both ends, check interface error counters, Wi-Fi/VPN quality and QoS policing. For RDP over VPN, consider lowering the MTU/MSS on the tunnel.",
        },
        FindingCode::HighLatency => CodeInfo {
            code,
            severity: Severity::Warning,
            summary: "High network round-trip time",
            explanation: "The TCP handshake round-trip time is above the threshold; every step of the RDP handshake costs at least one round trip, so the handshake and the session will be sluggish.",
            fix: "Check the path (VPN hair-pinning, satellite/mobile links, overloaded links); use a closer RD Gateway, enable RDP over UDP (UDP 3389) for a better experience on long paths.",
        },
        FindingCode::MtuBlackhole => CodeInfo {
            code,
            severity: Severity::Error,
            summary: "Full-size packets are lost while small ones get through (MTU black hole)",
            explanation: "Large segments were retransmitted again and again while small segments passed: a link on the path has a smaller MTU and the ICMP 'fragmentation needed' messages that Path MTU Discovery relies on are blocked. Typical on VPNs and tunnels; the TLS certificate flight is the first large message and never arrives.",
            fix: "Clamp the TCP MSS on the VPN/tunnel (e.g. iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu, or 'ip tcp adjust-mss 1360' on Cisco), lower the MTU of the tunnel interface, or allow ICMP type 3 code 4 (fragmentation needed) through firewalls.",
        },
        FindingCode::ServerUnresponsive => CodeInfo {
            code,
            severity: Severity::Error,
            summary: "The server accepted TCP but never answered the RDP request",
            explanation: "The TCP handshake completed but the server never sent the X.224 Connection Confirm: the RDP service is hung or overloaded, or what listens on the port is not an RDP server (or a middlebox accepts the connection on its behalf).",
            fix: "On the server: restart the Remote Desktop Services service (TermService), check the System/TerminalServices event logs and resource exhaustion; check that the port really leads to an RDP listener (netstat -abno | findstr 3389) and not to another service or a proxy.",
        },
        FindingCode::ServerAbort => CodeInfo {
            code,
            severity: Severity::Error,
            summary: "The server closed the connection during the handshake",
            explanation: "The server closed or reset the connection before the session started, with no alert or negotiation failure to explain it (for example an MCS Disconnect Provider Ultimatum after the client's data). The finding says after which message.",
            fix: "Check the server's event logs (TerminalServices-RemoteConnectionManager, RemoteDesktopServices-RdpCoreTS, System) for the reason at that time: licensing, connection limits, policy, or the RDP listener restarting.",
        },
        FindingCode::ClientAbort => CodeInfo {
            code,
            severity: Severity::Error,
            summary: "The client closed the connection during the handshake",
            explanation: "The client closed or reset the connection before the session started, with no server fault visible: the user cancelled, the client's policy refused something, or the client hit its own error.",
            fix: "Look at the client's error message and its event log (TerminalServices-ClientActiveXCore, event 1026 gives the disconnect reason); check client-side policies (CredSSP, certificate trust, NLA settings).",
        },
        FindingCode::UdpBlocked => CodeInfo {
            code,
            severity: Severity::Warning,
            summary: "RDP over UDP is blocked",
            explanation: "The client sent RDP-UDP SYNs (padded to 1232 bytes) to UDP 3389 (3391 through an RD Gateway) and no SYN+ACK came back. The session stays on TCP, which works but is slower on lossy or long paths; mstsc shows no error for this.",
            fix: "Allow UDP 3389 inbound on the server (Windows Defender Firewall rule 'Remote Desktop - User Mode (UDP-In)') and on network firewalls/NSGs, UDP 3391 on an RD Gateway, and make sure 1260-byte UDP packets are not dropped (MTU). Or disable the UDP transport on purpose (GPO 'Select RDP transport protocols' = Use only TCP) to stop the attempts.",
        },
        FindingCode::UdpHandshakeIncomplete => CodeInfo {
            code,
            severity: Severity::Warning,
            summary: "The RDP-UDP handshake did not complete",
            explanation: "The RDP-UDP SYN / SYN+ACK / ACK exchange stopped half way: the server's SYN+ACK did not reach the client, or the client gave up on UDP.",
            fix: "Check that UDP replies from the server's port 3389 can reach the client (stateful firewall, NAT timeouts, asymmetric routing), and capture on both sides to see where the SYN+ACK disappears.",
        },
        FindingCode::UdpLoss => CodeInfo {
            code,
            severity: Severity::Warning,
            summary: "Datagrams of the RDP-UDP transport are lost",
            explanation: "The RDP-UDP flow shows retransmitted or missing source sequence numbers, or acknowledgements reporting datagrams not received, above the threshold.",
            fix: "Find the lossy link (Wi-Fi, VPN, overloaded uplink, policers on UDP); QoS for UDP 3389, or prefer TCP on that network (GPO 'Select RDP transport protocols').",
        },
        FindingCode::UdpDroppedAfterSetup => CodeInfo {
            code,
            severity: Severity::Warning,
            summary: "The RDP-UDP transport went silent while TCP lived on",
            explanation: "The UDP transport was established, then stopped (RDP-UDP has no close message) while the TCP connection continued: the UDP path died mid-session, typically a NAT or firewall timeout on UDP.",
            fix: "Raise UDP session timeouts on NATs/firewalls between client and server (RDP-UDP keepalives are sparse), or prefer TCP on that network.",
        },
        FindingCode::CaptureIncomplete => CodeInfo {
            code,
            severity: Severity::Info,
            summary: "The capture does not show the whole connection",
            explanation: "The capture started after the connection began, or bytes are missing from it (snaplen, drops in the capturing host), so part of the handshake is not visible and some conclusions may be missing.",
            fix: "Start the capture before connecting, capture with a full snaplen (tcpdump -s 0) and on a host that is not overloaded, and check the capture's drop counters.",
        },
        FindingCode::ConnectionFlood => CodeInfo {
            code,
            severity: Severity::Info,
            summary: "A server received a flood of connection attempts",
            explanation: "One server address and port received connections faster than the flood threshold (by default 100 or more within 10 s, 10 per second). The finding gives the burst's rate (mean and busiest second), how many distinct client addresses took part, and how many of the connections failed. Thousands of clients sending SYNs that are never completed are a SYN flood or a scan (often from spoofed addresses); a few clients opening connection after connection that fail at NLA are password guessing; a single client retrying in a loop is a misconfigured client, a monitoring probe or a load balancer's health check. A flood also explains failures of legitimate connections in the same period (the server's backlog or its RDP connection limits are exhausted).",
            fix: "Find the sources in the capture (`rdpscope analyze --host`, `--json`) and block or rate-limit them at the firewall; do not expose TCP/UDP 3389 to the Internet: publish RDP through an RD Gateway or a VPN with MFA; enable account lockout and watch Security events 4625 for password guessing; on Windows, SYN attack protection is built in, and RDP's own limits are in 'Limit number of connections' (GPO). If the source is a health check or a monitoring probe, lower its rate or raise the thresholds (--flood-connections, --flood-rate).",
        },
        FindingCode::ProtocolViolation => CodeInfo {
            code,
            severity: Severity::Error,
            summary: "A peer sent a PDU that breaks the protocol",
            explanation: "A PDU of the handshake does not follow its specification: a length field that does not match the structure (an RDP_NEG_RSP whose length is not 8, MS-RDPBCGR 2.2.1.2.1), a truncated or impossible encoding. The finding names the frame, the layer and the field. Real RDP stacks do not send such PDUs: the peer is not a conforming RDP implementation (a scanner, a fuzzer, a broken proxy or middlebox rewriting the stream), or the stream is corrupted on the way.",
            fix: "Identify the sender of the malformed PDU: if it is a proxy, load balancer or IPS between client and server, capture on both sides of it and compare; if it is the peer itself, update or replace that RDP implementation. Scanners and fuzzers produce this shape on purpose: check the source address.",
        },
        FindingCode::NotRdpService => CodeInfo {
            code,
            severity: Severity::Error,
            summary: "The port answers, but not with RDP",
            explanation: "The server accepted the TCP connection and sent bytes that are not a TPKT/X.224 Connection Confirm (MS-RDPBCGR 2.2.1.2): another service listens on the port (an HTTP or SSH server, a TLS-only proxy), or a port forward leads to the wrong host. The finding shows the first bytes and the protocol they look like.",
            fix: "Check what listens on the port on the server (netstat -abno | findstr :3389, ss -ltnp 'sport = :3389'), the port forwards/NAT rules and load-balancer pools that lead to it, and the port the client uses (an RD Gateway listens on 443 and speaks HTTPS: connect to it as a gateway, not as an RDP host).",
        },
        FindingCode::DuplicateFrames => CodeInfo {
            code,
            severity: Severity::Info,
            summary: "The capture holds frames twice (a capture artefact)",
            explanation: "Some packets appear twice, microseconds apart, with the same IP ID and the same bytes: the capture was taken where each packet is seen twice (tcpdump -i any on a host with a bridge or virtual switch, a SPAN port mirroring both directions of two ports). Wireshark flags the second copies as retransmissions; they are not: rdpscope leaves them out, so they never count as loss.",
            fix: "Nothing to fix on the network. To get a clean capture, capture on one interface (tcpdump -i eth0, not -i any) or deduplicate with editcap -D 10.",
        },
        FindingCode::SegmentBlackHoled => CodeInfo {
            code,
            severity: Severity::Error,
            summary: "One segment is dropped on the path every time it is sent",
            explanation: "The sender transmitted the same segment again and again with doubling retransmission timeouts (RFC 6298 5.5) and the peer never acknowledged it, while the segments before it went through: something on the path drops that particular segment. The connection makes no progress from then on, however long the capture lasts. Content filters and IPSs that drop a TLS ClientHello (SNI filtering, TLS inspection policy) show this shape; so does an MTU black hole when the segment is full-size.",
            fix: "Find the device on the path that drops the segment: an IPS/IDS or next-generation firewall (TLS/SNI inspection, RDP application rules), a web/content filter, or a link with a smaller MTU that does not send ICMP 'fragmentation needed'. Check its logs for drops of the client's address at that time; for a full-size segment test with a lower MTU (ping -f -l 1372 SERVER) and clamp the MSS on the VPN/tunnel.",
        },
        FindingCode::NtlmFallbackRefused => CodeInfo {
            code,
            severity: Severity::Error,
            summary: "The server refused NLA over NTLM",
            explanation: "The decrypted CredSSP exchange shows the client authenticating with NTLM (Kerberos was not used, or failed first) and the server answering with an errorCode that refuses NTLM itself: SEC_E_UNSUPPORTED_FUNCTION, STATUS_ACCOUNT_RESTRICTION (a Protected Users member may not use NTLM), STATUS_NTLM_BLOCKED or an NTLM-restricting policy. The password may well be right: the package is refused.",
            fix: "Make Kerberos work for the client: connect by the server's DNS name (not its IP address) so a TERMSRV/<name> ticket can be had, give the client line of sight to a domain controller (TCP/UDP 88) or use an RD Gateway/KDC proxy, check the TERMSRV SPN is registered (setspn -L <server>) and the clocks are within 5 minutes. Otherwise relax the policy: 'Network security: Restrict NTLM' on the server and DCs, or remove the account from Protected Users.",
        },
        FindingCode::ServerDisconnectReason => CodeInfo {
            code,
            severity: Severity::Error,
            summary: "The server ended the session and said why",
            explanation: "Inside TLS the server sent a Set Error Info PDU (the 'extended error code' the client shows, MS-RDPBCGR 2.2.5.1.1) and/or an MCS Disconnect Provider Ultimatum after the session had started. The code names the reason: a normal end (logoff, disconnect by the user or an administrator, idle or logon timeout, another connection taking over the session) is reported as information; anything else (licensing, server resources, protocol errors, a session back end that failed) is the cause of the failure.",
            fix: "Follow the fix given for the named code. For a normal end nothing is broken. When only an ultimatum came (xrdp does this when its session back end, xrdp-sesman, cannot start the session), look in the server's session log (xrdp-sesman.log, the TerminalServices-LocalSessionManager event log on Windows).",
        },
        FindingCode::LicensingFailed => CodeInfo {
            code,
            severity: Severity::Error,
            summary: "Remote Desktop licensing failed",
            explanation: "The decrypted licensing exchange (MS-RDPBCGR 2.2.1.12) ended with an ERROR_ALERT other than STATUS_VALID_CLIENT: the session host found no license server, the license server had no CAL for this client, or the client's stored license is invalid.",
            fix: "Check the session host's licensing mode and license server (RD Licensing Diagnoser, Get-RDLicenseConfiguration), install or free Remote Desktop CALs, and on the client delete its cached license (HKLM\\Software\\Microsoft\\MSLicensing) before retrying.",
        },
        FindingCode::LogonError => CodeInfo {
            code,
            severity: Severity::Error,
            summary: "The server reported a logon error inside the session",
            explanation: "A Save Session Info PDU (MS-RDPBCGR 2.2.10.1.1.4.1.1, LogonErrorInfo) told the client the Windows logon failed after the connection was set up: a bad password typed at the logon screen, a password that must be changed, or the session refused (busy, no permission).",
            fix: "Follow the fix of the named logon error: retype or reset the password, change an expired password (the user must change it at next logon), or grant the user the right to log on through Remote Desktop.",
        },
        FindingCode::RedirectTargetFailed => CodeInfo {
            code,
            severity: Severity::Error,
            summary: "The server redirected the client to a target that then failed",
            explanation: "The decrypted Server Redirection PDU (MS-RDPBCGR 2.2.13) sent the client to another session host (a Connection Broker or load balancer placing the session), and the connection to that target then failed.",
            fix: "Check the redirection target named in the PDU: that it resolves and is reachable from the client on TCP 3389, that it is a healthy member of the collection, and the Connection Broker's configuration (Get-RDSessionHost, the broker's event log).",
        },
        FindingCode::DecryptionFailed => CodeInfo {
            code,
            severity: Severity::Warning,
            summary: "The TLS secrets given do not match this connection",
            explanation: "Secrets were found for this connection's client random, but its records do not authenticate under the keys they give: the key log belongs to another run, it was truncated or edited, or the capture lost bytes of the connection. The diagnosis of this connection is the one made without keys.",
            fix: "Record the key log together with the capture (SSLKEYLOGFILE for FreeRDP/IronRDP, an LSA secrets dump for mstsc) and pass it with --keylog, or embed it with editcap --inject-secrets tls,KEYS; check the capture has no gaps on this connection.",
        },
        FindingCode::KdcPreauthFailed => side(code, Severity::Error,
            "The KDC refused the user's password (KDC_ERR_PREAUTH_FAILED)",
            "The client's AS-REQ carried a pre-authentication timestamp encrypted with a key made from the password, and the KDC could not decrypt it: the password is wrong (or the account's keys are stale). Windows then falls back to NTLM, which the server or the Protected Users group may refuse; the logon fails either way, and repeated tries lock the account.",
            "Check the user name and password (case, keyboard layout, a recently changed password still cached in the client's saved credentials: cmdkey /list, Credential Manager). In AD, look at the account's badPwdCount and lockout (Get-ADUser USER -Properties badPwdCount,LockedOut); event 4771 on the DC has failure code 0x18."),
        FindingCode::KdcAccountUnknown => side(code, Severity::Error,
            "The KDC does not know the user (KDC_ERR_C_PRINCIPAL_UNKNOWN)",
            "The KDC answered the AS-REQ with KDC_ERR_C_PRINCIPAL_UNKNOWN: no account of that name exists in the realm. The user name is misspelled, in the wrong domain, or the account was deleted; NLA cannot succeed with Kerberos and the NTLM fallback fails the same way.",
            "Use the account's exact name and domain (DOMAIN\\user or user@realm), check it exists (Get-ADUser), and that the client asks the right realm (its DNS suffix and _kerberos SRV records)."),
        FindingCode::KdcAccountRevoked => side(code, Severity::Error,
            "The KDC refused a disabled, locked or expired account (KDC_ERR_CLIENT_REVOKED)",
            "The KDC answered with KDC_ERR_CLIENT_REVOKED: the account exists but may not log on: disabled, locked out, expired, or outside its logon hours. The RDP logon fails whatever the password.",
            "Enable or unlock the account (Enable-ADAccount, Unlock-ADAccount), extend its expiry, check its logon hours; on MIT Kerberos, kadmin modprinc +allow_tix."),
        FindingCode::KdcPasswordExpired => side(code, Severity::Error,
            "The user's password has expired (KDC_ERR_KEY_EXPIRED)",
            "The KDC answered with KDC_ERR_KEY_EXPIRED: the password must be changed before a ticket is issued. NLA cannot change a password, so the RDP logon fails.",
            "Have the user change the password (Ctrl+Alt+End > Change a password on another session, or the RD Web password change page), or reset it; allow NLA password change only with a gateway that supports it."),
        FindingCode::KdcSpnUnknown => side(code, Severity::Warning,
            "The KDC has no service principal for the RDP server (KDC_ERR_S_PRINCIPAL_UNKNOWN)",
            "The TGS-REQ for the server's service principal (TERMSRV/host) was answered with KDC_ERR_S_PRINCIPAL_UNKNOWN: no account holds that SPN, usually because the client used a name or alias (CNAME, IP address) the server is not registered under. Kerberos cannot be used and NLA falls back to NTLM, which policy may refuse.",
            "Connect by the server's registered host name, or register the SPN for the name used: setspn -S TERMSRV/alias SERVER (and TERMSRV/alias.fqdn). Check duplicates with setspn -X."),
        FindingCode::KerberosClockSkew => side(code, Severity::Warning,
            "The client's clock is too far from the KDC's (KRB_AP_ERR_SKEW)",
            "The KDC answered with KRB_AP_ERR_SKEW: the client's time differs from the KDC's by more than the allowed skew (5 minutes by default). Kerberos fails; NLA falls back to NTLM if allowed.",
            "Fix the client's time: w32tm /resync (domain members sync from the domain hierarchy), check the time zone, and the DC's own time source (w32tm /query /status)."),
        FindingCode::KdcUnreachable => side(code, Severity::Warning,
            "The KDC did not answer (Kerberos unreachable)",
            "The client sent Kerberos requests (UDP) or SYNs (TCP) to its KDC on port 88 and got no answer, or a refusal: a firewall blocks port 88 or the KDC is down. Kerberos cannot be used; NLA falls back to NTLM where allowed, and fails where only Kerberos is accepted.",
            "Allow TCP and UDP 88 from the client to its domain controllers (and 464 for password changes); check the KDC service, and which KDC the client picks (nltest /dsgetdc:DOMAIN, the _kerberos._tcp SRV records). Outside the network, use a KDC proxy (RD Gateway KDC proxy, MS-KKDCP)."),
        FindingCode::DnsResolutionFailed => side(code, Severity::Error,
            "The server's name did not resolve",
            "The client's DNS lookups for the host name got NXDOMAIN, SERVFAIL or REFUSED (or no answer), for the name and every search-suffix variant: the client had no address to connect to.",
            "Check the name (typo, old name in a saved .rdp file), that the DNS zone holds an A/AAAA record for it, and which DNS servers the client asks (ipconfig /all, Resolve-DnsName NAME)."),
        FindingCode::DnsAddressMismatch => side(code, Severity::Warning,
            "The server's name resolves to another address than the one the client used",
            "Before connecting, the client looked the server's name up and got addresses that do not include the one it then connected to: a stale DNS record, a hosts file entry, or a saved connection with an old address. The connection may reach another machine than the name says, and Kerberos (TERMSRV/name) may not match it.",
            "Correct the DNS record (or the hosts file / saved .rdp address) so the name and the server agree; after an address change, clear caches (ipconfig /flushdns) and check the record's TTL."),
        FindingCode::GatewayAuthFailed => side(code, Severity::Error,
            "The RD Gateway refused the user's authentication",
            "The gateway answered the client's HTTP request with 401 or 403 after the client had sent credentials (or left the client at the opening 401 challenge), or refused the tunnel's authentication (a pluggable-authentication cookie, an authentication method it does not accept). The status, the reason phrase ('User Account Restricted' when the account may not sign in) and the schemes the gateway offered are named. Without the capture's TLS keys only the shape is visible (TLS finished, the client's first request, a brief answer and the gateway closing), so the finding then says it is inferred. mstsc reports 'Your credentials did not work' or 'Remote Desktop can't connect to the remote computer because authentication to the gateway failed'.",
            "Check the user name and password for the gateway (they may differ from the session host's), that the account is enabled, not locked or expired and allowed to sign in (logon hours, workstation restrictions: 'User Account Restricted'), and that the client and the gateway share an authentication scheme (IIS/RD Gateway: Negotiate/NTLM, smart card, or the web portal cookie). The gateway's TerminalServices-Gateway and Security (4625) event logs say why."),
        FindingCode::GatewayPolicyDenied => side(code, Severity::Error,
            "The RD Gateway's authorization policy denied the connection",
            "The gateway authenticated the user and then refused by policy: E_PROXY_NAP_ACCESSDENIED (the connection authorization policy, RD CAP: user group, device redirection, authentication method, or health policy) or E_PROXY_RAP_ACCESSDENIED (the resource authorization policy, RD RAP: this user may not reach this computer), in the tunnel or channel response (MS-TSGU 2.2.6).",
            "In RD Gateway Manager (or the NPS server the gateway uses): for a CAP denial, add the user to a user group of an enabled RD CAP and check its requirements; for a RAP denial, add the target computer, by the exact name the client uses (FQDN or NetBIOS, as in the channel request), to the computer group of an RD RAP that includes the user, and allow port 3389 in it."),
        FindingCode::GatewayTargetUnreachable => side(code, Severity::Error,
            "The RD Gateway could not reach the target computer",
            "The client asked the gateway for a channel to the session host and the gateway refused it: E_PROXY_TS_CONNECTFAILED (the gateway could not connect to the host and port named in the channel request) or another channel-level error (MS-TSGU 2.2.10.5). The tunnel to the gateway itself worked.",
            "From the gateway, check that the target name in the channel request resolves (DNS as the gateway sees it) and that TCP 3389 (or the port asked for) on it is reachable and listening: Test-NetConnection TARGET -Port 3389 on the gateway; firewalls between the gateway and the internal network must allow it, and the host must be up with Remote Desktop enabled."),
        FindingCode::KdcProxyFailed => side(code, Severity::Error,
            "Kerberos through the RD Gateway's KDC proxy failed",
            "The client sent its Kerberos requests to the gateway's KDC proxy (POST /KdcProxy, MS-KKDCP) and the proxy failed: an HTTP error (503 when the proxy cannot reach a domain controller, 404/403 when it is not enabled or not allowed), requests left unanswered, an HTTP/2 stream reset, or a Kerberos error carried back from the KDC (named). Without a ticket the client falls back to NTLM where allowed, or cannot authenticate at all. Without the TLS keys, a KDC-proxy connection the gateway closed without an answer is the visible shape.",
            "On the gateway: enable the KDC proxy service (KPSSVC) and its URL reservation (netsh http show urlacl url=https://+:443/KdcProxy/), make sure it can reach a domain controller on TCP/UDP 88 and resolve the domain's _kerberos SRV records, and that clients are configured for it (GPO 'Specify KDC proxy servers for Kerberos clients'). For a Kerberos error, see its meaning: wrong password, locked account, clock skew, unknown principal."),
        FindingCode::GatewayUdpBlocked => side(code, Severity::Warning,
            "The RD Gateway's UDP transport was not reachable",
            "The client sent DTLS handshakes to the gateway's UDP transport (port 3391) and nothing came back: a firewall drops UDP 3391 on the way, or the gateway's UDP transport is disabled. The session falls back to the HTTP/WebSocket channel over TCP 443, which works but responds worse on lossy or long paths.",
            "Allow UDP 3391 from clients to the gateway (edge firewall, NSG, the gateway's Windows Firewall rule 'Remote Desktop Gateway UDP Transport'), or turn off the UDP transport in RD Gateway Manager (Transport Settings) if it must stay closed."),
    }
}

/// The words of a finding about the exchanges beside the connection (Kerberos, DNS).
const fn side(
    code: FindingCode,
    severity: Severity,
    summary: &'static str,
    explanation: &'static str,
    fix: &'static str,
) -> CodeInfo {
    CodeInfo {
        code,
        severity,
        summary,
        explanation,
        fix,
    }
}

/// Every code with its words, in `FindingCode::ALL` order.
pub fn all() -> impl Iterator<Item = CodeInfo> {
    FindingCode::ALL.iter().map(|c| info(*c))
}

/// The code named `name` ("nla-failed"), with its words.
pub fn lookup(name: &str) -> Option<CodeInfo> {
    name.parse().ok().map(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_its_own_words_and_parses_back() {
        let mut summaries = std::collections::BTreeSet::new();
        for c in all() {
            assert_eq!(c.code.as_str().parse::<FindingCode>(), Ok(c.code));
            assert!(!c.fix.is_empty() && !c.explanation.is_empty(), "{}", c.code);
            assert!(summaries.insert(c.summary), "{} repeats a summary", c.code);
        }
        assert_eq!(summaries.len(), FindingCode::ALL.len());
        assert!(lookup("no-such-code").is_none());
        assert_eq!(format!("{:<12}|", FindingCode::NlaFailed), "nla-failed  |");
        assert_eq!(
            lookup("nla-failed").map(|c| c.severity),
            Some(Severity::Error)
        );
    }
}
