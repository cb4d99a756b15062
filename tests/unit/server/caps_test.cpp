// The caps' counting (server/caps/): peer keys, the sharded counter table under threads,
// connection admission and refusal kinds, the per-address rate limiter on an injected clock,
// and that every CapSlot gives its place back exactly once.
#include "caps/caps.h"

#include <QHostAddress>
#include <arpa/inet.h>
#include <atomic>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <vector>

namespace parley::server {
namespace {

PeerKey key(const char* address)
{
    const std::optional<PeerKey> k = PeerKey::fromAddress(QHostAddress(QString::fromLatin1(address)));
    EXPECT_TRUE(k.has_value()) << address;
    return k.value_or(PeerKey {});
}

TEST(PeerKeyTest, IPv4IsTheAddressAndIPv6IsItsSlash64)
{
    EXPECT_EQ(key("192.0.2.7"), key("192.0.2.7"));
    EXPECT_NE(key("192.0.2.7"), key("192.0.2.8"));
    EXPECT_TRUE(key("192.0.2.7").isIPv4());
    EXPECT_EQ(key("192.0.2.7").toString(), "192.0.2.7");
    // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d: the same client.
    EXPECT_EQ(key("::ffff:192.0.2.7"), key("192.0.2.7"));
    // One /64 is one client; the next /64 another.
    EXPECT_EQ(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff:ffff:ffff:ffff"));
    EXPECT_NE(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
    EXPECT_FALSE(key("2001:db8:1:2::1").isIPv4());
    EXPECT_EQ(key("2001:db8:1:2::1").toString(), "2001:db8:1:2::/64");
    // ::1 and an IPv4 address of the same bits stay apart.
    EXPECT_NE(key("::1"), key("0.0.0.1"));
    EXPECT_FALSE(PeerKey::fromAddress(QHostAddress()).has_value());
}

TEST(PeerKeyTest, FromSocketAddresses)
{
    sockaddr_in v4 {};
    v4.sin_family = AF_INET;
    ::inet_pton(AF_INET, "127.0.0.2", &v4.sin_addr);
    EXPECT_EQ(PeerKey::fromSockaddr(reinterpret_cast<const sockaddr*>(&v4)), key("127.0.0.2"));
    sockaddr_in6 v6 {};
    v6.sin6_family = AF_INET6;
    ::inet_pton(AF_INET6, "2001:db8::5", &v6.sin6_addr);
    EXPECT_EQ(PeerKey::fromSockaddr(reinterpret_cast<const sockaddr*>(&v6)), key("2001:db8::9"));
    sockaddr other {};
    other.sa_family = AF_UNIX;
    EXPECT_FALSE(PeerKey::fromSockaddr(&other).has_value());
}

TEST(CounterTableTest, CountsUpToTheLimitAndForgetsKeysThatHoldNothing)
{
    CounterTable<std::string> table;
    auto* a1 = table.tryAcquire("a", 2);
    auto* a2 = table.tryAcquire("a", 2);
    ASSERT_NE(a1, nullptr);
    ASSERT_EQ(a1, a2); // one entry per key
    EXPECT_EQ(table.tryAcquire("a", 2), nullptr);
    EXPECT_NE(table.tryAcquire("b", 2), nullptr);
    EXPECT_EQ(table.count("a"), 2u);
    EXPECT_EQ(table.tryAcquire("c", 0), nullptr);
    EXPECT_EQ(table.size(), 2u); // a refusal leaves no entry behind
    table.release(a1);
    EXPECT_EQ(table.count("a"), 1u);
    table.release(a2);
    EXPECT_EQ(table.count("a"), 0u);
    EXPECT_EQ(table.size(), 1u);
}

// Threads acquire and release places of a few keys as fast as they can: no key is ever held
// past its limit, and in the end nothing is held and no key is left.
TEST(CounterTableTest, ThreadsNeverExceedTheLimitAndEveryReleaseCounts)
{
    constexpr std::uint32_t kLimit = 3;
    constexpr int kKeys = 4;
    constexpr int kThreads = 4;
    constexpr int kRounds = 20000;
    CounterTable<int> table;
    std::atomic<int> holders[kKeys] {};
    std::atomic<bool> exceeded { false };
    std::atomic<int> refused { 0 };
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kRounds; ++i) {
                const int k = (i + t) % kKeys;
                auto* entry = table.tryAcquire(k, kLimit);
                if (!entry) {
                    refused.fetch_add(1);
                    continue;
                }
                if (holders[k].fetch_add(1) + 1 > int(kLimit)) {
                    exceeded = true;
                }
                holders[k].fetch_sub(1);
                table.release(entry);
            }
        });
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    EXPECT_FALSE(exceeded);
    EXPECT_EQ(table.size(), 0u);
    for (int k = 0; k < kKeys; ++k) {
        EXPECT_EQ(table.count(k), 0u);
    }
}

TEST(ConnectionCapsTest, RefusesPastEitherCapAndEachSlotGivesItsPlaceBackOnce)
{
    ConnectionCaps caps(3, 2);
    const PeerKey a = key("192.0.2.1");
    const PeerKey b = key("192.0.2.2");
    ConnectionCaps::Admission a1 = caps.admit(a);
    ConnectionCaps::Admission a2 = caps.admit(a);
    ASSERT_TRUE(a1.slot);
    ASSERT_TRUE(a2.slot);
    const ConnectionCaps::Admission a3 = caps.admit(a);
    EXPECT_FALSE(a3.slot);
    EXPECT_EQ(a3.refusal, ConnectionCaps::Refusal::PerPeer);
    ConnectionCaps::Admission b1 = caps.admit(b);
    ASSERT_TRUE(b1.slot);
    const ConnectionCaps::Admission b2 = caps.admit(b);
    EXPECT_EQ(b2.refusal, ConnectionCaps::Refusal::Total);
    EXPECT_EQ(caps.connections(), 3);
    EXPECT_EQ(caps.connectionsFrom(a), 2u);

    // Moving a slot moves the place, it does not copy it.
    CapSlot moved = std::move(a1.slot);
    EXPECT_FALSE(a1.slot);
    EXPECT_EQ(caps.connections(), 3);
    moved.reset();
    moved.reset(); // nothing left to give back
    EXPECT_EQ(caps.connections(), 2);
    EXPECT_EQ(caps.connectionsFrom(a), 1u);
    EXPECT_TRUE(caps.admit(b).slot); // room again; given back at once (a temporary)
    {
        ConnectionCaps::Admission again = caps.admit(a);
        EXPECT_TRUE(again.slot);
        EXPECT_EQ(caps.connections(), 3);
    }
    a2.slot = CapSlot(); // assignment gives the old place back
    b1.slot.reset();
    EXPECT_EQ(caps.connections(), 0);
    EXPECT_EQ(caps.connectionsFrom(a), 0u);
}

TEST(ConnectionCapsTest, ZeroIsOffAndRefusalsInProgressAreCapped)
{
    ConnectionCaps caps(0, 0);
    std::vector<CapSlot> held;
    for (int i = 0; i < 100; ++i) {
        ConnectionCaps::Admission admission = caps.admit(key("192.0.2.1"));
        ASSERT_TRUE(admission.slot);
        held.push_back(std::move(admission.slot));
    }
    EXPECT_EQ(caps.connections(), 100); // counted all the same
    held.clear();
    EXPECT_EQ(caps.connections(), 0);

    std::vector<CapSlot> refusing;
    for (int i = 0; i < ConnectionCaps::kMaxRefusing; ++i) {
        refusing.push_back(caps.tryRefusing());
        ASSERT_TRUE(refusing.back());
    }
    EXPECT_FALSE(caps.tryRefusing());
    refusing.pop_back();
    EXPECT_TRUE(caps.tryRefusing());
}

TEST(UserSessionCapsTest, CountsPerUserAndZeroIsOff)
{
    UserSessionCaps caps(2);
    std::optional<CapSlot> first = caps.tryAcquire("mallory");
    std::optional<CapSlot> second = caps.tryAcquire("mallory");
    ASSERT_TRUE(first && *first && second && *second);
    EXPECT_FALSE(caps.tryAcquire("mallory").has_value());
    EXPECT_TRUE(caps.tryAcquire("alice").has_value());
    EXPECT_EQ(caps.sessionsOf("mallory"), 2u);
    first.reset();
    EXPECT_EQ(caps.sessionsOf("mallory"), 1u);
    EXPECT_TRUE(caps.tryAcquire("mallory").has_value());

    UserSessionCaps off(0);
    const std::optional<CapSlot> any = off.tryAcquire("mallory");
    ASSERT_TRUE(any.has_value());
    EXPECT_FALSE(*any); // nothing counted
}

TEST(PeerRateLimiterTest, BurstThenRateThenRetryAfterPerAddress)
{
    PeerRateLimiter limiter(2); // 2 per second, bursts of 10
    const PeerKey a = key("192.0.2.1");
    std::int64_t now = 1000;
    for (int i = 0; i < 2 * PeerRateLimiter::kBurstSeconds; ++i) {
        EXPECT_TRUE(limiter.tryTake(a, now).allowed) << i;
    }
    const PeerRateLimiter::Verdict refused = limiter.tryTake(a, now);
    EXPECT_FALSE(refused.allowed);
    EXPECT_EQ(refused.retryAfterS, 1); // half a second to the next token, rounded up
    EXPECT_TRUE(limiter.tryTake(key("192.0.2.2"), now).allowed); // another address
    now += 500; // one token
    EXPECT_TRUE(limiter.tryTake(a, now).allowed);
    EXPECT_FALSE(limiter.tryTake(a, now).allowed);
    // Buckets that filled up again are dropped (the other address's: its one token came back
    // in the 500 ms); the busy one stays.
    EXPECT_EQ(limiter.size(), 2u);
    limiter.prune(now);
    EXPECT_EQ(limiter.size(), 1u);
    EXPECT_FALSE(limiter.tryTake(a, now).allowed); // pruning did not refill it
    limiter.prune(now + 60000);
    EXPECT_EQ(limiter.size(), 0u);

    PeerRateLimiter off(0);
    for (int i = 0; i < 1000; ++i) {
        EXPECT_TRUE(off.tryTake(a, now).allowed);
    }
    EXPECT_EQ(off.size(), 0u);
}

} // namespace
} // namespace parley::server
