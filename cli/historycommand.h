// `parley history ROOM [--limit N] [--json]`: print the newest N messages, oldest first.
#pragma once

#include "command.h"

namespace parley::cli {

class HistoryCommand : public Command {
    Q_OBJECT

public:
    explicit HistoryCommand(const Invocation& invocation, QObject* parent = nullptr);

protected:
    void onJoined(const QStringList& members) override;

private:
    void fetchPage();
    void print();

    QString m_requestId;
    QList<parley::Message> m_collected; // newest pages first while paging back
    std::optional<quint64> m_before;
};

} // namespace parley::cli
