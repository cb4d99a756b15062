#include "frameparser.h"

#include <cstring>

namespace parley::server::websocket {

namespace {

constexpr quint8 kFin = 0x80;
constexpr quint8 kReserved = 0x70;
constexpr quint8 kOpcodeMask = 0x0F;
constexpr quint8 kMasked = 0x80;
constexpr quint8 kLengthMask = 0x7F;
constexpr qsizetype kMaxControlPayload = 125;

bool isKnownOpcode(quint8 opcode)
{
    return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xA);
}

bool isControl(Opcode opcode)
{
    return quint8(opcode) >= 0x8;
}

quint64 readBigEndian(const uchar* p, int bytes)
{
    quint64 value = 0;
    for (int i = 0; i < bytes; ++i) {
        value = (value << 8) | p[i];
    }
    return value;
}

} // namespace

bool isValidUtf8(QByteArrayView bytes)
{
    const auto* p = reinterpret_cast<const uchar*>(bytes.data());
    const auto* end = p + bytes.size();
    while (p < end) {
        // ASCII runs, 8 bytes at a time.
        while (end - p >= 8) {
            quint64 word;
            std::memcpy(&word, p, 8);
            if (word & 0x8080808080808080ULL) {
                break;
            }
            p += 8;
        }
        if (p >= end) {
            break;
        }
        const uchar c = *p;
        if (c < 0x80) {
            ++p;
            continue;
        }
        int extra;
        quint32 cp;
        quint32 min;
        if ((c & 0xE0) == 0xC0) {
            extra = 1;
            cp = c & 0x1F;
            min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            extra = 2;
            cp = c & 0x0F;
            min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            extra = 3;
            cp = c & 0x07;
            min = 0x10000;
        } else {
            return false;
        }
        if (end - p <= extra) {
            return false;
        }
        for (int i = 1; i <= extra; ++i) {
            if ((p[i] & 0xC0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        p += extra + 1;
    }
    return true;
}

void applyMask(char* data, qsizetype size, quint32 key, qsizetype offset)
{
    uchar keyBytes[4] = { uchar(key >> 24), uchar(key >> 16), uchar(key >> 8), uchar(key) };
    qsizetype i = 0;
    // Rotate the key so that data[0] is XORed with keyBytes[offset % 4], then go 8 bytes a time.
    uchar rotated[8];
    for (int k = 0; k < 8; ++k) {
        rotated[k] = keyBytes[(offset + k) % 4];
    }
    quint64 wide;
    std::memcpy(&wide, rotated, 8);
    for (; i + 8 <= size; i += 8) {
        quint64 chunk;
        std::memcpy(&chunk, data + i, 8);
        chunk ^= wide;
        std::memcpy(data + i, &chunk, 8);
    }
    for (; i < size; ++i) {
        data[i] = char(uchar(data[i]) ^ rotated[i % 8]);
    }
}

FrameParser::FrameParser()
    : FrameParser(Limits {})
{
}

FrameParser::FrameParser(Limits limits)
    : m_maxMessageBytes(limits.maxMessageBytes)
    , m_requireMasked(limits.masked)
{
}

void FrameParser::fail(Result& result, CloseCode code, const char* reason)
{
    m_finished = true;
    m_partial = QByteArray();
    m_message = QByteArray();
    result.error = ProtocolError { code, reason };
}

FrameParser::Result FrameParser::feed(QByteArrayView bytes)
{
    Result result;
    if (m_finished || bytes.isEmpty()) {
        return result;
    }
    // Parse straight from the caller's bytes when nothing is pending (the common case: whole
    // frames per read), so an idle connection keeps no buffer.
    QByteArrayView data = bytes;
    if (!m_partial.isEmpty()) {
        m_partial.append(bytes.data(), bytes.size());
        data = m_partial;
    }
    qsizetype offset = 0;
    while (!m_finished && offset < data.size()) {
        const qsizetype used = parseFrame(data.sliced(offset), result);
        if (used == 0) {
            break;
        }
        offset += used;
    }
    if (m_finished) {
        m_partial = QByteArray();
        return result;
    }
    if (data.data() == m_partial.constData()) {
        if (offset == m_partial.size()) {
            m_partial = QByteArray();
        } else if (offset > 0) {
            m_partial = m_partial.sliced(offset);
        }
    } else if (offset < data.size()) {
        m_partial = data.sliced(offset).toByteArray();
    }
    return result;
}

qsizetype FrameParser::parseFrame(QByteArrayView data, Result& result)
{
    if (data.size() < 2) {
        return 0;
    }
    const auto* p = reinterpret_cast<const uchar*>(data.data());
    const bool fin = p[0] & kFin;
    if (p[0] & kReserved) {
        fail(result, CloseCode::ProtocolError, "reserved bits set");
        return 0;
    }
    const quint8 rawOpcode = p[0] & kOpcodeMask;
    if (!isKnownOpcode(rawOpcode)) {
        fail(result, CloseCode::ProtocolError, "unknown opcode");
        return 0;
    }
    const auto opcode = Opcode(rawOpcode);
    const bool masked = p[1] & kMasked;
    if (masked != m_requireMasked) {
        fail(result, CloseCode::ProtocolError,
            m_requireMasked ? "client frames must be masked" : "server frames must not be masked");
        return 0;
    }
    const quint8 length7 = p[1] & kLengthMask;
    if (isControl(opcode)) {
        if (!fin) {
            fail(result, CloseCode::ProtocolError, "fragmented control frame");
            return 0;
        }
        if (length7 > kMaxControlPayload) {
            fail(result, CloseCode::ProtocolError, "control frame longer than 125 bytes");
            return 0;
        }
    } else if (opcode == Opcode::Continuation) {
        if (m_messageOpcode == Opcode::Continuation) {
            fail(result, CloseCode::ProtocolError, "continuation frame without a message");
            return 0;
        }
    } else if (m_messageOpcode != Opcode::Continuation) {
        fail(result, CloseCode::ProtocolError, "new message inside a fragmented one");
        return 0;
    }
    const int lengthBytes = length7 == 126 ? 2 : (length7 == 127 ? 8 : 0);
    const qsizetype headerSize = 2 + lengthBytes + (masked ? 4 : 0);
    if (data.size() < 2 + lengthBytes) {
        return 0;
    }
    const quint64 length = lengthBytes ? readBigEndian(p + 2, lengthBytes) : length7;
    if (lengthBytes == 8 && (length >> 63)) {
        fail(result, CloseCode::ProtocolError, "64-bit length with the top bit set");
        return 0;
    }
    if (!isControl(opcode) && length + quint64(m_message.size()) > m_maxMessageBytes) {
        fail(result, CloseCode::MessageTooBig, "message too big");
        return 0;
    }
    if (data.size() < headerSize || quint64(data.size() - headerSize) < length) {
        return 0;
    }
    QByteArray payload(data.data() + headerSize, qsizetype(length));
    if (masked) {
        const quint32 key = quint32(readBigEndian(p + 2 + lengthBytes, 4));
        applyMask(payload.data(), payload.size(), key);
    }
    const qsizetype consumed = headerSize + qsizetype(length);

    switch (opcode) {
    case Opcode::Ping:
    case Opcode::Pong:
        result.messages.push_back(Message { opcode, std::move(payload), 0 });
        return consumed;
    case Opcode::Close: {
        Message close { Opcode::Close, {}, quint16(CloseCode::NoStatus) };
        if (payload.size() == 1) {
            fail(result, CloseCode::ProtocolError, "close frame with a 1-byte payload");
            return 0;
        }
        if (payload.size() >= 2) {
            close.closeCode
                = quint16(readBigEndian(reinterpret_cast<const uchar*>(payload.data()), 2));
            if (!isValidCloseCodeOnWire(close.closeCode)) {
                fail(result, CloseCode::ProtocolError, "invalid close code");
                return 0;
            }
            close.payload = payload.sliced(2);
            if (!isValidUtf8(close.payload)) {
                fail(result, CloseCode::InvalidPayload, "close reason is not UTF-8");
                return 0;
            }
        }
        result.messages.push_back(std::move(close));
        // Nothing after a close frame is part of the conversation.
        m_finished = true;
        return consumed;
    }
    case Opcode::Continuation:
    case Opcode::Text:
    case Opcode::Binary:
        break;
    }

    Opcode messageOpcode = opcode;
    if (opcode == Opcode::Continuation || !fin) {
        if (opcode != Opcode::Continuation) {
            m_messageOpcode = opcode;
        }
        messageOpcode = m_messageOpcode;
        m_message.append(payload);
        if (!fin) {
            return consumed;
        }
        payload = std::move(m_message);
        m_message = QByteArray();
        m_messageOpcode = Opcode::Continuation;
    }
    if (messageOpcode == Opcode::Text && !isValidUtf8(payload)) {
        fail(result, CloseCode::InvalidPayload, "text message is not UTF-8");
        return 0;
    }
    result.messages.push_back(Message { messageOpcode, std::move(payload), 0 });
    return consumed;
}

} // namespace parley::server::websocket
