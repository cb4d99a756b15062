// Conversions between the protocol codec's types (std::string, Qt-free) and the SDK's public
// value types. The only place where the two meet, so public headers never see protocol types.
#pragma once

#include <parley/error.h>
#include <parley/message.h>

#include "protocol/frames.h"

#include <QString>

#include <string>

namespace parley {

QString fromWire(const std::string& text);
std::string toWire(const QString& text);

Message fromWire(const protocol::Message& message);
ErrorCode fromWire(protocol::ErrorCode code);
Error fromWire(const protocol::Error& error);

//! An SDK-side error with the retryable flag that fits its code.
Error makeError(ErrorCode code, const QString& message, const QString& requestId = QString());

} // namespace parley
