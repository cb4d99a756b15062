// UserSessionCaps: how many sessions each user holds on this node (--max-sessions-per-user;
// docs/security.md, "Connection and session caps").
//
// A session takes its place when its hello is accepted (on any transport) and gives it back
// when it ends. Per node: in a cluster each node counts its own sessions, so a user may hold up
// to the cap on every node (docs/cluster.md). Thread-safe (a sharded CounterTable); a cap of 0
// is off.
#pragma once

#include "capslot.h"
#include "countertable.h"

#include <cstdint>
#include <optional>
#include <string>

namespace parley::server {

class UserSessionCaps final : private CapSlot::Owner {
public:
    explicit UserSessionCaps(std::uint32_t maxPerUser)
        : m_maxPerUser(maxPerUser)
    {
    }

    //! A place for one more session of `user`: nothing when the user holds the cap already; an
    //! empty slot when the cap is off.
    std::optional<CapSlot> tryAcquire(const std::string& user)
    {
        if (m_maxPerUser == 0) {
            return CapSlot();
        }
        Table::Entry* entry = m_table.tryAcquire(user, m_maxPerUser);
        if (!entry) {
            return std::nullopt;
        }
        return CapSlot(this, entry);
    }

    //! Sessions of `user` counted now (0 when the cap is off).
    std::uint32_t sessionsOf(const std::string& user) const { return m_table.count(user); }
    std::uint32_t maxPerUser() const { return m_maxPerUser; }

private:
    using Table = CounterTable<std::string>;

    void release(void* entry) noexcept override
    {
        m_table.release(static_cast<Table::Entry*>(entry));
    }

    const std::uint32_t m_maxPerUser;
    Table m_table;
};

} // namespace parley::server
