#include "peerkey.h"

#include <QHostAddress>
#include <arpa/inet.h>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>

namespace parley::server {

namespace {

PeerKey fromIPv4(std::uint32_t address) // host byte order
{
    return PeerKey { 0, (std::uint64_t(0xffff) << 32) | address };
}

PeerKey fromIPv6(const std::uint8_t (&bytes)[16])
{
    // ::ffff:a.b.c.d is an IPv4 client on a dual-stack socket.
    static constexpr std::uint8_t kMappedPrefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (std::memcmp(bytes, kMappedPrefix, sizeof kMappedPrefix) == 0) {
        return fromIPv4((std::uint32_t(bytes[12]) << 24) | (std::uint32_t(bytes[13]) << 16)
            | (std::uint32_t(bytes[14]) << 8) | std::uint32_t(bytes[15]));
    }
    std::uint64_t network = 0;
    for (int i = 0; i < 8; ++i) {
        network = (network << 8) | bytes[i];
    }
    return PeerKey { network, 0 };
}

} // namespace

std::optional<PeerKey> PeerKey::fromSockaddr(const sockaddr* address)
{
    if (address->sa_family == AF_INET) {
        sockaddr_in v4 {};
        std::memcpy(&v4, address, sizeof v4);
        return fromIPv4(ntohl(v4.sin_addr.s_addr));
    }
    if (address->sa_family == AF_INET6) {
        sockaddr_in6 v6 {};
        std::memcpy(&v6, address, sizeof v6);
        std::uint8_t bytes[16];
        std::memcpy(bytes, v6.sin6_addr.s6_addr, sizeof bytes);
        return fromIPv6(bytes);
    }
    return std::nullopt;
}

std::optional<PeerKey> PeerKey::ofDescriptor(int fd)
{
    sockaddr_storage storage {};
    socklen_t length = sizeof storage;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
        return std::nullopt;
    }
    return fromSockaddr(reinterpret_cast<const sockaddr*>(&storage));
}

std::optional<PeerKey> PeerKey::fromAddress(const QHostAddress& address)
{
    if (address.protocol() == QAbstractSocket::IPv4Protocol) {
        return fromIPv4(address.toIPv4Address());
    }
    if (address.protocol() == QAbstractSocket::IPv6Protocol) {
        const Q_IPV6ADDR v6 = address.toIPv6Address();
        std::uint8_t bytes[16];
        std::memcpy(bytes, v6.c, sizeof bytes);
        return fromIPv6(bytes);
    }
    return std::nullopt;
}

QString PeerKey::toString() const
{
    if (isIPv4()) {
        return QHostAddress(std::uint32_t(low)).toString();
    }
    Q_IPV6ADDR v6 {};
    for (int i = 0; i < 8; ++i) {
        v6.c[i] = std::uint8_t(high >> (56 - 8 * i));
    }
    return QHostAddress(v6).toString() + QStringLiteral("/64");
}

} // namespace parley::server
