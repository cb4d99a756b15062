// `parley chat ROOM`: interactive chat on the terminal (used by `./run demo`).
#pragma once

#include "command.h"

#include <QSet>

namespace parley::cli {

class LineSender;

//! Lines typed (or piped) go to the room through a LineSender; messages and presence changes
//! are printed as they arrive. A message that cannot be sent is reported and the chat goes on;
//! the exit code then says so (the code of the first failure), never 0.
class ChatCommand : public Command {
    Q_OBJECT

public:
    explicit ChatCommand(const Invocation& invocation, QObject* parent = nullptr);

    void interrupt() override;

protected:
    bool followsAcrossReconnects() const override { return true; }
    void onStarted() override;
    void onJoined(const QStringList& members) override;

private:
    void finishIfDone();

    LineSender* m_sender = nullptr;
    bool m_interactive = false;
    QSet<QString> m_awaitingEcho; // sent by us, not yet printed back from the room (or failed)
    QString m_historyRequest; // the context shown after the join; empty once answered
    bool m_joined = false;
    int m_failure = 0; // exit code of the first message that failed; 0: none
};

} // namespace parley::cli
