// `parley send ROOM [TEXT...]`: post messages, exit when every one is acknowledged.
#pragma once

#include "command.h"

namespace parley::cli {

class LineSender;

//! Sends TEXT, or standard input line by line through a LineSender (at the pace of the acks),
//! once the room is joined: by then the server's limits are known, so a message the server
//! would refuse (too large) fails with its id at once. Rides out dropped connections (the SDK
//! resends under the same ids). The first message that fails ends the input and gives the exit
//! code (exitCodeFor()): at once when the server or the connection is what failed, or, for a
//! message the server rejects, as soon as the messages before it are acked.
class SendCommand : public Command {
    Q_OBJECT

public:
    explicit SendCommand(const Invocation& invocation, QObject* parent = nullptr);

protected:
    bool followsAcrossReconnects() const override { return true; }
    void onJoined(const QStringList& members) override;

private:
    LineSender* m_sender = nullptr;
    int m_failure = 0; // exit code of the first message that failed; 0: none
};

} // namespace parley::cli
