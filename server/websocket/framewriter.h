// The frame codec's writing half: serialises frames (RFC 6455 5.2). Server frames are never
// masked; the masked form is for clients (tests, the fuzzer's seed corpus).
#pragma once

#include "closecode.h"
#include "frameparser.h"

#include <QByteArray>
#include <QByteArrayView>

namespace parley::server::websocket {

//! Largest frame header: 2 bytes, an 8-byte length and a 4-byte masking key.
constexpr int kMaxHeaderSize = 14;

//! Writes a frame header for a payload of `length` bytes into `out` (at least kMaxHeaderSize
//! bytes); returns its size. `maskKey` is written (and must be applied by the caller) when
//! `masked`.
int writeFrameHeader(char* out, Opcode opcode, quint64 length, bool fin = true, bool masked = false,
    quint32 maskKey = 0);

//! One unmasked frame with FIN set (a server frame).
QByteArray encodeFrame(Opcode opcode, QByteArrayView payload);
//! An unmasked close frame; `reason` is cut to fit the 125-byte control frame limit.
QByteArray encodeCloseFrame(CloseCode code, QByteArrayView reason);
//! A masked frame (a client frame), optionally without FIN (a fragment).
QByteArray encodeMaskedFrame(
    Opcode opcode, QByteArrayView payload, quint32 maskKey, bool fin = true);

} // namespace parley::server::websocket
