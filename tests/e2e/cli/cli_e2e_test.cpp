// `parley` end to end: a real parleyd, the real executable in a QProcess, waits driven by the
// processes' signals (the event loop keeps draining the server's output meanwhile).
#include "clirunner.h"
#include "serverprocess.h"

#include <QJsonObject>
#include <QProcess>
#include <QTcpServer>
#include <gtest/gtest.h>
#include <unistd.h>

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
        // Words for people: no close code, no Qt class names.
        EXPECT_EQ(r.err.trimmed(),
            QStringLiteral("parley: cannot connect to 127.0.0.1:%1: connection refused")
                .arg(port)
                .toUtf8())
            << r.err.toStdString();
    }
}

TEST_F(CliE2e, EveryServerAddressFormReachesTheServer)
{
    const QString hostPort = QStringLiteral("127.0.0.1:%1").arg(m_server.port());
    const QStringList forms { hostPort, "ws://" + hostPort, "ws://" + hostPort + "/",
        "http://" + hostPort, "ws://" + hostPort + "/v1/ws" };
    for (const QString& form : forms) {
        // Through --server and through PARLEY_SERVER.
        Result r = runCli({ "send", "forms", "via", form, "--server", form }, QString(), "alice");
        EXPECT_EQ(r.exitCode, 0) << form.toStdString() << ": " << r.err.toStdString();
        r = runCli({ "send", "forms", "via", "env", form }, form, "alice");
        EXPECT_EQ(r.exitCode, 0) << form.toStdString() << ": " << r.err.toStdString();
    }
    const Result history = runCli({ "history", "forms", "--json" }, url());
    ASSERT_EQ(history.exitCode, 0) << history.err.toStdString();
    EXPECT_EQ(jsonLines(history.out).size(), 2 * forms.size());
}

TEST_F(CliE2e, AWrongPathIsExplainedWithoutQtInternals)
{
    const QString wrong = QStringLiteral("ws://127.0.0.1:%1/chat").arg(m_server.port());
    const Result r = runCli({ "send", "r", "x" }, wrong);
    EXPECT_EQ(r.exitCode, 3) << r.err.toStdString();
    EXPECT_TRUE(r.err.contains("HTTP 404")) << r.err.toStdString();
    EXPECT_TRUE(r.err.contains("/chat")) << r.err.toStdString();
    EXPECT_FALSE(r.err.contains("QWebSocket")) << r.err.toStdString();
    EXPECT_FALSE(r.err.contains("close code")) << r.err.toStdString();
}

TEST_F(CliE2e, ARejectedMessageEndsSendAtOnceWithFour)
{
    // The server's body limit is 16 KiB. With --timeout 120 a send that waited for its
    // deadline (as before: it exited 5 after --timeout) would outlast runCli's 30 s.
    const QString big(20000, QLatin1Char('x'));
    Result r = runCli({ "send", "limits", big, "--timeout", "120" }, url(), "alice");
    EXPECT_EQ(r.exitCode, 4) << r.err.toStdString();
    EXPECT_TRUE(r.err.contains("message not sent")) << r.err.toStdString();
    EXPECT_TRUE(r.err.contains("body_too_large")) << r.err.toStdString();

    // From stdin: the line before is stored (and its ack printed), nothing after the rejected
    // line is sent.
    r = runCli({ "send", "limits", "--json", "--timeout", "120" }, url(), "alice",
        "before\n" + big.toUtf8() + "\nafter\n");
    EXPECT_EQ(r.exitCode, 4) << r.err.toStdString();
    EXPECT_TRUE(r.err.contains("line 2 not sent")) << r.err.toStdString();
    const auto acks = jsonLines(r.out);
    ASSERT_EQ(acks.size(), 1) << r.out.toStdString();
    EXPECT_EQ(acks[0]["line"].toInteger(), 1);
    const Result history = runCli({ "history", "limits", "--json" }, url());
    const auto stored = jsonLines(history.out);
    ASSERT_EQ(stored.size(), 1) << history.out.toStdString();
    EXPECT_EQ(stored[0]["body"].toString(), "before");
}

TEST_F(CliE2e, ChatExitsNonZeroWhenAMessageFailed)
{
    const QString big(20000, QLatin1Char('x'));
    const Result chat = runCli({ "chat", "talk", "--timeout", "120" }, url(), "bob",
        "hello\n" + big.toUtf8() + "\nstill here\n");
    // The chat goes on after the failure, and says at the end that not everything was sent.
    EXPECT_EQ(chat.exitCode, 4) << chat.err.toStdString();
    EXPECT_TRUE(chat.err.contains("body_too_large")) << chat.err.toStdString();
    EXPECT_TRUE(chat.out.contains("bob: hello")) << chat.out.toStdString();
    EXPECT_TRUE(chat.out.contains("bob: still here")) << chat.out.toStdString();
}

TEST_F(CliE2e, TailEndsQuietlyWhenItsReaderLeaves)
{
    // `parley tail ROOM | head -1`: head leaves after the first line; tail must notice at
    // once, not at the next message (before, it never exited). The shell reports tail's status.
    auto pipeline = std::make_unique<QProcess>();
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("PARLEY_SERVER", url());
    env.insert("PARLEY_USER", "watcher");
    env.insert("PARLEY_CLI", QStringLiteral(PARLEY_CLI_PATH));
    pipeline->setProcessEnvironment(env);
    pipeline->start("/bin/sh",
        { "-c", "{ \"$PARLEY_CLI\" tail pipe; echo \"tail status $?\" >&2; } | head -n 1" });
    ASSERT_TRUE(pipeline->waitForStarted(10000));
    QByteArray err;
    ASSERT_TRUE(readUntil(*pipeline, QProcess::StandardError, err, "following pipe"))
        << err.toStdString();

    const Result sent = runCli({ "send", "pipe", "only", "one" }, url(), "reporter");
    ASSERT_EQ(sent.exitCode, 0) << sent.err.toStdString();

    ASSERT_TRUE(waitFinished(*pipeline, 20000)) << "tail kept running after head left";
    err += pipeline->readAllStandardError();
    EXPECT_TRUE(pipeline->readAllStandardOutput().contains("reporter: only one"));
    // 141 as for a Unix tool ended by SIGPIPE, and nothing else said.
    EXPECT_TRUE(err.contains("tail status 141")) << err.toStdString();
    EXPECT_EQ(err.count("parley:"), 1) << err.toStdString();
}

TEST_F(CliE2e, AWriteIntoAClosedPipeEndsQuietly)
{
    ASSERT_EQ(runCli({ "send", "many", "x" }, url(), "alice").exitCode, 0);
    // history's stdout is a pipe whose reader is already gone: its first write fails with
    // EPIPE (SIGPIPE is ignored). Before, the error was ignored and history exited 0.
    auto history = std::make_unique<QProcess>();
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("PARLEY_SERVER", url());
    env.insert("PARLEY_USER", "reader");
    history->setProcessEnvironment(env);
    history->setChildProcessModifier([] {
        int fds[2];
        if (::pipe(fds) == 0) {
            ::close(fds[0]);
            ::dup2(fds[1], STDOUT_FILENO);
            ::close(fds[1]);
        }
    });
    history->start(QStringLiteral(PARLEY_CLI_PATH), { "history", "many" });
    ASSERT_TRUE(history->waitForStarted(10000));
    ASSERT_TRUE(waitFinished(*history, 20000));
    EXPECT_EQ(history->exitStatus(), QProcess::NormalExit);
    EXPECT_EQ(history->exitCode(), 141);
    EXPECT_TRUE(history->readAllStandardError().isEmpty());
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
        { "send", "r", "x", "--server", "ftp://example.org" },
        { "send", "r", "x", "--server", "example.org:0" },
        { "send", "r", "x", "--idempotency-key", "has space" },
        { "send", "r", "x", "--idempotency-key", QString(41, 'k') },
        { "tail", "r", "--idempotency-key", "k" },
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
    for (const char* needle : { "Exit codes", "usage error", "cannot connect", "rejected",
             "  6    the server cannot store", "  7    the server refused the user",
             "  141  standard output closed", "host:port" }) {
        EXPECT_TRUE(help.out.contains(needle)) << needle;
    }
    for (const char* sub : { "send", "tail", "history", "chat" }) {
        const Result r = runCli({ sub, "--help" }, QString());
        EXPECT_EQ(r.exitCode, 0) << sub;
        EXPECT_TRUE(r.out.startsWith(QByteArray("Usage: parley ") + sub)) << r.out.toStdString();
    }
    const Result send = runCli({ "send", "--help" }, QString());
    EXPECT_TRUE(send.out.contains("--idempotency-key")) << send.out.toStdString();
}
