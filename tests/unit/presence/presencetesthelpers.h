// Helpers shared by the PresenceManager tests: record transitions, ask queries, wait on the event
// loop (never sleep).
#pragma once

#include "presence/presencemanager.h"
#include "waituntil.h"

#include <optional>
#include <vector>

namespace parley::server::test {

using parley::test::waitUntil;

//! Records every transition a manager reports.
struct TransitionLog {
    std::vector<PresenceManager::Transition> seen;

    void attach(PresenceManager& manager)
    {
        manager.setTransitionHandler(
            [this](const PresenceManager::Transition& transition) { seen.push_back(transition); });
    }
    //! Waits for transition number `index` (0-based) and returns it.
    std::optional<PresenceManager::Transition> wait(std::size_t index, int timeoutMs = 5000)
    {
        if (!waitUntil([&] { return seen.size() > index; }, timeoutMs)) {
            return std::nullopt;
        }
        return seen[index];
    }
};

//! Runs a query and waits for its answer; nothing when none came in time.
inline std::optional<std::pair<bool, std::vector<bool>>> ask(
    PresenceManager& manager, std::vector<std::string> users, int timeoutMs = 5000)
{
    std::optional<std::pair<bool, std::vector<bool>>> answer;
    manager.query(std::move(users),
        [&answer](bool ok, std::vector<bool> online) { answer.emplace(ok, std::move(online)); });
    waitUntil([&] { return answer.has_value(); }, timeoutMs);
    return answer;
}

} // namespace parley::server::test
