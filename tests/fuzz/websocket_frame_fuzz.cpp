// libFuzzer target for parleyd's WebSocket frame parser (server/websocket/frameparser): any
// bytes give messages and at most one typed error without crashing, hanging or reading out of
// bounds, and what it hands out keeps the parser's promises: no continuation opcodes, text and
// close reasons are UTF-8, data messages within the limit, control payloads <= 125 bytes, close
// codes allowed on the wire. Splitting the input in two reads gives the same result as one read,
// and every message written back by the frame writer parses to the same message.
//
// Input: byte 0 picks the mode (bit 0: client frames, masked; else server frames) and the split
// point; the rest is the byte stream.
#include "websocket/frameparser.h"
#include "websocket/framewriter.h"

#include <cstdint>
#include <cstdlib>

using namespace parley::server;
using namespace parley::server::websocket;

namespace {

constexpr quint32 kLimit = 4096;

struct Outcome {
    std::vector<Message> messages;
    std::optional<ProtocolError> error;
};

Outcome parse(QByteArrayView stream, bool masked, qsizetype split)
{
    FrameParser parser(FrameParser::Limits { kLimit, masked });
    Outcome out;
    for (QByteArrayView part : { stream.first(split), stream.sliced(split) }) {
        FrameParser::Result r = parser.feed(part);
        for (Message& m : r.messages) {
            out.messages.push_back(std::move(m));
        }
        if (r.error) {
            if (out.error) {
                std::abort(); // one error, then nothing
            }
            out.error = r.error;
        }
    }
    return out;
}

void check(const Message& m, bool masked)
{
    switch (m.opcode) {
    case Opcode::Continuation:
        std::abort();
    case Opcode::Text:
        if (!isValidUtf8(m.payload)) {
            std::abort();
        }
        [[fallthrough]];
    case Opcode::Binary:
        if (m.payload.size() > qsizetype(kLimit)) {
            std::abort();
        }
        break;
    case Opcode::Close:
        if (m.closeCode != quint16(CloseCode::NoStatus) && !isValidCloseCodeOnWire(m.closeCode)) {
            std::abort();
        }
        if (!isValidUtf8(m.payload) || m.payload.size() > 123) {
            std::abort();
        }
        return; // a close frame's payload is code + reason: not re-encoded below
    case Opcode::Ping:
    case Opcode::Pong:
        if (m.payload.size() > 125) {
            std::abort();
        }
        break;
    }
    // Written back by the writer, the message parses to itself.
    const QByteArray again = masked ? encodeMaskedFrame(m.opcode, m.payload, 0x01020304)
                                    : encodeFrame(m.opcode, m.payload);
    FrameParser parser(FrameParser::Limits { kLimit, masked });
    const FrameParser::Result r = parser.feed(again);
    if (r.error || r.messages.size() != 1 || r.messages[0].payload != m.payload
        || r.messages[0].opcode != m.opcode) {
        std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0) {
        return 0;
    }
    const bool masked = data[0] & 1;
    const QByteArrayView stream(reinterpret_cast<const char*>(data + 1), qsizetype(size - 1));
    const qsizetype split = stream.isEmpty() ? 0 : qsizetype(data[0] >> 1) % (stream.size() + 1);

    const Outcome whole = parse(stream, masked, stream.size());
    const Outcome halves = parse(stream, masked, split);
    if (whole.messages.size() != halves.messages.size()
        || whole.error.has_value() != halves.error.has_value()
        || (whole.error && whole.error->code != halves.error->code)) {
        std::abort();
    }
    for (std::size_t i = 0; i < whole.messages.size(); ++i) {
        if (whole.messages[i].payload != halves.messages[i].payload
            || whole.messages[i].opcode != halves.messages[i].opcode) {
            std::abort();
        }
        check(whole.messages[i], masked);
    }
    if (whole.error) {
        const CloseCode c = whole.error->code;
        if (c != CloseCode::ProtocolError && c != CloseCode::MessageTooBig
            && c != CloseCode::InvalidPayload) {
            std::abort();
        }
    }
    return 0;
}
