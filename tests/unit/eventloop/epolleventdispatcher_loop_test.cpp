// The loop side of EpollEventDispatcher: posted events, deleteLater, wakeUp and interrupt from
// other threads, the processEvents flags, and the awake/aboutToBlock signals.
#include "eventlooptesthelpers.h"

#include <QEvent>
#include <QEventLoop>
#include <QPointer>
#include <QSignalSpy>
#include <QThread>
#include <atomic>
#include <gtest/gtest.h>
#include <thread>

namespace parley::server::test {
namespace {

class EventRecorder : public QObject {
public:
    static constexpr QEvent::Type kType = QEvent::Type(QEvent::User + 17);
    int received = 0;

protected:
    bool event(QEvent* e) override
    {
        if (e->type() == kType) {
            ++received;
            return true;
        }
        return QObject::event(e);
    }
};

TEST(EpollEventDispatcherLoop, PostedEventsAreDeliveredByTheNextRound)
{
    runOnEpollThread([] {
        EventRecorder receiver;
        QCoreApplication::postEvent(&receiver, new QEvent(EventRecorder::kType));
        QCoreApplication::postEvent(&receiver, new QEvent(EventRecorder::kType));
        EXPECT_EQ(receiver.received, 0);
        // Would block forever if the posted events did not wake the dispatcher.
        dispatcher()->processEvents(QEventLoop::WaitForMoreEvents);
        EXPECT_EQ(receiver.received, 2);
    });
}

TEST(EpollEventDispatcherLoop, EventPostedWhileHandlingAnEventIsDeliveredWithoutExtraWakeUp)
{
    runOnEpollThread([] {
        int chain = 0;
        QObject relay;
        std::function<void()> step = [&] {
            if (++chain < 10) {
                QMetaObject::invokeMethod(&relay, step, Qt::QueuedConnection);
            } else {
                dispatcher()->interrupt(); // the last round must not wait for the watchdog
            }
        };
        QMetaObject::invokeMethod(&relay, step, Qt::QueuedConnection);
        // Blocking rounds only: an event posted from inside a handler must wake the dispatcher
        // (or be sent in the same round). A lost wake-up would block until the watchdog.
        bool stalled = false;
        QTimer::singleShot(5000, [&] { stalled = true; });
        while (chain < 10 && !stalled) {
            dispatcher()->processEvents(QEventLoop::WaitForMoreEvents);
        }
        EXPECT_FALSE(stalled);
        EXPECT_EQ(chain, 10);
    });
}

TEST(EpollEventDispatcherLoop, DeleteLaterDestroysTheObject)
{
    runOnEpollThread([] {
        auto* doomed = new QObject;
        QPointer<QObject> guard(doomed);
        QSignalSpy destroyed(doomed, &QObject::destroyed);
        doomed->deleteLater();
        EXPECT_FALSE(guard.isNull());
        ASSERT_TRUE(destroyed.wait(5000));
        EXPECT_TRUE(guard.isNull());
    });
}

TEST(EpollEventDispatcherLoop, InterruptFromAnotherThreadEndsABlockingProcessEvents)
{
    runOnEpollThread([] {
        auto* d = dispatcher();
        std::thread interrupter;
        // Interrupt only once the loop is about to block, so the wait really is interrupted.
        const auto connection = QObject::connect(d, &QAbstractEventDispatcher::aboutToBlock, [&] {
            if (!interrupter.joinable()) {
                interrupter = std::thread([d] { d->interrupt(); });
            }
        });
        // No timers, no sockets, nothing posted: only interrupt() can end this call.
        d->processEvents(QEventLoop::WaitForMoreEvents);
        QObject::disconnect(connection);
        ASSERT_TRUE(interrupter.joinable());
        interrupter.join();
    });
}

TEST(EpollEventDispatcherLoop, InterruptBeforeBlockingReturnsFalseWithoutWaiting)
{
    runOnEpollThread([] {
        auto* d = dispatcher();
        bool blocked = false;
        const auto connection = QObject::connect(d, &QAbstractEventDispatcher::aboutToBlock, [&] {
            d->interrupt(); // e.g. QEventLoop::exit() from a slot connected to aboutToBlock
            blocked = true;
        });
        EXPECT_FALSE(d->processEvents(QEventLoop::WaitForMoreEvents));
        EXPECT_TRUE(blocked);
        QObject::disconnect(connection);
    });
}

TEST(EpollEventDispatcherLoop, WakeUpFromAnotherThreadEndsABlockingProcessEvents)
{
    runOnEpollThread([] {
        auto* d = dispatcher();
        std::thread waker;
        const auto connection = QObject::connect(d, &QAbstractEventDispatcher::aboutToBlock, [&] {
            if (!waker.joinable()) {
                waker = std::thread([d] {
                    for (int i = 0; i < 100; ++i) {
                        d->wakeUp(); // a burst collapses into one eventfd write
                    }
                });
            }
        });
        EXPECT_TRUE(d->processEvents(QEventLoop::WaitForMoreEvents));
        QObject::disconnect(connection);
        waker.join();
        // The burst left at most one pending wake-up; it is consumed without blocking forever.
        d->processEvents(QEventLoop::AllEvents);
    });
}

TEST(EpollEventDispatcherLoop, QueuedCallsFromOtherThreadsAreDelivered)
{
    runOnEpollThread([] {
        QObject target;
        std::atomic<int> delivered { 0 };
        constexpr int kThreads = 4;
        constexpr int kCallsEach = 500;
        std::vector<std::thread> senders;
        for (int t = 0; t < kThreads; ++t) {
            senders.emplace_back([&] {
                for (int i = 0; i < kCallsEach; ++i) {
                    QMetaObject::invokeMethod(
                        &target, [&] { ++delivered; }, Qt::QueuedConnection);
                }
            });
        }
        const bool ok = waitUntil([&] { return delivered.load() == kThreads * kCallsEach; }, 10'000);
        for (auto& s : senders) {
            s.join();
        }
        EXPECT_TRUE(ok) << delivered.load();
    });
}

TEST(EpollEventDispatcherLoop, EventLoopQuitFromAnotherThread)
{
    runOnEpollThread([] {
        QEventLoop loop;
        std::thread quitter;
        const auto connection
            = QObject::connect(dispatcher(), &QAbstractEventDispatcher::aboutToBlock, [&] {
                  if (!quitter.joinable()) {
                      quitter = std::thread([&loop] { loop.quit(); }); // thread-safe in Qt 6
                  }
              });
        EXPECT_EQ(loop.exec(), 0);
        QObject::disconnect(connection);
        quitter.join();
    });
}

TEST(EpollEventDispatcherLoop, AwakeAndAboutToBlockAreEmitted)
{
    runOnEpollThread([] {
        auto* d = dispatcher();
        int awake = 0;
        int aboutToBlock = 0;
        QObject::connect(d, &QAbstractEventDispatcher::awake, [&] { ++awake; });
        QObject::connect(d, &QAbstractEventDispatcher::aboutToBlock, [&] { ++aboutToBlock; });
        d->processEvents(QEventLoop::AllEvents);
        EXPECT_EQ(awake, 1);
        EXPECT_EQ(aboutToBlock, 0) << "a non-blocking round announced blocking";
        bool fired = false;
        QTimer::singleShot(5, [&] { fired = true; });
        while (!fired) {
            d->processEvents(QEventLoop::WaitForMoreEvents);
        }
        EXPECT_GE(aboutToBlock, 1);
        EXPECT_GE(awake, 2);
    });
}

TEST(EpollEventDispatcherLoop, ExcludeTimersFlagSkipsTimers)
{
    runOnEpollThread([] {
        bool fired = false;
        QTimer::singleShot(0, Qt::PreciseTimer, [&] { fired = true; });
        // QTimer::singleShot(0) is a queued call, not a timer: use a real zero timer.
        QTimer zero;
        zero.setInterval(0);
        int zeroRuns = 0;
        QObject::connect(&zero, &QTimer::timeout, [&] { ++zeroRuns; });
        zero.start();
        dispatcher()->processEvents(QEventLoop::X11ExcludeTimers);
        EXPECT_TRUE(fired);
        EXPECT_EQ(zeroRuns, 0);
        dispatcher()->processEvents(QEventLoop::AllEvents);
        EXPECT_EQ(zeroRuns, 1);
    });
}

} // namespace
} // namespace parley::server::test
