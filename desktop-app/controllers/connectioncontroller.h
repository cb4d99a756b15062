// ConnectionController: what the status bar says about the connection, and reconnecting.
#pragma once

#include <parley/connectionstate.h>
#include <parley/error.h>

#include <QDeadlineTimer>
#include <QObject>
#include <QTimer>

#include <chrono>

namespace parley {
class Client;
}

namespace parley::desktop {

//! Follows a Client's connection state for the UI and keeps the app connected.
//!
//! Reconnecting: when the SDK reconnects on its own (it reports ConnectionState::Reconnecting),
//! this class only reports it. While the SDK does not (it falls back to Disconnected after a
//! drop or a failed attempt), this class schedules connectToServer() with capped exponential
//! backoff and jitter, so a restarted server is found again and the outbox is flushed; this is
//! the app's single reconnect policy until the SDK's own (issue 4) takes over. A terminal end
//! (rejected credentials, the user signed out) is never retried.
class ConnectionController : public QObject {
    Q_OBJECT

public:
    enum class Status {
        Offline, //!< Not connected and not trying (not started, signed out or rejected).
        Connecting, //!< An attempt is under way.
        Connected, //!< Connected: messages flow.
        Reconnecting, //!< Waiting before the next attempt (see secondsUntilRetry()).
    };
    Q_ENUM(Status)

    explicit ConnectionController(parley::Client& client, QObject* parent = nullptr);

    //! The delay before the first retry and the cap of the backoff.
    void setBackoff(std::chrono::milliseconds initial, std::chrono::milliseconds maximum);

    //! Connects, and keeps reconnecting from now on.
    void start();
    //! Retries at once instead of waiting for the scheduled attempt.
    void reconnectNow();

    Status status() const { return m_status; }
    //! Whole seconds until the next scheduled attempt (rounded up), -1 when none is scheduled by
    //! this class.
    int secondsUntilRetry() const;
    //! Whether reconnectNow() would do anything.
    bool canReconnectNow() const;
    //! The last connection error, for the status bar tooltip.
    QString lastError() const { return m_lastError; }
    //! Attempts since the last successful connection.
    int failedAttempts() const { return m_attempts; }

Q_SIGNALS:
    //! status() changed.
    void statusChanged(parley::desktop::ConnectionController::Status status);
    //! secondsUntilRetry() changed (once a second while waiting).
    void countdownChanged(int seconds);

private:
    void onStateChanged(parley::ConnectionState state);
    void onError(const parley::Error& error);
    void scheduleRetry();
    void setStatus(Status status);
    std::chrono::milliseconds nextDelay() const;

    parley::Client& m_client;
    Status m_status = Status::Offline;
    bool m_started = false;
    bool m_terminal = false;
    int m_attempts = 0;
    QString m_lastError;
    std::chrono::milliseconds m_initialDelay { 1000 };
    std::chrono::milliseconds m_maxDelay { 30000 };
    QTimer m_retryTimer;
    QTimer m_countdownTimer;
    QDeadlineTimer m_retryAt { QDeadlineTimer::Forever };
};

} // namespace parley::desktop
