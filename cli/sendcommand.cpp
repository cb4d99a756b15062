#include "sendcommand.h"

#include "exitcode.h"
#include "linesender.h"
#include "messageformat.h"

namespace parley::cli {

SendCommand::SendCommand(const Invocation& invocation, QObject* parent)
    : Command(invocation, parent)
    , m_sender(new LineSender(m_client, invocation.room, invocation.idempotencyKey, this))
{
    connect(m_sender, &LineSender::acked, this,
        [this](const QString& clientId, qint64 number, quint64 seq) {
            if (m_invocation.json) {
                printLine(ackJsonLine(clientId, m_invocation.room, seq, number));
            }
        });
    connect(m_sender, &LineSender::failed, this,
        [this](const QString&, qint64 number, const parley::Error& error) {
            if (isFinished()) {
                return;
            }
            const QString what = m_invocation.texts.isEmpty()
                ? QStringLiteral("line %1").arg(number)
                : QStringLiteral("message");
            warn(QStringLiteral("%1 not sent: %2 (%3)")
                     .arg(what, error.message, errorCodeName(error.code)));
            if (m_failure != 0) {
                return; // the first failure gives the exit code
            }
            m_failure = exitCodeFor(error, isConnected());
            // Nothing after a message that is not stored: the input's order is kept.
            m_sender->stop();
            if (error.retryable || !isConnected()) {
                // The server or the link is what failed: the other messages would only wait
                // for their own deadlines. A rerun with --idempotency-key stores none twice.
                finish(m_failure);
            }
            // Otherwise (a rejected message) the messages before it are acked within moments
            // (and printed with --json, so the caller knows what was stored); done() follows.
        });
    connect(
        m_sender, &LineSender::done, this, [this] { finish(m_failure != 0 ? m_failure : ExitOk); });
    connect(&m_client, &Client::stateChanged, this, [this](ConnectionState state) {
        if (m_failure != 0 && state != ConnectionState::Connected) {
            finish(m_failure);
        }
    });
}

void SendCommand::onJoined(const QStringList&)
{
    // Joined: from here each message has its own deadline (ClientOptions::messageTimeout), and
    // a slow producer on stdin is no reason to give up.
    stopTimeout();
    if (!m_invocation.texts.isEmpty()) {
        m_sender->sendText(m_invocation.texts.join(QLatin1Char(' ')));
    } else {
        m_sender->readStandardInput();
    }
}

} // namespace parley::cli
