// `parley` end to end: a real parleyd, the real executable in a QProcess, waits driven by the
// processes' signals (the event loop keeps draining the server's output meanwhile).
#include "clirunner.h"
#include "serverprocess.h"

#include <QJsonObject>
#include <QProcess>
#include <QTcpServer>
#include <gtest/gtest.h>

using namespace parley::test;
using Result = parley::test::CliResult;

namespace {

class CliE2e : public ::testing::Test {
protected:
    void SetUp() override
    {
        ASSERT_TRUE(QFile::exists(ServerProcess::executable())) << "build parleyd first";
        ASSERT_TRUE(m_server.start()) << m_server.output().toStdString();
    }
    QString url() const { return m_server.webSocketUrl().toString(); }

    ServerProcess m_server;
};

} // namespace

TEST_F(CliE2e, SendThenHistoryJsonShowsTheMessage)
{
    const Result sent = runCli({ "send", "e2e", "hello", "from", "the", "cli" }, url(), "alice");
    ASSERT_EQ(sent.exitCode, 0) << sent.err.toStdString();

    const Result history = runCli({ "history", "e2e", "--json" }, url(), "bob");
    ASSERT_EQ(history.exitCode, 0) << history.err.toStdString();
    const auto lines = jsonLines(history.out);
    ASSERT_EQ(lines.size(), 1) << history.out.toStdString();
    EXPECT_EQ(lines[0]["body"].toString(), "hello from the cli");
    EXPECT_EQ(lines[0]["sender"].toString(), "alice");
    EXPECT_EQ(lines[0]["room"].toString(), "e2e");
    EXPECT_EQ(lines[0]["seq"].toInteger(), 1);
    EXPECT_FALSE(lines[0]["id"].toString().isEmpty());
    EXPECT_GT(lines[0]["ts"].toInteger(), 0);
}

TEST_F(CliE2e, ANonWebSocketTransportIsReportedOnStderr)
{
    for (const char* kind : { "sse", "poll" }) {
        const Result sent
            = runCli({ "send", "via", "over", kind, "--transport", kind }, url(), "alice");
        ASSERT_EQ(sent.exitCode, 0) << kind << ": " << sent.err.toStdString();
        const QByteArray expected
            = QByteArray("transport: ") + (QByteArray(kind) == "poll" ? "long-poll" : kind);
        EXPECT_TRUE(sent.err.contains(expected)) << kind << ": " << sent.err.toStdString();
    }
    // WebSocket, negotiated or forced: nothing said.
    for (const char* kind : { "auto", "ws" }) {
        const Result sent
            = runCli({ "send", "via", "over", kind, "--transport", kind }, url(), "alice");
        ASSERT_EQ(sent.exitCode, 0) << kind << ": " << sent.err.toStdString();
        EXPECT_FALSE(sent.err.contains("transport:")) << kind << ": " << sent.err.toStdString();
    }
    const Result history = runCli({ "history", "via", "--json" }, url(), "bob");
    ASSERT_EQ(history.exitCode, 0) << history.err.toStdString();
    EXPECT_EQ(jsonLines(history.out).size(), 4) << history.out.toStdString();
}

TEST_F(CliE2e, SendReadsOneMessagePerStdinLineAndHistoryLimits)
{
    const Result sent
        = runCli({ "send", "lines", "--json" }, url(), "alice", "first\nsecond\n\nthird");
    ASSERT_EQ(sent.exitCode, 0) << sent.err.toStdString();
    const auto acks = jsonLines(sent.out);
    ASSERT_EQ(acks.size(), 3); // the empty line is skipped
    for (const auto& ack : acks) {
        EXPECT_EQ(ack["room"].toString(), "lines");
        EXPECT_FALSE(ack["client_id"].toString().isEmpty());
    }

    const Result history = runCli({ "history", "lines", "--limit", "2", "--json" }, url());
    ASSERT_EQ(history.exitCode, 0) << history.err.toStdString();
    const auto lines = jsonLines(history.out);
    ASSERT_EQ(lines.size(), 2);
    EXPECT_EQ(lines[0]["body"].toString(), "second");
    EXPECT_EQ(lines[1]["body"].toString(), "third");
    EXPECT_EQ(lines[1]["seq"].toInteger(), 3);
}

TEST_F(CliE2e, TailJsonPrintsAMessageSentByAnotherClient)
{
    auto tail = startCli({ "tail", "live", "--json" }, url(), "watcher");
    ASSERT_TRUE(tail->waitForStarted(10000));
    // tail says on stderr when it follows the room; from then on every message is printed.
    QByteArray err;
    ASSERT_TRUE(readUntil(*tail, QProcess::StandardError, err, "following live"))
        << err.toStdString();

    const Result sent = runCli({ "send", "live", "breaking news" }, url(), "reporter");
    ASSERT_EQ(sent.exitCode, 0) << sent.err.toStdString();

    QByteArray out;
    ASSERT_TRUE(readUntil(*tail, QProcess::StandardOutput, out, "\n")) << out.toStdString();
    const auto lines = jsonLines(out);
    ASSERT_EQ(lines.size(), 1);
    EXPECT_EQ(lines[0]["body"].toString(), "breaking news");
    EXPECT_EQ(lines[0]["sender"].toString(), "reporter");

    // SIGTERM ends tail cleanly.
    tail->terminate();
    ASSERT_TRUE(waitFinished(*tail));
    EXPECT_EQ(tail->exitStatus(), QProcess::NormalExit);
    EXPECT_EQ(tail->exitCode(), 0);
}

TEST_F(CliE2e, ChatSendsStdinLinesAndPrintsMessages)
{
    runCli({ "send", "talk", "earlier" }, url(), "alice");
    const Result chat = runCli({ "chat", "talk" }, url(), "bob", "hi all\n");
    ASSERT_EQ(chat.exitCode, 0) << chat.err.toStdString();
    EXPECT_TRUE(chat.out.contains("alice: earlier")) << chat.out.toStdString();
    EXPECT_TRUE(chat.out.contains("bob: hi all")) << chat.out.toStdString();
    // Not a terminal: no banner, no prompt.
    EXPECT_FALSE(chat.out.contains("Type a message"));
}

TEST(CliExitCodes, CannotConnectIsThree)
{
    QTcpServer probe;
    ASSERT_TRUE(probe.listen(QHostAddress::LocalHost, 0));
    const quint16 port = probe.serverPort();
    probe.close();
    const QString url = QStringLiteral("ws://127.0.0.1:%1/v1/ws").arg(port);
    for (const QStringList& args : { QStringList { "send", "r", "x" },
             QStringList { "history", "r" }, QStringList { "tail", "r" } }) {
        const Result r = runCli(args, url);
        EXPECT_EQ(r.exitCode, 3) << args.join(' ').toStdString() << ": " << r.err.toStdString();
        EXPECT_TRUE(r.err.contains("cannot connect")) << r.err.toStdString();
    }
}

TEST(CliExitCodes, BadUsageIsTwo)
{
    const QString url = QStringLiteral("ws://127.0.0.1:9/v1/ws"); // never contacted
    const QList<QStringList> bad {
        {},
        { "frobnicate", "room" },
        { "send" },
        { "send", "bad room!", "x" },
        { "tail", "r", "extra" },
        { "history", "r", "--limit", "zero" },
        { "send", "r", "x", "--limit", "3" },
        { "chat", "r", "--json" },
        { "send", "r", "x", "--server", "http://example.org" },
        { "send", "r", "x", "--no-such-option" },
        { "send", "r", "x", "--user", "has space" },
    };
    for (const auto& args : bad) {
        const Result r = runCli(args, url);
        EXPECT_EQ(r.exitCode, 2) << "parley " << args.join(' ').toStdString();
        EXPECT_TRUE(r.out.isEmpty());
        EXPECT_TRUE(r.err.startsWith("parley: ")) << r.err.toStdString();
    }
}

TEST(CliExitCodes, HelpDocumentsTheExitCodes)
{
    const Result help = runCli({ "--help" }, QString());
    EXPECT_EQ(help.exitCode, 0);
    for (const char* needle : { "Exit codes", "usage error", "cannot connect", "rejected" }) {
        EXPECT_TRUE(help.out.contains(needle)) << needle;
    }
    for (const char* sub : { "send", "tail", "history", "chat" }) {
        const Result r = runCli({ sub, "--help" }, QString());
        EXPECT_EQ(r.exitCode, 0) << sub;
        EXPECT_TRUE(r.out.startsWith(QByteArray("Usage: parley ") + sub)) << r.out.toStdString();
    }
}
