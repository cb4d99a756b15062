// waitFor(): a QTRY-style wait for gtest: runs the event loop until a condition holds or a
// deadline passes. No sleeping: the loop blocks until an event arrives (a socket, a timer, a
// posted event); a 50 ms ticker guarantees the condition and the deadline are checked again.
#pragma once

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QTimer>

namespace parley::desktop::test {

//! Processes events until `condition()` is true (returns true) or `timeoutMs` passed (false).
template <typename Condition> bool waitFor(Condition condition, int timeoutMs = 10000)
{
    QDeadlineTimer deadline(timeoutMs);
    QTimer ticker;
    ticker.start(50);
    while (!condition()) {
        if (deadline.hasExpired()) {
            return condition();
        }
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
    }
    return true;
}

} // namespace parley::desktop::test
