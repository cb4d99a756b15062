// An event dispatcher for Qt 6 on Linux epoll, so that the cost of one event-loop wake-up does
// not grow with the number of idle connections (Qt's own dispatchers poll() every socket on
// every wake-up). Install it through createEventDispatcher() (eventdispatcherfactory.h), which
// also honours PARLEY_EVENT_DISPATCHER=qt.
#pragma once

#include <QAbstractEventDispatcher>
#include <memory>

namespace parley::server {

//! A QAbstractEventDispatcher on epoll, eventfd and a timer heap.
//!
//! Installing (the dispatcher must exist before the thread runs any event loop):
//! - main thread: `QCoreApplication::setEventDispatcher(new EpollEventDispatcher)` *before* the
//!   QCoreApplication is constructed;
//! - worker thread: `thread->setEventDispatcher(new EpollEventDispatcher)` *before*
//!   `thread->start()`.
//! Both take ownership. Prefer createEventDispatcher(), which falls back to Qt's dispatcher.
//!
//! Behaviour (the contract of QAbstractEventDispatcher, as Qt's own UNIX dispatcher has it):
//! - One processEvents() call: emits awake(), sends posted events
//!   (QCoreApplication::sendPostedEvents), emits aboutToBlock() if it may block, waits once in
//!   epoll_wait (at most 256 ready descriptors per call; the rest come next call, epoll rotates
//!   its ready list so no socket starves), activates the ready socket notifiers, then the due
//!   timers. Returns true if a notifier or a non-zero timer was activated or a wake-up was
//!   consumed.
//! - Flags: WaitForMoreEvents blocks until an event, a timer or wakeUp(); without it the call
//!   never blocks. ExcludeSocketNotifiers leaves ready notifiers pending (epoll is level
//!   triggered, they are reported again later) and waits on the wake-up descriptor alone.
//!   X11ExcludeTimers skips timers. ExcludeUserInputEvents and EventLoopExec change nothing:
//!   a core dispatcher has no user-input sources.
//! - Socket notifiers: one epoll registration per descriptor for its Read/Write/Exception
//!   notifiers. Enabling, disabling or deleting any notifier from any callback is safe; a
//!   notifier disabled or deleted during a round is not activated later in that round.
//! - Timers: PreciseTimer never fires early; CoarseTimer may fire up to 5% early or late and is
//!   aligned to round milliseconds to coalesce wake-ups; VeryCoarseTimer has whole-second
//!   granularity; zero-interval timers fire once per processEvents() call. A timer whose event
//!   is being delivered is not fired again by a nested event loop.
//! - Thread safety: wakeUp() and interrupt() may be called from any thread; everything else
//!   only from the dispatcher's thread (violations are reported with qWarning and ignored).
//! - Cost: a wake-up costs one epoll_wait plus work proportional to the ready descriptors and
//!   the changed notifiers, never to the number of registered ones.
class EpollEventDispatcher final : public QAbstractEventDispatcher {
    Q_OBJECT

public:
    explicit EpollEventDispatcher(QObject* parent = nullptr);
    ~EpollEventDispatcher() override;

    //! False if the epoll or eventfd descriptor could not be created (e.g. out of descriptors);
    //! such a dispatcher must not be installed.
    bool isValid() const;

    bool processEvents(QEventLoop::ProcessEventsFlags flags) override;

    void registerSocketNotifier(QSocketNotifier* notifier) override;
    void unregisterSocketNotifier(QSocketNotifier* notifier) override;

    using QAbstractEventDispatcher::registerTimer;
    void registerTimer(
        int timerId, qint64 interval, Qt::TimerType timerType, QObject* object) override;
    bool unregisterTimer(int timerId) override;
    bool unregisterTimers(QObject* object) override;
    QList<TimerInfo> registeredTimers(QObject* object) const override;
    int remainingTime(int timerId) override;

    void wakeUp() override;
    void interrupt() override;

private:
    class Private;
    std::unique_ptr<Private> m_private;
};

} // namespace parley::server
