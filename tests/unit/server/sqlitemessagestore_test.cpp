// SqliteMessageStore against a real SQLite file in a temporary directory (and, for the storage
// faults, a file made unwritable or a small tmpfs filled up: tests/support/storagefaults.h).
#include "storage/sqlitemessagestore.h"
#include "storagefaults.h"

#include <QFile>
#include <QTemporaryDir>
#include <gtest/gtest.h>
#include <sqlite3.h>

namespace parley::server {
namespace {

class SqliteMessageStoreTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        ASSERT_TRUE(m_dir.isValid());
        reopen();
    }

    void reopen(Retention retention = {})
    {
        m_store.reset();
        m_store = std::make_unique<SqliteMessageStore>(m_dir.filePath("parley.db"), retention);
        ASSERT_EQ(m_store->open(), "");
    }

    CommitResult append(const std::string& room, const std::string& sender,
        const std::string& clientId, const std::string& body = "hi")
    {
        CommitBatch batch;
        batch.nowMs = ++m_now;
        batch.appends.push_back(AppendRequest { room, sender, clientId, body });
        return m_store->commit(batch);
    }

    // Appends n messages in one batch; returns their seqs.
    std::vector<std::uint64_t> appendMany(const std::string& room, int n, int firstId = 0)
    {
        CommitBatch batch;
        batch.nowMs = ++m_now;
        for (int i = 0; i < n; ++i) {
            batch.appends.push_back(AppendRequest { room, "alice",
                "c" + std::to_string(firstId + i), "m" + std::to_string(firstId + i) });
        }
        const CommitResult result = m_store->commit(batch);
        EXPECT_TRUE(result.ok) << result.error;
        std::vector<std::uint64_t> seqs;
        for (const AppendOutcome& outcome : result.appends) {
            seqs.push_back(outcome.message.seq);
        }
        return seqs;
    }

    static std::vector<std::uint64_t> seqsOf(const HistoryResult& result)
    {
        std::vector<std::uint64_t> seqs;
        for (const auto& message : result.messages) {
            seqs.push_back(message.seq);
        }
        return seqs;
    }

    QTemporaryDir m_dir;
    std::unique_ptr<SqliteMessageStore> m_store;
    std::int64_t m_now = 1700000000000;
};

TEST_F(SqliteMessageStoreTest, AppendAssignsGaplessSeqsPerRoom)
{
    EXPECT_EQ(appendMany("a", 3), (std::vector<std::uint64_t> { 1, 2, 3 }));
    EXPECT_EQ(appendMany("b", 2, 10), (std::vector<std::uint64_t> { 1, 2 }));
    EXPECT_EQ(appendMany("a", 2, 20), (std::vector<std::uint64_t> { 4, 5 }));
}

TEST_F(SqliteMessageStoreTest, StoredMessageCarriesEverything)
{
    const CommitResult result = append("lobby", "alice", "c1", "hello");
    ASSERT_TRUE(result.ok) << result.error;
    ASSERT_EQ(result.appends.size(), 1u);
    const protocol::Message& m = result.appends[0].message;
    EXPECT_EQ(result.appends[0].status, AppendOutcome::Status::Stored);
    EXPECT_EQ(m.room, "lobby");
    EXPECT_EQ(m.sender, "alice");
    EXPECT_EQ(m.clientId, "c1");
    EXPECT_EQ(m.body, "hello");
    EXPECT_EQ(m.seq, 1u);
    EXPECT_EQ(m.ts, m_now);
    EXPECT_FALSE(m.msgId.empty());
    EXPECT_EQ(m.epoch.size(), 16u);
}

TEST_F(SqliteMessageStoreTest, SeqAndEpochContinueAcrossReopen)
{
    appendMany("lobby", 5);
    const std::string epoch = m_store->loadRooms().at(0).epoch;
    reopen();
    const auto rooms = m_store->loadRooms();
    ASSERT_EQ(rooms.size(), 1u);
    EXPECT_EQ(rooms[0].room, "lobby");
    EXPECT_EQ(rooms[0].lastSeq, 5u);
    EXPECT_EQ(rooms[0].epoch, epoch);
    EXPECT_EQ(appendMany("lobby", 2, 100), (std::vector<std::uint64_t> { 6, 7 }));
}

TEST_F(SqliteMessageStoreTest, EnsureRoomCreatesOnceWithStableEpoch)
{
    CommitBatch batch;
    batch.ensureRooms = { "new-room" };
    const CommitResult first = m_store->commit(batch);
    ASSERT_TRUE(first.ok) << first.error;
    ASSERT_EQ(first.rooms.size(), 1u);
    EXPECT_EQ(first.rooms[0].lastSeq, 0u);
    const std::string epoch = first.rooms[0].epoch;
    EXPECT_FALSE(epoch.empty());
    reopen();
    const CommitResult second = m_store->commit(batch);
    ASSERT_TRUE(second.ok);
    EXPECT_EQ(second.rooms[0].epoch, epoch);
    EXPECT_NE(m_store->loadRooms().size(), 0u);
}

TEST_F(SqliteMessageStoreTest, DifferentRoomsGetDifferentEpochs)
{
    appendMany("a", 1);
    appendMany("b", 1, 5);
    const auto rooms = m_store->loadRooms();
    ASSERT_EQ(rooms.size(), 2u);
    EXPECT_NE(rooms[0].epoch, rooms[1].epoch);
}

TEST_F(SqliteMessageStoreTest, ResendIsDeduplicatedWithTheOriginalMessage)
{
    const CommitResult first = append("lobby", "alice", "c1", "hello");
    const CommitResult again = append("lobby", "alice", "c1", "hello");
    ASSERT_TRUE(again.ok);
    EXPECT_EQ(again.appends[0].status, AppendOutcome::Status::Duplicate);
    EXPECT_EQ(again.appends[0].message.seq, first.appends[0].message.seq);
    EXPECT_EQ(again.appends[0].message.msgId, first.appends[0].message.msgId);
    EXPECT_EQ(again.appends[0].message.ts, first.appends[0].message.ts);
    // No second message and no hole: the next one is seq 2.
    EXPECT_EQ(append("lobby", "alice", "c2").appends[0].message.seq, 2u);
}

TEST_F(SqliteMessageStoreTest, DedupeIsPerSenderAndRoom)
{
    append("lobby", "alice", "c1");
    EXPECT_EQ(append("lobby", "bob", "c1").appends[0].status, AppendOutcome::Status::Stored);
    EXPECT_EQ(append("other", "alice", "c1").appends[0].status, AppendOutcome::Status::Stored);
}

TEST_F(SqliteMessageStoreTest, DedupeWithinOneBatchAndAcrossReopen)
{
    CommitBatch batch;
    batch.nowMs = ++m_now; // inside the dedupe window of the appends below
    batch.appends = { { "lobby", "alice", "c1", "x" }, { "lobby", "alice", "c1", "x" } };
    const CommitResult result = m_store->commit(batch);
    ASSERT_TRUE(result.ok);
    EXPECT_EQ(result.appends[0].status, AppendOutcome::Status::Stored);
    EXPECT_EQ(result.appends[1].status, AppendOutcome::Status::Duplicate);
    EXPECT_EQ(result.appends[1].message.seq, 1u);
    reopen();
    EXPECT_EQ(append("lobby", "alice", "c1").appends[0].status, AppendOutcome::Status::Duplicate);
}

TEST_F(SqliteMessageStoreTest, RetentionByCountTrimsOldestAndMovesFirstSeq)
{
    reopen(Retention { 5, 0, 600000 });
    appendMany("lobby", 8);
    const HistoryResult all = m_store->history(HistoryQuery { "lobby", {}, 0, UINT64_MAX, 100 });
    ASSERT_TRUE(all.ok);
    EXPECT_EQ(seqsOf(all), (std::vector<std::uint64_t> { 4, 5, 6, 7, 8 }));
    EXPECT_EQ(all.position.firstSeq, 4u);
    EXPECT_EQ(all.position.lastSeq, 8u);
    // The retained start is durable.
    reopen(Retention { 5, 0, 600000 });
    EXPECT_EQ(m_store->loadRooms().at(0).firstSeq, 4u);
}

TEST_F(SqliteMessageStoreTest, RetentionByAgeTrimsExpiredMessages)
{
    reopen(Retention { 0, 1000, 600000 });
    appendMany("lobby", 3, 0); // at m_now
    m_now += 5000;
    appendMany("lobby", 2, 10); // 5 s later: the first three are too old
    const HistoryResult all = m_store->history(HistoryQuery { "lobby", {}, 0, UINT64_MAX, 100 });
    EXPECT_EQ(seqsOf(all), (std::vector<std::uint64_t> { 4, 5 }));
    EXPECT_EQ(all.position.firstSeq, 4u);
}

TEST_F(SqliteMessageStoreTest, DedupeOutlivesTrimmingWithinItsWindow)
{
    reopen(Retention { 2, 0, 600000 });
    const CommitResult first = append("lobby", "alice", "keep-me");
    appendMany("lobby", 4, 100); // trims seq 1
    reopen(Retention { 2, 0, 600000 }); // and across a restart
    const CommitResult again = append("lobby", "alice", "keep-me");
    ASSERT_TRUE(again.ok) << again.error;
    EXPECT_EQ(again.appends[0].status, AppendOutcome::Status::Duplicate);
    EXPECT_EQ(again.appends[0].message.seq, first.appends[0].message.seq);
    EXPECT_EQ(again.appends[0].message.msgId, first.appends[0].message.msgId);
}

TEST_F(SqliteMessageStoreTest, DedupeWindowExpiresByStoredTimestampAcrossReopen)
{
    reopen(Retention { 0, 0, 10000 });
    append("lobby", "alice", "c1");
    m_now += 9000;
    reopen(Retention { 0, 0, 10000 });
    EXPECT_EQ(append("lobby", "alice", "c1").appends[0].status, AppendOutcome::Status::Duplicate);
    m_now += 2000; // 11 s after the original: a new message
    const CommitResult late = append("lobby", "alice", "c1");
    ASSERT_TRUE(late.ok) << late.error;
    EXPECT_EQ(late.appends[0].status, AppendOutcome::Status::Stored);
    EXPECT_EQ(late.appends[0].message.seq, 2u);
    // The new message is deduplicated in its own window.
    EXPECT_EQ(append("lobby", "alice", "c1").appends[0].message.seq, 2u);
}

TEST_F(SqliteMessageStoreTest, HistoryLatestPage)
{
    appendMany("lobby", 10);
    HistoryQuery query { "lobby", std::nullopt, std::nullopt, UINT64_MAX, 4 };
    const HistoryResult page = m_store->history(query);
    ASSERT_TRUE(page.ok);
    EXPECT_EQ(seqsOf(page), (std::vector<std::uint64_t> { 7, 8, 9, 10 }));
    EXPECT_TRUE(page.hasMore);
    EXPECT_EQ(page.position.lastSeq, 10u);
    EXPECT_EQ(page.messages[0].body, "m6");
}

TEST_F(SqliteMessageStoreTest, HistoryPagesBackwardsToTheStart)
{
    appendMany("lobby", 10);
    std::vector<std::uint64_t> all;
    std::optional<std::uint64_t> before;
    for (int guard = 0; guard < 10; ++guard) {
        const HistoryResult page
            = m_store->history(HistoryQuery { "lobby", before, std::nullopt, UINT64_MAX, 3 });
        ASSERT_TRUE(page.ok);
        auto seqs = seqsOf(page);
        all.insert(all.begin(), seqs.begin(), seqs.end());
        if (!page.hasMore) {
            break;
        }
        before = page.messages.front().seq;
    }
    std::vector<std::uint64_t> expected { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
    EXPECT_EQ(all, expected);
}

TEST_F(SqliteMessageStoreTest, HistoryPagesForwardsToTheEnd)
{
    appendMany("lobby", 7);
    const HistoryResult first
        = m_store->history(HistoryQuery { "lobby", std::nullopt, 0, UINT64_MAX, 3 });
    EXPECT_EQ(seqsOf(first), (std::vector<std::uint64_t> { 1, 2, 3 }));
    EXPECT_TRUE(first.hasMore);
    const HistoryResult last
        = m_store->history(HistoryQuery { "lobby", std::nullopt, 6, UINT64_MAX, 3 });
    EXPECT_EQ(seqsOf(last), (std::vector<std::uint64_t> { 7 }));
    EXPECT_FALSE(last.hasMore);
    const HistoryResult exact
        = m_store->history(HistoryQuery { "lobby", std::nullopt, 4, UINT64_MAX, 3 });
    EXPECT_EQ(seqsOf(exact), (std::vector<std::uint64_t> { 5, 6, 7 }));
    EXPECT_FALSE(exact.hasMore);
}

TEST_F(SqliteMessageStoreTest, HistoryAfterIsBoundedByMaxSeq)
{
    appendMany("lobby", 10);
    const HistoryResult range = m_store->history(HistoryQuery { "lobby", std::nullopt, 2, 5, 100 });
    EXPECT_EQ(seqsOf(range), (std::vector<std::uint64_t> { 3, 4, 5 }));
    EXPECT_FALSE(range.hasMore);
}

TEST_F(SqliteMessageStoreTest, HistoryBeforeOneIsEmpty)
{
    appendMany("lobby", 3);
    const HistoryResult page
        = m_store->history(HistoryQuery { "lobby", 1, std::nullopt, UINT64_MAX, 10 });
    EXPECT_TRUE(page.ok);
    EXPECT_TRUE(page.messages.empty());
    EXPECT_FALSE(page.hasMore);
}

TEST_F(SqliteMessageStoreTest, HistoryOfUnknownRoomIsEmpty)
{
    const HistoryResult page = m_store->history(
        HistoryQuery { "nobody-here", std::nullopt, std::nullopt, UINT64_MAX, 50 });
    EXPECT_TRUE(page.ok);
    EXPECT_FALSE(page.roomExists);
    EXPECT_TRUE(page.messages.empty());
}

TEST_F(SqliteMessageStoreTest, HistoryIsPerRoom)
{
    appendMany("a", 3);
    appendMany("b", 2, 50);
    const HistoryResult page
        = m_store->history(HistoryQuery { "b", std::nullopt, std::nullopt, UINT64_MAX, 50 });
    EXPECT_EQ(seqsOf(page), (std::vector<std::uint64_t> { 1, 2 }));
    EXPECT_EQ(page.messages[0].body, "m50");
}

// Runs one statement on a second connection to the same file (as an operator's shell would).
void execOnSideConnection(const QString& path, const char* sql)
{
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(QFile::encodeName(path).constData(), &db), SQLITE_OK);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
}

TEST_F(SqliteMessageStoreTest, FailedCommitRollsBackAndLeavesNoHole)
{
    appendMany("lobby", 2);
    // Plant a row at seq 4 behind the store's back: a batch of two appends gets seq 3 (fine)
    // and then seq 4 (primary key conflict), so the whole transaction must roll back.
    execOnSideConnection(m_dir.filePath("parley.db"),
        "INSERT INTO messages (room, seq, msg_id, sender, client_id, body, ts) "
        "VALUES ('lobby', 4, 'x', 'mallory', 'planted', 'x', 0)");
    CommitBatch batch;
    batch.nowMs = 1;
    batch.appends = { { "lobby", "alice", "n1", "a" }, { "lobby", "alice", "n2", "b" } };
    const CommitResult failed = m_store->commit(batch);
    EXPECT_FALSE(failed.ok);
    EXPECT_FALSE(failed.error.empty());
    EXPECT_TRUE(failed.appends.empty());

    execOnSideConnection(m_dir.filePath("parley.db"), "DELETE FROM messages WHERE seq = 4");
    // Nothing of the failed batch is stored, and the store did not advance its seq: the
    // retry gets 3 and 4, with no hole where the failed batch was.
    const HistoryResult before
        = m_store->history(HistoryQuery { "lobby", std::nullopt, 0, UINT64_MAX, 50 });
    EXPECT_EQ(seqsOf(before), (std::vector<std::uint64_t> { 1, 2 }));
    EXPECT_EQ(m_store->loadRooms().at(0).lastSeq, 2u);
    const CommitResult retried = m_store->commit(batch);
    ASSERT_TRUE(retried.ok) << retried.error;
    EXPECT_EQ(retried.appends[0].message.seq, 3u);
    EXPECT_EQ(retried.appends[1].message.seq, 4u);
    reopen();
    EXPECT_EQ(m_store->loadRooms().at(0).lastSeq, 4u);
}

TEST_F(SqliteMessageStoreTest, OpenRefusesADatabaseFileItCannotWrite)
{
    appendMany("lobby", 1);
    m_store.reset();
    const QString path = m_dir.filePath("parley.db");
    test::UnwritableFile unwritable(path);
    if (!unwritable.isActive()) {
        GTEST_SKIP() << "cannot make a file unwritable here: " << unwritable.error().toStdString();
    }
    // SQLite would open it read-only without a word, and every commit would fail later.
    SqliteMessageStore store(path);
    const std::string error = store.open();
    EXPECT_NE(error.find("cannot write " + path.toStdString()), std::string::npos) << error;
    EXPECT_NE(error.find("read-only"), std::string::npos) << error;
    EXPECT_FALSE(store.commit(CommitBatch { {}, { { "lobby", "alice", "x", "y" } }, 1 }).ok);
}

TEST(SqliteMessageStoreDisk, OpenRefusesAReadOnlyFilesystem)
{
    test::SmallDisk disk;
    if (!disk.isMounted()) {
        GTEST_SKIP() << "no small tmpfs here: " << disk.error().toStdString();
    }
    const QString path = disk.path() + "/parley.db";
    {
        SqliteMessageStore store(path);
        ASSERT_EQ(store.open(), "");
    }
    ASSERT_TRUE(disk.setReadOnly(true)) << disk.error().toStdString();
    SqliteMessageStore store(path);
    const std::string error = store.open();
    EXPECT_NE(error.find("cannot write " + path.toStdString()), std::string::npos) << error;
}

TEST(SqliteMessageStoreDisk, AFullDiskFailsCommitsAndTheProbeUntilThereIsRoomAgain)
{
    test::SmallDisk disk;
    if (!disk.isMounted()) {
        GTEST_SKIP() << "no small tmpfs here: " << disk.error().toStdString();
    }
    SqliteMessageStore store(disk.path() + "/parley.db");
    ASSERT_EQ(store.open(), "");
    ASSERT_EQ(store.probeWrite(), "");
    ASSERT_TRUE(disk.fill()) << disk.error().toStdString();

    // A body larger than a page: the commit must grow the write-ahead log.
    const CommitBatch batch { {}, { { "lobby", "alice", "c1", std::string(8192, 'b') } }, 1 };
    const CommitResult failed = store.commit(batch);
    ASSERT_FALSE(failed.ok);
    EXPECT_NE(failed.error.find("full"), std::string::npos) << failed.error;
    EXPECT_NE(store.probeWrite(), "");

    ASSERT_TRUE(disk.drain()) << disk.error().toStdString();
    EXPECT_EQ(store.probeWrite(), "");
    const CommitResult stored = store.commit(batch);
    ASSERT_TRUE(stored.ok) << stored.error;
    EXPECT_EQ(stored.appends.at(0).message.seq, 1u); // the failed commit left no hole
}

} // namespace
} // namespace parley::server
