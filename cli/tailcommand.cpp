#include "tailcommand.h"

#include "exitcode.h"
#include "messageformat.h"

#include <cstdio>

namespace parley::cli {

TailCommand::TailCommand(const Invocation& invocation, QObject* parent)
    : Command(invocation, parent)
{
    connect(&m_client, &Client::messageReceived, this, [this](const parley::Message& message) {
        if (message.room != m_invocation.room) {
            return;
        }
        if (m_invocation.json) {
            printLine(jsonLine(message));
        } else {
            printLine(humanLine(message));
        }
    });
    connect(&m_client, &Client::historyGap, this, [this](const QString&, quint64 from, quint64 to) {
        warn(QStringLiteral("messages %1..%2 could not be delivered").arg(from).arg(to));
    });
}

void TailCommand::onJoined(const QStringList&)
{
    // Following has no deadline; the connection itself tells when the server goes away.
    stopTimeout();
    // On stderr, so that stdout stays pure data; scripts (and tests) can wait for this line to
    // know that every message from now on will be printed.
    std::fprintf(stderr, "parley: following %s\n", qPrintable(m_invocation.room));
    std::fflush(stderr);
}

void TailCommand::interrupt()
{
    finish(ExitOk);
}

} // namespace parley::cli
