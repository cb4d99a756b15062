#include "closecode.h"

namespace parley::server {

const char* closeReason(CloseCode code)
{
    switch (code) {
    case CloseCode::Normal:
        return "normal closure";
    case CloseCode::GoingAway:
        return "server shutting down";
    case CloseCode::ProtocolError:
        return "protocol error";
    case CloseCode::UnsupportedData:
        return "unsupported data";
    case CloseCode::NoStatus:
        return "";
    case CloseCode::InvalidPayload:
        return "invalid UTF-8";
    case CloseCode::PolicyViolation:
        return "policy violation";
    case CloseCode::MessageTooBig:
        return "message too big";
    case CloseCode::InternalError:
        return "internal error";
    case CloseCode::BadFrame:
        return "protocol violation";
    case CloseCode::Unauthorized:
        return "unauthorized";
    case CloseCode::HeartbeatTimeout:
        return "heartbeat timeout";
    case CloseCode::SlowConsumer:
        return "slow consumer";
    case CloseCode::HelloTimeout:
        return "hello timeout";
    case CloseCode::FrameTimeout:
        return "frame too slow";
    case CloseCode::TryAgainLater:
        return "over capacity; retry after 5 s"; // ConnectionCaps::kRetryAfterS
    }
    return "";
}

bool isValidCloseCodeOnWire(quint16 code)
{
    if (code >= 3000 && code <= 4999) {
        return true;
    }
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011);
}

} // namespace parley::server
