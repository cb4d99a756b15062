#include "chatcommand.h"

#include "exitcode.h"
#include "messageformat.h"
#include "stdinreader.h"

#include <unistd.h>

namespace parley::cli {

ChatCommand::ChatCommand(const Invocation& invocation, QObject* parent)
    : Command(invocation, parent)
    , m_interactive(::isatty(STDIN_FILENO) == 1)
{
    connect(&m_client, &Client::messageReceived, this, [this](const parley::Message& message) {
        if (message.room == m_invocation.room) {
            printLine(humanLine(message));
        }
        // Our own message is done once it is printed back from the room, not merely acked:
        // the ack can overtake the echo, and a script reading our output expects both.
        if (m_pending.remove(message.clientId)) {
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
    connect(&m_client, &Client::messageFailed, this,
        [this](const QString& clientId, const parley::Error& error) {
            m_pending.remove(clientId);
            warn(QStringLiteral("not sent: %1 (%2)").arg(error.message, errorCodeName(error.code)));
            finishIfDone();
        });
    connect(&m_client, &Client::historyReceived, this,
        [this](const QString&, const QString&, const QList<parley::Message>& messages, bool) {
            for (const parley::Message& message : messages) {
                printLine(humanLine(message));
            }
            if (!messages.isEmpty()) {
                printLine(QStringLiteral("-- live --"));
            }
        });
}

void ChatCommand::onStarted()
{
    m_stdin = new StdinReader(this);
    connect(m_stdin, &StdinReader::lineRead, this, [this](const QString& line) {
        if (!line.trimmed().isEmpty()) {
            m_pending.insert(m_client.send(m_invocation.room, line));
        }
    });
    connect(m_stdin, &StdinReader::finished, this, [this] {
        m_inputDone = true;
        finishIfDone();
    });
    m_stdin->start();
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
    m_client.fetchHistory(m_invocation.room, HistoryQuery::latest(10));
}

void ChatCommand::finishIfDone()
{
    // End of input ends the chat once what was typed is stored and shown.
    if (m_inputDone && m_pending.isEmpty() && m_client.state() == ConnectionState::Connected) {
        finish(ExitOk);
    }
}

void ChatCommand::interrupt()
{
    finish(ExitOk);
}

} // namespace parley::cli
