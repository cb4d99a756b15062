// Private to server/eventloop: the timer bookkeeping of EpollEventDispatcher, kept apart from the
// dispatcher so that its scheduling rules can be tested with an injected clock (every function
// takes "now" as a monotonic time in nanoseconds; the heap never reads a clock itself).
#pragma once

#include <QAbstractEventDispatcher>
#include <QList>
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

class QObject;

namespace parley::server {

//! A min-heap of Qt timers ordered by (deadline, insertion sequence).
//!
//! Scheduling rules (the same contract as Qt's own dispatchers, implemented independently):
//! - Qt::PreciseTimer: fires at registration + interval, then every interval after the previous
//!   deadline; never early. If the loop fell behind, the next deadline is now + interval (no
//!   burst of catch-up firings).
//! - Qt::CoarseTimer: may fire up to 5% of its interval early or late; the deadline is moved
//!   inside that window to the "roundest" millisecond (a multiple of 1000, 500, 250, 200, 100,
//!   50, 25, 10, 5 or 2 ms) so that timers of a busy thread coalesce into fewer wake-ups.
//!   Intervals up to 20 ms are treated as precise, intervals of 20 s or more as very coarse.
//! - Qt::VeryCoarseTimer: whole-second granularity: the interval is rounded to the nearest
//!   second (at least one) and deadlines fall on whole seconds of the monotonic clock.
//! - Interval 0 (any type): due on every activation round ("idle" timers).
//!
//! Delivery protocol (see EpollEventDispatcher::activateTimers): takeDue() pops the next due
//! timer, computes its next deadline and "parks" it (it is not in the heap while its event is
//! delivered, so a nested event loop started from timerEvent() cannot fire it again, and cannot
//! spin on it either); finishDelivery() puts it back unless it was unregistered meanwhile.
//! A timer fires at most once per round, which stops zero-interval timers from looping forever.
class TimerHeap {
public:
    //! A timer handed out by takeDue(); pass it back to finishDelivery().
    struct Due {
        int id = 0;
        QObject* object = nullptr;
        quint64 serial = 0;
        bool counts = false; //!< false for zero-interval timers (Qt does not count them as work)
    };

    TimerHeap();
    ~TimerHeap();
    TimerHeap(const TimerHeap&) = delete;
    TimerHeap& operator=(const TimerHeap&) = delete;

    void registerTimer(
        int id, qint64 intervalMs, Qt::TimerType type, QObject* object, qint64 nowNs);
    //! Returns false when the id is unknown.
    bool unregisterTimer(int id);
    //! Returns false when the object had no timers.
    bool unregisterTimers(QObject* object);
    QList<QAbstractEventDispatcher::TimerInfo> registeredTimers(QObject* object) const;
    //! Milliseconds until the timer is due (rounded up), 0 when overdue, -1 when unknown.
    int remainingTime(int id, qint64 nowNs) const;

    //! The earliest deadline among armed (not parked) timers.
    std::optional<qint64> nextDeadline() const;
    //! Pops the earliest timer that is due at nowNs and has not fired in this round yet.
    std::optional<Due> takeDue(qint64 nowNs, quint64 round);
    //! Re-arms a timer handed out by takeDue() unless it was unregistered meanwhile.
    void finishDelivery(const Due& due);

    std::size_t size() const { return m_timers.size(); }
    bool isEmpty() const { return m_timers.empty(); }

    //! The deadline a coarse timer of intervalMs gets when its exact deadline is targetNs: the
    //! roundest millisecond within +-5% of the interval. Public so that tests can check the rule.
    static qint64 coarseDeadline(qint64 targetNs, qint64 intervalMs);

private:
    struct Timer;

    void push(Timer* timer);
    void removeFromHeap(Timer* timer);
    void siftUp(std::size_t index);
    void siftDown(std::size_t index);
    bool less(const Timer* a, const Timer* b) const;
    void place(std::size_t index, Timer* timer);
    static void scheduleNext(Timer& timer, qint64 nowNs);
    void forgetObjectTimer(QObject* object, int id);

    std::unordered_map<int, std::unique_ptr<Timer>> m_timers;
    std::unordered_multimap<QObject*, int> m_byObject;
    std::vector<Timer*> m_heap;
    quint64 m_sequence = 0;
    quint64 m_serial = 0;
};

} // namespace parley::server
