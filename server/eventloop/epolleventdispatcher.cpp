#include "epolleventdispatcher.h"

#include "notifiertable_p.h"
#include "timerheap_p.h"

#include <QCoreApplication>
#include <QSocketNotifier>
#include <QThread>
#include <QTimerEvent>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace parley::server {

namespace {

// Upper bound of descriptors taken from the kernel per epoll_wait. Bounded so that one round
// has a bounded cost; descriptors beyond it stay ready and are reported by the next call.
constexpr int kMaxEventsPerWait = 256;
// epoll_event.data of the wake-up eventfd; socket registrations carry their descriptor.
constexpr std::uint64_t kWakeUpTag = ~std::uint64_t(0);

qint64 monotonicNowNs()
{
    // steady_clock is CLOCK_MONOTONIC on Linux, the clock QElapsedTimer and QDeadlineTimer use.
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

bool onThreadOf(const QObject* object, const QObject* dispatcher)
{
    return object->thread() == dispatcher->thread()
        && dispatcher->thread() == QThread::currentThread();
}

} // namespace

class EpollEventDispatcher::Private {
public:
    Private()
        : epollFd(::epoll_create1(EPOLL_CLOEXEC))
        , wakeUpFd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC))
        , notifiers(epollFd)
    {
        if (epollFd < 0 || wakeUpFd < 0) {
            qWarning("EpollEventDispatcher: cannot create epoll/eventfd descriptors: %s",
                std::strerror(errno));
            return;
        }
        epoll_event ev {};
        ev.events = EPOLLIN;
        ev.data.u64 = kWakeUpTag;
        if (::epoll_ctl(epollFd, EPOLL_CTL_ADD, wakeUpFd, &ev) != 0) {
            qWarning(
                "EpollEventDispatcher: cannot watch the wake-up eventfd: %s", std::strerror(errno));
            return;
        }
        valid = true;
    }

    ~Private()
    {
        if (wakeUpFd >= 0) {
            ::close(wakeUpFd);
        }
        if (epollFd >= 0) {
            ::close(epollFd);
        }
    }

    void drainWakeUp()
    {
        eventfd_t value = 0;
        // Non-blocking: EAGAIN when another round drained it already, which is fine.
        ::eventfd_read(wakeUpFd, &value);
        // Cleared after reading: a wakeUp() racing with us either saw the flag still set (its
        // posted event is then picked up by the next sendPostedEvents(), which runs after this
        // point) or writes the eventfd again.
        wakeUpPending.store(false, std::memory_order_release);
    }

    //! Milliseconds epoll_wait may block: -1 forever, 0 not at all.
    int waitTimeoutMs(bool mayBlock, bool includeTimers, bool includeNotifiers) const
    {
        if (!mayBlock || (includeNotifiers && notifiers.hasAlwaysReady())) {
            return 0;
        }
        if (!includeTimers) {
            return -1;
        }
        const std::optional<qint64> deadline = timers.nextDeadline();
        if (!deadline) {
            return -1;
        }
        const qint64 left = *deadline - monotonicNowNs();
        if (left <= 0) {
            return 0;
        }
        // Rounded up, so that a precise timer never fires early.
        const qint64 ms = (left + 999'999) / 1'000'000;
        return ms > INT_MAX ? INT_MAX : int(ms);
    }

    int epollFd;
    int wakeUpFd;
    bool valid = false;
    std::atomic<bool> wakeUpPending { false };
    std::atomic<bool> interrupted { false };
    NotifierTable notifiers;
    TimerHeap timers;
    quint64 timerRound = 0;
};

EpollEventDispatcher::EpollEventDispatcher(QObject* parent)
    : QAbstractEventDispatcher(parent)
    , m_private(std::make_unique<Private>())
{
}

EpollEventDispatcher::~EpollEventDispatcher() = default;

bool EpollEventDispatcher::isValid() const
{
    return m_private->valid;
}

bool EpollEventDispatcher::processEvents(QEventLoop::ProcessEventsFlags flags)
{
    Private& d = *m_private;
    d.interrupted.store(false, std::memory_order_relaxed);

    emit awake();
    // Events posted from now on (by this or another thread) call wakeUp(), which makes the
    // wait below return at once; so unlike Qt's private canWait flag we need no look into
    // the posted-event queue to decide whether blocking is safe.
    QCoreApplication::sendPostedEvents();

    const bool includeTimers = !flags.testFlag(QEventLoop::X11ExcludeTimers);
    const bool includeNotifiers = !flags.testFlag(QEventLoop::ExcludeSocketNotifiers);
    const bool mayBlock = flags.testFlag(QEventLoop::WaitForMoreEvents)
        && !d.interrupted.load(std::memory_order_relaxed);

    if (mayBlock) {
        emit aboutToBlock();
    }
    if (d.interrupted.load(std::memory_order_relaxed)) {
        return false;
    }

    int handled = 0;
    const int timeoutMs = d.waitTimeoutMs(mayBlock, includeTimers, includeNotifiers);

    if (includeNotifiers) {
        d.notifiers.applyChanges();
        epoll_event events[kMaxEventsPerWait];
        const int ready = ::epoll_wait(d.epollFd, events, kMaxEventsPerWait, timeoutMs);
        if (ready < 0 && errno != EINTR) {
            qWarning("EpollEventDispatcher: epoll_wait failed: %s", std::strerror(errno));
        }

        // Snapshot first, deliver second: callbacks may change the table while we deliver,
        // and a nested event loop may run another round; both are caught by current().
        NotifierTable::ActivationList activations;
        for (int i = 0; i < ready; ++i) {
            if (events[i].data.u64 == kWakeUpTag) {
                d.drainWakeUp();
                ++handled;
            } else {
                d.notifiers.collect(int(events[i].data.u64), events[i].events, activations);
            }
        }
        d.notifiers.collectAlwaysReady(activations);

        for (const NotifierTable::Activation& activation : activations) {
            QSocketNotifier* notifier = d.notifiers.current(activation);
            if (!notifier) {
                continue; // disabled, deleted or replaced earlier in this round
            }
            QEvent event(QEvent::SockAct);
            QCoreApplication::sendEvent(notifier, &event);
            ++handled;
        }
    } else {
        // Only the wake-up descriptor: ready sockets stay pending in the kernel.
        pollfd pfd { d.wakeUpFd, POLLIN, 0 };
        if (::poll(&pfd, 1, timeoutMs) > 0) {
            d.drainWakeUp();
            ++handled;
        }
    }

    if (includeTimers && !d.timers.isEmpty()) {
        const qint64 now = monotonicNowNs();
        const quint64 round = ++d.timerRound;
        while (const std::optional<TimerHeap::Due> due = d.timers.takeDue(now, round)) {
            QTimerEvent event(due->id);
            QCoreApplication::sendEvent(due->object, &event);
            d.timers.finishDelivery(*due);
            if (due->counts) {
                ++handled;
            }
        }
    }

    return handled > 0;
}

void EpollEventDispatcher::registerSocketNotifier(QSocketNotifier* notifier)
{
    Q_ASSERT(notifier);
    if (!onThreadOf(notifier, this)) {
        qWarning("EpollEventDispatcher: socket notifiers cannot be enabled from another thread");
        return;
    }
    m_private->notifiers.add(notifier);
}

void EpollEventDispatcher::unregisterSocketNotifier(QSocketNotifier* notifier)
{
    Q_ASSERT(notifier);
    if (!onThreadOf(notifier, this)) {
        qWarning("EpollEventDispatcher: socket notifiers cannot be disabled from another thread");
        return;
    }
    m_private->notifiers.remove(notifier);
}

void EpollEventDispatcher::registerTimer(
    int timerId, qint64 interval, Qt::TimerType timerType, QObject* object)
{
    if (timerId < 1 || interval < 0 || !object) {
        qWarning("EpollEventDispatcher::registerTimer: invalid arguments");
        return;
    }
    if (!onThreadOf(object, this)) {
        qWarning("EpollEventDispatcher::registerTimer: timers cannot be started from another "
                 "thread");
        return;
    }
    m_private->timers.registerTimer(timerId, interval, timerType, object, monotonicNowNs());
}

bool EpollEventDispatcher::unregisterTimer(int timerId)
{
    if (timerId < 1) {
        qWarning("EpollEventDispatcher::unregisterTimer: invalid argument");
        return false;
    }
    if (thread() != QThread::currentThread()) {
        qWarning("EpollEventDispatcher::unregisterTimer: timers cannot be stopped from another "
                 "thread");
        return false;
    }
    return m_private->timers.unregisterTimer(timerId);
}

bool EpollEventDispatcher::unregisterTimers(QObject* object)
{
    if (!object) {
        qWarning("EpollEventDispatcher::unregisterTimers: invalid argument");
        return false;
    }
    if (!onThreadOf(object, this)) {
        qWarning("EpollEventDispatcher::unregisterTimers: timers cannot be stopped from another "
                 "thread");
        return false;
    }
    return m_private->timers.unregisterTimers(object);
}

QList<QAbstractEventDispatcher::TimerInfo> EpollEventDispatcher::registeredTimers(
    QObject* object) const
{
    if (!object) {
        qWarning("EpollEventDispatcher::registeredTimers: invalid argument");
        return {};
    }
    return m_private->timers.registeredTimers(object);
}

int EpollEventDispatcher::remainingTime(int timerId)
{
    if (timerId < 1) {
        qWarning("EpollEventDispatcher::remainingTime: invalid argument");
        return -1;
    }
    return m_private->timers.remainingTime(timerId, monotonicNowNs());
}

void EpollEventDispatcher::wakeUp()
{
    Private& d = *m_private;
    // One write per sleep is enough: further wake-ups until the loop drains the eventfd would
    // only add system calls (a burst of cross-thread posts costs one write).
    if (!d.wakeUpPending.exchange(true, std::memory_order_acq_rel)) {
        int rc = 0;
        do {
            rc = ::eventfd_write(d.wakeUpFd, 1);
        } while (rc != 0 && errno == EINTR);
    }
}

void EpollEventDispatcher::interrupt()
{
    m_private->interrupted.store(true, std::memory_order_relaxed);
    wakeUp();
}

} // namespace parley::server
