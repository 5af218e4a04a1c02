//! SSRF guard: which IP addresses a server-side fetch may reach.
//!
//! Checked at three places (see docs/decisions/net-ssrf.md): every DNS answer (custom resolver),
//! IP-literal hosts (before sending; hyper skips the resolver for them) and every redirect hop.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use crate::NetError;

/// Addresses an admin explicitly allows despite being non-public (e.g. `127.0.0.1/32` in tests,
/// an intranet WordPress at `10.1.2.3/32`).
#[derive(Debug, Clone, Default)]
pub struct SsrfPolicy {
    allow: Vec<IpNet>,
}

impl SsrfPolicy {
    /// Refuse every non-public address.
    pub fn strict() -> Self {
        Self::default()
    }

    /// Parse an allow-list of CIDRs (`127.0.0.1/32`, `10.0.0.0/8`, `::1/128`); a bare IP means /32 or /128.
    pub fn with_allow_list<I, S>(cidrs: I) -> Result<Self, NetError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut allow = Vec::new();
        for c in cidrs {
            let c = c.as_ref().trim();
            let net = c
                .parse::<IpNet>()
                .or_else(|_| c.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| NetError::Config(format!("invalid CIDR in allow-list: {c}")))?;
            allow.push(net);
        }
        Ok(Self { allow })
    }

    /// The allow-list, as given.
    pub fn allow_list(&self) -> &[IpNet] {
        &self.allow
    }

    /// True when the address may be contacted.
    pub fn permits(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        if self.allow.iter().any(|n| n.contains(&ip)) {
            return true;
        }
        !is_forbidden(ip)
    }

    pub(crate) fn check(&self, ip: IpAddr) -> Result<(), String> {
        if self.permits(ip) {
            Ok(())
        } else {
            Err(format!("{ip} is not a public address"))
        }
    }
}

/// IPv4-mapped (`::ffff:a.b.c.d`) addresses are the IPv4 address for every purpose here.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => ip,
        },
        v4 => v4,
    }
}

/// True for every address a server-side fetch must not reach by default.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    o[0] == 0                                   // 0.0.0.0/8 ("this network", incl. unspecified)
        || o[0] == 10                           // 10/8
        || o[0] == 127                          // loopback
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // CGNAT 100.64/10
        || (o[0] == 169 && o[1] == 254)         // link-local (cloud metadata 169.254.169.254)
        || (o[0] == 172 && (o[1] & 0xf0) == 16) // 172.16/12
        || (o[0] == 192 && o[1] == 168)         // 192.168/16
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments 192.0.0/24
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // benchmarking 198.18/15
        || o[0] >= 224 // multicast 224/4, reserved 240/4, broadcast
}

fn forbidden_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    if ip.is_unspecified() || ip.is_loopback() || ip.is_multicast() {
        return true;
    }
    if (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (s[0] & 0xfe00) == 0xfc00 // ULA fc00::/7
        || (s[0] & 0xffc0) == 0xfec0
    // deprecated site-local fec0::/10
    {
        return true;
    }
    // IPv4-compatible ::a.b.c.d (deprecated) and NAT64 64:ff9b::/96 embed an IPv4 address.
    let embedded = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if s[..6].iter().all(|&x| x == 0)
        || (s[0] == 0x64 && s[1] == 0xff9b && s[2..6].iter().all(|&x| x == 0))
    {
        return forbidden_v4(embedded);
    }
    // 6to4 2002:a.b.c.d::/48 embeds an IPv4 address in segments 1–2.
    if s[0] == 0x2002 {
        let v4 = Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8);
        return forbidden_v4(v4);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> bool {
        is_forbidden(s.parse().unwrap())
    }

    #[test]
    fn classifies_ranges() {
        for ip in [
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "127.0.0.1",
            "127.8.8.8",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
        ] {
            assert!(f(ip), "{ip} should be forbidden");
        }
        for ip in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "1.1.1.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(!f(ip), "{ip} should be allowed");
        }
    }

    #[test]
    fn allow_list_overrides() {
        let p = SsrfPolicy::with_allow_list(["127.0.0.1/32", "10.0.0.0/8"]).unwrap();
        assert!(p.permits("127.0.0.1".parse().unwrap()));
        assert!(p.permits("::ffff:127.0.0.1".parse().unwrap()));
        assert!(p.permits("10.9.9.9".parse().unwrap()));
        assert!(!p.permits("127.0.0.2".parse().unwrap()));
        assert!(!p.permits("::1".parse().unwrap()));
        assert!(SsrfPolicy::with_allow_list(["nope"]).is_err());
        assert!(SsrfPolicy::with_allow_list(["::1"])
            .unwrap()
            .permits("::1".parse().unwrap()));
    }
}
