#include "controllers/connectioncontroller.h"

#include <algorithm>
#include <parley/client.h>

namespace parley::desktop {

ConnectionController::ConnectionController(parley::Client& client, QObject* parent)
    : QObject(parent)
    , m_client(client)
{
    m_countdownTimer.setInterval(1000);
    connect(&m_countdownTimer, &QTimer::timeout, this,
        [this] { Q_EMIT countdownChanged(secondsUntilRetry()); });
    connect(&m_client, &Client::stateChanged, this, &ConnectionController::onStateChanged);
    connect(
        &m_client, &Client::reconnectScheduled, this, &ConnectionController::onReconnectScheduled);
    connect(&m_client, &Client::errorOccurred, this, &ConnectionController::onError);
    connect(&m_client, &Client::transportChanged, this, &ConnectionController::transportChanged);
}

parley::TransportKind ConnectionController::transport() const
{
    return m_client.transport();
}

QString ConnectionController::transportLabel() const
{
    switch (m_client.transport()) {
    case TransportKind::Sse:
        return tr("SSE");
    case TransportKind::LongPoll:
        return tr("long-poll");
    case TransportKind::WebSocket:
    case TransportKind::Auto:
        break;
    }
    return tr("WebSocket");
}

void ConnectionController::start()
{
    m_terminal = false;
    m_hasConnected = false;
    m_client.connectToServer();
}

void ConnectionController::reconnectNow()
{
    if (!canReconnectNow()) {
        return;
    }
    if (m_client.state() == ConnectionState::Reconnecting) {
        m_client.reconnectNow();
    } else {
        m_client.connectToServer();
    }
}

int ConnectionController::secondsUntilRetry() const
{
    if (m_status != Status::Reconnecting || m_retryAt.isForever()) {
        return -1;
    }
    const qint64 ms = std::max<qint64>(0, m_retryAt.remainingTime());
    return int((ms + 999) / 1000);
}

bool ConnectionController::canReconnectNow() const
{
    const auto state = m_client.state();
    return !m_terminal && state != ConnectionState::Connected
        && state != ConnectionState::Connecting;
}

void ConnectionController::onStateChanged(parley::ConnectionState state)
{
    switch (state) {
    case ConnectionState::Connected:
        m_terminal = false;
        m_hasConnected = true;
        if (!m_lastError.isEmpty()) {
            m_lastError.clear();
            Q_EMIT lastErrorChanged(m_lastError);
        }
        setStatus(Status::Connected);
        break;
    case ConnectionState::Connecting:
        setStatus(Status::Connecting);
        break;
    case ConnectionState::Reconnecting:
        setStatus(Status::Reconnecting);
        break;
    case ConnectionState::Disconnected:
    case ConnectionState::Closed:
        setStatus(Status::Offline);
        break;
    }
    if (state != ConnectionState::Reconnecting) {
        m_retryAt = QDeadlineTimer(QDeadlineTimer::Forever);
        m_countdownTimer.stop();
    }
}

void ConnectionController::onReconnectScheduled(int attempt, int delayMs)
{
    Q_UNUSED(attempt)
    m_retryAt = QDeadlineTimer(std::max(0, delayMs));
    m_countdownTimer.start();
    setStatus(Status::Reconnecting);
    Q_EMIT countdownChanged(secondsUntilRetry());
}

void ConnectionController::onError(const parley::Error& error)
{
    m_lastError = error.message;
    if (error.code == ErrorCode::Unauthorized) {
        m_terminal = true;
    }
    Q_EMIT lastErrorChanged(m_lastError);
}

void ConnectionController::setStatus(Status status)
{
    if (m_status == status) {
        return;
    }
    m_status = status;
    Q_EMIT statusChanged(status);
}

} // namespace parley::desktop
