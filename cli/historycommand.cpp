#include "historycommand.h"

#include "exitcode.h"
#include "messageformat.h"

namespace parley::cli {

HistoryCommand::HistoryCommand(const Invocation& invocation, QObject* parent)
    : Command(invocation, parent)
{
    connect(&m_client, &Client::historyReceived, this,
        [this](const QString& requestId, const QString&, const QList<parley::Message>& messages,
            bool hasMore) {
            if (requestId != m_requestId) {
                return;
            }
            // Pages come oldest-first; paging backwards, each page goes in front.
            m_collected = messages + m_collected;
            if (hasMore && !messages.isEmpty() && m_collected.size() < m_invocation.limit) {
                m_before = messages.first().seq;
                fetchPage();
                return;
            }
            print();
        });
    connect(&m_client, &Client::historyFailed, this,
        [this](const QString& requestId, const QString&, const parley::Error& error) {
            if (requestId != m_requestId) {
                return;
            }
            warn(QStringLiteral("history failed: %1 (%2)")
                     .arg(error.message, errorCodeName(error.code)));
            finishWith(error);
        });
}

void HistoryCommand::onJoined(const QStringList&)
{
    fetchPage();
}

void HistoryCommand::fetchPage()
{
    // The server caps a page at its own limit; larger --limit values take several pages.
    const int remaining = m_invocation.limit - int(m_collected.size());
    m_requestId = m_client.fetchHistory(m_invocation.room,
        m_before ? HistoryQuery::before(*m_before, remaining) : HistoryQuery::latest(remaining));
    armTimeout();
}

void HistoryCommand::print()
{
    if (m_collected.size() > m_invocation.limit) {
        m_collected = m_collected.mid(m_collected.size() - m_invocation.limit);
    }
    for (const parley::Message& message : std::as_const(m_collected)) {
        if (m_invocation.json) {
            printLine(jsonLine(message));
        } else {
            printLine(humanLine(message));
        }
    }
    finish(ExitOk);
}

} // namespace parley::cli
