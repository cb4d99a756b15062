// waitUntil: run the event loop until a condition holds or a deadline passes (never sleep).
#pragma once

#include <QCoreApplication>
#include <QDeadlineTimer>

namespace parley::test {

//! Processes events until `done()` holds or `timeoutMs` expires; returns done().
template <typename Predicate> bool waitUntil(Predicate done, int timeoutMs = 5000)
{
    QDeadlineTimer deadline(timeoutMs);
    while (!done() && !deadline.hasExpired()) {
        QCoreApplication::processEvents(QEventLoop::AllEvents | QEventLoop::WaitForMoreEvents, 20);
    }
    return done();
}

} // namespace parley::test
