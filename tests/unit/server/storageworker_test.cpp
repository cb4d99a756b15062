// StorageWorker's health on a real SQLite store: a commit that fails on a full disk (a small
// tmpfs, tests/support/storagefaults.h) is recorded with its reason for /healthz, and cleared by
// the worker's own probe once the disk has room again, with no further request. The worker runs
// on the test's thread here (its posted work runs in this event loop).
#include "storage/sqlitemessagestore.h"
#include "storage/storageworker.h"
#include "storagefaults.h"
#include "waituntil.h"

#include <gtest/gtest.h>

namespace parley::server {
namespace {

TEST(StorageWorkerHealth, AFailedCommitIsReportedUntilTheStorageWorksAgain)
{
    test::SmallDisk disk;
    if (!disk.isMounted()) {
        GTEST_SKIP() << "no small tmpfs here: " << disk.error().toStdString();
    }
    StorageWorker worker(std::make_unique<SqliteMessageStore>(disk.path() + "/parley.db"), 100);
    std::vector<RoomPosition> rooms;
    ASSERT_EQ(worker.openStore(&rooms), "");
    EXPECT_TRUE(worker.health().ok);

    const auto append = [&worker](const std::string& clientId) {
        std::optional<StorageWorker::AppendReply> reply;
        EXPECT_TRUE(worker.tryReserve());
        worker.append(AppendRequest { "lobby", "alice", clientId, std::string(8192, 'b') },
            [&reply](const StorageWorker::AppendReply& r) { reply = r; });
        EXPECT_TRUE(test::waitUntil([&] { return reply.has_value(); }));
        return reply.value_or(StorageWorker::AppendReply {});
    };
    ASSERT_TRUE(append("c1").ok);
    EXPECT_TRUE(worker.health().ok);

    ASSERT_TRUE(disk.fill()) << disk.error().toStdString();
    const StorageWorker::AppendReply refused = append("c2");
    ASSERT_FALSE(refused.ok);
    const StorageWorker::Health failing = worker.health();
    EXPECT_FALSE(failing.ok);
    EXPECT_EQ(failing.error, refused.error);
    EXPECT_NE(failing.error.find("full"), std::string::npos) << failing.error;
    EXPECT_GT(failing.failingSinceMs, 0);

    // Nobody sends anything more (a node out of its balancer gets no traffic): the probe alone
    // notices the room on the disk.
    ASSERT_TRUE(disk.drain()) << disk.error().toStdString();
    EXPECT_TRUE(
        test::waitUntil([&] { return worker.health().ok; }, 5 * StorageWorker::kProbeIntervalMs));
    EXPECT_EQ(worker.health().error, "");
    EXPECT_EQ(worker.health().failingSinceMs, 0);
    EXPECT_TRUE(append("c2").ok);
    EXPECT_TRUE(worker.health().ok);

    bool closed = false;
    worker.shutdown([&closed] { closed = true; });
    EXPECT_TRUE(test::waitUntil([&] { return closed; }));
}

} // namespace
} // namespace parley::server
