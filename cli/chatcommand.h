// `parley chat ROOM`: interactive chat on the terminal (used by `./run demo`).
#pragma once

#include "command.h"

#include <QSet>

namespace parley::cli {

class StdinReader;

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

    StdinReader* m_stdin = nullptr;
    bool m_interactive = false;
    bool m_inputDone = false;
    QSet<QString> m_pending;
};

} // namespace parley::cli
