#include "redisserver.h"

#include <QDeadlineTimer>
#include <QHostAddress>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTcpSocket>

namespace parley::test {

namespace {

quint16 pickFreePort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0)) {
        return 0;
    }
    return probe.serverPort();
}

} // namespace

RedisServer::RedisServer(QStringList extraArgs)
    : m_extraArgs(std::move(extraArgs))
{
}

RedisServer::~RedisServer()
{
    kill();
}

QString RedisServer::executable()
{
    const QString configured = qEnvironmentVariable("PARLEY_REDIS_SERVER");
    if (!configured.isEmpty()) {
        return configured;
    }
    const QString found = QStandardPaths::findExecutable(QStringLiteral("redis-server"));
    return found.isEmpty() ? QStringLiteral("redis-server") : found;
}

bool RedisServer::start(int timeoutMs)
{
    // The port picked is free now but another process may take it before redis-server binds it:
    // then redis-server exits at once and a fresh port is tried.
    QDeadlineTimer deadline(timeoutMs);
    for (int attempt = 0; attempt < 5 && !deadline.hasExpired(); ++attempt) {
        const quint16 port = pickFreePort();
        if (port != 0 && launch(port, int(deadline.remainingTime()))) {
            return true;
        }
    }
    return false;
}

bool RedisServer::restart(int timeoutMs)
{
    if (isRunning()) {
        stop(timeoutMs);
    }
    return m_port != 0 && launch(m_port, timeoutMs);
}

bool RedisServer::launch(quint16 port, int timeoutMs)
{
    m_process = std::make_unique<QProcess>();
    m_process->setProcessChannelMode(QProcess::MergedChannels);
    m_process->setWorkingDirectory(m_dataDir.path());
    QStringList args { QStringLiteral("--port"), QString::number(port), QStringLiteral("--bind"),
        QStringLiteral("127.0.0.1"), QStringLiteral("--dir"), m_dataDir.path(),
        QStringLiteral("--save"), QString(), QStringLiteral("--appendonly"), QStringLiteral("no"),
        QStringLiteral("--daemonize"), QStringLiteral("no"), QStringLiteral("--logfile"), QString(),
        QStringLiteral("--protected-mode"), QStringLiteral("no"),
        // DEBUG SLEEP lets tests make the server unresponsive without killing it.
        QStringLiteral("--enable-debug-command"), QStringLiteral("yes") };
    args += m_extraArgs;
    m_process->start(executable(), args);
    if (!m_process->waitForStarted(timeoutMs)) {
        m_output += QStringLiteral("[could not start %1: %2]\n")
                        .arg(executable(), m_process->errorString());
        return false;
    }
    QDeadlineTimer deadline(timeoutMs);
    QString seen;
    while (!deadline.hasExpired()) {
        if (!m_process->waitForReadyRead(int(deadline.remainingTime()))) {
            break; // timed out or exited (e.g. "Address already in use")
        }
        const QString chunk = QString::fromUtf8(m_process->readAll());
        seen += chunk;
        m_output += chunk;
        if (seen.contains(QLatin1String("Ready to accept connections"))) {
            if (!answersPing(port, int(std::max<qint64>(1, deadline.remainingTime())))) {
                break;
            }
            m_port = port;
            // Keep draining its log (a full pipe would block redis-server) without blocking anyone.
            QObject::connect(m_process.get(), &QProcess::readyRead, m_process.get(),
                [this] { collectOutput(); });
            return true;
        }
    }
    m_output += QStringLiteral("[redis-server did not become ready on port %1 within %2 ms]\n")
                    .arg(port)
                    .arg(timeoutMs);
    m_process->kill();
    m_process->waitForFinished(5000);
    collectOutput();
    return false;
}

bool RedisServer::answersPing(quint16 port, int timeoutMs)
{
    // Blocking waits are fine here: this is the test thread, before the test body runs.
    QDeadlineTimer deadline(timeoutMs);
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(int(deadline.remainingTime()))) {
        m_output += QStringLiteral("[PING: cannot connect: %1]\n").arg(socket.errorString());
        return false;
    }
    socket.write("PING\r\n");
    QByteArray answer;
    while (!answer.contains("\r\n") && !deadline.hasExpired()) {
        if (!socket.waitForReadyRead(int(deadline.remainingTime()))) {
            break;
        }
        answer += socket.readAll();
    }
    if (!answer.startsWith("+PONG")) {
        m_output += QStringLiteral("[PING answered %1]\n").arg(QString::fromUtf8(answer));
        return false;
    }
    return true;
}

bool RedisServer::stop(int timeoutMs)
{
    if (!isRunning()) {
        return true;
    }
    m_process->terminate();
    if (!m_process->waitForFinished(timeoutMs)) {
        kill();
        return false;
    }
    collectOutput();
    return true;
}

void RedisServer::kill()
{
    if (!isRunning()) {
        return;
    }
    m_process->kill();
    m_process->waitForFinished(5000);
    collectOutput();
}

bool RedisServer::isRunning() const
{
    return m_process && m_process->state() != QProcess::NotRunning;
}

QString RedisServer::url() const
{
    return QStringLiteral("redis://127.0.0.1:%1").arg(m_port);
}

void RedisServer::collectOutput()
{
    if (m_process) {
        m_output += QString::fromUtf8(m_process->readAll());
    }
}

} // namespace parley::test
