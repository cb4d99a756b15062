#include "chatcommand.h"

#include "exitcode.h"
#include "linesender.h"
#include "messageformat.h"

#include <unistd.h>

namespace parley::cli {

ChatCommand::ChatCommand(const Invocation& invocation, QObject* parent)
    : Command(invocation, parent)
    , m_sender(new LineSender(m_client, invocation.room, QString(), this))
    , m_interactive(::isatty(STDIN_FILENO) == 1)
{
    connect(&m_client, &Client::messageReceived, this, [this](const parley::Message& message) {
        if (message.room == m_invocation.room) {
            printLine(humanLine(message));
        }
        // Our own message is done once it is printed back from the room, not merely acked:
        // the ack can overtake the echo, and a script reading our output expects both.
        if (m_awaitingEcho.remove(message.clientId)) {
            finishIfDone();
        }
    });
    connect(&m_client, &Client::presenceChanged, this,
        [this](const QString& room, const QString& user, bool online) {
            if (room == m_invocation.room && user != m_invocation.user) {
                printLine(QStringLiteral("* %1 %2").arg(
                    user, online ? QStringLiteral("is here") : QStringLiteral("left")));
            }
        });
    connect(&m_client, &Client::historyReceived, this,
        [this](const QString& requestId, const QString&, const QList<parley::Message>& messages,
            bool) {
            for (const parley::Message& message : messages) {
                printLine(humanLine(message));
            }
            if (!messages.isEmpty()) {
                printLine(QStringLiteral("-- live --"));
            }
            if (requestId == m_historyRequest) {
                m_historyRequest.clear();
                finishIfDone();
            }
        });
    connect(&m_client, &Client::historyFailed, this,
        [this](const QString& requestId, const QString&, const parley::Error&) {
            if (requestId == m_historyRequest) {
                m_historyRequest.clear(); // only context: the chat goes on without it
                finishIfDone();
            }
        });
    connect(m_sender, &LineSender::posted, this,
        [this](const QString& clientId, qint64) { m_awaitingEcho.insert(clientId); });
    connect(m_sender, &LineSender::failed, this,
        [this](const QString& clientId, qint64, const parley::Error& error) {
            m_awaitingEcho.remove(clientId);
            warn(QStringLiteral("not sent: %1 (%2)").arg(error.message, errorCodeName(error.code)));
            if (m_failure == 0) {
                m_failure = exitCodeFor(error, isConnected());
            }
            finishIfDone();
        });
    connect(m_sender, &LineSender::done, this, &ChatCommand::finishIfDone);
}

void ChatCommand::onStarted()
{
    endWhenStdoutCloses();
}

void ChatCommand::onJoined(const QStringList& members)
{
    stopTimeout();
    if (m_interactive) {
        printLine(QStringLiteral(
            "Joined %1 as %2 (here: %3). Type a message and press Enter; Ctrl-D or Ctrl-C quits.")
                      .arg(m_invocation.room, m_invocation.user,
                          members.join(QStringLiteral(", "))));
    }
    // A little context: the last few messages.
    m_historyRequest = m_client.fetchHistory(m_invocation.room, HistoryQuery::latest(10));
    m_joined = true;
    // Input is read from now on (a terminal keeps what was typed meanwhile): the server's
    // limits are known, so a line it would refuse (too large) fails at once, with its id.
    m_sender->readStandardInput();
}

void ChatCommand::finishIfDone()
{
    // End of input ends the chat once the room was shown and what was typed is stored and
    // printed back (or failed).
    if (m_joined && m_historyRequest.isEmpty() && m_sender->isDone() && m_awaitingEcho.isEmpty()) {
        finish(m_failure != 0 ? m_failure : ExitOk);
    }
}

void ChatCommand::interrupt()
{
    // Ctrl-C leaves; messages still on their way are not confirmed, so that is no success.
    if (m_failure != 0) {
        finish(m_failure);
    } else if (!m_awaitingEcho.isEmpty()) {
        finish(ExitInterrupted);
    } else {
        finish(ExitOk);
    }
}

} // namespace parley::cli
