// How `parley` prints messages: a human line or one JSON object per line.
#pragma once

#include <QByteArray>
#include <QString>
#include <parley/message.h>

namespace parley::cli {

//! "[14:03:07] alice: hello" (local time).
QString humanLine(const parley::Message& message);

//! {"room":..,"seq":..,"epoch":..,"id":..,"sender":..,"client_id":..,"body":..,"ts":<ms>,
//! "time":"<ISO 8601 UTC>"} on one line, without the newline.
QByteArray jsonLine(const parley::Message& message);

//! {"client_id":..,"room":..,"seq":..,"line":..} for `send --json`; `line` is the message's
//! number in the input (line of stdin, blank lines counted; 1 for TEXT).
QByteArray ackJsonLine(const QString& clientId, const QString& room, quint64 seq, qint64 line);

} // namespace parley::cli
