// The persistent outbox: OutboxJournal on a real file, and a Client reloading its unsent messages.
#include "outbox/outboxjournal.h"

#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>
#include <gtest/gtest.h>
#include <memory>
#include <parley/client.h>

using namespace parley;

namespace {

QList<OutboxJournal::Record> loadAll(const QString& path)
{
    OutboxJournal journal(path, 100);
    QSignalSpy loaded(&journal, &OutboxJournal::loaded);
    journal.load();
    EXPECT_TRUE(loaded.wait(5000));
    return loaded.isEmpty() ? QList<OutboxJournal::Record> {}
                            : loaded.at(0).at(0).value<QList<OutboxJournal::Record>>();
}

QStringList idsOf(const QList<OutboxJournal::Record>& records)
{
    QStringList ids;
    for (const auto& r : records) {
        ids.append(r.clientId);
    }
    return ids;
}

TEST(OutboxJournal, UnsentRecordsSurviveAndKeepTheirOrder)
{
    QTemporaryDir dir;
    const QString path = dir.filePath("outbox.jsonl");
    {
        OutboxJournal journal(path, 100);
        QSignalSpy persisted(&journal, &OutboxJournal::persisted);
        journal.append("a", "lobby", "one");
        journal.append("b", "lobby", "two");
        journal.append("c", "other", "three");
        journal.remove("b");
        // Reported on this thread, after the worker wrote the record.
        ASSERT_TRUE(persisted.wait(5000));
    } // the destructor writes what is still queued
    const auto records = loadAll(path);
    EXPECT_EQ(idsOf(records), (QStringList { "a", "c" }));
    ASSERT_EQ(records.size(), 2);
    EXPECT_EQ(records.at(1).room, QStringLiteral("other"));
    EXPECT_EQ(records.at(1).body, QStringLiteral("three"));
}

TEST(OutboxJournal, TheQueueIsBoundedAndCollapsesIntoASnapshot)
{
    QTemporaryDir dir;
    const QString path = dir.filePath("outbox.jsonl");
    QStringList live;
    {
        OutboxJournal journal(path, 8);
        for (int i = 0; i < 500; ++i) {
            const QString id = QStringLiteral("m%1").arg(i);
            journal.append(id, "lobby", QStringLiteral("body %1").arg(i));
            live.append(id);
            if (i % 3 == 0) {
                journal.remove(id);
                live.removeOne(id);
            }
            EXPECT_LE(journal.queued(), 8);
        }
    }
    EXPECT_EQ(idsOf(loadAll(path)), live);
}

TEST(OutboxJournal, ATornLastLineIsIgnored)
{
    QTemporaryDir dir;
    const QString path = dir.filePath("outbox.jsonl");
    {
        OutboxJournal journal(path, 100);
        journal.append("a", "lobby", "one");
    }
    QFile file(path);
    ASSERT_TRUE(file.open(QIODevice::Append));
    file.write("{\"op\":\"add\",\"id\":\"b\",\"ro");
    file.close();
    EXPECT_EQ(idsOf(loadAll(path)), QStringList { "a" });
}

TEST(PersistentOutbox, AClientReloadsUnsentMessagesWithTheirIdsAndRooms)
{
    QTemporaryDir dir;
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    const QUrl nowhere(QStringLiteral("ws://127.0.0.1:%1/v1/ws").arg(probe.serverPort()));
    probe.close();
    auto options = ClientOptions::forServer(nowhere, "alice");
    options.outboxPath = dir.filePath("alice.outbox");

    QStringList ids;
    {
        Client client(options);
        client.join("lobby");
        ids.append(client.send("lobby", "one"));
        ids.append(client.send("lobby", "two"));
        EXPECT_EQ(client.pendingMessageCount(), 2);
    } // the application quits with both unsent

    Client again(options);
    QSignalSpy states(&again, &Client::messageStateChanged);
    while (states.count() < 2) {
        ASSERT_TRUE(states.wait(5000));
    }
    EXPECT_EQ(again.pendingMessageCount(), 2);
    EXPECT_EQ(again.messageState(ids.at(0)), MessageState::Queued);
    EXPECT_EQ(again.messageState(ids.at(1)), MessageState::Queued);
    EXPECT_EQ(states.at(0).at(0).toString(), ids.at(0));
    EXPECT_EQ(states.at(1).at(0).toString(), ids.at(1));
}

} // namespace
