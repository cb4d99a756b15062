#include "sendcommand.h"

#include "exitcode.h"
#include "messageformat.h"
#include "stdinreader.h"

namespace parley::cli {

SendCommand::SendCommand(const Invocation& invocation, QObject* parent)
    : Command(invocation, parent)
{
    connect(&m_client, &Client::messageAcked, this,
        [this](const QString& clientId, const QString& room, quint64 seq) {
            if (!m_pending.remove(clientId)) {
                return;
            }
            if (m_invocation.json) {
                printLine(ackJsonLine(clientId, room, seq));
            }
            armTimeout(); // progress: the deadline is per answer, not for the whole input
            finishIfDone();
        });
    connect(&m_client, &Client::messageFailed, this,
        [this](const QString& clientId, const parley::Error& error) {
            if (!m_pending.remove(clientId)) {
                return;
            }
            ++m_failed;
            warn(QStringLiteral("message not sent: %1 (%2)")
                     .arg(error.message, errorCodeName(error.code)));
            finishIfDone();
        });
}

void SendCommand::onStarted()
{
    if (!m_invocation.texts.isEmpty()) {
        post(m_invocation.texts.join(QLatin1Char(' ')));
        m_inputDone = true;
        return;
    }
    // One message per line of stdin, queued in the outbox as they come (sent once joined).
    m_stdin = new StdinReader(this);
    connect(m_stdin, &StdinReader::lineRead, this, [this](const QString& line) {
        if (!line.trimmed().isEmpty()) {
            post(line);
        }
    });
    connect(m_stdin, &StdinReader::finished, this, [this] {
        m_inputDone = true;
        finishIfDone();
    });
    m_stdin->start();
}

void SendCommand::onJoined(const QStringList&)
{
    finishIfDone();
}

void SendCommand::post(const QString& text)
{
    m_pending.insert(m_client.send(m_invocation.room, text));
}

void SendCommand::finishIfDone()
{
    if (isFinished() || !m_inputDone || !m_pending.isEmpty()) {
        return;
    }
    if (m_client.state() != ConnectionState::Connected && m_failed == 0) {
        return; // nothing to send (empty input) still deserves a check that the server is there
    }
    finish(m_failed > 0 ? ExitRejected : ExitOk);
}

} // namespace parley::cli
