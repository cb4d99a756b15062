// `parley tail ROOM [--json]`: follow a room, print each new message.
#pragma once

#include "command.h"

namespace parley::cli {

class TailCommand : public Command {
    Q_OBJECT

public:
    explicit TailCommand(const Invocation& invocation, QObject* parent = nullptr);

    void interrupt() override;

protected:
    bool followsAcrossReconnects() const override { return true; }
    void onStarted() override { endWhenStdoutCloses(); }
    void onJoined(const QStringList& members) override;
};

} // namespace parley::cli
