#include "clirunner.h"

#include <QJsonDocument>
#include <QProcessEnvironment>
#include <QSignalSpy>
#include <gtest/gtest.h>

namespace parley::test {

std::unique_ptr<QProcess> startCli(
    const QStringList& args, const QString& serverUrl, const QString& user)
{
    auto process = std::make_unique<QProcess>();
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("PARLEY_SERVER"));
    env.remove(QStringLiteral("PARLEY_TOKEN"));
    env.insert(QStringLiteral("PARLEY_USER"), user);
    if (!serverUrl.isEmpty()) {
        env.insert(QStringLiteral("PARLEY_SERVER"), serverUrl);
    }
    process->setProcessEnvironment(env);
    process->start(QStringLiteral(PARLEY_CLI_PATH), args);
    return process;
}

bool waitFinished(QProcess& process, int timeoutMs)
{
    if (process.state() == QProcess::NotRunning) {
        return true;
    }
    QSignalSpy finished(&process, &QProcess::finished);
    return finished.wait(timeoutMs);
}

bool readUntil(
    QProcess& process, QProcess::ProcessChannel channel, QByteArray& seen, const QByteArray& needle)
{
    QSignalSpy ready(&process,
        channel == QProcess::StandardOutput ? &QProcess::readyReadStandardOutput
                                            : &QProcess::readyReadStandardError);
    for (;;) {
        seen += channel == QProcess::StandardOutput ? process.readAllStandardOutput()
                                                    : process.readAllStandardError();
        if (seen.contains(needle)) {
            return true;
        }
        if (!ready.wait(15000)) {
            return false;
        }
    }
}

CliResult runCli(const QStringList& args, const QString& serverUrl, const QString& user,
    const QByteArray& stdinData, int timeoutMs)
{
    auto process = startCli(args, serverUrl, user);
    EXPECT_TRUE(process->waitForStarted(10000));
    process->write(stdinData);
    process->closeWriteChannel();
    CliResult r;
    if (!waitFinished(*process, timeoutMs)) {
        process->kill();
        waitFinished(*process);
        ADD_FAILURE() << "parley " << args.join(' ').toStdString() << " did not finish";
    }
    r.exitCode = process->exitStatus() == QProcess::NormalExit ? process->exitCode() : -1;
    r.out = process->readAllStandardOutput();
    r.err = process->readAllStandardError();
    return r;
}

QList<QJsonObject> jsonLines(const QByteArray& out)
{
    QList<QJsonObject> objects;
    for (const QByteArray& line : out.split('\n')) {
        if (line.isEmpty()) {
            continue;
        }
        QJsonParseError error;
        const auto doc = QJsonDocument::fromJson(line, &error);
        EXPECT_EQ(error.error, QJsonParseError::NoError) << line.toStdString();
        objects.append(doc.object());
    }
    return objects;
}

QByteArray seqLines(int count)
{
    QByteArray lines;
    for (int i = 1; i <= count; ++i) {
        lines += QByteArray::number(i);
        lines += '\n';
    }
    return lines;
}

} // namespace parley::test
