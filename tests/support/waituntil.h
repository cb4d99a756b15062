// waitUntil: run the event loop until a condition holds or a deadline passes (never sleep). The
// one wait of every test.
#pragma once

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QTimer>

namespace parley::test {

//! Processes events until `done()` holds (returns true) or `timeoutMs` passed (returns done()).
//! The loop blocks until an event arrives; a 10 ms ticker bounds each wait so that a condition
//! changed without an event (by another thread) and the deadline are checked again. It
//! synchronises nothing. (Not processEvents(flags, maxTime): that overload drops
//! WaitForMoreEvents and spins a core for as long as it waits.)
template <typename Predicate> bool waitUntil(Predicate done, int timeoutMs = 20000)
{
    const QDeadlineTimer deadline(timeoutMs);
    QTimer ticker;
    ticker.start(10);
    while (!done()) {
        if (deadline.hasExpired()) {
            return done();
        }
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
    }
    return true;
}

} // namespace parley::test
