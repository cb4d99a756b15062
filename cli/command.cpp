#include "command.h"

#include "exitcode.h"

#include <QSocketNotifier>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

namespace parley::cli {

Command::Command(const Invocation& invocation, QObject* parent)
    : QObject(parent)
    , m_invocation(invocation)
{
    ClientOptions options = ClientOptions::forServer(invocation.server, invocation.user);
    options.transport = invocation.transport;
    options.token = invocation.token;
    options.requestTimeout = std::chrono::seconds(invocation.timeoutSeconds);
    // Each message has --timeout to be acked, reconnects included; past it the SDK fails it
    // with the reason (timeout, or the server's last error), and the command ends.
    options.messageTimeout = std::chrono::seconds(invocation.timeoutSeconds);
    m_client.setOptions(options);

    m_timeout.setSingleShot(true);
    m_timeout.setInterval(std::chrono::seconds(invocation.timeoutSeconds));
    connect(&m_timeout, &QTimer::timeout, this, [this] {
        if (isConnected()) {
            warn(QStringLiteral("no answer from the server within %1 s")
                     .arg(m_invocation.timeoutSeconds));
            finish(ExitTimeout);
        } else {
            warn(QStringLiteral("cannot connect to %1 within %2 s")
                     .arg(m_invocation.serverName)
                     .arg(m_invocation.timeoutSeconds));
            finish(ExitCannotConnect);
        }
    });

    connect(&m_client, &Client::errorOccurred, this, &Command::onError);
    connect(&m_client, &Client::stateChanged, this, [this](ConnectionState state) {
        if (state == ConnectionState::Connected) {
            if (m_wasConnected) {
                warn(QStringLiteral("reconnected"));
            }
            m_wasConnected = true;
        }
    });
    // Scripts and people reading stderr learn when the connection is not a WebSocket (a
    // fallback negotiated behind a proxy, or --transport), and when it climbs back.
    connect(&m_client, &Client::transportChanged, this, [this](TransportKind kind) {
        if (kind != TransportKind::WebSocket || m_reportedTransport) {
            m_reportedTransport = true;
            warn(QStringLiteral("transport: %1").arg(transportKindName(kind)));
        }
    });
    connect(&m_client, &Client::joined, this,
        [this](const QString& room, quint64, const QStringList& members) {
            if (room == m_invocation.room && !m_joined) {
                m_joined = true;
                onJoined(members);
            }
        });
    connect(
        &m_client, &Client::joinFailed, this, [this](const QString&, const parley::Error& error) {
            warn(QStringLiteral("cannot join room '%1': %2 (%3)")
                     .arg(m_invocation.room, error.message, errorCodeName(error.code)));
            finishWith(error);
        });
}

void Command::start()
{
    m_client.join(m_invocation.room);
    onStarted();
    armTimeout();
    m_client.connectToServer();
}

void Command::interrupt()
{
    finish(ExitInterrupted);
}

void Command::onError(const parley::Error& error)
{
    if (m_finished) {
        return;
    }
    const bool transient = error.code == ErrorCode::ConnectionLost
        || error.code == ErrorCode::ConnectionFailed || error.code == ErrorCode::Timeout;
    if (transient && m_wasConnected && followsAcrossReconnects()) {
        // The client reconnects on its own (and rejoins, resends, catches up on what was missed).
        if (error.code == ErrorCode::ConnectionLost) {
            warn(QStringLiteral("connection to %1 lost (%2); reconnecting")
                     .arg(m_invocation.serverName, error.message));
        }
        return;
    }
    switch (error.code) {
    case ErrorCode::ConnectionFailed:
        warn(
            QStringLiteral("cannot connect to %1: %2").arg(m_invocation.serverName, error.message));
        break;
    case ErrorCode::ConnectionLost:
        warn(QStringLiteral("connection to %1 lost: %2")
                 .arg(m_invocation.serverName, error.message));
        break;
    case ErrorCode::Timeout:
        warn(QStringLiteral("the server at %1 did not answer: %2")
                 .arg(m_invocation.serverName, error.message));
        break;
    case ErrorCode::Unauthorized:
        warn(QStringLiteral("the server refused user '%1': %2")
                 .arg(m_invocation.user, error.message));
        break;
    case ErrorCode::InvalidOptions:
        warn(error.message);
        break;
    default:
        // Anything else (an error answering no request of ours) is worth seeing, not fatal.
        warn(QStringLiteral("server error: %1 (%2)").arg(error.message, errorCodeName(error.code)));
        return;
    }
    finishWith(error);
}

void Command::finish(int exitCode)
{
    if (m_finished) {
        return;
    }
    m_finished = true;
    m_timeout.stop();
    if (m_stdoutWatch) {
        m_stdoutWatch->setEnabled(false);
    }
    m_client.disconnectFromServer();
    QMetaObject::invokeMethod(
        this, [this, exitCode] { Q_EMIT finished(exitCode); }, Qt::QueuedConnection);
}

void Command::finishWith(const parley::Error& error)
{
    finish(exitCodeFor(error, isConnected()));
}

void Command::warn(const QString& text)
{
    std::fprintf(stderr, "parley: %s\n", text.toLocal8Bit().constData());
    std::fflush(stderr);
}

void Command::printLine(const QByteArray& line)
{
    if (m_stdoutFailed) {
        return;
    }
    // SIGPIPE is ignored (main.cpp), so a reader that left shows up here as EPIPE.
    std::fwrite(line.constData(), 1, std::size_t(line.size()), stdout);
    std::fputc('\n', stdout);
    if (std::fflush(stdout) != 0) {
        stdoutFailed(errno);
    }
}

void Command::endWhenStdoutCloses()
{
    struct stat status = {};
    if (m_stdoutWatch || ::fstat(STDOUT_FILENO, &status) != 0 || !S_ISFIFO(status.st_mode)) {
        return; // a terminal or a file has no reader that can leave
    }
    // The write end of a pipe never becomes readable; poll() reports POLLERR on it once the
    // read end is closed, which wakes a read notifier.
    m_stdoutWatch = new QSocketNotifier(STDOUT_FILENO, QSocketNotifier::Read, this);
    connect(m_stdoutWatch, &QSocketNotifier::activated, this, [this] {
        pollfd out = { STDOUT_FILENO, 0, 0 };
        if (::poll(&out, 1, 0) == 1 && (out.revents & (POLLERR | POLLHUP)) != 0) {
            stdoutFailed(EPIPE);
        } else {
            m_stdoutWatch->setEnabled(false); // not a pipe event we know: stop watching
        }
    });
}

void Command::stdoutFailed(int error)
{
    m_stdoutFailed = true;
    if (error == EPIPE) {
        finish(ExitBrokenPipe); // quietly: the reader had what it wanted
        return;
    }
    warn(QStringLiteral("cannot write to standard output: %1")
             .arg(QString::fromLocal8Bit(std::strerror(error))));
    finish(ExitFailure);
}

void Command::armTimeout()
{
    m_timeout.start();
}

} // namespace parley::cli
