#include <parley/messagestate.h>

namespace parley {

QString messageStateName(MessageState state)
{
    switch (state) {
    case MessageState::Queued:
        return QStringLiteral("queued");
    case MessageState::Sent:
        return QStringLiteral("sent");
    case MessageState::Acked:
        return QStringLiteral("acked");
    case MessageState::Failed:
        return QStringLiteral("failed");
    }
    return QStringLiteral("unknown");
}

} // namespace parley
