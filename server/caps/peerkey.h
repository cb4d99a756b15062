// PeerKey: the address a per-address limit counts a client under.
//
// IPv4: the whole address. IPv6: the /64 network, since one host (one customer line, one
// virtual machine) commonly gets a whole /64 and could otherwise pick a new address for every
// connection. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d, what a dual-stack socket reports for
// an IPv4 client) count as the IPv4 address. Behind a balancer every client has the balancer's
// address (docs/security.md, "Behind a balancer").
#pragma once

#include <QString>
#include <cstdint>
#include <functional>
#include <optional>

class QHostAddress;
struct sockaddr;

namespace parley::server {

struct PeerKey {
    //! IPv4: 0; IPv6: the first 64 bits (the network).
    std::uint64_t high = 0;
    //! IPv4: 0x0000ffff'00000000 | the address (as ::ffff:a.b.c.d); IPv6: 0.
    std::uint64_t low = 0;

    //! The key of an IPv4 or IPv6 socket address; nothing for other families.
    static std::optional<PeerKey> fromSockaddr(const sockaddr* address);
    //! The key of a connected socket's peer (getpeername); nothing when it has none any more.
    static std::optional<PeerKey> ofDescriptor(int fd);
    //! The key of `address`; nothing for a null or non-IP address.
    static std::optional<PeerKey> fromAddress(const QHostAddress& address);

    bool isIPv4() const { return high == 0 && (low >> 32) == 0xffff; }
    //! For logs: "192.0.2.7", or "2001:db8:1:2::/64".
    QString toString() const;

    friend bool operator==(const PeerKey&, const PeerKey&) = default;
};

struct PeerKeyHash {
    std::size_t operator()(const PeerKey& key) const noexcept
    {
        // splitmix64 finaliser over both halves: neighbouring addresses spread over buckets and
        // shards alike.
        std::uint64_t x = key.high * 0x9e3779b97f4a7c15ULL ^ key.low;
        x ^= x >> 30;
        x *= 0xbf58476d1ce4e5b9ULL;
        x ^= x >> 27;
        x *= 0x94d049bb133111ebULL;
        x ^= x >> 31;
        return std::size_t(x);
    }
};

} // namespace parley::server
