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

//! {"client_id":..,"room":..,"seq":..} for `send --json`.
QByteArray ackJsonLine(const QString& clientId, const QString& room, quint64 seq);

} // namespace parley::cli
