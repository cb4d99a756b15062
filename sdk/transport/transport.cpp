#include "transport.h"

#include <QRegularExpression>

namespace parley {

std::chrono::seconds Transport::retryAfterFromReason(
    const QString& reason, std::chrono::seconds fallback)
{
    // parleyd ends every 4007 reason with "retry after N s" (docs/protocol.md, close codes).
    static const QRegularExpression pattern(QStringLiteral("retry after (\\d{1,6}) s"));
    const QRegularExpressionMatch match = pattern.match(reason);
    if (!match.hasMatch()) {
        return fallback;
    }
    return std::min(std::chrono::seconds(match.captured(1).toLongLong()), kMaxRetryAfter);
}

} // namespace parley
