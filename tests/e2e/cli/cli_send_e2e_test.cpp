// `parley send` at volume and across faults, end to end: a real parleyd (behind a FaultProxy that
// cuts connections on demand), the real executable, the room's history read back with
// `parley history`. Waits are driven by the processes' output, never by sleeping.
#include "clirunner.h"
#include "faultproxy.h"
#include "serverprocess.h"

#include <QHostAddress>
#include <QJsonObject>
#include <QMap>
#include <QSignalSpy>
#include <gtest/gtest.h>

using namespace parley::test;

namespace {

//! Reads `process`'s stdout into `seen` until it holds at least `lines` complete lines.
bool readLines(QProcess& process, QByteArray& seen, int lines)
{
    QSignalSpy ready(&process, &QProcess::readyReadStandardOutput);
    for (;;) {
        seen += process.readAllStandardOutput();
        if (seen.count('\n') >= lines) {
            return true;
        }
        if (!ready.wait(15000)) {
            return false;
        }
    }
}

//! The bodies of `room`'s whole history, oldest first, as `parley history` prints them.
QStringList historyBodies(const QString& serverUrl, const QString& room, int limit)
{
    const CliResult history
        = runCli({ "history", room, "--json", "--limit", QString::number(limit) }, serverUrl,
            "reader", {}, 120000);
    EXPECT_EQ(history.exitCode, 0) << history.err.toStdString();
    QStringList bodies;
    for (const QJsonObject& message : jsonLines(history.out)) {
        bodies.append(message["body"].toString());
    }
    return bodies;
}

QStringList numbers(int count)
{
    QStringList list;
    for (int i = 1; i <= count; ++i) {
        list.append(QString::number(i));
    }
    return list;
}

//! line -> seq of the acks `send --json` printed; a test failure for a line acked twice.
QMap<qint64, qint64> acksByLine(const QByteArray& out)
{
    QMap<qint64, qint64> acks;
    for (const QJsonObject& ack : jsonLines(out)) {
        const qint64 line = ack["line"].toInteger();
        EXPECT_FALSE(acks.contains(line)) << "line " << line << " acked twice";
        acks.insert(line, ack["seq"].toInteger());
    }
    return acks;
}

class CliSendE2e : public ::testing::Test {
protected:
    void startServer(const QStringList& extraArgs = {})
    {
        ASSERT_TRUE(QFile::exists(ServerProcess::executable())) << "build parleyd first";
        m_server = std::make_unique<ServerProcess>(extraArgs);
        ASSERT_TRUE(m_server->start()) << m_server->output().toStdString();
    }
    void startProxy()
    {
        m_proxy = std::make_unique<FaultProxy>(QHostAddress::LocalHost, m_server->port());
        ASSERT_TRUE(m_proxy->listen());
    }
    QString serverUrl() const { return m_server->webSocketUrl().toString(); }

    std::unique_ptr<ServerProcess> m_server;
    std::unique_ptr<FaultProxy> m_proxy;
};

} // namespace

TEST_F(CliSendE2e, HundredThousandLinesAreSentInOrderExactlyOnce)
{
    // Reading stdin waits for room in the outbox (1,000 messages): before, `seq 2000 | parley
    // send` stored 1,000 and failed the rest with outbox_full. The server's per-session rate
    // limit (1,000 frames/s by default) is raised so that the run measures the CLI's pacing,
    // not the limiter: about 20 s here instead of 100.
    startServer({ "--rate-limit", "1000000" });
    const int count = 100000;
    const CliResult sent
        = runCli({ "send", "bulk", "--json" }, serverUrl(), "alice", seqLines(count), 240000);
    ASSERT_EQ(sent.exitCode, 0) << sent.err.left(2000).toStdString();
    EXPECT_FALSE(sent.err.contains("outbox_full")) << sent.err.left(2000).toStdString();
    // One ack per line, each line once, stored in input order (alone in the room: seq = line).
    const QMap<qint64, qint64> acks = acksByLine(sent.out);
    ASSERT_EQ(acks.size(), count);
    EXPECT_EQ(acks.firstKey(), 1);
    EXPECT_EQ(acks.lastKey(), count);
    for (auto it = acks.constBegin(); it != acks.constEnd(); ++it) {
        if (it.key() != it.value()) {
            FAIL() << "line " << it.key() << " stored as seq " << it.value();
        }
    }

    const QStringList bodies = historyBodies(serverUrl(), "bulk", count + 10);
    ASSERT_EQ(bodies.size(), count);
    EXPECT_TRUE(bodies == numbers(count)) << "the history is not 1.." << count << " in order";
}

TEST_F(CliSendE2e, SendRidesOutConnectionCutsWithoutDuplicates)
{
    startServer();
    startProxy();
    const int count = 4000;
    auto send = startCli({ "send", "cuts", "--json" }, m_proxy->webSocketUrl(), "alice");
    ASSERT_TRUE(send->waitForStarted(10000));
    send->write(seqLines(count));
    send->closeWriteChannel();

    // Cut every connection three times while messages are on their way (the server's default
    // rate limit, 1,000 frames/s, keeps the 4,000 lines going for seconds, and each cut leaves
    // at least 1,500 to send).
    QByteArray out;
    for (const int acked : { 500, 1500, 2500 }) {
        ASSERT_TRUE(readLines(*send, out, acked)) << send->readAllStandardError().toStdString();
        EXPECT_GE(m_proxy->cutAll(), 1);
    }
    ASSERT_TRUE(waitFinished(*send, 60000));
    out += send->readAllStandardOutput();
    const QByteArray err = send->readAllStandardError();
    // Before, the first cut ended the command with 3 and left the caller to guess what to resend.
    ASSERT_EQ(send->exitCode(), 0) << err.toStdString();
    EXPECT_TRUE(err.contains("reconnecting")) << err.toStdString();
    EXPECT_GE(m_proxy->acceptedConnections(), 4) << "three cuts, three reconnects";
    EXPECT_EQ(acksByLine(out).size(), count);

    // Resent under their client ids: the server stored each line once, in order.
    EXPECT_TRUE(historyBodies(serverUrl(), "cuts", count + 10) == numbers(count));
}

TEST_F(CliSendE2e, AFailedSendRunAgainWithTheSameKeyStoresNothingTwice)
{
    startServer();
    startProxy();
    const int count = 3000;
    const QByteArray input = seqLines(count);
    const QStringList args
        = { "send", "nightly", "--json", "--idempotency-key", "job-42", "--timeout", "5" };

    // First run: after 800 acks the link goes down for good (cut, and every reconnect
    // refused); the messages not acked within --timeout fail, the command exits 3. Some of
    // them may have reached the server without their ack reaching us.
    auto first = startCli(args, m_proxy->webSocketUrl(), "alice");
    ASSERT_TRUE(first->waitForStarted(10000));
    first->write(input);
    first->closeWriteChannel();
    QByteArray firstOut;
    ASSERT_TRUE(readLines(*first, firstOut, 800));
    m_proxy->setMode(FaultProxy::Mode::Refuse);
    m_proxy->cutAll();
    ASSERT_TRUE(waitFinished(*first, 60000))
        << first->readAllStandardError().toStdString()
        << "\nacks: " << (firstOut + first->readAllStandardOutput()).count('\n');
    firstOut += first->readAllStandardOutput();
    const QByteArray firstErr = first->readAllStandardError();
    EXPECT_EQ(first->exitCode(), 3) << firstErr.toStdString();
    EXPECT_TRUE(firstErr.contains("not sent")) << firstErr.toStdString();
    const QMap<qint64, qint64> firstAcks = acksByLine(firstOut);
    ASSERT_GE(firstAcks.size(), 800);
    ASSERT_LT(firstAcks.size(), count);

    // Second run, the same command and input: every line is acked; the ones the server already
    // had come back with their original seq and are not stored again.
    m_proxy->setMode(FaultProxy::Mode::PassThrough);
    const CliResult second = runCli(args, m_proxy->webSocketUrl(), "alice", input, 60000);
    ASSERT_EQ(second.exitCode, 0) << second.err.toStdString();
    const QMap<qint64, qint64> secondAcks = acksByLine(second.out);
    ASSERT_EQ(secondAcks.size(), count);
    for (auto it = firstAcks.constBegin(); it != firstAcks.constEnd(); ++it) {
        EXPECT_EQ(secondAcks.value(it.key()), it.value()) << "line " << it.key();
    }
    for (const QJsonObject& ack : jsonLines(second.out)) {
        EXPECT_EQ(
            ack["client_id"].toString(), QStringLiteral("job-42:%1").arg(ack["line"].toInteger()));
    }

    // Each line once, in order.
    EXPECT_TRUE(historyBodies(serverUrl(), "nightly", count + 10) == numbers(count));
}
