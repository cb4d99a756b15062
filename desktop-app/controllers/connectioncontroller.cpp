#include "controllers/connectioncontroller.h"

#include <parley/client.h>

#include <QRandomGenerator>

#include <algorithm>

namespace parley::desktop {

ConnectionController::ConnectionController(parley::Client& client, QObject* parent)
    : QObject(parent)
    , m_client(client)
{
    m_retryTimer.setSingleShot(true);
    m_countdownTimer.setInterval(1000);
    connect(&m_retryTimer, &QTimer::timeout, this, &ConnectionController::reconnectNow);
    connect(&m_countdownTimer, &QTimer::timeout, this,
        [this] { Q_EMIT countdownChanged(secondsUntilRetry()); });
    connect(&m_client, &Client::stateChanged, this, &ConnectionController::onStateChanged);
    connect(&m_client, &Client::errorOccurred, this, &ConnectionController::onError);
}

void ConnectionController::setBackoff(
    std::chrono::milliseconds initial, std::chrono::milliseconds maximum)
{
    m_initialDelay = std::max(initial, std::chrono::milliseconds(1));
    m_maxDelay = std::max(maximum, m_initialDelay);
}

void ConnectionController::start()
{
    m_started = true;
    m_terminal = false;
    m_attempts = 0;
    m_client.connectToServer();
}

void ConnectionController::reconnectNow()
{
    if (!canReconnectNow()) {
        return;
    }
    m_retryTimer.stop();
    m_countdownTimer.stop();
    m_retryAt = QDeadlineTimer(QDeadlineTimer::Forever);
    m_started = true;
    m_terminal = false;
    if (m_client.state() == ConnectionState::Reconnecting) {
        // The SDK is waiting out its own backoff: start over with a fresh attempt.
        m_client.disconnectFromServer();
    }
    m_client.connectToServer();
}

int ConnectionController::secondsUntilRetry() const
{
    if (!m_retryTimer.isActive()) {
        return -1;
    }
    const qint64 ms = std::max<qint64>(0, m_retryAt.remainingTime());
    return int((ms + 999) / 1000);
}

bool ConnectionController::canReconnectNow() const
{
    const auto state = m_client.state();
    return state != ConnectionState::Connected && state != ConnectionState::Connecting;
}

void ConnectionController::onStateChanged(parley::ConnectionState state)
{
    switch (state) {
    case ConnectionState::Connected:
        m_attempts = 0;
        m_retryTimer.stop();
        m_countdownTimer.stop();
        m_lastError.clear();
        setStatus(Status::Connected);
        break;
    case ConnectionState::Connecting:
        setStatus(Status::Connecting);
        break;
    case ConnectionState::Reconnecting:
        setStatus(Status::Reconnecting);
        break;
    case ConnectionState::Disconnected:
        if (m_started && !m_terminal) {
            scheduleRetry();
        } else {
            setStatus(Status::Offline);
        }
        break;
    case ConnectionState::Closed:
        m_retryTimer.stop();
        m_countdownTimer.stop();
        setStatus(Status::Offline);
        break;
    }
}

void ConnectionController::onError(const parley::Error& error)
{
    m_lastError = error.message;
    if (error.code == ErrorCode::Unauthorized || error.code == ErrorCode::InvalidOptions) {
        m_terminal = true;
        m_retryTimer.stop();
        m_countdownTimer.stop();
        setStatus(Status::Offline);
    }
}

std::chrono::milliseconds ConnectionController::nextDelay() const
{
    // Capped exponential backoff with jitter over its upper half, so that many clients
    // dropped at once by a restarting server do not all come back in the same instant.
    const int exponent = std::min(m_attempts, 16);
    const qint64 ceiling = std::min<qint64>(m_maxDelay.count(), m_initialDelay.count() << exponent);
    const qint64 floor = std::max<qint64>(1, ceiling / 2);
    return std::chrono::milliseconds(
        floor + QRandomGenerator::global()->bounded(ceiling - floor + 1));
}

void ConnectionController::scheduleRetry()
{
    const auto delay = nextDelay();
    ++m_attempts;
    m_retryAt = QDeadlineTimer(delay);
    m_retryTimer.start(delay);
    m_countdownTimer.start();
    setStatus(Status::Reconnecting);
    Q_EMIT countdownChanged(secondsUntilRetry());
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
