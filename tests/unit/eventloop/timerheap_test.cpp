// TimerHeap with an injected clock: the scheduling rules (order, precise never early, coarse
// within 5% and aligned, very coarse on whole seconds, zero timers once per round) and the
// delivery protocol (parking, killing during delivery, id reuse), checked exactly.
#include "timerheap_p.h"

#include <QObject>
#include <algorithm>
#include <gtest/gtest.h>
#include <map>
#include <random>
#include <vector>

namespace parley::server {
namespace {

constexpr qint64 ms(qint64 v)
{
    return v * 1'000'000;
}

std::vector<int> fireRound(TimerHeap& heap, qint64 now, quint64 round)
{
    std::vector<int> fired;
    while (auto due = heap.takeDue(now, round)) {
        fired.push_back(due->id);
        heap.finishDelivery(*due);
    }
    return fired;
}

TEST(TimerHeap, PreciseTimersFireInDeadlineOrderAndNeverEarly)
{
    QObject owner;
    TimerHeap heap;
    const qint64 t0 = ms(5'000);
    heap.registerTimer(1, 30, Qt::PreciseTimer, &owner, t0);
    heap.registerTimer(2, 10, Qt::PreciseTimer, &owner, t0);
    heap.registerTimer(3, 20, Qt::PreciseTimer, &owner, t0);

    EXPECT_EQ(heap.nextDeadline(), t0 + ms(10));
    EXPECT_TRUE(fireRound(heap, t0 + ms(10) - 1, 1).empty()); // 1 ns early: nothing
    EXPECT_EQ(fireRound(heap, t0 + ms(30), 2), (std::vector<int> { 2, 3, 1 }));

    // Late by 20 ms: timer 2 skips its missed firings instead of bursting (now + interval).
    EXPECT_EQ(heap.remainingTime(2, t0 + ms(30)), 10);
    EXPECT_EQ(heap.remainingTime(3, t0 + ms(30)), 10); // 20 + 20 = 40
    EXPECT_EQ(heap.remainingTime(1, t0 + ms(30)), 30);
}

TEST(TimerHeap, ZeroIntervalTimerFiresOncePerRound)
{
    QObject owner;
    TimerHeap heap;
    heap.registerTimer(7, 0, Qt::CoarseTimer, &owner, ms(100));
    heap.registerTimer(8, 0, Qt::PreciseTimer, &owner, ms(100));
    EXPECT_EQ(fireRound(heap, ms(100), 1), (std::vector<int> { 7, 8 }));
    EXPECT_EQ(fireRound(heap, ms(100), 2), (std::vector<int> { 7, 8 }));
    EXPECT_EQ(heap.remainingTime(7, ms(100)), 0);
}

TEST(TimerHeap, CoarseDeadlineStaysWithinFivePercentAndPicksRoundValues)
{
    EXPECT_EQ(TimerHeap::coarseDeadline(ms(2'234), 1'000), ms(2'250));
    EXPECT_EQ(TimerHeap::coarseDeadline(ms(1'990), 1'000), ms(2'000));
    EXPECT_EQ(TimerHeap::coarseDeadline(ms(1'234) + 500'000, 100), ms(1'230));

    std::mt19937_64 rng(42);
    std::uniform_int_distribution<qint64> target(0, ms(100'000));
    std::uniform_int_distribution<qint64> interval(21, 19'999);
    for (int i = 0; i < 20'000; ++i) {
        const qint64 t = target(rng);
        const qint64 iv = interval(rng);
        const qint64 d = TimerHeap::coarseDeadline(t, iv);
        ASSERT_LE(std::abs(d - t), iv * 1'000'000 / 20) << "target " << t << " interval " << iv;
    }
}

TEST(TimerHeap, CoarseTimersWithOverlappingWindowsShareAWakeUp)
{
    QObject owner;
    TimerHeap heap;
    heap.registerTimer(1, 1'000, Qt::CoarseTimer, &owner, ms(990));
    heap.registerTimer(2, 1'000, Qt::CoarseTimer, &owner, ms(1'010));
    EXPECT_EQ(heap.nextDeadline(), ms(2'000));
    EXPECT_EQ(fireRound(heap, ms(2'000), 1), (std::vector<int> { 1, 2 }));
    EXPECT_EQ(heap.nextDeadline(), ms(3'000));
}

TEST(TimerHeap, ShortCoarseTimersArePreciseAndLongOnesVeryCoarse)
{
    QObject owner;
    TimerHeap heap;
    heap.registerTimer(1, 20, Qt::CoarseTimer, &owner, ms(1'003) + 7);
    EXPECT_EQ(heap.nextDeadline(), ms(1'023) + 7);
    heap.unregisterTimer(1);
    heap.registerTimer(2, 25'000, Qt::CoarseTimer, &owner, ms(1'300));
    EXPECT_EQ(heap.nextDeadline(), ms(26'000)); // round(1.3 s) + 25 s
    // registeredTimers() reports what was asked for, so moveToThread() re-registers it as is.
    const auto infos = heap.registeredTimers(&owner);
    ASSERT_EQ(infos.size(), 1);
    EXPECT_EQ(infos[0].interval, 25'000);
    EXPECT_EQ(infos[0].timerType, Qt::CoarseTimer);
}

TEST(TimerHeap, VeryCoarseTimersUseWholeSeconds)
{
    QObject owner;
    TimerHeap heap;
    heap.registerTimer(1, 2'400, Qt::VeryCoarseTimer, &owner, ms(1'300));
    EXPECT_EQ(heap.nextDeadline(), ms(3'000));
    heap.unregisterTimer(1);
    heap.registerTimer(2, 2'400, Qt::VeryCoarseTimer, &owner, ms(1'700));
    EXPECT_EQ(heap.nextDeadline(), ms(4'000));
    heap.unregisterTimer(2);
    heap.registerTimer(3, 100, Qt::VeryCoarseTimer, &owner, ms(1'300)); // at least one second
    EXPECT_EQ(heap.nextDeadline(), ms(2'000));
    EXPECT_EQ(fireRound(heap, ms(2'000), 1), (std::vector<int> { 3 }));
    EXPECT_EQ(heap.nextDeadline(), ms(3'000));
}

TEST(TimerHeap, RemainingTimeRoundsUpAndReportsUnknownIds)
{
    QObject owner;
    TimerHeap heap;
    heap.registerTimer(4, 100, Qt::PreciseTimer, &owner, ms(0));
    EXPECT_EQ(heap.remainingTime(4, ms(30) + 500'000), 70);
    EXPECT_EQ(heap.remainingTime(4, ms(250)), 0);
    EXPECT_EQ(heap.remainingTime(99, ms(0)), -1);
}

TEST(TimerHeap, TimerKilledDuringDeliveryIsNotRearmedEvenIfItsIdIsReused)
{
    QObject owner;
    TimerHeap heap;
    heap.registerTimer(5, 10, Qt::PreciseTimer, &owner, ms(0));
    auto due = heap.takeDue(ms(10), 1);
    ASSERT_TRUE(due.has_value());
    EXPECT_FALSE(heap.nextDeadline().has_value()); // parked while delivered
    EXPECT_EQ(heap.remainingTime(5, ms(10)), 10); // but known, with its next deadline

    ASSERT_TRUE(heap.unregisterTimer(5)); // killTimer() from inside timerEvent()
    heap.registerTimer(5, 50, Qt::PreciseTimer, &owner, ms(10)); // startTimer() got the same id
    heap.finishDelivery(*due);
    EXPECT_EQ(heap.size(), 1u);
    EXPECT_EQ(heap.nextDeadline(), ms(60));
    EXPECT_EQ(fireRound(heap, ms(60), 2), (std::vector<int> { 5 }));
    EXPECT_TRUE(fireRound(heap, ms(60), 3).empty());
}

TEST(TimerHeap, UnregisterTimersRemovesOnlyThatObjectsTimers)
{
    QObject a;
    QObject b;
    TimerHeap heap;
    heap.registerTimer(1, 10, Qt::PreciseTimer, &a, 0);
    heap.registerTimer(2, 20, Qt::CoarseTimer, &b, 0);
    heap.registerTimer(3, 30, Qt::PreciseTimer, &a, 0);
    EXPECT_EQ(heap.registeredTimers(&a).size(), 2);
    EXPECT_TRUE(heap.unregisterTimers(&a));
    EXPECT_FALSE(heap.unregisterTimers(&a));
    EXPECT_TRUE(heap.registeredTimers(&a).isEmpty());
    EXPECT_EQ(fireRound(heap, ms(100), 1), (std::vector<int> { 2 }));
}

TEST(TimerHeap, MatchesAReferenceModelUnderRandomChurn)
{
    // The heap against a sorted reference: random registrations and removals, then every
    // round must fire exactly the due timers in (deadline, arming order).
    QObject owner;
    TimerHeap heap;
    std::map<int, qint64> reference; // id -> deadline (precise timers only)
    std::mt19937 rng(7);
    qint64 now = 0;
    int nextId = 1;
    for (int step = 0; step < 3'000; ++step) {
        const int action = int(rng() % 3);
        if (action < 2) {
            const int iv = 1 + int(rng() % 50);
            heap.registerTimer(nextId, iv, Qt::PreciseTimer, &owner, now);
            reference[nextId] = now + ms(iv);
            ++nextId;
        } else if (!reference.empty()) {
            auto it = reference.begin();
            std::advance(it, rng() % reference.size());
            ASSERT_TRUE(heap.unregisterTimer(it->first));
            reference.erase(it);
        }
        now += ms(rng() % 5);
        std::vector<std::pair<qint64, int>> expected;
        for (const auto& [id, deadline] : reference) {
            if (deadline <= now) {
                expected.emplace_back(deadline, id);
            }
        }
        std::sort(expected.begin(), expected.end());
        std::vector<int> fired;
        std::vector<qint64> firedDeadlines;
        while (auto due = heap.takeDue(now, quint64(step) + 1)) {
            fired.push_back(due->id);
            firedDeadlines.push_back(reference.at(due->id));
            ASSERT_TRUE(heap.unregisterTimer(due->id)); // single-shot style
            heap.finishDelivery(*due);
            reference.erase(due->id);
        }
        ASSERT_TRUE(std::is_sorted(firedDeadlines.begin(), firedDeadlines.end()))
            << "step " << step;
        std::vector<int> expectedIds;
        for (const auto& e : expected) {
            expectedIds.push_back(e.second);
        }
        std::sort(fired.begin(), fired.end());
        std::sort(expectedIds.begin(), expectedIds.end());
        ASSERT_EQ(fired, expectedIds) << "step " << step;
        ASSERT_EQ(heap.size(), reference.size());
    }
}

} // namespace
} // namespace parley::server
