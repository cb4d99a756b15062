// Timers on EpollEventDispatcher, end to end through QTimer/QObject::startTimer: precise,
// coarse, very coarse and zero-interval timers, single shots, bookkeeping (registeredTimers,
// remainingTime, unregisterTimers) and re-entrancy. Timing assertions are about order and
// "not early", with generous upper bounds, never about speed.
#include "eventlooptesthelpers.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QSocketNotifier>
#include <QTimer>
#include <QTimerEvent>
#include <functional>
#include <gtest/gtest.h>
#include <vector>

namespace parley::server::test {
namespace {

class TimerRecorder : public QObject {
public:
    std::function<void(int)> onTimer;
    std::vector<int> fired;

protected:
    void timerEvent(QTimerEvent* event) override
    {
        fired.push_back(event->timerId());
        if (onTimer) {
            onTimer(event->timerId());
        }
    }
};

TEST(EpollEventDispatcherTimers, PreciseTimersFireInOrderAndNotEarly)
{
    runOnEpollThread([] {
        QElapsedTimer clock;
        clock.start();
        std::vector<int> order;
        std::vector<qint64> elapsed;
        for (const int interval : { 60, 20, 40 }) {
            QTimer::singleShot(interval, Qt::PreciseTimer, [&, interval] {
                order.push_back(interval);
                elapsed.push_back(clock.nsecsElapsed());
            });
        }
        ASSERT_TRUE(waitUntil([&] { return order.size() == 3; }));
        EXPECT_EQ(order, (std::vector<int> { 20, 40, 60 }));
        EXPECT_GE(elapsed[0], 20'000'000);
        EXPECT_GE(elapsed[1], 40'000'000);
        EXPECT_GE(elapsed[2], 60'000'000);
    });
}

TEST(EpollEventDispatcherTimers, RepeatingPreciseTimerKeepsItsPeriod)
{
    runOnEpollThread([] {
        QTimer timer;
        timer.setTimerType(Qt::PreciseTimer);
        timer.setInterval(15);
        QElapsedTimer clock;
        std::vector<qint64> at;
        QObject::connect(&timer, &QTimer::timeout, [&] { at.push_back(clock.nsecsElapsed()); });
        clock.start();
        timer.start();
        ASSERT_TRUE(waitUntil([&] { return at.size() == 5; }));
        timer.stop();
        for (std::size_t i = 0; i < at.size(); ++i) {
            // Firing n is never before n * interval after start.
            EXPECT_GE(at[i], qint64(i + 1) * 15'000'000) << "firing " << i;
        }
    });
}

TEST(EpollEventDispatcherTimers, CoarseTimerFiresWithinFivePercentEarly)
{
    runOnEpollThread([] {
        QElapsedTimer clock;
        clock.start();
        qint64 firedAt = -1;
        QTimer::singleShot(200, Qt::CoarseTimer, [&] { firedAt = clock.nsecsElapsed(); });
        ASSERT_TRUE(waitUntil([&] { return firedAt >= 0; }));
        EXPECT_GE(firedAt, 190'000'000); // Qt's rule: at most 5% early
        EXPECT_LT(firedAt, 2'000'000'000);
    });
}

TEST(EpollEventDispatcherTimers, VeryCoarseTimerHasSecondGranularity)
{
    runOnEpollThread([] {
        QElapsedTimer clock;
        clock.start();
        qint64 firedAt = -1;
        QTimer::singleShot(1000, Qt::VeryCoarseTimer, [&] { firedAt = clock.nsecsElapsed(); });
        ASSERT_TRUE(waitUntil([&] { return firedAt >= 0; }));
        // Deadline on a whole second of the clock: up to half a second either way.
        EXPECT_GE(firedAt, 500'000'000);
        EXPECT_LT(firedAt, 3'000'000'000);
    });
}

TEST(EpollEventDispatcherTimers, ZeroTimerRunsEveryRoundWithoutStarvingSockets)
{
    runOnEpollThread([] {
        QTimer idle;
        idle.setInterval(0);
        int idleRuns = 0;
        QObject::connect(&idle, &QTimer::timeout, [&] { ++idleRuns; });
        idle.start();

        SocketPair pair;
        QSocketNotifier notifier(pair.first(), QSocketNotifier::Read);
        int reads = 0;
        QObject::connect(&notifier, &QSocketNotifier::activated, [&] {
            ++reads;
            pair.drain();
        });
        QTimer::singleShot(0, [&] { pair.poke(); });

        ASSERT_TRUE(waitUntil([&] { return idleRuns >= 100 && reads == 1; }));
        // Zero timers fire once per round, so a blocking round is never requested: every
        // processEvents() call returns promptly and the socket still gets through.
        const int before = idleRuns;
        dispatcher()->processEvents(QEventLoop::WaitForMoreEvents);
        EXPECT_EQ(idleRuns, before + 1);
    });
}

TEST(EpollEventDispatcherTimers, SingleShotFiresExactlyOnce)
{
    runOnEpollThread([] {
        QTimer timer;
        timer.setSingleShot(true);
        timer.setInterval(10);
        int shots = 0;
        QObject::connect(&timer, &QTimer::timeout, [&] { ++shots; });
        timer.start();
        bool later = false;
        QTimer::singleShot(80, [&] { later = true; });
        ASSERT_TRUE(waitUntil([&] { return later; }));
        EXPECT_EQ(shots, 1);
        EXPECT_FALSE(timer.isActive());
    });
}

TEST(EpollEventDispatcherTimers, RegisteredTimersAndRemainingTime)
{
    runOnEpollThread([] {
        TimerRecorder owner;
        const int a = owner.startTimer(500, Qt::PreciseTimer);
        const int b = owner.startTimer(30'000, Qt::VeryCoarseTimer);
        const int c = owner.startTimer(250, Qt::CoarseTimer);
        const auto infos = dispatcher()->registeredTimers(&owner);
        ASSERT_EQ(infos.size(), 3);
        for (const auto& info : infos) {
            if (info.timerId == a) {
                EXPECT_EQ(info.interval, 500);
                EXPECT_EQ(info.timerType, Qt::PreciseTimer);
            } else if (info.timerId == b) {
                EXPECT_EQ(info.interval, 30'000);
                EXPECT_EQ(info.timerType, Qt::VeryCoarseTimer);
            } else {
                EXPECT_EQ(info.timerId, c);
                EXPECT_EQ(info.interval, 250);
                EXPECT_EQ(info.timerType, Qt::CoarseTimer);
            }
        }
        const int left = dispatcher()->remainingTime(a);
        EXPECT_GT(left, 0);
        EXPECT_LE(left, 500);
        EXPECT_GT(dispatcher()->remainingTime(b), 28'000);

        owner.killTimer(c);
        EXPECT_EQ(dispatcher()->remainingTime(c), -1);
        EXPECT_EQ(dispatcher()->registeredTimers(&owner).size(), 2);

        EXPECT_TRUE(dispatcher()->unregisterTimers(&owner));
        EXPECT_TRUE(dispatcher()->registeredTimers(&owner).isEmpty());
        EXPECT_EQ(dispatcher()->remainingTime(a), -1);
        EXPECT_FALSE(dispatcher()->unregisterTimers(&owner));
    });
}

TEST(EpollEventDispatcherTimers, TimerKilledByAnEarlierTimerInTheSameRoundDoesNotFire)
{
    runOnEpollThread([] {
        TimerRecorder owner;
        const int first = owner.startTimer(20, Qt::PreciseTimer);
        const int second = owner.startTimer(20, Qt::PreciseTimer); // same deadline, later
        owner.onTimer = [&](int id) {
            if (id == first) {
                owner.killTimer(first);
                owner.killTimer(second);
            }
        };
        ASSERT_TRUE(waitUntil([&] { return !owner.fired.empty(); }));
        bool later = false;
        QTimer::singleShot(60, [&] { later = true; });
        ASSERT_TRUE(waitUntil([&] { return later; }));
        EXPECT_EQ(owner.fired, (std::vector<int> { first }));
    });
}

TEST(EpollEventDispatcherTimers, ObjectDeletedFromItsOwnTimerEvent)
{
    runOnEpollThread([] {
        auto* owner = new TimerRecorder;
        const int id = owner->startTimer(5);
        owner->startTimer(5); // a second due timer of the same object in the same round
        int calls = 0;
        owner->onTimer = [&](int) {
            ++calls;
            delete owner; // ~QObject unregisters all its timers
        };
        bool later = false;
        QTimer::singleShot(50, [&] { later = true; });
        ASSERT_TRUE(waitUntil([&] { return later; }));
        EXPECT_EQ(calls, 1);
        EXPECT_EQ(dispatcher()->remainingTime(id), -1);
    });
}

TEST(EpollEventDispatcherTimers, NestedLoopInTimerEventDoesNotRefireThatTimer)
{
    runOnEpollThread([] {
        TimerRecorder owner;
        const int outer = owner.startTimer(0);
        int inner = 0;
        bool nestedDone = false;
        std::vector<int> firedUntilNestedLoopEnded;
        owner.onTimer = [&](int id) {
            if (id == outer && !nestedDone) {
                // Qt's rule: a timer is not delivered again while its event is being handled.
                inner = owner.startTimer(5);
                QEventLoop loop;
                QTimer::singleShot(40, &loop, &QEventLoop::quit);
                loop.exec();
                firedUntilNestedLoopEnded = owner.fired;
                nestedDone = true;
            }
        };
        ASSERT_TRUE(waitUntil([&] { return nestedDone; }));
        ASSERT_GE(firedUntilNestedLoopEnded.size(), 3u);
        EXPECT_EQ(firedUntilNestedLoopEnded.front(), outer);
        for (std::size_t i = 1; i < firedUntilNestedLoopEnded.size(); ++i) {
            EXPECT_EQ(firedUntilNestedLoopEnded[i], inner)
                << "the zero timer was re-entered from the nested loop";
        }
    });
}

} // namespace
} // namespace parley::server::test
