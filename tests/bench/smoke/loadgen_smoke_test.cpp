// Smoke run of parley-loadgen against a real parleyd: seconds, tiny N, several processes.
// It asserts correctness only (every message delivered to every member, in order, once; every
// send acked), never speed, so the load generator and its checks cannot rot unnoticed.
#include "serverprocess.h"

#include <QDeadlineTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include <gtest/gtest.h>

namespace {

struct LoadgenRun {
    int exitCode = -1;
    QJsonObject results;
    QString output;
};

LoadgenRun runLoadgen(const parley::test::ServerProcess& server, const QStringList& args)
{
    QTemporaryDir dir;
    const QString out = dir.filePath("results.json");
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(QStringLiteral(PARLEY_LOADGEN),
        QStringList { "--url", server.webSocketUrl().toString(), "--out", out, "--quiet",
            "--settle", "0", "--drain-timeout", "15", "--connect-timeout", "30",
            "--label", "parleyd" }
            + args);
    LoadgenRun run;
    if (!p.waitForFinished(90000)) {
        p.kill();
        p.waitForFinished();
        run.output = "timed out: " + QString::fromUtf8(p.readAll());
        return run;
    }
    run.output = QString::fromUtf8(p.readAll());
    run.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    QFile f(out);
    if (f.open(QIODevice::ReadOnly)) {
        run.results = QJsonDocument::fromJson(f.readAll()).object();
    }
    return run;
}

class LoadgenSmoke : public ::testing::Test {
protected:
    void SetUp() override
    {
        ASSERT_TRUE(m_server.start()) << m_server.output().toStdString();
    }
    parley::test::ServerProcess m_server;
};

} // namespace

TEST_F(LoadgenSmoke, ChatDeliversEveryMessageToEveryMemberInOrder)
{
    // 20 connections in 2 rooms of 10, split over 2 processes, 200 messages.
    const LoadgenRun run = runLoadgen(m_server,
        { "--workload", "chat", "--connections", "20", "--rooms", "2", "--messages", "200",
            "--rate", "100", "--procs", "2" });
    ASSERT_EQ(run.exitCode, 0) << run.output.toStdString() << m_server.output().toStdString();
    const QJsonObject& r = run.results;
    EXPECT_TRUE(r["ok"].toBool());
    EXPECT_EQ(r["sent"].toInt(), 200);
    EXPECT_EQ(r["acked"].toInt(), 200);
    EXPECT_EQ(r["missing"].toInt(), 0);
    EXPECT_EQ(r["duplicates_or_reordered"].toInt(), 0);
    EXPECT_EQ(r["connections_failed"].toInt(), 0);
    // Each message reaches the 9 other members of its room (and maybe its sender).
    EXPECT_EQ(r["latency_ms"].toObject()["delivery"].toObject()["count"].toInt(), 200 * 9);
}

TEST_F(LoadgenSmoke, FanoutReachesEveryMemberOfOneRoom)
{
    const LoadgenRun run = runLoadgen(m_server,
        { "--workload", "fanout", "--connections", "20", "--messages", "20", "--rate", "20",
            "--procs", "2" });
    ASSERT_EQ(run.exitCode, 0) << run.output.toStdString() << m_server.output().toStdString();
    const QJsonObject& r = run.results;
    EXPECT_TRUE(r["ok"].toBool());
    EXPECT_EQ(r["missing"].toInt(), 0);
    EXPECT_EQ(r["latency_ms"].toObject()["delivery"].toObject()["count"].toInt(), 20 * 19);
    EXPECT_EQ(r["latency_ms"].toObject()["last_member"].toObject()["count"].toInt(), 20);
}

TEST_F(LoadgenSmoke, IdleHoldsConnectionsAndTimesTheEcho)
{
    const LoadgenRun run = runLoadgen(m_server,
        { "--workload", "idle", "--connections", "20", "--messages", "20", "--rate", "50" });
    ASSERT_EQ(run.exitCode, 0) << run.output.toStdString() << m_server.output().toStdString();
    const QJsonObject& r = run.results;
    EXPECT_TRUE(r["ok"].toBool());
    EXPECT_EQ(r["connect"].toObject()["joined"].toInt(), 21);
    EXPECT_EQ(r["latency_ms"].toObject()["ack"].toObject()["count"].toInt(), 20);
}
