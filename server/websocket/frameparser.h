// FrameParser: the WebSocket frame codec's reading half (RFC 6455 section 5). Fed bytes as they
// arrive, it hands out complete messages (fragments reassembled, payloads unmasked) or one typed
// protocol error with the close code to send. It never touches a socket, so tests drive it with
// tables of byte strings and the fuzzer feeds it garbage (tests/fuzz/websocket_frame_fuzz.cpp).
//
// Rules enforced (server side: client frames must be masked):
// - reserved bits set, unknown opcodes, unmasked client frames, 64-bit lengths with the top bit
//   set -> 1002;
// - control frames (close, ping, pong) longer than 125 bytes or fragmented -> 1002;
// - a continuation frame with no message in progress, or a new text/binary frame inside a
//   fragmented message -> 1002 (control frames may come between fragments and are handed out
//   at once);
// - a message (all its fragments) longer than maxMessageBytes -> 1009, decided from the frame
//   header, before the payload is buffered;
// - a text message or close reason that is not valid UTF-8 -> 1007;
// - a close frame with a 1-byte payload or a code not allowed on the wire -> 1002.
// After an error, or after a close frame, feed() returns nothing more: the caller closes.
//
// Memory: an idle parser holds no heap memory; only an incomplete frame, or the fragments of an
// incomplete message, are buffered.
#pragma once

#include "closecode.h"

#include <QByteArray>
#include <QByteArrayView>
#include <optional>
#include <vector>

namespace parley::server::websocket {

enum class Opcode : quint8 {
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA,
};

//! One complete message (or control frame) from the peer.
struct Message {
    Opcode opcode = Opcode::Text; //!< Text, Binary, Close, Ping or Pong; never Continuation
    QByteArray payload; //!< unmasked; for Close, the reason text
    quint16 closeCode = 0; //!< Close only: the peer's code, 1005 when it sent none
};

//! Why the peer's bytes cannot be a WebSocket stream: close the connection with `code`.
struct ProtocolError {
    CloseCode code = CloseCode::ProtocolError;
    const char* reason = "";
};

class FrameParser {
public:
    struct Limits {
        quint32 maxMessageBytes = 64 * 1024;
        //! true on the server: every frame must be masked. false on a client: none may be.
        bool masked = true;
    };

    struct Result {
        std::vector<Message> messages;
        std::optional<ProtocolError> error; //!< set once; after the messages before it
    };

    FrameParser();
    explicit FrameParser(Limits limits);

    //! Parses what `bytes` completes; keeps an incomplete frame for the next call.
    Result feed(QByteArrayView bytes);
    //! An error was returned, or a close frame: nothing more will be parsed.
    bool isFinished() const { return m_finished; }
    //! Bytes held for an incomplete frame or message.
    qsizetype bufferedBytes() const { return m_partial.size() + m_message.size(); }

private:
    //! Parses one frame at the start of `data`: bytes consumed, 0 when incomplete.
    qsizetype parseFrame(QByteArrayView data, Result& result);
    void fail(Result& result, CloseCode code, const char* reason);

    QByteArray m_partial; // an incomplete frame
    QByteArray m_message; // fragments of an incomplete message
    quint32 m_maxMessageBytes;
    Opcode m_messageOpcode = Opcode::Continuation; // Text/Binary while fragments are pending
    bool m_requireMasked;
    bool m_finished = false;
};

//! Whether `bytes` is well-formed UTF-8 (no overlong forms, no surrogates, <= U+10FFFF).
bool isValidUtf8(QByteArrayView bytes);

//! XORs `data` in place with the 4-byte masking key (`key` in network order), starting at key
//! byte `offset % 4`.
void applyMask(char* data, qsizetype size, quint32 key, qsizetype offset = 0);

} // namespace parley::server::websocket
