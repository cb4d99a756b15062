#include "command.h"

#include "exitcode.h"

#include <cstdio>

namespace parley::cli {

Command::Command(const Invocation& invocation, QObject* parent)
    : QObject(parent)
    , m_invocation(invocation)
{
    ClientOptions options = ClientOptions::forServer(invocation.server, invocation.user);
    options.transport = invocation.transport;
    options.token = invocation.token;
    options.requestTimeout = std::chrono::seconds(invocation.timeoutSeconds);
    options.messageTimeout = std::chrono::seconds(invocation.timeoutSeconds);
    m_client.setOptions(options);

    m_timeout.setSingleShot(true);
    m_timeout.setInterval(std::chrono::seconds(invocation.timeoutSeconds));
    connect(&m_timeout, &QTimer::timeout, this, [this] { onTimeout(); });

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
            finish(ExitServerError);
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
        // The client reconnects on its own (and rejoins, and catches up on what was missed).
        if (error.code == ErrorCode::ConnectionLost) {
            warn(QStringLiteral("connection lost (%1); reconnecting").arg(error.message));
        }
        return;
    }
    switch (error.code) {
    case ErrorCode::ConnectionFailed:
        warn(QStringLiteral("cannot connect to %1: %2")
                 .arg(m_invocation.server.toString(), error.message));
        finish(ExitCannotConnect);
        return;
    case ErrorCode::ConnectionLost:
        warn(QStringLiteral("connection to %1 lost: %2")
                 .arg(m_invocation.server.toString(), error.message));
        finish(ExitCannotConnect);
        return;
    case ErrorCode::Timeout:
        warn(QStringLiteral("the server at %1 did not answer: %2")
                 .arg(m_invocation.server.toString(), error.message));
        finish(m_client.state() == ConnectionState::Connected ? ExitTimeout : ExitCannotConnect);
        return;
    case ErrorCode::Unauthorized:
        warn(QStringLiteral("the server rejected user '%1': %2")
                 .arg(m_invocation.user, error.message));
        finish(ExitServerError);
        return;
    case ErrorCode::InvalidOptions:
        warn(error.message);
        finish(ExitUsage);
        return;
    default:
        // Anything else (an error answering no request of ours) is worth seeing, not fatal.
        warn(QStringLiteral("server error: %1 (%2)").arg(error.message, errorCodeName(error.code)));
        return;
    }
}

void Command::onTimeout()
{
    warn(QStringLiteral("no answer from the server within %1 s").arg(m_invocation.timeoutSeconds));
    finish(m_client.state() == ConnectionState::Connected ? ExitTimeout : ExitCannotConnect);
}

void Command::finish(int exitCode)
{
    if (m_finished) {
        return;
    }
    m_finished = true;
    m_timeout.stop();
    m_client.disconnectFromServer();
    QMetaObject::invokeMethod(
        this, [this, exitCode] { Q_EMIT finished(exitCode); }, Qt::QueuedConnection);
}

void Command::warn(const QString& text)
{
    std::fprintf(stderr, "parley: %s\n", text.toLocal8Bit().constData());
    std::fflush(stderr);
}

void Command::printLine(const QByteArray& line)
{
    std::fwrite(line.constData(), 1, std::size_t(line.size()), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

void Command::armTimeout()
{
    m_timeout.start();
}

} // namespace parley::cli
