// Socket notifiers on EpollEventDispatcher: delivery, read+write on one descriptor, and the
// re-entrancy cases (enable/disable/delete from callbacks, own and others').
#include "eventlooptesthelpers.h"

#include <QPointer>
#include <QSocketNotifier>
#include <gtest/gtest.h>
#include <memory>
#include <vector>

namespace parley::server::test {
namespace {

TEST(EpollEventDispatcherNotifiers, ReadNotifierFiresWhenDataArrivesAndStopsWhenDrained)
{
    runOnEpollThread([] {
        SocketPair pair;
        ASSERT_TRUE(pair.isValid());
        QSocketNotifier notifier(pair.first(), QSocketNotifier::Read);
        int activations = 0;
        int bytes = 0;
        QObject::connect(&notifier, &QSocketNotifier::activated, [&] {
            ++activations;
            bytes += pair.drain();
        });
        // Nothing to read: a non-blocking round activates nothing.
        dispatcher()->processEvents(QEventLoop::AllEvents);
        EXPECT_EQ(activations, 0);

        ASSERT_TRUE(pair.poke());
        ASSERT_TRUE(waitUntil([&] { return activations == 1; }));
        EXPECT_EQ(bytes, 1);
        dispatcher()->processEvents(QEventLoop::AllEvents);
        EXPECT_EQ(activations, 1) << "drained socket must not be reported again";
    });
}

TEST(EpollEventDispatcherNotifiers, ReadAndWriteNotifiersShareOneDescriptor)
{
    runOnEpollThread([] {
        SocketPair pair;
        QSocketNotifier reader(pair.first(), QSocketNotifier::Read);
        QSocketNotifier writer(pair.first(), QSocketNotifier::Write);
        int reads = 0;
        int writes = 0;
        QObject::connect(&reader, &QSocketNotifier::activated, [&] {
            ++reads;
            pair.drain();
        });
        QObject::connect(&writer, &QSocketNotifier::activated, [&] {
            ++writes;
            writer.setEnabled(false); // the usual "buffer flushed" pattern
        });

        ASSERT_TRUE(waitUntil([&] { return writes == 1; })); // a fresh socket is writable
        EXPECT_EQ(reads, 0);
        ASSERT_TRUE(pair.poke());
        ASSERT_TRUE(waitUntil([&] { return reads == 1; }));
        EXPECT_EQ(writes, 1) << "disabled write notifier fired again";

        writer.setEnabled(true);
        ASSERT_TRUE(waitUntil([&] { return writes == 2; }));
        reader.setEnabled(false);
        ASSERT_TRUE(pair.poke());
        writer.setEnabled(true);
        ASSERT_TRUE(waitUntil([&] { return writes == 3; }));
        EXPECT_EQ(reads, 1) << "disabled read notifier fired while the write one stayed on";
        reader.setEnabled(true);
        ASSERT_TRUE(waitUntil([&] { return reads == 2; }));
    });
}

TEST(EpollEventDispatcherNotifiers, NotifierDisabledInItsOwnCallbackStaysQuiet)
{
    runOnEpollThread([] {
        SocketPair pair;
        QSocketNotifier notifier(pair.first(), QSocketNotifier::Read);
        int activations = 0;
        QObject::connect(&notifier, &QSocketNotifier::activated, [&] {
            ++activations;
            notifier.setEnabled(false); // data left unread: level-triggered would repeat
        });
        ASSERT_TRUE(pair.poke());
        ASSERT_TRUE(waitUntil([&] { return activations == 1; }));
        for (int i = 0; i < 5; ++i) {
            dispatcher()->processEvents(QEventLoop::AllEvents);
        }
        EXPECT_EQ(activations, 1);
        notifier.setEnabled(true); // still readable: reported again once re-enabled
        ASSERT_TRUE(waitUntil([&] { return activations == 2; }));
    });
}

TEST(EpollEventDispatcherNotifiers, NotifierDeletedInItsOwnCallback)
{
    runOnEpollThread([] {
        SocketPair pair;
        auto* notifier = new QSocketNotifier(pair.first(), QSocketNotifier::Read);
        QPointer<QSocketNotifier> guard(notifier);
        int activations = 0;
        QObject::connect(notifier, &QSocketNotifier::activated, [&] {
            ++activations;
            delete notifier;
        });
        auto* writer = new QSocketNotifier(pair.first(), QSocketNotifier::Write);
        int writes = 0;
        QObject::connect(writer, &QSocketNotifier::activated, [&] {
            ++writes;
            writer->deleteLater();
        });
        ASSERT_TRUE(pair.poke());
        ASSERT_TRUE(waitUntil([&] { return activations == 1 && writes == 1; }));
        EXPECT_TRUE(guard.isNull());
        for (int i = 0; i < 5; ++i) {
            dispatcher()->processEvents(QEventLoop::AllEvents);
        }
        EXPECT_EQ(activations, 1);
        EXPECT_EQ(writes, 1);
    });
}

// Several sockets ready in one round; the first callback to run deletes (or disables) all the
// others. None of those may be activated afterwards in that round, whatever the order epoll
// reported them in.
void expectOthersSilencedInSameRound(bool deleteThem)
{
    constexpr int kCount = 8;
    std::vector<std::unique_ptr<SocketPair>> pairs;
    std::vector<QSocketNotifier*> notifiers;
    std::vector<int> activations(kCount, 0);
    for (int i = 0; i < kCount; ++i) {
        pairs.push_back(std::make_unique<SocketPair>());
        notifiers.push_back(new QSocketNotifier(pairs.back()->first(), QSocketNotifier::Read));
    }
    for (int i = 0; i < kCount; ++i) {
        QObject::connect(notifiers[std::size_t(i)], &QSocketNotifier::activated, [&, i] {
            ++activations[std::size_t(i)];
            pairs[std::size_t(i)]->drain();
            for (int j = 0; j < kCount; ++j) {
                if (j != i && notifiers[std::size_t(j)]) {
                    if (deleteThem) {
                        delete notifiers[std::size_t(j)];
                        notifiers[std::size_t(j)] = nullptr;
                    } else {
                        notifiers[std::size_t(j)]->setEnabled(false);
                    }
                }
            }
        });
    }
    // All readable before the loop runs: they are reported by the same epoll_wait.
    for (auto& pair : pairs) {
        ASSERT_TRUE(pair->poke());
    }
    dispatcher()->processEvents(QEventLoop::WaitForMoreEvents);
    int total = 0;
    for (int count : activations) {
        total += count;
    }
    EXPECT_EQ(total, 1) << "a notifier silenced earlier in the round was activated";
    for (int i = 0; i < 3; ++i) {
        dispatcher()->processEvents(QEventLoop::AllEvents);
    }
    total = 0;
    for (int count : activations) {
        total += count;
    }
    EXPECT_EQ(total, 1);
    for (QSocketNotifier* n : notifiers) {
        delete n;
    }
}

TEST(EpollEventDispatcherNotifiers, OtherNotifiersDeletedInACallbackAreNotActivated)
{
    runOnEpollThread([] { expectOthersSilencedInSameRound(true); });
}

TEST(EpollEventDispatcherNotifiers, OtherNotifiersDisabledInACallbackAreNotActivated)
{
    runOnEpollThread([] { expectOthersSilencedInSameRound(false); });
}

TEST(EpollEventDispatcherNotifiers, ReplacementNotifierOnSameDescriptorGetsOnlyFreshEvents)
{
    runOnEpollThread([] {
        // A's callback deletes B and creates B2 on B's descriptor, which is still readable.
        // The readiness reported for B in this round must not reach B2 (its registration is
        // newer), but B2 must get the data in a later round.
        SocketPair a;
        SocketPair b;
        auto* na = new QSocketNotifier(a.first(), QSocketNotifier::Read);
        auto* nb = new QSocketNotifier(b.first(), QSocketNotifier::Read);
        std::unique_ptr<QSocketNotifier> nb2;
        int aCount = 0;
        int bCount = 0;
        int b2Count = 0;
        QObject::connect(nb, &QSocketNotifier::activated, [&] {
            ++bCount;
            b.drain();
        });
        QObject::connect(na, &QSocketNotifier::activated, [&] {
            ++aCount;
            a.drain();
            if (nb) {
                delete nb;
                nb = nullptr;
                nb2 = std::make_unique<QSocketNotifier>(b.first(), QSocketNotifier::Read);
                QObject::connect(nb2.get(), &QSocketNotifier::activated, [&] {
                    ++b2Count;
                    b.drain();
                });
            }
        });
        ASSERT_TRUE(a.poke());
        ASSERT_TRUE(b.poke());
        dispatcher()->processEvents(QEventLoop::WaitForMoreEvents);
        // Epoll may report A or B first; both orders must hold the contract.
        EXPECT_EQ(aCount, 1);
        if (bCount == 0) {
            EXPECT_EQ(b2Count, 0) << "B2 got an activation registered for B";
            ASSERT_TRUE(waitUntil([&] { return b2Count == 1; }));
        } else {
            EXPECT_EQ(b2Count, 0); // B drained the data before being replaced
        }
        delete na;
        delete nb;
    });
}

TEST(EpollEventDispatcherNotifiers, ClosedAndReusedDescriptorIsWatchedAgain)
{
    runOnEpollThread([] {
        // Destroy a watched socket's notifier, close the socket, get the same descriptor number
        // for a new socket and watch it, all before the loop runs again: the mask looks
        // unchanged, but the kernel dropped the old file, so the new one must be registered.
        auto first = std::make_unique<SocketPair>();
        const int fd = first->first();
        auto notifier = std::make_unique<QSocketNotifier>(fd, QSocketNotifier::Read);
        dispatcher()->processEvents(QEventLoop::AllEvents); // registration reaches the kernel
        notifier.reset();
        first.reset();
        auto second = std::make_unique<SocketPair>();
        ASSERT_EQ(second->first(), fd) << "the kernel did not reuse the lowest descriptor";
        QSocketNotifier reused(second->first(), QSocketNotifier::Read);
        int activations = 0;
        QObject::connect(&reused, &QSocketNotifier::activated, [&] {
            ++activations;
            second->drain();
        });
        ASSERT_TRUE(second->poke());
        ASSERT_TRUE(waitUntil([&] { return activations == 1; }));
    });
}

TEST(EpollEventDispatcherNotifiers, DescriptorClosedWhileADupLivesOnLeavesNoRegistration)
{
    runOnEpollThread([] {
        // A socket handed from one owner (QTcpSocket) to another by dup(): the first owner's
        // notifier goes and its descriptor is closed, all before the loop runs again. The socket
        // itself lives on in the dup, so the kernel would keep reporting the old number if the
        // registration were not removed before the close; a new socket reusing that number
        // would then be activated for the old socket's data.
        SocketPair pair;
        const int fd = pair.first();
        auto notifier = std::make_unique<QSocketNotifier>(fd, QSocketNotifier::Read);
        dispatcher()->processEvents(QEventLoop::AllEvents); // registration reaches the kernel
        const int kept = ::dup(fd);
        ASSERT_GE(kept, 0);
        notifier.reset();
        pair.closeEnd(0);
        SocketPair reuse;
        ASSERT_EQ(reuse.first(), fd) << "the kernel did not reuse the lowest descriptor";
        QSocketNotifier fresh(reuse.first(), QSocketNotifier::Read);
        int activations = 0;
        QObject::connect(&fresh, &QSocketNotifier::activated, [&] { ++activations; });
        ASSERT_TRUE(pair.poke()); // data for the old socket (now only `kept`), none for `reuse`
        for (int i = 0; i < 5; ++i) {
            dispatcher()->processEvents(QEventLoop::AllEvents);
        }
        EXPECT_EQ(activations, 0) << "activated for another socket's data";
        ::close(kept);
    });
}

TEST(EpollEventDispatcherNotifiers, PeerHangUpActivatesReadNotifier)
{
    runOnEpollThread([] {
        SocketPair pair;
        QSocketNotifier notifier(pair.first(), QSocketNotifier::Read);
        bool sawEof = false;
        QObject::connect(&notifier, &QSocketNotifier::activated, [&] {
            char c;
            if (::read(pair.first(), &c, 1) == 0) {
                sawEof = true;
                notifier.setEnabled(false);
            }
        });
        pair.closeEnd(1);
        ASSERT_TRUE(waitUntil([&] { return sawEof; }));
    });
}

TEST(EpollEventDispatcherNotifiers, OneActiveSocketAmongTwoThousandIdleIsDelivered)
{
    runOnEpollThread([] {
        constexpr int kPairs = 2000;
        std::vector<std::unique_ptr<SocketPair>> pairs;
        std::vector<std::unique_ptr<QSocketNotifier>> notifiers;
        std::vector<int> activations(kPairs, 0);
        pairs.reserve(kPairs);
        for (int i = 0; i < kPairs; ++i) {
            pairs.push_back(std::make_unique<SocketPair>());
            ASSERT_TRUE(pairs.back()->isValid()) << "socketpair " << i;
            notifiers.push_back(
                std::make_unique<QSocketNotifier>(pairs.back()->first(), QSocketNotifier::Read));
            QObject::connect(notifiers.back().get(), &QSocketNotifier::activated, [&, i] {
                ++activations[std::size_t(i)];
                pairs[std::size_t(i)]->drain();
            });
        }
        for (const int active : { 1234, 0, kPairs - 1 }) {
            const std::vector<int> before = activations;
            ASSERT_TRUE(pairs[std::size_t(active)]->poke());
            ASSERT_TRUE(waitUntil([&] {
                return activations[std::size_t(active)] == before[std::size_t(active)] + 1;
            }));
            for (int i = 0; i < kPairs; ++i) {
                if (i != active) {
                    ASSERT_EQ(activations[std::size_t(i)], before[std::size_t(i)])
                        << "idle socket " << i;
                }
            }
        }
    });
}

TEST(EpollEventDispatcherNotifiers, ExcludeSocketNotifiersLeavesThemPendingWithoutSpinning)
{
    runOnEpollThread([] {
        SocketPair pair;
        QSocketNotifier notifier(pair.first(), QSocketNotifier::Read);
        int activations = 0;
        QObject::connect(&notifier, &QSocketNotifier::activated, [&] {
            ++activations;
            pair.drain();
        });
        ASSERT_TRUE(pair.poke());

        // Blocking with notifiers excluded: the ready socket must neither be activated nor make
        // the wait return early; only the timer ends it.
        bool fired = false;
        QTimer::singleShot(30, [&] { fired = true; });
        int rounds = 0;
        const QDeadlineTimer deadline(5000);
        while (!fired && !deadline.hasExpired()) {
            dispatcher()->processEvents(
                QEventLoop::WaitForMoreEvents | QEventLoop::ExcludeSocketNotifiers);
            ++rounds;
        }
        EXPECT_TRUE(fired);
        EXPECT_EQ(activations, 0);
        // A spinning loop would go round thousands of times in 30 ms; a blocking one a few (a
        // loaded machine adds early wake-ups from coarse timer slack, hence the margin).
        EXPECT_LE(rounds, 50);

        dispatcher()->processEvents(QEventLoop::AllEvents);
        EXPECT_EQ(activations, 1) << "the pending notifier was lost";
    });
}

} // namespace
} // namespace parley::server::test
