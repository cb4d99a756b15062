// ConnectionStatusWidget: the connection state, always visible in the status bar.
#pragma once

#include "controllers/connectioncontroller.h"

#include <QWidget>

class QLabel;
class QPushButton;

namespace parley::desktop {

//! Shows a coloured dot and "Connected" / "Connecting…" / "Connection lost. Reconnecting in N s"
//! / "Offline", with a "Reconnect now" button while not connected. Until a connection has
//! succeeded (ConnectionController::hasConnected()), a failed attempt reads "Cannot reach
//! <server>. Retrying in N s" instead: nothing was lost. The last error is its tooltip.
class ConnectionStatusWidget : public QWidget {
    Q_OBJECT

public:
    ConnectionStatusWidget(
        ConnectionController& connection, const QString& serverLabel, QWidget* parent = nullptr);

    //! The text shown, for tests and accessibility.
    QString text() const;
    QPushButton* reconnectButton() const { return m_reconnect; }

private:
    void refresh();

    ConnectionController& m_connection;
    QString m_serverLabel;
    QLabel* m_dot = nullptr;
    QLabel* m_text = nullptr;
    QPushButton* m_reconnect = nullptr;
};

} // namespace parley::desktop
