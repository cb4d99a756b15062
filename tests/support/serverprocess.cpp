#include "serverprocess.h"

#include <QDeadlineTimer>
#include <QRegularExpression>
#include <cerrno>
#include <csignal>
#include <sys/wait.h>

namespace parley::test {

ServerProcess::ServerProcess(QStringList extraArgs)
    : m_extraArgs(std::move(extraArgs))
{
}

ServerProcess::~ServerProcess()
{
    if (isRunning()) {
        kill();
    }
}

QString ServerProcess::executable()
{
    return QStringLiteral(PARLEY_BINARY_DIR "/server/parleyd");
}

bool ServerProcess::start(int timeoutMs)
{
    return launch(0, timeoutMs);
}

bool ServerProcess::restart(int timeoutMs)
{
    if (isRunning()) {
        stop(timeoutMs);
    }
    // Reuse the port so clients configured with the old URL find the new server. If another
    // process grabbed it meanwhile, fall back to a fresh one.
    return launch(m_port, timeoutMs) || launch(0, timeoutMs);
}

bool ServerProcess::launch(quint16 port, int timeoutMs)
{
    m_process = std::make_unique<QProcess>();
    m_process->setProcessChannelMode(QProcess::MergedChannels);
    QStringList args { QStringLiteral("--listen"), QStringLiteral("127.0.0.1:%1").arg(port),
        QStringLiteral("--data-dir"), m_dataDir.path(), QStringLiteral("--dev-auth") };
    args += m_extraArgs;
    m_process->start(executable(), args);
    if (!m_process->waitForStarted(timeoutMs)) {
        m_output += QStringLiteral("[could not start %1: %2]\n")
                        .arg(executable(), m_process->errorString());
        return false;
    }
    static const QRegularExpression ready(QStringLiteral("parleyd listening on [^:\\s]+:(\\d+)"));
    QDeadlineTimer deadline(timeoutMs);
    QString seen;
    while (!deadline.hasExpired()) {
        if (!m_process->waitForReadyRead(int(deadline.remainingTime()))) {
            break;
        }
        const QString chunk = QString::fromUtf8(m_process->readAll());
        seen += chunk;
        m_output += chunk;
        const auto match = ready.match(seen);
        if (match.hasMatch()) {
            m_port = quint16(match.captured(1).toUInt());
            // Keep collecting output for failure messages without blocking anyone.
            QObject::connect(m_process.get(), &QProcess::readyRead, m_process.get(),
                [this] { m_output += QString::fromUtf8(m_process->readAll()); });
            return true;
        }
    }
    m_output += QStringLiteral("[parleyd did not report listening within %1 ms]\n").arg(timeoutMs);
    m_process->kill();
    m_process->waitForFinished(timeoutMs);
    return false;
}

int ServerProcess::stop(int timeoutMs)
{
    if (!isRunning()) {
        return m_process ? m_process->exitCode() : -1;
    }
    m_process->terminate();
    if (!m_process->waitForFinished(timeoutMs)) {
        kill();
        return -1;
    }
    m_output += QString::fromUtf8(m_process->readAll());
    return m_process->exitStatus() == QProcess::NormalExit ? m_process->exitCode() : -1;
}

void ServerProcess::kill()
{
    if (!isRunning()) {
        return;
    }
    m_process->kill();
    m_process->waitForFinished(5000);
    m_output += QString::fromUtf8(m_process->readAll());
}

bool ServerProcess::freeze()
{
    const auto id = pid_t(pid());
    if (id == 0 || ::kill(id, SIGSTOP) != 0) {
        return false;
    }
    // The stop is reported once the whole thread group has stopped; WNOWAIT leaves the report
    // (and the exit status QProcess waits for later) where it is.
    siginfo_t info {};
    while (::waitid(P_PID, id_t(id), &info, WSTOPPED | WNOWAIT) != 0) {
        if (errno != EINTR) {
            return false;
        }
    }
    return info.si_code == CLD_STOPPED;
}

void ServerProcess::thaw()
{
    if (const auto id = pid_t(pid()); id != 0) {
        ::kill(id, SIGCONT);
    }
}

bool ServerProcess::isRunning() const
{
    return m_process && m_process->state() != QProcess::NotRunning;
}

qint64 ServerProcess::pid() const
{
    return isRunning() ? m_process->processId() : 0;
}

QUrl ServerProcess::webSocketUrl() const
{
    return QUrl(QStringLiteral("ws://127.0.0.1:%1/v1/ws").arg(m_port));
}

QUrl ServerProcess::httpUrl() const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_port));
}

} // namespace parley::test
