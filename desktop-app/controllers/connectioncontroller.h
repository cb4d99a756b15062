// ConnectionController: what the status bar says about the connection.
#pragma once

#include <QDeadlineTimer>
#include <QObject>
#include <QTimer>
#include <parley/clientoptions.h>
#include <parley/connectionstate.h>
#include <parley/error.h>

namespace parley {
class Client;
}

namespace parley::desktop {

//! Follows a Client's connection for the UI: the status, the countdown to the next reconnect
//! attempt (from Client::reconnectScheduled()), the last error, and "Reconnect now".
//!
//! Reconnecting itself is the SDK's job (one policy per client, ClientOptions::reconnect); this
//! class only starts the client and forwards the user's "Reconnect now".
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

    //! Connects (the SDK keeps reconnecting from then on).
    void start();
    //! Tries at once: skips the SDK's backoff wait, or starts over when the client gave up.
    void reconnectNow();

    Status status() const { return m_status; }
    //! Whether a connection succeeded since start(). Until one does, a failed attempt means the
    //! server cannot be reached, not that a connection was lost: the status bar says which.
    bool hasConnected() const { return m_hasConnected; }
    //! Whole seconds until the next scheduled attempt (rounded up), -1 when none is scheduled.
    int secondsUntilRetry() const;
    //! Whether reconnectNow() would do anything: not while connected or connecting, and not after
    //! the server rejected the credentials (retrying cannot help).
    bool canReconnectNow() const;
    //! The last connection error, for the status bar tooltip.
    QString lastError() const { return m_lastError; }
    //! The transport the connection uses (WebSocket, or a fallback the SDK negotiated).
    parley::TransportKind transport() const;
    //! A short label for transport(): "WebSocket", "SSE" or "long-poll".
    QString transportLabel() const;

Q_SIGNALS:
    //! status() changed (hasConnected() only changes with it, when Connected is reached).
    void statusChanged(parley::desktop::ConnectionController::Status status);
    //! secondsUntilRetry() changed (once a second while waiting).
    void countdownChanged(int seconds);
    //! lastError() changed.
    void lastErrorChanged(const QString& error);
    //! transport() changed (Client::transportChanged()).
    void transportChanged(parley::TransportKind kind);

private:
    void onStateChanged(parley::ConnectionState state);
    void onReconnectScheduled(int attempt, int delayMs);
    void onError(const parley::Error& error);
    void setStatus(Status status);

    parley::Client& m_client;
    Status m_status = Status::Offline;
    bool m_hasConnected = false;
    bool m_terminal = false;
    QString m_lastError;
    QTimer m_countdownTimer;
    QDeadlineTimer m_retryAt { QDeadlineTimer::Forever };
};

} // namespace parley::desktop
