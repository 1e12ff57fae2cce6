//! Binding listeners as a JVM does: a wildcard address (`0.0.0.0`, `::`,
//! or no address at all) becomes the IPv6 wildcard with IPV6_V6ONLY off, so
//! one socket takes IPv4 and IPv6 clients (Java prefers the IPv6 wildcard
//! even when asked for `0.0.0.0`). A host without IPv6 gets `0.0.0.0`.
//!
//! IPv4 clients of a dual-stack socket arrive as IPv4-mapped IPv6
//! addresses (`::ffff:127.0.0.1`); Java shows them as plain IPv4, and so
//! must every limit, ACL and log line here: see [`canonical_peer`].

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use socket2::{Domain, Protocol, Socket, Type};
use tracing::warn;

/// The listen backlog tokio's own `TcpListener::bind` uses.
const BACKLOG: i32 = 1024;

/// Binds `addr` for listening; a wildcard binds dual-stack (falling back to
/// IPv4 when the host has no IPv6). The listener is non-blocking, ready for
/// `tokio::net::TcpListener::from_std`.
pub fn bind(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    bind_with(addr, bind_dual_stack)
}

/// [`bind`] with the dual-stack attempt given, so the fallback can be
/// tested without a host that lacks IPv6.
pub fn bind_with(
    addr: SocketAddr,
    dual_stack: impl FnOnce(u16) -> io::Result<std::net::TcpListener>,
) -> io::Result<std::net::TcpListener> {
    if !addr.ip().is_unspecified() {
        return bind_plain(addr);
    }
    match dual_stack(addr.port()) {
        Ok(l) => Ok(l),
        Err(e) if no_ipv6(&e) => {
            warn!(
                port = addr.port(),
                error = %e,
                "no IPv6 on this host: listening on 0.0.0.0 (IPv4 only)"
            );
            bind_plain(SocketAddr::new(
                IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                addr.port(),
            ))
        }
        Err(e) => Err(e),
    }
}

/// Whether a failure means the host has no usable IPv6 (the kernel lacks
/// the address family, or the IPv6 wildcard cannot be assigned), as opposed
/// to a port in use or a permission problem, which IPv4 would not fix.
fn no_ipv6(e: &io::Error) -> bool {
    const EAFNOSUPPORT: i32 = 97;
    const EPROTONOSUPPORT: i32 = 93;
    const EADDRNOTAVAIL: i32 = 99;
    matches!(
        e.raw_os_error(),
        Some(EAFNOSUPPORT | EPROTONOSUPPORT | EADDRNOTAVAIL)
    ) || e.kind() == io::ErrorKind::AddrNotAvailable
        || e.kind() == io::ErrorKind::Unsupported
}

/// `[::]:port` with IPV6_V6ONLY off.
fn bind_dual_stack(port: u16) -> io::Result<std::net::TcpListener> {
    let socket = Socket::new(Domain::IPV6, Type::STREAM, Some(Protocol::TCP))?;
    socket.set_only_v6(false)?;
    listen(
        socket,
        SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port),
    )
}

fn bind_plain(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    listen(socket, addr)
}

fn listen(socket: Socket, addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    // As tokio and the JVM do on Unix: a restarted server can bind its port
    // while connections of the previous one are in TIME_WAIT.
    #[cfg(unix)]
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// A peer as Java reports it: an IPv4-mapped IPv6 address (an IPv4 client
/// of a dual-stack socket) is the IPv4 address.
pub fn canonical_peer(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};

    fn echo_once(l: &TcpListener) -> SocketAddr {
        l.set_nonblocking(false).unwrap();
        let (mut s, peer) = l.accept().unwrap();
        let mut b = [0u8; 1];
        s.read_exact(&mut b).unwrap();
        s.write_all(&b).unwrap();
        peer
    }

    fn roundtrip(to: SocketAddr) {
        let mut c = TcpStream::connect(to).unwrap();
        c.write_all(b"x").unwrap();
        let mut b = [0u8; 1];
        c.read_exact(&mut b).unwrap();
    }

    #[test]
    fn wildcard_takes_ipv4_and_ipv6_clients() {
        let l = bind("0.0.0.0:0".parse().unwrap()).unwrap();
        let local = l.local_addr().unwrap();
        assert_eq!(local.ip(), IpAddr::V6(Ipv6Addr::UNSPECIFIED), "{local}");
        let port = local.port();
        for to in [
            SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            SocketAddr::from((Ipv6Addr::LOCALHOST, port)),
        ] {
            let t = std::thread::spawn(move || roundtrip(to));
            let peer = echo_once(&l);
            t.join().unwrap();
            assert_eq!(canonical_peer(peer).ip(), to.ip());
        }
    }

    #[test]
    fn no_ipv6_falls_back_to_ipv4() {
        let unsupported = |_| Err(io::Error::from_raw_os_error(97));
        let l = bind_with("[::]:0".parse().unwrap(), unsupported).unwrap();
        let local = l.local_addr().unwrap();
        assert_eq!(local.ip(), IpAddr::V4(Ipv4Addr::UNSPECIFIED), "{local}");
        let to = SocketAddr::from((Ipv4Addr::LOCALHOST, local.port()));
        let t = std::thread::spawn(move || roundtrip(to));
        echo_once(&l);
        t.join().unwrap();
    }

    #[test]
    fn port_in_use_is_not_hidden_by_the_fallback() {
        let in_use = |_| Err(io::Error::from(io::ErrorKind::AddrInUse));
        let err = bind_with("0.0.0.0:0".parse().unwrap(), in_use).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
    }

    #[test]
    fn specific_addresses_bind_as_given() {
        let l = bind("[::1]:0".parse().unwrap()).unwrap();
        assert_eq!(
            l.local_addr().unwrap().ip(),
            IpAddr::V6(Ipv6Addr::LOCALHOST)
        );
        let l = bind("127.0.0.1:0".parse().unwrap()).unwrap();
        assert_eq!(
            l.local_addr().unwrap().ip(),
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        );
    }

    #[test]
    fn mapped_peers_are_ipv4() {
        let mapped: SocketAddr = "[::ffff:10.1.2.3]:5".parse().unwrap();
        assert_eq!(canonical_peer(mapped), "10.1.2.3:5".parse().unwrap());
        let v6: SocketAddr = "[::1]:5".parse().unwrap();
        assert_eq!(canonical_peer(v6), v6);
    }
}
