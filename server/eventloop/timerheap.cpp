#include "timerheap_p.h"

#include <QObject>
#include <algorithm>
#include <limits>

namespace parley::server {

namespace {

constexpr qint64 kNsPerMs = 1'000'000;
constexpr qint64 kNsPerSecond = 1'000'000'000;

// Coarse timers with an interval up to this are handled as precise: 5% of 20 ms is under 1 ms,
// below the resolution we wait with anyway.
constexpr qint64 kCoarseMinMs = 20;
// From this interval on, 5% is a second or more: whole-second scheduling is as good.
constexpr qint64 kCoarseMaxMs = 20'000;

qint64 roundToSecond(qint64 ns)
{
    return (ns + kNsPerSecond / 2) / kNsPerSecond * kNsPerSecond;
}

} // namespace

struct TimerHeap::Timer {
    int id = 0;
    qint64 intervalMs = 0; // as registered (reported back by registeredTimers())
    qint64 periodNs = 0; // what scheduling uses (whole seconds for very coarse timers)
    Qt::TimerType type = Qt::PreciseTimer; // as registered
    Qt::TimerType effectiveType = Qt::PreciseTimer;
    QObject* object = nullptr;
    qint64 deadlineNs = 0;
    quint64 sequence = 0; // tie-break: among equal deadlines, the earlier armed fires first
    quint64 serial = 0; // distinguishes a re-registered id from the timer it replaced
    quint64 lastRound = 0; // the activation round it last fired in (0 = never)
    std::size_t heapIndex = kParked;

    static constexpr std::size_t kParked = std::numeric_limits<std::size_t>::max();
};

TimerHeap::TimerHeap() = default;
TimerHeap::~TimerHeap() = default;

qint64 TimerHeap::coarseDeadline(qint64 targetNs, qint64 intervalMs)
{
    // Pick the roundest millisecond within +-5% of the interval around the target. Larger
    // boundaries are multiples of the smaller ones, so the first hit is the roundest, and
    // timers whose windows overlap tend to land on the same boundary and share a wake-up.
    static constexpr qint64 kBoundariesMs[] = { 1000, 500, 250, 200, 100, 50, 25, 10, 5, 2 };
    const qint64 slackNs = intervalMs * kNsPerMs / 20;
    for (const qint64 boundaryMs : kBoundariesMs) {
        const qint64 boundaryNs = boundaryMs * kNsPerMs;
        const qint64 candidate = (targetNs + boundaryNs / 2) / boundaryNs * boundaryNs;
        if (candidate >= targetNs - slackNs && candidate <= targetNs + slackNs) {
            return candidate;
        }
    }
    return targetNs;
}

void TimerHeap::scheduleNext(Timer& timer, qint64 nowNs)
{
    switch (timer.effectiveType) {
    case Qt::PreciseTimer:
        timer.deadlineNs += timer.periodNs;
        if (timer.deadlineNs < nowNs) {
            // Fell behind (a long callback, a suspended machine): skip the missed firings.
            timer.deadlineNs = nowNs + timer.periodNs;
        }
        break;
    case Qt::CoarseTimer: {
        qint64 target = timer.deadlineNs + timer.periodNs;
        if (target < nowNs) {
            target = nowNs + timer.periodNs;
        }
        timer.deadlineNs = coarseDeadline(target, timer.intervalMs);
        if (timer.deadlineNs < nowNs) {
            timer.deadlineNs += timer.periodNs;
        }
        break;
    }
    case Qt::VeryCoarseTimer:
        timer.deadlineNs += timer.periodNs;
        if (timer.deadlineNs <= nowNs) {
            timer.deadlineNs = roundToSecond(nowNs) + timer.periodNs;
        }
        break;
    }
}

void TimerHeap::registerTimer(
    int id, qint64 intervalMs, Qt::TimerType type, QObject* object, qint64 nowNs)
{
    if (m_timers.count(id) != 0) {
        // Qt never reuses a live id; keep the heap consistent if a caller does anyway.
        unregisterTimer(id);
    }
    auto timer = std::make_unique<Timer>();
    timer->id = id;
    timer->intervalMs = std::max<qint64>(0, intervalMs);
    timer->type = type;
    timer->object = object;
    timer->serial = ++m_serial;

    Qt::TimerType effective = type;
    if (timer->intervalMs == 0) {
        effective = Qt::PreciseTimer;
    } else if (type == Qt::CoarseTimer) {
        if (timer->intervalMs <= kCoarseMinMs) {
            effective = Qt::PreciseTimer;
        } else if (timer->intervalMs >= kCoarseMaxMs) {
            effective = Qt::VeryCoarseTimer;
        }
    }
    timer->effectiveType = effective;

    switch (effective) {
    case Qt::PreciseTimer:
        timer->periodNs = timer->intervalMs * kNsPerMs;
        timer->deadlineNs = nowNs + timer->periodNs;
        break;
    case Qt::CoarseTimer:
        timer->periodNs = timer->intervalMs * kNsPerMs;
        timer->deadlineNs = coarseDeadline(nowNs + timer->periodNs, timer->intervalMs);
        break;
    case Qt::VeryCoarseTimer: {
        const qint64 seconds = std::max<qint64>(1, (timer->intervalMs + 500) / 1000);
        timer->periodNs = seconds * kNsPerSecond;
        timer->deadlineNs = roundToSecond(nowNs) + timer->periodNs;
        break;
    }
    }

    Timer* raw = timer.get();
    m_timers.emplace(id, std::move(timer));
    m_byObject.emplace(object, id);
    push(raw);
}

bool TimerHeap::unregisterTimer(int id)
{
    const auto it = m_timers.find(id);
    if (it == m_timers.end()) {
        return false;
    }
    Timer* timer = it->second.get();
    removeFromHeap(timer);
    forgetObjectTimer(timer->object, id);
    m_timers.erase(it);
    return true;
}

bool TimerHeap::unregisterTimers(QObject* object)
{
    auto [first, last] = m_byObject.equal_range(object);
    if (first == last) {
        return false;
    }
    for (auto it = first; it != last; ++it) {
        const auto timerIt = m_timers.find(it->second);
        if (timerIt != m_timers.end()) {
            removeFromHeap(timerIt->second.get());
            m_timers.erase(timerIt);
        }
    }
    m_byObject.erase(first, last);
    return true;
}

QList<QAbstractEventDispatcher::TimerInfo> TimerHeap::registeredTimers(QObject* object) const
{
    QList<QAbstractEventDispatcher::TimerInfo> result;
    auto [first, last] = m_byObject.equal_range(object);
    for (auto it = first; it != last; ++it) {
        const auto timerIt = m_timers.find(it->second);
        if (timerIt != m_timers.end()) {
            const Timer& t = *timerIt->second;
            result.append({ t.id,
                int(std::min<qint64>(t.intervalMs, std::numeric_limits<int>::max())), t.type });
        }
    }
    // The multimap has no stable order; callers (QObject::moveToThread) re-register in list
    // order, and the ids tell them apart anyway, but a stable answer is easier to reason about.
    std::sort(result.begin(), result.end(),
        [](const auto& a, const auto& b) { return a.timerId < b.timerId; });
    return result;
}

int TimerHeap::remainingTime(int id, qint64 nowNs) const
{
    const auto it = m_timers.find(id);
    if (it == m_timers.end()) {
        return -1;
    }
    const qint64 left = it->second->deadlineNs - nowNs;
    if (left <= 0) {
        return 0;
    }
    const qint64 ms = (left + kNsPerMs - 1) / kNsPerMs;
    return int(std::min<qint64>(ms, std::numeric_limits<int>::max()));
}

std::optional<qint64> TimerHeap::nextDeadline() const
{
    if (m_heap.empty()) {
        return std::nullopt;
    }
    return m_heap.front()->deadlineNs;
}

std::optional<TimerHeap::Due> TimerHeap::takeDue(qint64 nowNs, quint64 round)
{
    if (m_heap.empty()) {
        return std::nullopt;
    }
    Timer* top = m_heap.front();
    // Ordering by (deadline, sequence) puts every timer that was due when the round started
    // before any timer re-armed during it, so meeting a re-armed one means the round is done.
    if (top->deadlineNs > nowNs || top->lastRound == round) {
        return std::nullopt;
    }
    removeFromHeap(top);
    top->lastRound = round;
    scheduleNext(*top, nowNs);
    return Due { top->id, top->object, top->serial, top->periodNs > 0 };
}

void TimerHeap::finishDelivery(const Due& due)
{
    const auto it = m_timers.find(due.id);
    if (it == m_timers.end() || it->second->serial != due.serial
        || it->second->heapIndex != Timer::kParked) {
        return; // killed (and maybe its id reused) while its event was being delivered
    }
    push(it->second.get());
}

void TimerHeap::forgetObjectTimer(QObject* object, int id)
{
    auto [first, last] = m_byObject.equal_range(object);
    for (auto it = first; it != last; ++it) {
        if (it->second == id) {
            m_byObject.erase(it);
            return;
        }
    }
}

bool TimerHeap::less(const Timer* a, const Timer* b) const
{
    if (a->deadlineNs != b->deadlineNs) {
        return a->deadlineNs < b->deadlineNs;
    }
    return a->sequence < b->sequence;
}

void TimerHeap::place(std::size_t index, Timer* timer)
{
    m_heap[index] = timer;
    timer->heapIndex = index;
}

void TimerHeap::push(Timer* timer)
{
    timer->sequence = ++m_sequence;
    m_heap.push_back(timer);
    timer->heapIndex = m_heap.size() - 1;
    siftUp(timer->heapIndex);
}

void TimerHeap::removeFromHeap(Timer* timer)
{
    const std::size_t index = timer->heapIndex;
    if (index == Timer::kParked) {
        return;
    }
    timer->heapIndex = Timer::kParked;
    Timer* last = m_heap.back();
    m_heap.pop_back();
    if (last == timer) {
        return;
    }
    place(index, last);
    siftUp(index);
    siftDown(last->heapIndex);
}

void TimerHeap::siftUp(std::size_t index)
{
    Timer* timer = m_heap[index];
    while (index > 0) {
        const std::size_t parent = (index - 1) / 2;
        if (!less(timer, m_heap[parent])) {
            break;
        }
        place(index, m_heap[parent]);
        index = parent;
    }
    place(index, timer);
}

void TimerHeap::siftDown(std::size_t index)
{
    Timer* timer = m_heap[index];
    const std::size_t count = m_heap.size();
    while (true) {
        std::size_t child = 2 * index + 1;
        if (child >= count) {
            break;
        }
        if (child + 1 < count && less(m_heap[child + 1], m_heap[child])) {
            ++child;
        }
        if (!less(m_heap[child], timer)) {
            break;
        }
        place(index, m_heap[child]);
        index = child;
    }
    place(index, timer);
}

} // namespace parley::server
