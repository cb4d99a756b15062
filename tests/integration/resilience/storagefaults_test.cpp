// Storage that cannot commit, seen from the outside: parleyd refuses to start on a database it
// cannot write, /healthz says 503 with the reason while commits fail and 200 once they work
// again, and the SDK's failed message (and `parley send`'s message and exit code) carries the
// server's reason instead of a bare timeout.
// The faults are real (tests/support/storagefaults.h): an immutable database file, a small
// tmpfs remounted read-only or filled to the last byte. They hold for root, which the tests run
// as; where the machine does not allow them (no CAP_SYS_ADMIN to mount), the tests skip and say
// why.
#include "serverprocess.h"
#include "storagefaults.h"
#include "waituntil.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <gtest/gtest.h>
#include <parley/client.h>

using namespace parley;
using parley::test::ServerProcess;
using parley::test::SmallDisk;
using parley::test::UnwritableFile;
using parley::test::waitUntil;

namespace {

struct Health {
    int status = 0;
    QJsonObject body;
};

Health getHealth(const ServerProcess& server)
{
    QNetworkAccessManager manager;
    QNetworkReply* reply
        = manager.get(QNetworkRequest(server.httpUrl().resolved(QUrl("/healthz"))));
    waitUntil([reply] { return reply->isFinished(); }, 10000);
    Health health;
    health.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    health.body = QJsonDocument::fromJson(reply->readAll()).object();
    reply->deleteLater();
    return health;
}

// Asks /healthz every 100 ms (not in a tight loop) until it answers `status`; the last answer.
Health waitForHealth(const ServerProcess& server, int status, int timeoutMs)
{
    Health last = getHealth(server);
    QElapsedTimer sinceAsked;
    sinceAsked.start();
    waitUntil(
        [&] {
            if (last.status != status && sinceAsked.elapsed() >= 100) {
                last = getHealth(server);
                sinceAsked.restart();
            }
            return last.status == status;
        },
        timeoutMs);
    return last;
}

std::string dump(const Health& health)
{
    return QStringLiteral("%1 %2")
        .arg(health.status)
        .arg(QString::fromUtf8(QJsonDocument(health.body).toJson(QJsonDocument::Compact)))
        .toStdString();
}

struct Run {
    bool finished = false;
    int exitCode = -1;
    QString output;
};

// Starts parleyd on `dataDir` and waits for it to end by itself (it must refuse to start).
Run runParleyd(const QString& dataDir)
{
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(ServerProcess::executable(),
        { "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--dev-auth" });
    Run run;
    run.finished = process.waitForFinished(15000);
    if (!run.finished) {
        process.kill();
        process.waitForFinished(5000);
    }
    run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    run.output = QString::fromLocal8Bit(process.readAll());
    return run;
}

void expectRefusal(const Run& run, const QString& database)
{
    EXPECT_TRUE(run.finished) << "parleyd started on storage it cannot write:\n"
                              << run.output.toStdString();
    EXPECT_EQ(run.exitCode, 1) << run.output.toStdString();
    EXPECT_FALSE(run.output.contains("listening")) << run.output.toStdString();
    EXPECT_TRUE(run.output.contains("cannot write " + database)) << run.output.toStdString();
}

// Runs `parley send` with `args` against `server` and returns its exit code and stderr.
std::pair<int, QString> runCliSend(const ServerProcess& server, const QStringList& args)
{
    QProcess process;
    process.start(QStringLiteral(PARLEY_CLI_PATH),
        QStringList { "send", "--server", server.webSocketUrl().toString(), "--user", "carol" }
            + args);
    if (!process.waitForFinished(30000)) {
        process.kill();
        process.waitForFinished(5000);
        return { -1, QStringLiteral("parley send did not finish") };
    }
    return { process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1,
        QString::fromLocal8Bit(process.readAllStandardError()) };
}

} // namespace

TEST(StorageFaults, ParleydRefusesADatabaseFileItCannotWrite)
{
    ServerProcess server;
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    ASSERT_EQ(server.stop(), 0) << server.output().toStdString();
    const QString database = server.dataDir() + "/parley.db";
    UnwritableFile unwritable(database);
    if (!unwritable.isActive()) {
        GTEST_SKIP() << "cannot make a file unwritable here: " << unwritable.error().toStdString();
    }
    // SQLite opens such a file read-only without a word; parleyd used to start on it and
    // answer every send `unavailable`.
    expectRefusal(runParleyd(server.dataDir()), database);
}

TEST(StorageFaults, ParleydRefusesAReadOnlyFilesystem)
{
    SmallDisk disk;
    if (!disk.isMounted()) {
        GTEST_SKIP() << "no small tmpfs here: " << disk.error().toStdString();
    }
    ServerProcess server({ "--data-dir", disk.path() });
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    ASSERT_EQ(server.stop(), 0) << server.output().toStdString();
    ASSERT_TRUE(disk.setReadOnly(true)) << disk.error().toStdString();
    expectRefusal(runParleyd(disk.path()), disk.path() + "/parley.db");
}

TEST(StorageFaults, AFullDiskIsReportedByHealthzAndInEverySendFailure)
{
    SmallDisk disk(1024 * 1024);
    if (!disk.isMounted()) {
        GTEST_SKIP() << "no small tmpfs here: " << disk.error().toStdString();
    }
    ServerProcess server({ "--data-dir", disk.path() });
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    Health health = getHealth(server);
    ASSERT_EQ(health.status, 200) << dump(health);
    EXPECT_EQ(health.body.value("storage"), QJsonValue(true)) << dump(health);

    auto options = ClientOptions::forServer(server.webSocketUrl(), "alice");
    options.messageTimeout = std::chrono::milliseconds(2500);
    Client client(options);
    QHash<QString, quint64> acked;
    QHash<QString, Error> failed;
    QObject::connect(&client, &Client::messageAcked, &client,
        [&](const QString& id, const QString&, quint64 seq) { acked.insert(id, seq); });
    QObject::connect(&client, &Client::messageFailed, &client,
        [&](const QString& id, const Error& error) { failed.insert(id, error); });
    bool joined = false;
    QObject::connect(&client, &Client::joined, &client, [&] { joined = true; });
    client.join("lobby");
    client.connectToServer();
    ASSERT_TRUE(waitUntil([&] { return joined; }));
    const QString first = client.send("lobby", "before the disk filled up");
    ASSERT_TRUE(waitUntil([&] { return acked.contains(first); }));

    ASSERT_TRUE(disk.fill()) << disk.error().toStdString();
    // Larger than a page, so the commit has to grow the write-ahead log.
    const QString refused = client.send("lobby", QString(8000, 'x'));
    ASSERT_TRUE(waitUntil([&] { return failed.contains(refused) || acked.contains(refused); }));
    ASSERT_TRUE(failed.contains(refused)) << "stored on a full disk?";
    // The server's reason, not "not acknowledged within 2500 ms (timeout)".
    const Error error = failed.value(refused);
    EXPECT_EQ(error.code, ErrorCode::Unavailable) << errorCodeName(error.code).toStdString();
    EXPECT_TRUE(error.retryable);
    EXPECT_TRUE(error.message.contains("database or disk is full")) << error.message.toStdString();
    EXPECT_TRUE(error.message.contains("2500 ms")) << error.message.toStdString();

    health = getHealth(server);
    EXPECT_EQ(health.status, 503) << dump(health);
    EXPECT_EQ(health.body.value("status").toString(), "degraded") << dump(health);
    EXPECT_EQ(health.body.value("storage"), QJsonValue(false)) << dump(health);
    EXPECT_TRUE(health.body.value("storage_error").toString().contains("database or disk is full"))
        << dump(health);
    EXPECT_TRUE(health.body.value("reason").toString().startsWith("storage: ")) << dump(health);
    EXPECT_GT(health.body.value("storage_failing_since_ms").toDouble(), 0) << dump(health);

    // `parley send`: the same reason on stderr, and the exit code of a server that cannot store
    // now (6, "try again later"), every time, not 5 ("no answer") when its own deadline happens
    // to win.
    for (int run = 0; run < 2; ++run) {
        const auto [exitCode, err]
            = runCliSend(server, { "--timeout", "2", "lobby", QString(8000, 'y') });
        EXPECT_EQ(exitCode, 6) << "run " << run << ": " << err.toStdString();
        EXPECT_TRUE(err.contains("database or disk is full")) << err.toStdString();
    }

    // Room on the disk again: the server notices by itself (a node out of its balancer gets no
    // traffic to find out with), and the failed message goes through on retry().
    ASSERT_TRUE(disk.drain()) << disk.error().toStdString();
    health = waitForHealth(server, 200, 10000);
    ASSERT_EQ(health.status, 200) << dump(health) << "\n" << server.output().toStdString();
    EXPECT_EQ(health.body.value("storage"), QJsonValue(true)) << dump(health);
    EXPECT_FALSE(health.body.contains("reason")) << dump(health);
    ASSERT_TRUE(client.retry(refused));
    ASSERT_TRUE(waitUntil([&] { return acked.contains(refused); }));
    EXPECT_EQ(acked.value(refused), acked.value(first) + 1); // no hole left by the failures
    client.disconnectFromServer();
}
