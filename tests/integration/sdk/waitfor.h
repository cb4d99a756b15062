// Signal-driven waiting for tests: run the event loop until a condition holds or a deadline
// passes. No sleeping: processEvents() blocks only until the next event arrives.
#pragma once

#include <QCoreApplication>
#include <QDeadlineTimer>

#include <functional>

namespace parley::test {

inline bool waitFor(const std::function<bool()>& condition, int timeoutMs = 20000)
{
    QDeadlineTimer deadline(timeoutMs);
    while (!condition()) {
        if (deadline.hasExpired()) {
            return false;
        }
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, int(std::min<qint64>(deadline.remainingTime(), 100)));
    }
    return true;
}

} // namespace parley::test
