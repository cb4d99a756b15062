#include "widgets/connectionstatuswidget.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QPushButton>

namespace parley::desktop {

namespace {
QPixmap dotPixmap(const QColor& color, int size, qreal dpr)
{
    QPixmap pm(QSize(size, size) * dpr);
    pm.setDevicePixelRatio(dpr);
    pm.fill(Qt::transparent);
    QPainter p(&pm);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(Qt::NoPen);
    p.setBrush(color);
    p.drawEllipse(QRectF(1, 1, size - 2, size - 2));
    return pm;
}
} // namespace

ConnectionStatusWidget::ConnectionStatusWidget(
    ConnectionController& connection, const QString& serverLabel, QWidget* parent)
    : QWidget(parent)
    , m_connection(connection)
    , m_serverLabel(serverLabel)
    , m_dot(new QLabel(this))
    , m_text(new QLabel(this))
    , m_reconnect(new QPushButton(tr("Reconnect now"), this))
{
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(4, 0, 4, 0);
    layout->setSpacing(6);
    layout->addWidget(m_dot);
    layout->addWidget(m_text);
    layout->addWidget(m_reconnect);
    m_reconnect->setFlat(true);
    m_reconnect->setCursor(Qt::PointingHandCursor);
    m_text->setAccessibleName(tr("Connection status"));
    connect(m_reconnect, &QPushButton::clicked, &m_connection, &ConnectionController::reconnectNow);
    connect(&m_connection, &ConnectionController::statusChanged, this,
        &ConnectionStatusWidget::refresh);
    connect(&m_connection, &ConnectionController::countdownChanged, this,
        &ConnectionStatusWidget::refresh);
    connect(&m_connection, &ConnectionController::lastErrorChanged, this,
        &ConnectionStatusWidget::refresh);
    connect(&m_connection, &ConnectionController::transportChanged, this,
        &ConnectionStatusWidget::refresh);
    refresh();
}

QString ConnectionStatusWidget::text() const
{
    return m_text->text();
}

void ConnectionStatusWidget::refresh()
{
    QColor color;
    QString text;
    switch (m_connection.status()) {
    case ConnectionController::Status::Connected:
        color = QColor(0x2e, 0xc2, 0x7e);
        // The transport is part of the line: on a fallback (SSE, long-poll) the user sees why
        // things may be slower, and sees it go back to WebSocket.
        text = tr("Connected to %1 over %2").arg(m_serverLabel, m_connection.transportLabel());
        break;
    case ConnectionController::Status::Connecting:
        color = QColor(0xf5, 0xa6, 0x23);
        text = tr("Connecting to %1…").arg(m_serverLabel);
        break;
    case ConnectionController::Status::Reconnecting: {
        color = QColor(0xf5, 0xa6, 0x23);
        const int seconds = m_connection.secondsUntilRetry();
        if (m_connection.hasConnected()) {
            text = seconds >= 0 ? tr("Connection lost. Reconnecting in %1 s").arg(seconds)
                                : tr("Connection lost. Reconnecting…");
        } else {
            // Nothing was lost: no attempt has got through yet (wrong address, server down,
            // no network). The reason is in the tooltip.
            text = seconds >= 0
                ? tr("Cannot reach %1. Retrying in %2 s").arg(m_serverLabel).arg(seconds)
                : tr("Cannot reach %1. Retrying…").arg(m_serverLabel);
        }
        break;
    }
    case ConnectionController::Status::Offline:
        color = QColor(0x9a, 0x9a, 0x9a);
        text = tr("Offline");
        break;
    }
    m_dot->setPixmap(dotPixmap(color, fontMetrics().height() * 2 / 3, devicePixelRatioF()));
    m_text->setText(text);
    m_reconnect->setVisible(m_connection.canReconnectNow());
    const QString error = m_connection.lastError();
    setToolTip(error.isEmpty() ? QString() : tr("Last error: %1").arg(error));
}

} // namespace parley::desktop
