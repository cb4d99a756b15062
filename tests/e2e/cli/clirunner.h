// Running `parley` as a subprocess in end-to-end tests: start it, feed stdin, wait on its
// signals (never sleep), read what it printed.
#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <memory>

namespace parley::test {

struct CliResult {
    int exitCode = -1; //!< -1 when the process crashed or had to be killed
    QByteArray out;
    QByteArray err;
};

//! Starts `parley args...` with PARLEY_SERVER=`serverUrl` (unset when empty) and
//! PARLEY_USER=`user`.
std::unique_ptr<QProcess> startCli(
    const QStringList& args, const QString& serverUrl, const QString& user);

//! Waits for `process` to end; false after `timeoutMs`.
bool waitFinished(QProcess& process, int timeoutMs = 30000);

//! Appends what `channel` printed to `seen` until it contains `needle` (false after 15 s
//! without output). Output that arrived while nobody was waiting is read first.
bool readUntil(QProcess& process, QProcess::ProcessChannel channel, QByteArray& seen,
    const QByteArray& needle);

//! Runs `parley args...` with `stdinData` on standard input, to its end (killed, and a test
//! failure, after `timeoutMs`).
CliResult runCli(const QStringList& args, const QString& serverUrl,
    const QString& user = QStringLiteral("tester"), const QByteArray& stdinData = {},
    int timeoutMs = 30000);

//! One JSON object per non-empty line (a test failure for a line that is not JSON).
QList<QJsonObject> jsonLines(const QByteArray& out);

//! "1\n2\n...\nN\n", like `seq N`.
QByteArray seqLines(int count);

} // namespace parley::test
