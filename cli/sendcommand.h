// `parley send ROOM [TEXT...]`: post messages, exit when every one is acknowledged.
#pragma once

#include "command.h"

#include <QSet>

namespace parley::cli {

class StdinReader;

class SendCommand : public Command {
    Q_OBJECT

public:
    explicit SendCommand(const Invocation& invocation, QObject* parent = nullptr);

protected:
    void onStarted() override;
    void onJoined(const QStringList& members) override;
    void onTimeout() override;

private:
    void post(const QString& text);
    void finishIfDone();

    StdinReader* m_stdin = nullptr;
    bool m_inputDone = false;
    QSet<QString> m_pending;
    int m_failed = 0;
    int m_failureExitCode = 0; // the exit code of the first failed message's cause
};

} // namespace parley::cli
